/**
 * The Router between real peers: DCMTK storescu -> ROUTER (`pacs serve` as a child
 * process) -> DCMTK storescp (+B: the data set bytes as received) and Orthanc, with rules
 * selecting by modality and calling AE; then 200 instances accepted while the destination
 * is down, the destination coming up, the router SIGKILLed mid-forwarding and restarted:
 * every accepted instance reaches the destination, byte-identical.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addAe, ConfigStore } from '../../src/config/index.js';
import { RuleStore } from '../../src/router/rule-store.js';
import { MR_IMAGE } from '../archive/helpers.js';
import {
  countDicomFiles,
  freePort,
  REPO_ROOT,
  startOrthanc,
  startProcess,
  startStorescp,
  stopAllPeers,
  storescu,
  waitForPort,
  type Peer,
} from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { dataSetHash, indexPart10Files, part10Info } from './dicom-files.js';
import { writeInstances, type Written } from './instance-files.js';

afterAll(async () => {
  await stopAllPeers();
  await removeTempDirs();
});

interface RouterSetup {
  dataDir: string;
  routerPort: number;
  start(): Promise<Peer>;
}

/** A data directory whose registry knows the destinations and whose rules file is written, and how to start `pacs serve` on it. */
async function setUp(dir: string, destinations: { aeTitle: string; port: number }[], settings: unknown): Promise<RouterSetup> {
  const dataDir = join(dir, 'data');
  const config = await ConfigStore.open(dataDir);
  await config.update((reg) => destinations.reduce((r, d) => addAe(r, { aeTitle: d.aeTitle, connection: { host: '127.0.0.1', port: d.port } }), reg));
  config.close();
  const rules = await RuleStore.open(dataDir, { registry: () => config.current });
  await rules.update(() => settings);
  const [port, wsPort, routerPort] = [await freePort(), await freePort(), await freePort()];
  let n = 0;
  return {
    dataDir,
    routerPort,
    async start() {
      const peer = startProcess({
        name: `pacs-${++n}`,
        command: process.execPath,
        cwd: REPO_ROOT,
        dir,
        args: [
          join(REPO_ROOT, 'bin/pacs.js'),
          'serve',
          '--data',
          dataDir,
          '--port',
          String(port),
          '--workstation-port',
          String(wsPort),
          '--router-port',
          String(routerPort),
          '--no-web',
          '--log-level',
          'warn',
        ],
      });
      await waitForPort(routerPort, { peer, timeoutMs: 60_000 });
      return peer;
    },
  };
}

async function until(what: string, fn: () => Promise<boolean>, timeoutMs: number, log?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${log ? `\n${log()}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every sent file arrived with the same data set bytes. */
async function expectIdentical(sent: Written[], receivedDir: string): Promise<void> {
  const received = await indexPart10Files(receivedDir);
  for (const s of sent) {
    const got = received.get(s.uid);
    expect(got, s.uid).toBeDefined();
    expect(await dataSetHash(got!)).toBe(await dataSetHash((await part10Info(s.path))!));
  }
}

describe('router interop', () => {
  it('routes by modality and calling AE into storescp (byte-identical) and Orthanc', async () => {
    const dir = await makeTempDir('pacs-route-');
    const scp = await startStorescp({ dir: join(dir, 'scp'), aet: 'STORESCP', args: ['+B'] });
    const orthanc = await startOrthanc({ dir: join(dir, 'orthanc'), aet: 'ORTHANC' });
    const setup = await setUp(
      dir,
      [
        { aeTitle: 'STORESCP', port: scp.port },
        { aeTitle: 'ORTHANC', port: orthanc.dicomPort },
      ],
      {
        rules: [
          { name: 'MR to Orthanc', condition: 'Modality == "MR"', destinations: ['ORTHANC'] },
          { name: 'CT of CT_1 to storescp', condition: 'Modality == "CT" && callingAE == "CT_1"', destinations: ['STORESCP'] },
        ],
      },
    );
    const router = await setup.start();
    const root = `1.2.826.0.1.3680043.10.78.${Date.now() % 1e9}`;
    const ct = writeInstances(dir, `${root}.1`, 10);
    const mr = writeInstances(dir, `${root}.2`, 5, { modality: 'MR', sopClassUid: MR_IMAGE });
    const other = writeInstances(dir, `${root}.3`, 3);
    for (const [files, aet] of [
      [[...ct, ...mr], 'CT_1'],
      [other, 'OTHER_AE'],
    ] as const) {
      const r = await storescu({ port: setup.routerPort, calledAet: 'ROUTER', callingAet: aet, files: files.map((f) => f.path) });
      expect(r.code, r.stderr).toBe(0);
    }
    await until(
      'storescp has the 10 CT',
      async () => (await countDicomFiles(scp.storageDir)) >= 10,
      30_000,
      () => router.logTail(),
    );
    await until(
      'Orthanc has the 5 MR',
      async () => (await orthanc.statistics()).CountInstances >= 5,
      30_000,
      () => router.logTail(),
    );
    await new Promise((r) => setTimeout(r, 500)); // nothing else arrives
    expect(await countDicomFiles(scp.storageDir)).toBe(10);
    expect((await orthanc.statistics()).CountInstances).toBe(5);
    await expectIdentical(ct, scp.storageDir);
    await router.stop();
  });

  it('200 accepted while the destination is down, then up, router SIGKILLed mid-forwarding: all delivered', async () => {
    const dir = await makeTempDir('pacs-route-kill-');
    const scpPort = await freePort();
    const setup = await setUp(dir, [{ aeTitle: 'STORESCP', port: scpPort }], {
      rules: [{ name: 'all', condition: 'true', destinations: ['STORESCP'] }],
      queue: { maxAttempts: 1000, baseDelayMs: 100, maxDelayMs: 400, batchSize: 10 },
    });
    let router = await setup.start();
    const sent = writeInstances(dir, `1.2.826.0.1.3680043.10.79.${Date.now() % 1e9}`, 200, { pixelBytes: 128 * 1024 });
    const r = await storescu({ port: setup.routerPort, calledAet: 'ROUTER', callingAet: 'MODALITY', files: sent.map((f) => f.path) });
    expect(r.code, r.stderr).toBe(0); // all 200 acknowledged while the destination is down

    const scp = await startStorescp({ dir: join(dir, 'scp'), aet: 'STORESCP', port: scpPort, args: ['+B'] });
    const uids = new Set(sent.map((s) => s.uid));
    await until(
      'forwarding under way',
      async () => (await countDicomFiles(scp.storageDir, uids)) >= 20,
      30_000,
      () => router.logTail(),
    );
    process.kill(-router.pid, 'SIGKILL');
    await until('the router gone', async () => router.exited, 10_000);
    const atKill = await countDicomFiles(scp.storageDir, uids);
    expect(atKill).toBeLessThan(200); // killed mid-queue

    router = await setup.start();
    await until(
      'all 200 delivered',
      async () => (await countDicomFiles(scp.storageDir, uids)) === 200,
      60_000,
      () => router.logTail(),
    );
    await expectIdentical(sent, scp.storageDir);
    await router.stop();
  });
});
