/**
 * Workflow services of the Main Server, in process: Modality Worklist C-FIND matching
 * (table of queries), MPPS N-CREATE / N-SET rules with the worklist following, Storage
 * Commitment reports on the same and on a new association, pending commitments after a
 * restart.
 */
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommitmentStore } from '../../src/archive/commitment-store.js';
import { WorklistStore } from '../../src/archive/worklist-store.js';
import { DimseConnection } from '../../src/dimse/dimse-connection.js';
import { DimseFailureStatusError } from '../../src/dimse/errors.js';
import { nCreate, nSet } from '../../src/dimse/scu-n.js';
import { Dataset, getString, getStrings } from '../../src/dicom/dataset.js';
import { readDataset } from '../../src/dicom/dataset-reader.js';
import { putString, writeDataset } from '../../src/dicom/dataset-writer.js';
import { newUid } from '../../src/dicom/uid-generator.js';
import { connect } from '../../src/net/index.js';
import { startMainServer, type MainServer } from '../../src/roles/main-server.js';
import { requestCommitment } from '../../src/services/commitment-scu.js';
import { MPPS_SOP_CLASS } from '../../src/services/mpps.js';
import { mppsCreateDataset, mppsSetDataset } from '../../src/services/mpps-scu.js';
import { cFind } from '../../src/services/qr-scu.js';
import { MODALITY_WORKLIST_FIND } from '../../src/services/worklist.js';
import { datasetBytes, storeRequest, CT_IMAGE, MR_IMAGE } from '../archive/helpers.js';
import { freePort } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

const ELE = '1.2.840.10008.1.2.1';
let server: MainServer;
let port: number;
let dataDir: string;
let worklist: WorklistStore;
let reportPort: number;
let reportMode: 'same' | 'new' = 'same';
/** The query limits the server reads per query (changed by one test). */
let queryLimits: { maxRowsExamined?: number } = {};

async function start(): Promise<MainServer> {
  return startMainServer({
    aeTitle: 'PACS',
    port,
    dataDir,
    logger: pino({ level: 'silent' }),
    queryLimits: () => queryLimits,
    commitment: {
      resolveRequestor: (aet) => (aet === 'MODALITY' ? { host: '127.0.0.1', port: reportPort } : undefined),
      reportMode: () => reportMode,
      retryIntervalMs: 0,
    },
  });
}

beforeAll(async () => {
  dataDir = join(await makeTempDir('pacs-workflow-'), 'data');
  [port, reportPort] = await Promise.all([freePort(), freePort()]);
  server = await start();
  worklist = await WorklistStore.open(server.archive.index);
  const base = { patientName: 'DOE^JOHN', modality: 'CT', stationAeTitle: 'CT01', startDate: '20250310' };
  await worklist.add({
    ...base,
    spsId: 'S1',
    patientId: 'P1',
    accessionNumber: 'A1',
    requestedProcedureId: 'RP1',
    startTime: '0900',
    performingPhysicianName: 'HOUSE^GREGORY',
  });
  await worklist.add({ ...base, spsId: 'S2', patientId: 'P2', patientName: 'DOE^JANE', accessionNumber: 'A2', startTime: '1400' });
  await worklist.add({
    ...base,
    spsId: 'S3',
    patientId: 'P3',
    patientName: 'SMITH^ANNA',
    modality: 'MR',
    stationAeTitle: 'MR01',
    accessionNumber: 'A3',
    startDate: '20250311',
    startTime: '0800',
  });
  await worklist.add({ ...base, spsId: 'S4', patientId: 'P4', patientName: 'MÜLLER^JÜRGEN', accessionNumber: 'A4', startDate: '20250312', startTime: '1000' });
  await worklist.add({ ...base, spsId: 'S5', patientId: 'P5', accessionNumber: 'A5', status: 'COMPLETED' });
});

afterAll(async () => {
  await server?.close();
  await removeTempDirs();
});

async function association(contexts: string[], callingAeTitle = 'MODALITY') {
  const assoc = await connect({
    host: '127.0.0.1',
    port,
    callingAeTitle,
    calledAeTitle: 'PACS',
    presentationContexts: contexts.map((abstractSyntax) => ({ abstractSyntax, transferSyntaxes: [ELE] })),
  });
  return { assoc, conn: new DimseConnection(assoc) };
}

/** A worklist query: keys as `Keyword=value` (SPS keys prefixed `sps.`); returns the matches. */
async function mwl(keys: Record<string, string>): Promise<Dataset[]> {
  const ds = new Dataset();
  const sps = new Dataset(ds);
  const put = (d: Dataset, k: string, v: string) => {
    const tags: Record<string, [number, 'PN' | 'LO' | 'SH' | 'CS' | 'AE' | 'DA' | 'TM' | 'UI']> = {
      PatientName: [0x00100010, 'PN'],
      PatientID: [0x00100020, 'LO'],
      AccessionNumber: [0x00080050, 'SH'],
      RequestedProcedureID: [0x00401001, 'SH'],
      StudyInstanceUID: [0x0020000d, 'UI'],
      Modality: [0x00080060, 'CS'],
      ScheduledStationAETitle: [0x00400001, 'AE'],
      ScheduledProcedureStepStartDate: [0x00400002, 'DA'],
      ScheduledProcedureStepStartTime: [0x00400003, 'TM'],
      ScheduledPerformingPhysicianName: [0x00400006, 'PN'],
      ScheduledProcedureStepID: [0x00400009, 'SH'],
      ScheduledProcedureStepStatus: [0x00400020, 'CS'],
    };
    const [tag, vr] = tags[k];
    putString(d, tag, vr, v);
  };
  for (const k of ['PatientName', 'PatientID', 'AccessionNumber']) put(ds, k, '');
  for (const k of ['Modality', 'ScheduledStationAETitle', 'ScheduledProcedureStepStartDate', 'ScheduledProcedureStepID']) put(sps, k, '');
  for (const [k, v] of Object.entries(keys)) {
    if (k.startsWith('sps.')) put(sps, k.slice(4), v);
    else put(ds, k, v);
  }
  ds.put({ tag: 0x00400100, vr: 'SQ', length: 0, items: [sps] });
  if (/[^\x00-\x7f]/.test(JSON.stringify(keys))) putString(ds, 0x00080005, 'CS', 'ISO_IR 192');
  const { assoc, conn } = await association([MODALITY_WORKLIST_FIND]);
  const out: Dataset[] = [];
  try {
    const r = await cFind(conn, MODALITY_WORKLIST_FIND, writeDataset(ds, ELE), { onMatch: (b, ts) => out.push(readDataset(b, ts)) });
    if (r.status !== 0) throw new DimseFailureStatusError(r.status, r.errorComment, `C-FIND status 0x${r.status.toString(16)} ${r.errorComment ?? ''}`);
  } finally {
    await assoc.release();
  }
  return out;
}

const spsIds = (items: Dataset[]) => items.map((d) => getString(d.get(0x00400100)!.items![0], 0x00400009)).sort();

describe('Modality Worklist SCP', () => {
  it.each([
    ['everything open (COMPLETED left out)', {}, ['S1', 'S2', 'S3', 'S4']],
    ['station AE', { 'sps.ScheduledStationAETitle': 'MR01' }, ['S3']],
    ['modality', { 'sps.Modality': 'CT' }, ['S1', 'S2', 'S4']],
    ['date', { 'sps.ScheduledProcedureStepStartDate': '20250310' }, ['S1', 'S2']],
    ['date range', { 'sps.ScheduledProcedureStepStartDate': '20250311-20250312' }, ['S3', 'S4']],
    ['open date range', { 'sps.ScheduledProcedureStepStartDate': '-20250310' }, ['S1', 'S2']],
    [
      'date and time ranges combined',
      { 'sps.ScheduledProcedureStepStartDate': '20250310-20250311', 'sps.ScheduledProcedureStepStartTime': '1000-2359' },
      ['S2', 'S3'],
    ],
    ['time range one day', { 'sps.ScheduledProcedureStepStartDate': '20250310', 'sps.ScheduledProcedureStepStartTime': '1200-1500' }, ['S2']],
    ['patient name wildcard', { PatientName: 'DOE*' }, ['S1', 'S2']],
    ['patient name ?, case-insensitive', { PatientName: 'smith^ann?' }, ['S3']],
    ['non-ASCII name', { PatientName: 'MÜLLER*' }, ['S4']],
    ['accession number', { AccessionNumber: 'A2' }, ['S2']],
    ['requested procedure ID', { RequestedProcedureID: 'RP1' }, ['S1']],
    ['performing physician', { 'sps.ScheduledPerformingPhysicianName': 'HOUSE*' }, ['S1']],
    ['status asked for', { 'sps.ScheduledProcedureStepStatus': 'COMPLETED' }, ['S5']],
    ['no match', { PatientID: 'NOPE' }, []],
  ])('%s', async (_name, keys, expected) => {
    expect(spsIds(await mwl(keys as Record<string, string>))).toEqual(expected);
  });

  it('past limits.query.maxRowsExamined the query ends with 0xA700 and a comment naming the limit', async () => {
    queryLimits = { maxRowsExamined: 3 };
    try {
      const err = await mwl({}).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DimseFailureStatusError);
      expect(err).toMatchObject({ status: 0xa700, errorComment: 'query limit: >3 rows examined; add keys to narrow it' });
      queryLimits = { maxRowsExamined: 4 }; // the four open steps
      expect(spsIds(await mwl({}))).toEqual(['S1', 'S2', 'S3', 'S4']);
    } finally {
      queryLimits = {};
    }
  });

  it('reads the steps in pages, in scheduled order (steps without a start time first)', async () => {
    const all = await worklist.list();
    for (const size of [1, 2, 3, 500]) {
      const pages: string[][] = [];
      for await (const page of worklist.pages({}, size)) pages.push(page.map((e) => e.spsId));
      expect(pages.every((p) => p.length <= size)).toBe(true);
      expect(pages.flat()).toEqual(all.map((e) => e.spsId));
    }
  });

  it('returns the requested keys, empty where the item has none, sequence included', async () => {
    const [m] = await mwl({ AccessionNumber: 'A1', StudyInstanceUID: '', 'sps.ScheduledPerformingPhysicianName': '' });
    expect(getString(m, 0x00100010)).toBe('DOE^JOHN');
    expect(getString(m, 0x0020000d)).toMatch(/^2\.25\./);
    expect(m.has(0x00401001)).toBe(false); // not requested
    const sps = m.get(0x00400100)!.items![0];
    expect(getString(sps, 0x00400001)).toBe('CT01');
    expect(getString(sps, 0x00400006)).toBe('HOUSE^GREGORY');
    const [m4] = await mwl({ AccessionNumber: 'A4' });
    expect(getString(m4, 0x00100010)).toBe('MÜLLER^JÜRGEN');
    expect(getStrings(m4, 0x00080005)).toEqual(['ISO_IR 192']);
  });

  it('refuses a malformed date range with 0xC000', async () => {
    await expect(mwl({ 'sps.ScheduledProcedureStepStartDate': '2025-03-10' })).rejects.toThrow(/status 0xc000/);
  });
});

describe('MPPS SCP', () => {
  const create = async (over: Parameters<typeof mppsCreateDataset>[0] | undefined, uid = newUid(), mutate?: (d: Dataset) => void) => {
    const ds = mppsCreateDataset(over ?? { patientId: 'P1', modality: 'CT', stationAeTitle: 'CT01', spsId: 'S1', studyInstanceUid: newUid() });
    mutate?.(ds);
    const { assoc, conn } = await association([MPPS_SOP_CLASS]);
    try {
      return await nCreate(conn, MPPS_SOP_CLASS, uid, writeDataset(ds, ELE));
    } finally {
      await assoc.release();
    }
  };
  const set = async (uid: string, ds: Dataset) => {
    const { assoc, conn } = await association([MPPS_SOP_CLASS]);
    try {
      return await nSet(conn, MPPS_SOP_CLASS, uid, writeDataset(ds, ELE));
    } finally {
      await assoc.release();
    }
  };
  const status = async (e: Promise<unknown>) => {
    try {
      await e;
      return 0;
    } catch (err) {
      expect(err).toBeInstanceOf(DimseFailureStatusError);
      return (err as DimseFailureStatusError).status;
    }
  };

  it('IN PROGRESS -> COMPLETED, the worklist follows; final state, unknown instance, duplicates refused', async () => {
    const uid = newUid();
    expect(await status(create(undefined, uid))).toBe(0);
    expect((await worklist.get('S1'))?.status).toBe('STARTED');
    expect(await status(create(undefined, uid))).toBe(0x0111);
    expect(await status(set(uid, mppsSetDataset({ status: 'IN PROGRESS' })))).toBe(0);
    const noEnd = new Dataset();
    putString(noEnd, 0x00400252, 'CS', 'COMPLETED');
    expect(await status(set(uid, noEnd))).toBe(0x0120);
    expect(await status(set(uid, mppsSetDataset({ status: 'COMPLETED' })))).toBe(0);
    expect((await worklist.get('S1'))?.status).toBe('COMPLETED');
    expect(await status(set(uid, mppsSetDataset({ status: 'DISCONTINUED' })))).toBe(0x0110);
    expect(await status(set(newUid(), mppsSetDataset({ status: 'COMPLETED' })))).toBe(0x0112);
    // and S1 is no longer in the worklist
    expect(spsIds(await mwl({}))).toEqual(['S2', 'S3', 'S4']);
  });

  it('DISCONTINUED; missing and invalid attributes', async () => {
    const uid = newUid();
    expect(await status(create({ patientId: 'P2', modality: 'CT', stationAeTitle: 'CT01', spsId: 'S2' }, uid))).toBe(0);
    expect(await status(set(uid, mppsSetDataset({ status: 'DISCONTINUED' })))).toBe(0);
    expect((await worklist.get('S2'))?.status).toBe('DISCONTINUED');
    expect(await status(create(undefined, newUid(), (d) => d.delete(0x00400253)))).toBe(0x0120);
    expect(await status(create(undefined, newUid(), (d) => d.delete(0x00400270)))).toBe(0x0120);
    expect(await status(create(undefined, newUid(), (d) => putString(d, 0x00400252, 'CS', 'COMPLETED')))).toBe(0x0106);
    const bad = new Dataset();
    putString(bad, 0x00400252, 'CS', 'DONE');
    const uid2 = newUid();
    expect(await status(create({ patientId: 'P3', modality: 'MR', stationAeTitle: 'MR01', spsId: 'S3' }, uid2))).toBe(0);
    expect(await status(set(uid2, bad))).toBe(0x0106);
    const ssa = new Dataset();
    ssa.put({ tag: 0x00400270, vr: 'SQ', length: 0, items: [] });
    expect(await status(set(uid2, ssa))).toBe(0x0106);
  });

  it("refuses UIDs that are not UIDs: referenced ones 0x0106 naming the attribute, the step's own 0x0117 (issue 15 item 7)", async () => {
    const comment = async (e: Promise<unknown>) => {
      const err = await e.catch((x: unknown) => x);
      expect(err).toBeInstanceOf(DimseFailureStatusError);
      return { status: (err as DimseFailureStatusError).status, comment: (err as DimseFailureStatusError).errorComment ?? '' };
    };
    const badStudy = await comment(create({ patientId: 'P4', modality: 'CT', stationAeTitle: 'CT01', spsId: 'S4', studyInstanceUid: '1.2.3"x' }));
    expect(badStudy.status).toBe(0x0106);
    expect(badStudy.comment).toMatch(/^StudyInstanceUID \(0020,000D\) is not a UID/);
    expect((await worklist.get('S4'))?.status).toBe('SCHEDULED'); // nothing changed
    expect((await comment(create(undefined, '1.2.3x'))).status).toBe(0x0117);

    const uid = newUid();
    expect(await status(create({ patientId: 'P4', modality: 'CT', stationAeTitle: 'CT01', spsId: 'S4' }, uid))).toBe(0);
    const series = mppsSetDataset({
      status: 'IN PROGRESS',
      series: [{ seriesInstanceUid: '1.2..3', instances: [{ sopClassUid: CT_IMAGE, sopInstanceUid: newUid() }] }],
    });
    const badSeries = await comment(set(uid, series));
    expect(badSeries.status).toBe(0x0106);
    expect(badSeries.comment).toMatch(/^SeriesInstanceUID \(0020,000E\) is not a UID/);
    const badRef = mppsSetDataset({
      status: 'IN PROGRESS',
      series: [{ seriesInstanceUid: newUid(), instances: [{ sopClassUid: CT_IMAGE, sopInstanceUid: '1.2.3<x>' }] }],
    });
    expect((await comment(set(uid, badRef))).comment).toMatch(/^ReferencedSOPInstanceUID \(0008,1155\)/);
    expect((await comment(set('1.2.3x', mppsSetDataset({ status: 'IN PROGRESS' })))).status).toBe(0x0117);
  });
});

describe('Storage Commitment SCP', () => {
  const stored = { sopInstanceUid: newUid(), sopClassUid: CT_IMAGE };
  beforeAll(async () => {
    const sink = server.archive.beginStore(storeRequest(stored));
    await sink.write(datasetBytes(stored));
    await sink.end();
  });
  const refs = () => [
    { sopClassUid: CT_IMAGE, sopInstanceUid: stored.sopInstanceUid },
    { sopClassUid: CT_IMAGE, sopInstanceUid: '1.2.3.404' },
    { sopClassUid: MR_IMAGE, sopInstanceUid: stored.sopInstanceUid },
  ];
  const expectReport = (r: Awaited<ReturnType<typeof requestCommitment>>) => {
    expect(r.success).toEqual([{ sopClassUid: CT_IMAGE, sopInstanceUid: stored.sopInstanceUid }]);
    expect(r.failed).toEqual([
      { sopClassUid: CT_IMAGE, sopInstanceUid: '1.2.3.404', reason: 0x0112 },
      { sopClassUid: MR_IMAGE, sopInstanceUid: stored.sopInstanceUid, reason: 0x0119 },
    ]);
  };

  it('reports on the same association', async () => {
    reportMode = 'same';
    const r = await requestCommitment({ host: '127.0.0.1', port, callingAeTitle: 'MODALITY', calledAeTitle: 'PACS', refs: refs(), timeoutMs: 10_000 });
    expect(r.via).toBe('same-association');
    expectReport(r);
  });

  it('reports on a new association (configured per AE), to the address of the registry', async () => {
    reportMode = 'new';
    const r = await requestCommitment({
      host: '127.0.0.1',
      port,
      callingAeTitle: 'MODALITY',
      calledAeTitle: 'PACS',
      refs: refs(),
      timeoutMs: 10_000,
      listenPort: reportPort,
    });
    expect(r.via).toBe('new-association');
    expect(r.from).toBe('PACS');
    expectReport(r);
  });

  it('keeps an undeliverable report pending and delivers it after a restart', async () => {
    reportMode = 'new';
    const transactionUid = newUid();
    // Nobody listens on reportPort: the report stays pending.
    await requestCommitment({
      host: '127.0.0.1',
      port,
      callingAeTitle: 'MODALITY',
      calledAeTitle: 'PACS',
      refs: refs(),
      timeoutMs: 1500,
      transactionUid,
    }).catch(() => undefined);
    const store = await CommitmentStore.open(server.archive.index);
    await new Promise((r) => setTimeout(r, 300));
    const rec = await store.get(transactionUid);
    expect(rec?.state).toBe('pending');
    expect(rec?.lastError).toMatch(/new association/);
    await server.close();
    // Restarted: the pending report is delivered to the listener now up.
    let got: unknown;
    const { createAcceptor } = await import('../../src/net/index.js');
    const { ScpDispatcher } = await import('../../src/dimse/scp-dispatcher.js');
    const { ServiceRegistry } = await import('../../src/dimse/service.js');
    const { commitmentReportReceiver } = await import('../../src/services/commitment-scu.js');
    const received = new Promise<void>((resolve) => {
      const registry = new ServiceRegistry([
        commitmentReportReceiver((r) => {
          got = r;
          resolve();
        }),
      ]);
      const acceptor = createAcceptor({ onAssociation: (a) => void new ScpDispatcher(a, registry, pino({ level: 'silent' })) });
      void acceptor.listen(reportPort);
      afterAll(() => acceptor.close());
    });
    server = await start();
    worklist = await WorklistStore.open(server.archive.index);
    await received;
    expect(got).toMatchObject({ transactionUid, success: [{ sopInstanceUid: stored.sopInstanceUid }] });
    await new Promise((r) => setTimeout(r, 200));
    expect((await (await CommitmentStore.open(server.archive.index)).get(transactionUid))?.state).toBe('done');
  });

  it('refuses a request without Transaction UID (0x0120) and with a wrong action type (0x0123)', async () => {
    const { nAction } = await import('../../src/dimse/scu-n.js');
    const { assoc, conn } = await association(['1.2.840.10008.1.20.1']);
    try {
      const ds = new Dataset();
      ds.put({ tag: 0x00081199, vr: 'SQ', length: 0, items: [] });
      await expect(nAction(conn, '1.2.840.10008.1.20.1', '1.2.840.10008.1.20.1.1', 1, writeDataset(ds, ELE))).rejects.toMatchObject({ status: 0x0120 });
      await expect(nAction(conn, '1.2.840.10008.1.20.1', '1.2.840.10008.1.20.1.1', 7, writeDataset(ds, ELE))).rejects.toMatchObject({ status: 0x0123 });
    } finally {
      await assoc.release();
    }
  });
});
