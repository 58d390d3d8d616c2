/**
 * The Router with mutual TLS on both sides, against DCMTK (issue 6):
 *   storescu +tls (our client certificate) -> ROUTER (TLS, client certificate required)
 *     -> two storescp +tls (+B, requiring a client certificate signed by our CA),
 *   one rule selecting by modality, one by calling AE; what storescp receives has the
 *   sent data set bytes. storescu without a client certificate is refused by ROUTER.
 * And C-MOVE driven by movescu (plain TCP: DCMTK 3.6.7's movescu has no TLS) to the Main
 * Server, whose sub-operations go over TLS to a storescp +tls move destination.
 */
import { writeCtSeries } from '../../scripts/gen-test-data.js';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAe, ConfigStore, setAe, tlsPaths } from '../../src/config/index.js';
import { RuleStore } from '../../src/router/rule-store.js';
import { MR_IMAGE } from '../archive/helpers.js';
import {
  countDicomFiles,
  freePort,
  REPO_ROOT,
  runDcmtk,
  startProcess,
  startStorescp,
  stopAllPeers,
  storescu,
  waitForPort,
  type Peer,
  type StorescpPeer,
} from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { dataSetHash, indexPart10Files, part10Info } from './dicom-files.js';
import { writeInstances } from './instance-files.js';

let dir: string;
let data: string;
let tls: ReturnType<typeof tlsPaths>;
let routerPort: number;
let mainPort: number;
let router: Peer;
let ctScp: StorescpPeer;
let mrScp: StorescpPeer;

async function until(what: string, fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${router.logTail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** storescp +tls with our server certificate, requiring a client certificate signed by our CA (-rc), bit preserving. */
const tlsStorescp = (aet: string) =>
  startStorescp({
    dir: join(dir, aet),
    aet,
    args: ['+B', '+tls', tls.serverKey, tls.serverCert, '+cf', tls.ca, '--require-peer-cert'],
  });

beforeAll(async () => {
  dir = await makeTempDir('pacs-tls-route-');
  data = join(dir, 'data');
  tls = tlsPaths(data);
  const init = await runDcmtk(process.execPath, [join(REPO_ROOT, 'bin/pacs.js'), 'tls', 'init', '--data', data]);
  expect(init.code, init.stderr).toBe(0);
  [ctScp, mrScp] = await Promise.all([tlsStorescp('TLS_CT'), tlsStorescp('TLS_MR')]);
  const [port, wsPort] = [await freePort(), await freePort()];
  mainPort = port;
  routerPort = await freePort();
  const config = await ConfigStore.open(data);
  await config.update((reg) => {
    let r = setAe(reg, 'ROUTER', { connection: { port: routerPort, tls: true }, policy: { requireClientCert: true } });
    for (const scp of [ctScp, mrScp]) r = addAe(r, { aeTitle: scp.aet, connection: { host: '127.0.0.1', port: scp.port, tls: true }, moveDestination: true });
    // C-MOVE needs a registered caller (unknown callers may echo and store only).
    return addAe(r, { aeTitle: 'MOVESCU', connection: { host: '127.0.0.1' }, permissions: ['echo', 'move'] });
  });
  config.close();
  const rules = await RuleStore.open(data, { registry: () => config.current });
  await rules.update(() => ({
    rules: [
      { name: 'CT by modality', condition: 'Modality == "CT"', destinations: ['TLS_CT'] },
      { name: 'from MR01', condition: 'callingAE == "MR01"', destinations: ['TLS_MR'] },
    ],
  }));
  rules.close();
  router = startProcess({
    name: 'pacs',
    command: process.execPath,
    cwd: REPO_ROOT,
    dir,
    args: [
      join(REPO_ROOT, 'bin/pacs.js'),
      'serve',
      '--data',
      data,
      '--port',
      String(port),
      '--workstation-port',
      String(wsPort),
      '--no-web',
      '--log-level',
      'warn',
    ],
  });
  await waitForPort(routerPort, { peer: router, timeoutMs: 60_000 });
}, 120_000);

afterAll(async () => {
  await stopAllPeers();
  await removeTempDirs();
});

describe('ROUTER with mutual TLS in and out (DCMTK storescu +tls -> ROUTER -> storescp +tls)', () => {
  it('routes by modality and by calling AE over TLS; storescp receives the sent data set bytes', async () => {
    const root = `1.2.826.0.1.3680043.10.81.${Date.now() % 1e9}`;
    const ct = writeInstances(dir, `${root}.1`, 6, { pixelBytes: 8192 });
    const mr = writeInstances(dir, `${root}.2`, 4, { modality: 'MR', sopClassUid: MR_IMAGE, pixelBytes: 8192 });
    const withCert = ['+tls', tls.clientKey, tls.clientCert, '+cf', tls.ca];
    for (const [files, aet] of [
      [ct, 'CT01'],
      [mr, 'MR01'],
    ] as const) {
      const r = await storescu({ port: routerPort, calledAet: 'ROUTER', callingAet: aet, files: files.map((f) => f.path), args: withCert });
      expect(r.code, r.stderr).toBe(0);
    }
    const all = new Set([...ct, ...mr].map((f) => f.uid));
    await until('storescp TLS_CT has the 6 CT', async () => (await countDicomFiles(ctScp.storageDir, all)) >= 6, 60_000);
    await until('storescp TLS_MR has the 4 MR', async () => (await countDicomFiles(mrScp.storageDir, all)) >= 4, 60_000);
    // Each destination got exactly what its rule selected, with the data set bytes as sent.
    for (const [sent, scp] of [
      [ct, ctScp],
      [mr, mrScp],
    ] as const) {
      const received = await indexPart10Files(scp.storageDir);
      expect([...received.keys()].sort()).toEqual(sent.map((s) => s.uid).sort());
      for (const s of sent) expect(await dataSetHash(received.get(s.uid)!), s.uid).toBe(await dataSetHash((await part10Info(s.path))!));
    }
  });

  it('refuses storescu without a client certificate', async () => {
    const uids = writeInstances(dir, `1.2.826.0.1.3680043.10.82.${Date.now() % 1e9}`, 1, { pixelBytes: 8192 });
    const r = await storescu({ port: routerPort, calledAet: 'ROUTER', callingAet: 'CT01', files: uids.map((f) => f.path), args: ['+tla', '+cf', tls.ca] });
    expect(r.code).not.toBe(0);
    expect(await countDicomFiles(join(data, 'router'), new Set(uids.map((u) => u.uid)))).toBe(0);
  });
});

describe('C-MOVE from the Main Server to a TLS move destination', () => {
  it('movescu asks, the Main Server sends the sub-operations over TLS with our client certificate', async () => {
    const series = await writeCtSeries({ dir: join(dir, 'move'), count: 5, rows: 64, cols: 64 });
    const stored = await storescu({ port: mainPort, calledAet: 'PACS', files: series.files });
    expect(stored.code, stored.stderr).toBe(0);
    const r = await runDcmtk(
      'movescu',
      [
        '-S',
        '-aet',
        'MOVESCU',
        '-aec',
        'PACS',
        '-aem',
        'TLS_CT',
        '-k',
        'QueryRetrieveLevel=SERIES',
        '-k',
        `StudyInstanceUID=${series.studyUid}`,
        '-k',
        `SeriesInstanceUID=${series.seriesUid}`,
        '127.0.0.1',
        String(mainPort),
      ],
      { timeoutMs: 60_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    const received = await indexPart10Files(ctScp.storageDir);
    for (const f of series.files) {
      const sent = (await part10Info(f))!;
      expect(received.has(sent.sopInstanceUid), sent.sopInstanceUid).toBe(true);
      expect(await dataSetHash(received.get(sent.sopInstanceUid)!)).toBe(await dataSetHash(sent));
    }
  });

  it('a move destination whose certificate our CA did not sign: every sub-operation fails, naming the AE', async () => {
    // A storescp presenting a certificate of another CA.
    const other = join(dir, 'other');
    const init = await runDcmtk(process.execPath, [join(REPO_ROOT, 'bin/pacs.js'), 'tls', 'init', '--data', other]);
    expect(init.code, init.stderr).toBe(0);
    const o = tlsPaths(other);
    const rogue = await startStorescp({ dir: join(dir, 'ROGUE'), aet: 'ROGUE', args: ['+B', '+tls', o.serverKey, o.serverCert, '-ic'] });
    const add = await runDcmtk(process.execPath, [
      join(REPO_ROOT, 'bin/pacs.js'),
      'config',
      'ae',
      'add',
      'ROGUE',
      '--data',
      data,
      '--host',
      '127.0.0.1',
      '--port',
      String(rogue.port),
      '--tls',
      '--move-destination',
    ]);
    expect(add.code, add.stderr).toBe(0);
    const series = await writeCtSeries({ dir: join(dir, 'move-rogue'), count: 2, rows: 32, cols: 32 });
    expect((await storescu({ port: mainPort, calledAet: 'PACS', files: series.files })).code).toBe(0);
    const move = () =>
      runDcmtk(
        'movescu',
        [
          '-S',
          '-aet',
          'MOVESCU',
          '-aec',
          'PACS',
          '-aem',
          'ROGUE',
          '-k',
          'QueryRetrieveLevel=SERIES',
          '-k',
          `StudyInstanceUID=${series.studyUid}`,
          '-k',
          `SeriesInstanceUID=${series.seriesUid}`,
          '127.0.0.1',
          String(mainPort),
        ],
        { timeoutMs: 60_000 },
      );
    // The running server reads the registry file on change: wait until it knows ROGUE (no longer 0xA801).
    let r = await move();
    for (let i = 0; i < 50 && /A801|Move Destination Unknown/i.test(r.stdout + r.stderr); i++) {
      await new Promise((res) => setTimeout(res, 200));
      r = await move();
    }
    expect(r.stdout + r.stderr).toMatch(/Number of Failed Suboperations\s*:\s*2|Failed SubOps:\s*2|0xa702|Refused/i);
    expect(router.logTail(200)).toMatch(/TLS handshake with ROGUE at 127\.0\.0\.1:\d+ failed: its certificate is not signed by a CA we trust/);
    expect(await countDicomFiles(rogue.storageDir)).toBe(0);
  });
});
