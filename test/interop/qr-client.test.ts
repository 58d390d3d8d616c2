/**
 * `pacs find`, `pacs move` and `pacs get` against two other Q/R SCPs: Orthanc and
 * DCMTK's dcmqrscp, loaded with the same small archive.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  REPO_ROOT,
  runDcmtk,
  startOrthanc,
  startProcess,
  startStorescp,
  stopAllPeers,
  waitForPort,
  type OrthancPeer,
  type StorescpPeer,
} from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { dataSetHash, indexPart10Files, part10Info } from './dicom-files.js';
import { SERIES, STUDY, writeQrData, type WrittenInstance } from './qr-data.js';

let dir: string;
let files: WrittenInstance[];
let storescp: StorescpPeer;

beforeAll(async () => {
  dir = await makeTempDir('pacs-qr-client-');
  mkdirSync(join(dir, 'in'));
  files = writeQrData(join(dir, 'in'));
  storescp = await startStorescp({ dir: join(dir, 'storescp') });
});

afterAll(async () => {
  await stopAllPeers();
  await removeTempDirs();
});

function pacs(args: string[]) {
  return runDcmtk(process.execPath, [join(REPO_ROOT, 'bin/pacs.js'), ...args], { cwd: REPO_ROOT, timeoutMs: 60_000 });
}

async function expectSameDataSets(received: string, uids: string[]): Promise<void> {
  const got = await indexPart10Files(received);
  for (const uid of uids) {
    expect(got.has(uid), `${uid} received`).toBe(true);
    const original = files.find((f) => f.sopInstanceUid === uid)!;
    expect(await dataSetHash(got.get(uid)!)).toBe(await dataSetHash((await part10Info(original.path))!));
  }
}

/** The same checks against any Q/R SCP. */
function clientSuite(name: string, peer: () => { port: number; aet: string }) {
  describe(`pacs find/move/get against ${name}`, () => {
    it('pacs find: patient name wildcard at STUDY level', async () => {
      const { port, aet } = peer();
      const r = await pacs([
        'find',
        '127.0.0.1',
        String(port),
        '--aec',
        aet,
        '-S',
        '-k',
        'QueryRetrieveLevel=STUDY',
        '-k',
        'PatientName=Doe*',
        '-k',
        'StudyInstanceUID',
        '-k',
        'PatientID',
        '--json',
      ]);
      expect(r.code, r.stderr).toBe(0);
      const uids = r.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as Record<string, { Value?: string[] }>)['0020000D'].Value![0]);
      // Orthanc and dcmqrscp differ on case (dcmqrscp is case-sensitive): both match 'Doe^Jane'.
      expect(uids).toEqual(expect.arrayContaining([STUDY.A, STUDY.B]));
      expect(uids).not.toContain(STUDY.D);
    });

    it('pacs find: date range, printed as Keyword=value', async () => {
      const { port, aet } = peer();
      const r = await pacs([
        'find',
        '127.0.0.1',
        String(port),
        '--aec',
        aet,
        '-k',
        'QueryRetrieveLevel=STUDY',
        '-k',
        'StudyDate=20240101-20240331',
        '-k',
        'StudyInstanceUID',
      ]);
      expect(r.code, r.stderr).toBe(0);
      const uids = [...r.stdout.matchAll(/^StudyInstanceUID=(.*)$/gm)].map((m) => m[1]).sort();
      expect(uids).toEqual([STUDY.A, STUDY.B].sort());
    });

    it('pacs move: a study into storescp', async () => {
      const { port, aet } = peer();
      const r = await pacs([
        'move',
        '127.0.0.1',
        String(port),
        '--aec',
        aet,
        '--aem',
        'STORESCP',
        '-k',
        'QueryRetrieveLevel=STUDY',
        '-k',
        `StudyInstanceUID=${STUDY.A}`,
      ]);
      expect(r.code, r.stderr + r.stdout).toBe(0);
      expect(r.stdout).toMatch(/C-MOVE: status 0x0000, 3 completed, 0 failed/);
      await expectSameDataSets(
        storescp.storageDir,
        files.filter((f) => f.study === STUDY.A).map((f) => f.sopInstanceUid),
      );
    });

    it('pacs get: a series into a folder', async () => {
      const { port, aet } = peer();
      const out = join(dir, `get-${name}`);
      const r = await pacs([
        'get',
        '127.0.0.1',
        String(port),
        '--aec',
        aet,
        '--od',
        out,
        '-k',
        'QueryRetrieveLevel=SERIES',
        '-k',
        `StudyInstanceUID=${STUDY.A}`,
        '-k',
        `SeriesInstanceUID=${SERIES.A1}`,
      ]);
      expect(r.code, r.stderr + r.stdout).toBe(0);
      expect(r.stdout).toMatch(/received 2 file\(s\)/);
      await expectSameDataSets(out, [`${SERIES.A1}.1`, `${SERIES.A1}.2`]);
    });
  });
}

let orthanc: OrthancPeer;
describe('Orthanc', () => {
  beforeAll(async () => {
    orthanc = await startOrthanc({
      dir: join(dir, 'orthanc'),
      config: {
        DicomModalities: {
          client: ['PACS_CLIENT', '127.0.0.1', 104],
          storescp: ['STORESCP', '127.0.0.1', storescp.port],
        },
      },
    });
    for (const f of files) await orthanc.rest('/instances', { method: 'POST', body: readFileSync(f.path) });
  });
  clientSuite('Orthanc', () => ({ port: orthanc.dicomPort, aet: orthanc.aet }));
});

let qrscp: { port: number; aet: string };
describe('dcmqrscp', () => {
  beforeAll(async () => {
    const base = join(dir, 'dcmqrscp');
    const db = join(base, 'db');
    mkdirSync(db, { recursive: true });
    const port = await freePort();
    const cfg = join(base, 'dcmqrscp.cfg');
    writeFileSync(
      cfg,
      [
        `NetworkTCPPort = ${port}`,
        'MaxPDUSize = 16384',
        'MaxAssociations = 16',
        '',
        'HostTable BEGIN',
        `storescp = (STORESCP, 127.0.0.1, ${storescp.port})`,
        `client = (PACS_CLIENT, 127.0.0.1, 104)`,
        'HostTable END',
        '',
        'VendorTable BEGIN',
        'VendorTable END',
        '',
        'AETable BEGIN',
        `DCMQRSCP ${db} RW (200, 1024mb) ANY`,
        'AETable END',
        '',
      ].join('\n'),
    );
    const idx = await runDcmtk('dcmqridx', [db, ...files.map((f) => f.path)]);
    expect(idx.code, idx.stderr).toBe(0);
    const peer = startProcess({ name: 'dcmqrscp', command: 'dcmqrscp', args: ['-c', cfg, String(port)], dir: base });
    await waitForPort(port, { peer });
    qrscp = { port, aet: 'DCMQRSCP' };
  });
  clientSuite('dcmqrscp', () => qrscp);
});
