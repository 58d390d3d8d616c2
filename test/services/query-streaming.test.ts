/**
 * A C-FIND matching 100,000 instances streams with bounded memory and stops on
 * C-CANCEL; a C-FIND examining them all without a match does not hold the event loop
 * (a C-ECHO on another association is answered meanwhile); a C-FIND past the cost
 * limits of `limits.query` ends with 0xA700 and a comment naming the limit. The index is filled directly through the archive's index API (no files:
 * nothing is retrieved); the query goes through the Main Server's C-FIND SCP from our
 * SCU over TCP, at IMAGE level with a key only the stored DICOM JSON holds (the worst
 * case: every row's JSON is parsed and matched).
 */
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Archive } from '../../src/archive/archive.js';
import type { InstanceRecord } from '../../src/archive/index-types.js';
import { Dataset, getString } from '../../src/dicom/dataset.js';
import { readDataset } from '../../src/dicom/dataset-reader.js';
import { putString, writeDataset } from '../../src/dicom/dataset-writer.js';
import { EXPLICIT_VR_LITTLE_ENDIAN } from '../../src/dicom/transfer-syntax.js';
import { DimseConnection } from '../../src/dimse/dimse-connection.js';
import { cEcho } from '../../src/dimse/scu.js';
import type { QueryLimits } from '../../src/config/limits.js';
import { connect } from '../../src/net/index.js';
import { startMainServer, type MainServer } from '../../src/roles/main-server.js';
import { QR_SOP_CLASSES } from '../../src/services/qr-identifier.js';
import { cFind } from '../../src/services/qr-scu.js';
import { freePort } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

const TOTAL = 100_000;
const SERIES = 100;
const STUDY_UID = '1.2.826.0.1.3680043.10.1000.1';
const MB = 1024 * 1024;

let dir: string;
let server: MainServer;
let port: number;
/** The limits the server reads per query (changed by the tests). */
let limits: Partial<QueryLimits> = {};

/** Records of one study, SERIES series, TOTAL instances, each with ~1 KB of DICOM JSON. */
function* records(): Generator<InstanceRecord> {
  const now = new Date().toISOString();
  for (let i = 0; i < TOTAL; i++) {
    const s = i % SERIES;
    const uid = `${STUDY_UID}.${s + 1}.${i + 1}`;
    const json = JSON.stringify({
      '00080008': { vr: 'CS', Value: ['ORIGINAL', 'PRIMARY', 'AXIAL'] },
      '00080016': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] },
      '00080018': { vr: 'UI', Value: [uid] },
      '00080080': { vr: 'LO', Value: ['Streaming General Hospital'] },
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Stream^Test' }] },
      '00100020': { vr: 'LO', Value: ['STREAM-1'] },
      '0020000D': { vr: 'UI', Value: [STUDY_UID] },
      '0020000E': { vr: 'UI', Value: [`${STUDY_UID}.${s + 1}`] },
      '00200013': { vr: 'IS', Value: [Math.floor(i / SERIES) + 1] },
      '00200032': { vr: 'DS', Value: [-125, -125, i * 0.5] },
      '00200037': { vr: 'DS', Value: [1, 0, 0, 0, 1, 0] },
      '00280030': { vr: 'DS', Value: [0.48828125, 0.48828125] },
      '00181030': { vr: 'LO', Value: ['Streaming protocol with a long enough name to look real'] },
      '00081090': { vr: 'LO', Value: ['Scanner Model 9000'] },
      '00080070': { vr: 'LO', Value: ['Manufacturer Inc.'] },
      '00180050': { vr: 'DS', Value: [0.5] },
      '00281050': { vr: 'DS', Value: [40] },
      '00281051': { vr: 'DS', Value: [400] },
    });
    yield {
      sopInstanceUid: uid,
      sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
      studyInstanceUid: STUDY_UID,
      seriesInstanceUid: `${STUDY_UID}.${s + 1}`,
      patientId: 'STREAM-1',
      patientName: 'Stream^Test',
      studyDate: '20240101',
      modality: 'CT',
      seriesNumber: s + 1,
      instanceNumber: Math.floor(i / SERIES) + 1,
      transferSyntaxUid: EXPLICIT_VR_LITTLE_ENDIAN,
      fileKey: `none/${i}`,
      fileSize: 0,
      receivedAt: now,
      callingAeTitle: 'LOADER',
      json,
    };
  }
}

beforeAll(async () => {
  dir = await makeTempDir('pacs-find100k-');
  const dataDir = join(dir, 'data');
  const archive = await Archive.open({ dataDir });
  let batch: InstanceRecord[] = [];
  for (const r of records()) {
    batch.push(r);
    if (batch.length === 5000) {
      await archive.index.insertInstances(batch);
      batch = [];
    }
  }
  if (batch.length) await archive.index.insertInstances(batch);
  expect(await archive.index.countInstances()).toBe(TOTAL);
  await archive.close();
  port = await freePort();
  server = await startMainServer({
    aeTitle: 'PACS',
    port,
    host: '127.0.0.1',
    dataDir,
    logger: pino({ level: 'silent' }),
    queryLimits: () => limits,
  });
}, 120_000);

afterAll(async () => {
  await server?.close();
  await removeTempDirs();
});

/** An IMAGE level query over every instance, with a key only the stored JSON holds (by default matching every one). */
function identifier(institution = 'Streaming*'): Buffer {
  const ds = new Dataset();
  putString(ds, 0x00080052, 'CS', 'IMAGE');
  putString(ds, 0x0020000d, 'UI', STUDY_UID);
  putString(ds, 0x00080018, 'UI', '');
  putString(ds, 0x00080080, 'LO', institution);
  return writeDataset(ds, EXPLICIT_VR_LITTLE_ENDIAN);
}

const ECHO = '1.2.840.10008.1.1';

async function find(opts: { cancelAfter?: number; onMatch?: (n: number, ds: Buffer) => void; institution?: string }) {
  const assoc = await connect({
    host: '127.0.0.1',
    port,
    callingAeTitle: 'FINDSCU',
    calledAeTitle: 'PACS',
    presentationContexts: [{ abstractSyntax: QR_SOP_CLASSES.StudyRootFind, transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN] }],
  });
  let n = 0;
  try {
    const r = await cFind(new DimseConnection(assoc), QR_SOP_CLASSES.StudyRootFind, identifier(opts.institution), {
      cancelAfter: opts.cancelAfter,
      onMatch: (ds) => {
        n++;
        opts.onMatch?.(n, ds);
      },
    });
    return { status: r.status, matches: n, errorComment: r.errorComment };
  } finally {
    await assoc.release().catch(() => assoc.abort());
  }
}

describe('C-FIND over 100,000 instances', () => {
  it('streams every match with bounded memory', async () => {
    global.gc?.();
    const base = process.memoryUsage().rss;
    let peak = base;
    const seen = new Set<string>();
    const started = performance.now();
    const r = await find({
      onMatch: (n, ds) => {
        if (n % 1000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
        if (n % 9973 === 1) seen.add(getString(readDataset(ds, EXPLICIT_VR_LITTLE_ENDIAN), 0x00080018)!);
      },
    });
    const seconds = (performance.now() - started) / 1000;
    expect(r.status).toBe(0);
    expect(r.matches).toBe(TOTAL);
    expect(seen.size).toBe(Math.ceil(TOTAL / 9973));
    // Server and client share this process: all 100,000 identifiers held at once would be far more.
    const growth = (peak - base) / MB;
    console.log(
      `100,000 matches in ${seconds.toFixed(1)} s (${Math.round(TOTAL / seconds)}/s); RSS ${Math.round(base / MB)} MB -> peak ${Math.round(peak / MB)} MB`,
    );
    expect(growth).toBeLessThan(80);
  }, 60_000);

  it('C-CANCEL part-way stops the stream with 0xFE00', async () => {
    const started = performance.now();
    const r = await find({ cancelAfter: 20_000 });
    expect(r.status).toBe(0xfe00);
    expect(r.matches).toBeGreaterThanOrEqual(20_000);
    // Responses already on their way when the cancel arrives still come (the loopback's socket
    // buffers hold several MB of them: about 20,000 were seen here); far fewer than all.
    console.log(`cancelled after 20,000 matches; ${r.matches} arrived`);
    expect(r.matches).toBeLessThan(TOTAL * 0.75);
    expect(performance.now() - started).toBeLessThan(30_000);
  }, 60_000);

  it('a C-FIND examining every row without a match lets a C-ECHO on another association be answered', async () => {
    limits = {};
    const echoAssoc = await connect({
      host: '127.0.0.1',
      port,
      callingAeTitle: 'ECHOSCU',
      calledAeTitle: 'PACS',
      presentationContexts: [{ abstractSyntax: ECHO, transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN] }],
    });
    // The test follows the query's reads of the index (one per page).
    const index = server.archive.index;
    const read = index.read.bind(index);
    let reads = 0;
    let started!: () => void;
    const queryStarted = new Promise<void>((resolve) => (started = resolve));
    index.read = (fn) => {
      reads++;
      started();
      return read(fn);
    };
    try {
      const findDone = find({ institution: 'Nowhere*' });
      await queryStarted;
      let readsWhenEchoed = -1;
      const echo = await cEcho(new DimseConnection(echoAssoc));
      readsWhenEchoed = reads;
      expect(echo.command.status).toBe(0);
      expect(await findDone).toMatchObject({ status: 0, matches: 0 });
      // The query went on reading pages after the echo had been answered: it did not hold
      // the event loop for the 100,000 rows it read and matched.
      expect(reads, `pages read: ${readsWhenEchoed} when the echo was answered, ${reads} in all`).toBeGreaterThan(readsWhenEchoed);
    } finally {
      index.read = read;
      await echoAssoc.release().catch(() => echoAssoc.abort());
    }
  }, 60_000);

  it('past limits.query.maxRowsExamined the C-FIND ends with 0xA700 and a comment naming the limit', async () => {
    limits = { maxRowsExamined: 5000 };
    try {
      const r = await find({});
      expect(r.status).toBe(0xa700);
      expect(r.errorComment).toBe('query limit: >5000 rows examined; add keys to narrow it');
      expect(r.matches).toBeLessThanOrEqual(5000);
      // A query within the limit is answered in full.
      limits = { maxRowsExamined: TOTAL };
      expect(await find({})).toMatchObject({ status: 0, matches: TOTAL });
    } finally {
      limits = {};
    }
  }, 60_000);

  it('past limits.query.maxSeconds the C-FIND ends with 0xA700 and a comment naming the limit', async () => {
    // 0.05 s of work is far less than 100,000 rows take.
    limits = { maxSeconds: 0.05 };
    try {
      const r = await find({ institution: 'Nowhere*' });
      expect(r.status).toBe(0xa700);
      expect(r.errorComment).toBe('query limit: >0.05 s of work; add keys to narrow it');
    } finally {
      limits = {};
    }
  }, 60_000);
});
