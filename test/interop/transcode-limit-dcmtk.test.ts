/**
 * C-MOVE and C-GET sub-operations that would convert an instance over
 * limits.dataset.maxTranscodeBytes (issue 15 item 6): DCMTK's movescu (into a storescp
 * that accepts uncompressed syntaxes only) and getscu (which accepts uncompressed ones)
 * get the sub-operation failed, with an Error Comment naming the limit; within the limit,
 * the same retrieve converts and completes.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, type DatasetLimits } from '../../src/config/limits.js';
import { readMetaHeader } from '../../src/dicom/part10.js';
import { startMainServer, type MainServer } from '../../src/roles/main-server.js';
import { writeCtSeries } from '../../scripts/gen-test-data.js';
import { freePort, runDcmtk, startStorescp, stopAllPeers, type StorescpPeer } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

const RLE = '1.2.840.10008.1.2.5';
let dir: string;
let server: MainServer;
let port: number;
let storescp: StorescpPeer;
let limits: DatasetLimits = DEFAULT_LIMITS.dataset;
let study: string;
let sop: string;

beforeAll(async () => {
  dir = await makeTempDir('pacs-transcode-limit-');
  storescp = await startStorescp({ dir: join(dir, 'storescp'), aet: 'UNCOMPRESSED', acceptAll: false });
  port = await freePort();
  server = await startMainServer({
    aeTitle: 'PACS',
    port,
    host: '127.0.0.1',
    dataDir: join(dir, 'data'),
    logger: pino({ level: 'silent' }),
    datasetLimits: () => limits,
    resolveMoveDestination: (ae) => (ae === 'UNCOMPRESSED' ? { host: '127.0.0.1', port: storescp.port } : undefined),
  });
  const s = await writeCtSeries({ dir: join(dir, 'ct'), count: 1, rows: 256, cols: 256 });
  const file = join(dir, 'rle.dcm');
  const c = await runDcmtk('dcmcrle', [s.files[0], file]);
  expect(c.code, c.stderr).toBe(0);
  // Proposed in RLE only, so it is stored as it is.
  const r = await runDcmtk('storescu', ['-aec', 'PACS', '-xr', '127.0.0.1', String(port), file]);
  expect(r.code, r.stderr).toBe(0);
  study = s.studyUid;
  sop = readMetaHeader(readFileSync(file)).meta.mediaStorageSopInstanceUid;
  expect((await server.archive.index.getInstance(sop))?.transferSyntaxUid).toBe(RLE);
});

afterAll(async () => {
  await server?.close();
  await stopAllPeers();
  await removeTempDirs();
});

const keys = () => ['-k', 'QueryRetrieveLevel=STUDY', '-k', `StudyInstanceUID=${study}`];

describe('sub-operations that would convert over limits.dataset.maxTranscodeBytes', () => {
  it('C-MOVE: the sub-operation fails with a comment naming the limit; within it, it converts', async () => {
    limits = { ...DEFAULT_LIMITS.dataset, maxTranscodeBytes: 50_000 };
    const r = await runDcmtk('movescu', ['-S', '-d', '-aec', 'PACS', '-aem', 'UNCOMPRESSED', ...keys(), '127.0.0.1', String(port)]);
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/Failed Suboperations\s*:\s*1/);
    expect(out).toMatch(/0xa702/);
    expect(out).toMatch(/\(0000,0902\) LO \[over limits\.dataset\.maxTranscodeBytes \(50000\): the decoded pixel/);
    expect(await storescp.countFiles()).toBe(0);

    limits = DEFAULT_LIMITS.dataset;
    const ok = await runDcmtk('movescu', ['-S', '-aec', 'PACS', '-aem', 'UNCOMPRESSED', ...keys(), '127.0.0.1', String(port)]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(await storescp.countFiles()).toBe(1);
  });

  it('C-GET: the same', async () => {
    limits = { ...DEFAULT_LIMITS.dataset, maxTranscodeBytes: 50_000 };
    const out1 = join(dir, 'get1');
    mkdirSync(out1);
    const r = await runDcmtk('getscu', ['-S', '-d', '-aec', 'PACS', '-od', out1, ...keys(), '127.0.0.1', String(port)], { cwd: dir });
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/Failed Suboperations\s*:\s*1/);
    expect(out).toMatch(/0xa702/);
    expect(out).toMatch(/\(0000,0902\) LO \[over limits\.dataset\.maxTranscodeBytes \(50000\): the decoded pixel/);

    limits = DEFAULT_LIMITS.dataset;
    mkdirSync(join(dir, 'get2'));
    const ok = await runDcmtk('getscu', ['-S', '-d', '-aec', 'PACS', '-od', join(dir, 'get2'), ...keys(), '127.0.0.1', String(port)], { cwd: dir });
    expect(ok.stdout + ok.stderr).toMatch(/Completed Suboperations\s*:\s*1/);
  });
});
