import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Archive, type ArchiveOptions } from '../../src/archive/archive.js';
import { decodeSeal, PREAMBLE_BYTES } from '../../src/archive/blob-seal.js';
import { DuplicateInstanceError, InvalidDatasetError, OutOfResourcesError } from '../../src/archive/errors.js';
import type { StoreRequest, StoreSink } from '../../src/archive/ingest.js';
import { DEFAULT_LIMITS } from '../../src/config/limits.js';
import { buildMetaHeader } from '../../src/dicom/part10.js';
import { chunked, CT_IMAGE, datasetBytes, EXPLICIT_LE, headerBytes, MR_IMAGE, storeRequest, tempDir, writtenFiles, type TestInstance } from './helpers.js';
import { dropSchema, freshSchemaName, PG_URL, postgresAvailable } from './pg-support.js';

const backends: Array<'sqlite' | 'postgres'> = ['sqlite'];
if (await postgresAvailable()) backends.push('postgres');

async function send(sink: StoreSink, chunks: Buffer[]) {
  for (const c of chunks) await sink.write(c);
  return sink.end();
}

describe.each(backends)('Archive ingest (%s index)', (backend) => {
  let dataDir: string;
  let schema: string | undefined;
  let archive: Archive;
  let logLines: string[];

  async function open(over: Partial<ArchiveOptions> = {}): Promise<Archive> {
    logLines = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void logLines.push(s) });
    return Archive.open({
      dataDir,
      index: backend === 'sqlite' ? 'sqlite' : { postgres: PG_URL, schema: (schema ??= freshSchemaName()) },
      logger,
      ...over,
    });
  }
  /** Data files (unused pool files, empty, excluded). */
  const finals = () => writtenFiles(join(dataDir, 'blobs'));
  /** Data files no index row names, once background work has settled. */
  const temps = async () => {
    await archive.idle();
    const out: string[] = [];
    for (const f of finals()) if (!(await archive.index.hasFileKey(f))) out.push(f);
    return out;
  };

  beforeEach(async () => {
    dataDir = tempDir();
    schema = undefined;
    archive = await open();
  });
  afterEach(async () => {
    await archive.close();
    if (schema) await dropSchema(schema);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stores meta header + the exact bytes sent, and indexes the attributes', async () => {
    const t: TestInstance = { sopInstanceUid: '1.2.3.4.5.1', patientName: `O'Brien^Åsa`, instanceNumber: 7 };
    const bytes = datasetBytes(t);
    const outcome = await send(archive.beginStore(storeRequest(t)), chunked(bytes, [7, 100, 1, 4096]));
    // With the patient and study it belongs to (the activity log names them).
    expect(outcome).toEqual({
      status: 'stored',
      sopInstanceUid: t.sopInstanceUid,
      bytes: bytes.length,
      patientId: 'PID42',
      studyInstanceUid: '1.2.826.0.1.3680043.10.1.1',
      // What the audit trail names (helpers.ts's defaults for the study, patient ID and accession).
      subject: { studyInstanceUid: '1.2.826.0.1.3680043.10.1.1', patientId: 'PID42', patientName: `O'Brien^Åsa`, accessionNumber: 'ACC42' },
    });
    const row = await archive.index.getInstance(t.sopInstanceUid);
    expect(row).toMatchObject({
      sopClassUid: CT_IMAGE,
      transferSyntaxUid: EXPLICIT_LE,
      callingAeTitle: 'MODALITY',
      calledAeTitle: 'PACS',
      studyInstanceUid: '1.2.826.0.1.3680043.10.1.1',
      seriesInstanceUid: '1.2.826.0.1.3680043.10.1.1.1',
      instanceNumber: 7,
    });
    const meta = buildMetaHeader({ sopClassUid: CT_IMAGE, sopInstanceUid: t.sopInstanceUid, transferSyntaxUid: EXPLICIT_LE, sourceAeTitle: 'MODALITY' });
    const file = readFileSync(join(dataDir, 'blobs', row!.fileKey));
    // After the preamble: the meta header and the bytes sent; the preamble holds the seal of exactly those.
    expect(file.subarray(PREAMBLE_BYTES).equals(Buffer.concat([meta, bytes]).subarray(PREAMBLE_BYTES))).toBe(true);
    expect(decodeSeal(file)).toEqual({ size: file.length, bodyCrc32: crc32(file.subarray(PREAMBLE_BYTES)) });
    expect((await archive.index.fileCheck(row!.fileKey))?.fileCrc32).toBe(crc32(file.subarray(PREAMBLE_BYTES)));
    expect(row!.fileSize).toBe(file.length);
    expect(finals()).toEqual([row!.fileKey]);
    expect(await temps()).toEqual([]);
    const [study] = await archive.index.listStudies();
    expect(study).toMatchObject({
      patientId: 'PID42',
      patientName: `O'Brien^Åsa`,
      patientSex: 'F',
      studyDate: '20240102',
      accessionNumber: 'ACC42',
      studyDescription: 'Head routine',
      modalitiesInStudy: ['CT'],
    });
    expect((await archive.index.listSeries(study.studyInstanceUid))[0]).toMatchObject({ modality: 'CT', seriesNumber: 3 });
  });

  it('keeps the non-bulk attributes as DICOM JSON', async () => {
    const t = { sopInstanceUid: '1.2.3.4.5.2' };
    await send(archive.beginStore(storeRequest(t)), [datasetBytes(t)]);
    const json = JSON.parse((await archive.index.getInstance(t.sopInstanceUid))!.json);
    expect(json['00080018']).toEqual({ vr: 'UI', Value: [t.sopInstanceUid] });
    expect(json['00100020']).toEqual({ vr: 'LO', Value: ['PID42'] });
    expect(json['7FE00010']?.Value).toBeUndefined();
  });

  it('stores a dataset without Pixel Data (header reader ends at the end)', async () => {
    const t = { sopInstanceUid: '1.2.3.4.5.3' };
    const bytes = headerBytes(t);
    expect((await send(archive.beginStore(storeRequest(t)), [bytes])).status).toBe('stored');
    expect(await archive.index.countInstances()).toBe(1);
  });

  it('duplicate (default keep): answers success, keeps the stored file, logs it', async () => {
    const t = { sopInstanceUid: '1.2.3.4.5.4' };
    await send(archive.beginStore(storeRequest(t)), [datasetBytes(t)]);
    const before = await archive.index.getInstance(t.sopInstanceUid);
    const second = await send(archive.beginStore(storeRequest(t, { callingAeTitle: 'OTHER' })), [datasetBytes({ ...t, pixelBytes: 300 })]);
    expect(second.status).toBe('duplicate-kept');
    expect(second.warnings?.length).toBe(1);
    expect(await archive.index.getInstance(t.sopInstanceUid)).toEqual(before);
    expect(finals()).toEqual([before!.fileKey]);
    expect(await temps()).toEqual([]);
    expect(logLines.some((l) => l.includes('duplicate') && l.includes(t.sopInstanceUid))).toBe(true);
  });

  it('duplicate (replace): the new file replaces the old one', async () => {
    await archive.close();
    archive = await open({ duplicatePolicy: 'replace' });
    const t = { sopInstanceUid: '1.2.3.4.5.5' };
    await send(archive.beginStore(storeRequest(t)), [datasetBytes(t)]);
    const newer = datasetBytes({ ...t, pixelBytes: 512 });
    expect((await send(archive.beginStore(storeRequest(t)), [newer])).status).toBe('replaced');
    const row = await archive.index.getInstance(t.sopInstanceUid);
    expect(finals()).toEqual([row!.fileKey]);
    expect(
      readFileSync(join(dataDir, 'blobs', row!.fileKey))
        .subarray(-newer.length)
        .equals(newer),
    ).toBe(true);
    expect(await archive.index.countInstances()).toBe(1);
  });

  it('duplicate (reject): fails with status 0x0111 and changes nothing', async () => {
    await archive.close();
    archive = await open({ duplicatePolicy: 'reject' });
    const t = { sopInstanceUid: '1.2.3.4.5.6' };
    await send(archive.beginStore(storeRequest(t)), [datasetBytes(t)]);
    const err = await send(archive.beginStore(storeRequest(t)), [datasetBytes(t)]).catch((e) => e);
    expect(err).toBeInstanceOf(DuplicateInstanceError);
    expect(err.status).toBe(0x0111);
    expect(finals()).toHaveLength(1);
    expect(await temps()).toEqual([]);
  });

  it('rejects a dataset whose SOP Instance UID differs from the request (0xA900), storing nothing', async () => {
    const t = { sopInstanceUid: '1.2.3.4.5.7', pixelBytes: 200_000 };
    const err = await send(archive.beginStore(storeRequest({ sopInstanceUid: '1.2.3.4.5.999' })), chunked(datasetBytes(t), [16384])).catch((e) => e);
    expect(err).toBeInstanceOf(InvalidDatasetError);
    expect(err.status).toBe(0xa900);
    expect(err.message).toMatch(/SOP Instance UID/);
    expect(await archive.index.countInstances()).toBe(0);
    expect(finals()).toEqual([]);
    expect(await temps()).toEqual([]);
  });

  it('rejects a dataset whose SOP Class UID differs from the request (0xA900)', async () => {
    const t = { sopInstanceUid: '1.2.3.4.5.8' };
    const err = await send(archive.beginStore(storeRequest(t, { sopClassUid: MR_IMAGE })), [datasetBytes(t)]).catch((e) => e);
    expect(err).toBeInstanceOf(InvalidDatasetError);
    expect(err.status).toBe(0xa900);
    expect(await archive.index.countInstances()).toBe(0);
    expect(finals()).toEqual([]);
  });

  it('rejects a truncated dataset (0xC000), storing nothing', async () => {
    const t = { sopInstanceUid: '1.2.3.4.5.9' };
    const bytes = headerBytes(t);
    const err = await send(archive.beginStore(storeRequest(t)), [bytes.subarray(0, bytes.length - 5)]).catch((e) => e);
    expect(err).toBeInstanceOf(InvalidDatasetError);
    expect(err.status).toBe(0xc000);
    expect(finals()).toEqual([]);
    expect(await temps()).toEqual([]);
  });

  it('refuses a header past limits.dataset.maxHeaderBytes (0xA700 naming the limit), drains the rest, stores nothing', async () => {
    await archive.close();
    archive = await open({ datasetLimits: () => ({ ...DEFAULT_LIMITS.dataset, maxHeaderBytes: 1_000_000 }) });
    const t: TestInstance = { sopInstanceUid: '1.2.3.4.5.20', privateUc: { count: 40, bytes: 100_000 }, pixelBytes: 100_000 };
    const sink = archive.beginStore(storeRequest(t));
    const chunks = chunked(datasetBytes(t), [16384]);
    for (const c of chunks) await sink.write(c); // every chunk taken (drained), none refused
    const err = await sink.end().catch((e) => e);
    expect(err).toBeInstanceOf(OutOfResourcesError);
    expect(err.status).toBe(0xa700);
    expect(err.message).toMatch(/^header over limits\.dataset\.maxHeaderBytes \(1000000 bytes\)/);
    expect(err.message.length).toBeGreaterThan(64); // the Error Comment keeps the first 64 characters: the limit's name
    expect(await archive.index.countInstances()).toBe(0);
    expect(finals()).toEqual([]);
    expect(await temps()).toEqual([]);
    // The same header fits the default limit.
    await archive.close();
    archive = await open();
    const ok = await send(archive.beginStore(storeRequest(t)), chunks);
    expect(ok.status).toBe('stored');
  });

  describe('UIDs checked where they enter (issue 15 item 7)', () => {
    const refused = async (t: TestInstance, over: Partial<StoreRequest> = {}) => {
      const err = await send(archive.beginStore(storeRequest(t, over)), chunked(datasetBytes(t), [4096])).catch((e) => e);
      expect(err).toBeInstanceOf(InvalidDatasetError);
      expect(await archive.index.countInstances()).toBe(0);
      expect(finals()).toEqual([]);
      expect(await temps()).toEqual([]);
      return err as InvalidDatasetError;
    };

    it('refuses a Series Instance UID that is not a UID (0xA900 naming the attribute), storing nothing', async () => {
      const err = await refused({ sopInstanceUid: '1.2.3.4.5.30', seriesInstanceUid: '1.2.3"x' });
      expect(err.status).toBe(0xa900);
      expect(err.message).toMatch(/^SeriesInstanceUID \(0020,000E\) .*"1\.2\.3\\"x"/);
      expect(err.offendingElement).toEqual([0x0020000e]);
    });

    it('refuses a bad Study Instance UID, SOP Instance UID, SOP Class UID in the data set', async () => {
      expect((await refused({ sopInstanceUid: '1.2.3.4.5.31', studyInstanceUid: '1.2.3.' })).message).toMatch(/^StudyInstanceUID/);
      expect((await refused({ sopInstanceUid: '1.2.3.4.5.32', seriesInstanceUid: '1.2.' + '3'.repeat(63) })).message).toMatch(
        /^SeriesInstanceUID.*longer than 64/,
      );
      // The request says the same (bad) UIDs, as a C-STORE command or STOW meta header would.
      expect((await refused({ sopInstanceUid: '1.2.3x' })).message).toMatch(/^SOPInstanceUID/);
      expect((await refused({ sopInstanceUid: '1.2.3.4.5.33', sopClassUid: '1.2.840.10008.5.1.4.1.1.2 ' })).message).toMatch(/^SOPClassUID/);
    });

    it('refuses a transfer syntax that is not a UID before writing anything', async () => {
      const err = await refused({ sopInstanceUid: '1.2.3.4.5.34' }, { transferSyntaxUid: '1.2.840.10008.1.2.1"; x=' });
      expect(err.message).toMatch(/^TransferSyntaxUID \(0002,0010\)/);
    });

    it('accepts leading zeros in a component (devices send them)', async () => {
      const t = { sopInstanceUid: '1.2.3.4.05.35', seriesInstanceUid: '1.2.826.0.01.3' };
      expect((await send(archive.beginStore(storeRequest(t)), [datasetBytes(t)])).status).toBe('stored');
    });
  });

  it('abort drops the temp file; nothing becomes visible', async () => {
    const t = { sopInstanceUid: '1.2.3.4.5.10', pixelBytes: 3_000_000 };
    const sink = archive.beginStore(storeRequest(t));
    const chunks = chunked(datasetBytes(t), [65536]);
    for (const c of chunks.slice(0, 20)) await sink.write(c);
    await sink.abort(new Error('association aborted'));
    expect(await archive.index.countInstances()).toBe(0);
    expect(finals()).toEqual([]);
    expect(await temps()).toEqual([]);
    expect(() => sink.write(chunks[21])).toThrow();
  });

  it('ingests 100 concurrent stores, group-committed (fewer index transactions than instances)', async () => {
    const tx0 = archive.index.writeTransactions;
    const ts = Array.from({ length: 100 }, (_, i) => ({ sopInstanceUid: `1.2.3.4.6.${i}`, instanceNumber: i, pixelBytes: 20_000 }));
    const outcomes = await Promise.all(ts.map((t) => send(archive.beginStore(storeRequest(t)), chunked(datasetBytes(t), [8192]))));
    expect(outcomes.every((o) => o.status === 'stored')).toBe(true);
    expect(await archive.index.countInstances()).toBe(100);
    const txs = archive.index.writeTransactions - tx0;
    expect(txs).toBeLessThan(100);
    expect(archive.groupCommitStats.items).toBe(100);
    expect(finals()).toHaveLength(100);
    expect(await temps()).toEqual([]);
    const series = await archive.index.listInstances('1.2.826.0.1.3680043.10.1.1.1');
    expect(series.map((s) => s.instanceNumber)).toEqual(ts.map((t) => t.instanceNumber));
  });

  if (backend === 'sqlite') {
    it('deferred rows: the answer comes before the row commit, and a read after the answer finds the instance', async () => {
      const t = { sopInstanceUid: '1.2.3.4.7.1' };
      const tx0 = archive.index.writeTransactions;
      expect(await send(archive.beginStore(storeRequest(t)), [datasetBytes(t)])).toMatchObject({ status: 'stored' });
      expect(archive.index.writeTransactions).toBe(tx0); // not committed yet
      expect(await archive.index.getInstance(t.sopInstanceUid)).toMatchObject({ sopInstanceUid: t.sopInstanceUid, instanceNumber: 1 });
      expect(archive.index.writeTransactions).toBe(tx0 + 1);
      expect(await temps()).toEqual([]);
    });

    it('deferred rows: stores one after another commit in one transaction; a store of a UID answered for and not yet committed is a duplicate', async () => {
      await archive.close();
      archive = await open({ rowLingerMs: 60_000 });
      const tx0 = archive.index.writeTransactions;
      const ts = Array.from({ length: 8 }, (_, i) => ({ sopInstanceUid: `1.2.3.4.7.2.${i}`, instanceNumber: i }));
      for (const t of ts) expect(await send(archive.beginStore(storeRequest(t)), [datasetBytes(t)])).toMatchObject({ status: 'stored' });
      const again = await send(archive.beginStore(storeRequest(ts[3])), [datasetBytes(ts[3])]);
      expect(again).toMatchObject({ status: 'duplicate-kept' });
      expect(archive.index.writeTransactions).toBe(tx0);
      expect(await archive.index.countInstances()).toBe(8);
      expect(archive.index.writeTransactions).toBe(tx0 + 1);
      expect(finals()).toHaveLength(8);
      expect(await temps()).toEqual([]);
    });
  }

  it('two concurrent stores of one SOP Instance UID: one stored, one duplicate-kept, one file', async () => {
    const t = { sopInstanceUid: '1.2.3.4.5.12', pixelBytes: 100_000 };
    const a = archive.beginStore(storeRequest(t));
    const b = archive.beginStore(storeRequest(t));
    for (const c of chunked(datasetBytes(t), [4096])) {
      await a.write(c);
      await b.write(c);
    }
    const outcomes = await Promise.all([a.end(), b.end()]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['duplicate-kept', 'stored']);
    const row = await archive.index.getInstance(t.sopInstanceUid);
    expect(finals()).toEqual([row!.fileKey]);
    expect(await temps()).toEqual([]);
  });

  it('an index commit that fails without refusing the instance (a lost connection) leaves the file to the sweep, which indexes it', async () => {
    const t = { sopInstanceUid: '1.2.3.4.5.14' };
    const write = archive.index.write.bind(archive.index);
    let failed = 0;
    archive.index.write = (fn, opts) => {
      if (failed++ === 0) return Promise.reject(new Error('Connection terminated unexpectedly'));
      return write(fn, opts);
    };
    const outcome = await send(archive.beginStore(storeRequest(t)), [datasetBytes(t)]).catch((e: unknown) => e);
    if (backend === 'sqlite') {
      // Deferred rows (ingest.ts): answered once the file was durable, the commit after it failed.
      expect(outcome).toMatchObject({ status: 'stored', sopInstanceUid: t.sopInstanceUid });
      await archive.idle();
      expect(logLines.some((l) => l.includes('index commit failed after the answer: the file is indexed again at the next start'))).toBe(true);
      // The next store commits before its answer, which tells of the failure; one that
      // commits again turns deferral back on.
      failed = 0;
      const u = { sopInstanceUid: '1.2.3.4.5.15' };
      const err = await send(archive.beginStore(storeRequest(u)), [datasetBytes(u)]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OutOfResourcesError);
      const v = { sopInstanceUid: '1.2.3.4.5.16' };
      const tx0 = archive.index.writeTransactions;
      expect(await send(archive.beginStore(storeRequest(v)), [datasetBytes(v)])).toMatchObject({ status: 'stored' });
      expect(archive.index.writeTransactions).toBe(tx0 + 1); // committed before the answer
      const w = { sopInstanceUid: '1.2.3.4.5.17' };
      expect(await send(archive.beginStore(storeRequest(w)), [datasetBytes(w)])).toMatchObject({ status: 'stored' });
      expect(archive.index.writeTransactions).toBe(tx0 + 1); // deferred again
      expect(await archive.index.hasInstance(w.sopInstanceUid)).toBe(true);
    } else {
      expect(outcome).toBeInstanceOf(OutOfResourcesError);
      expect((outcome as Error).message).toBe('index failure: Connection terminated unexpectedly');
      expect(logLines.some((l) => l.includes('index commit failed: the file is left to the sweep'))).toBe(true);
    }
    // The COMMIT's fate is unknown to the store: the file stays, its batch open (SQLite: the
    // answered store's file and the one whose answer told of the failure).
    expect(await temps()).toHaveLength(backend === 'sqlite' ? 2 : 1);
    archive.index.write = write;
    await archive.close();
    archive = await open();
    expect(archive.recovery.reindexed).toBe(backend === 'sqlite' ? 2 : 1);
    expect(await archive.index.hasInstance(t.sopInstanceUid)).toBe(true);
    expect(await temps()).toEqual([]);
  });

  it('reopening keeps what was stored', async () => {
    const t = { sopInstanceUid: '1.2.3.4.5.13' };
    await send(archive.beginStore(storeRequest(t)), [datasetBytes(t)]);
    await archive.close();
    archive = await open();
    expect(archive.recovery).toEqual({ tempFiles: 0, removedFinalFiles: 0 });
    expect(await archive.index.hasInstance(t.sopInstanceUid)).toBe(true);
  });

  it('deleteInstance removes row and file', async () => {
    const t = { sopInstanceUid: '1.2.3.4.5.11' };
    await send(archive.beginStore(storeRequest(t)), [datasetBytes(t)]);
    expect(await archive.deleteInstance(t.sopInstanceUid)).toBe(true);
    expect(await archive.deleteInstance(t.sopInstanceUid)).toBe(false);
    expect(finals()).toEqual([]);
  });
});
