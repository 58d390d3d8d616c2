/**
 * Workflow services against independent peers: DCMTK's findscu -W (table of worklist
 * queries), an MPPS SCU written with Debian's python3-odil (IN PROGRESS -> COMPLETED,
 * DISCONTINUED, invalid transitions; the worklist follows), Orthanc as Storage
 * Commitment SCU against us (stored and missing instances) and as the provider for our
 * `pacs commit`.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorklistStore } from '../../src/archive/worklist-store.js';
import { type Dataset, getString } from '../../src/dicom/dataset.js';
import { readPart10 } from '../../src/dicom/part10.js';
import { newUid } from '../../src/dicom/uid-generator.js';
import { startMainServer, type MainServer } from '../../src/roles/main-server.js';
import { freePort, REPO_ROOT, runDcmtk, startOrthanc, stopAllPeers, storescu, type OrthancPeer } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { writeQrData, type WrittenInstance } from './qr-data.js';

const ODIL = join(REPO_ROOT, 'test/interop/fixtures/odil-mpps.py');
const hasOdil = spawnSync('/usr/bin/python3', ['-c', 'import odil'], { stdio: 'ignore' }).status === 0;

let dir: string;
let server: MainServer;
let port: number;
let worklist: WorklistStore;
let orthanc: OrthancPeer;
let files: (WrittenInstance & { sopClassUid: string })[];
let clientPort: number;

beforeAll(async () => {
  dir = await makeTempDir('pacs-workflow-interop-');
  mkdirSync(join(dir, 'in'));
  files = writeQrData(join(dir, 'in')).map((f) => ({ ...f, sopClassUid: readPart10(readFileSync(f.path)).meta.mediaStorageSopClassUid }));
  [port, clientPort] = await Promise.all([freePort(), freePort()]);
  orthanc = await startOrthanc({
    dir: join(dir, 'orthanc'),
    config: { DicomModalities: { pacs: ['PACS', '127.0.0.1', port], client: ['PACS_CLIENT', '127.0.0.1', clientPort] } },
  });
  server = await startMainServer({
    aeTitle: 'PACS',
    port,
    host: '127.0.0.1',
    dataDir: join(dir, 'data'),
    logger: pino({ level: 'silent' }),
    commitment: { resolveRequestor: (ae) => (ae === 'ORTHANC' ? { host: '127.0.0.1', port: orthanc.dicomPort } : undefined), retryIntervalMs: 0 },
  });
  worklist = await WorklistStore.open(server.archive.index);
  const base = { modality: 'CT', stationAeTitle: 'CT01', startDate: '20250310' };
  await worklist.add({
    ...base,
    spsId: 'W1',
    patientId: 'P1',
    patientName: 'DOE^JOHN',
    accessionNumber: 'ACC1',
    startTime: '0800',
    requestedProcedureId: 'RP1',
  });
  await worklist.add({ ...base, spsId: 'W2', patientId: 'P2', patientName: 'DOE^JANE', accessionNumber: 'ACC2', startTime: '1300' });
  await worklist.add({
    ...base,
    spsId: 'W3',
    patientId: 'P3',
    patientName: 'ROE^RICHARD',
    accessionNumber: 'ACC3',
    modality: 'MR',
    stationAeTitle: 'MR01',
    startDate: '20250311',
    startTime: '0930',
  });
  await worklist.add({ ...base, spsId: 'W4', patientId: 'P4', patientName: 'POE^EDGAR', accessionNumber: 'ACC4', startDate: '20250401', startTime: '1000' });
});

afterAll(async () => {
  await server?.close();
  await stopAllPeers();
  await removeTempDirs();
});

let run = 0;
async function findscuW(keys: string[]): Promise<Dataset[]> {
  const out = join(dir, `mwl-${++run}`);
  mkdirSync(out);
  const defaults = [
    'PatientName',
    'PatientID',
    'AccessionNumber',
    'ScheduledProcedureStepSequence[0].ScheduledProcedureStepID',
    'ScheduledProcedureStepSequence[0].Modality',
    'ScheduledProcedureStepSequence[0].ScheduledStationAETitle',
  ];
  const given = new Set(keys.map((k) => k.split('=')[0]));
  const all = [...defaults.filter((k) => !given.has(k)), ...keys];
  const r = await runDcmtk('findscu', [
    '-W',
    '-aet',
    'MODALITY',
    '-aec',
    'PACS',
    '-X',
    '-od',
    out,
    ...all.flatMap((k) => ['-k', k]),
    '127.0.0.1',
    String(port),
  ]);
  expect(r.code, r.stderr + r.stdout).toBe(0);
  return readdirSync(out)
    .sort()
    .map((f) => readPart10(readFileSync(join(out, f))).dataset);
}

const ids = (items: Dataset[]) => items.map((d) => getString(d.get(0x00400100)!.items![0], 0x00400009)).sort();

describe('DCMTK findscu -W', () => {
  it.each([
    ['all open steps', [], ['W1', 'W2', 'W3', 'W4']],
    ['scheduled station AE', ['ScheduledProcedureStepSequence[0].ScheduledStationAETitle=MR01'], ['W3']],
    ['modality', ['ScheduledProcedureStepSequence[0].Modality=CT'], ['W1', 'W2', 'W4']],
    ['start date', ['ScheduledProcedureStepSequence[0].ScheduledProcedureStepStartDate=20250310'], ['W1', 'W2']],
    ['start date range', ['ScheduledProcedureStepSequence[0].ScheduledProcedureStepStartDate=20250310-20250311'], ['W1', 'W2', 'W3']],
    ['open-ended date range', ['ScheduledProcedureStepSequence[0].ScheduledProcedureStepStartDate=20250311-'], ['W3', 'W4']],
    [
      'date and time range',
      [
        'ScheduledProcedureStepSequence[0].ScheduledProcedureStepStartDate=20250310',
        'ScheduledProcedureStepSequence[0].ScheduledProcedureStepStartTime=1200-1400',
      ],
      ['W2'],
    ],
    ['patient name wildcard', ['PatientName=DOE*'], ['W1', 'W2']],
    ['patient name ? wildcard', ['PatientName=?OE^*'], ['W1', 'W2', 'W3', 'W4']],
    ['accession number', ['AccessionNumber=ACC3'], ['W3']],
    ['requested procedure ID', ['RequestedProcedureID=RP1'], ['W1']],
    ['modality and station together', ['ScheduledProcedureStepSequence[0].Modality=CT', 'ScheduledProcedureStepSequence[0].ScheduledStationAETitle=MR01'], []],
  ])('%s', async (_name, keys, expected) => {
    expect(ids(await findscuW(keys))).toEqual(expected);
  });

  it('gets the requested attributes back, inside the sequence too', async () => {
    const [item] = await findscuW(['AccessionNumber=ACC1', 'StudyInstanceUID', 'ScheduledProcedureStepSequence[0].ScheduledProcedureStepStartTime']);
    expect(getString(item, 0x00100010)).toBe('DOE^JOHN');
    expect(getString(item, 0x0020000d)).toBe((await worklist.get('W1'))!.studyInstanceUid);
    const sps = item.get(0x00400100)!.items![0];
    expect(getString(sps, 0x00400001)).toBe('CT01');
    expect(getString(sps, 0x00400003)).toBe('0800');
  });
});

// python3-odil comes with scripts/setup-test-deps.sh: its absence is a failure, not a skip.
it('has python3-odil (scripts/setup-test-deps.sh installs it)', () => expect(hasOdil).toBe(true));

describe.runIf(hasOdil)('odil MPPS SCU', () => {
  type Step = { op: 'create' | 'set'; uid: string; attrs: Record<string, unknown> };
  async function odil(steps: Step[]): Promise<{ op: string; status: number; comment: string | null }[]> {
    const r = await runDcmtk('/usr/bin/python3', [ODIL, '127.0.0.1', String(port), 'PACS', 'ODIL', JSON.stringify(steps)], { timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout.trim().split('\n').pop()!);
  }
  const create = (uid: string, spsId: string, over: Record<string, unknown> = {}): Step => ({
    op: 'create',
    uid,
    attrs: {
      PatientName: 'DOE^JOHN',
      PatientID: 'P1',
      Modality: 'CT',
      PerformedStationAETitle: 'CT01',
      PerformedProcedureStepID: `PPS-${spsId}`,
      PerformedProcedureStepStartDate: '20250310',
      PerformedProcedureStepStartTime: '0805',
      PerformedProcedureStepStatus: 'IN PROGRESS',
      ScheduledStepAttributesSequence: [{ StudyInstanceUID: newUid(), ScheduledProcedureStepID: spsId, AccessionNumber: 'ACC' }],
      ...over,
    },
  });
  const end = (uid: string, status: string): Step => ({
    op: 'set',
    uid,
    attrs: { PerformedProcedureStepStatus: status, PerformedProcedureStepEndDate: '20250310', PerformedProcedureStepEndTime: '0830' },
  });

  it('IN PROGRESS -> COMPLETED; the worklist entry follows; no change after the final state; unknown instance; duplicate', async () => {
    const uid = newUid();
    const results = await odil([create(uid, 'W1')]);
    expect(results.map((r) => r.status)).toEqual([0]);
    expect((await worklist.get('W1'))?.status).toBe('STARTED');
    const more = await odil([
      create(uid, 'W1'),
      { op: 'set', uid, attrs: { PerformedProcedureStepDescription: 'CT HEAD' } },
      end(uid, 'COMPLETED'),
      end(uid, 'DISCONTINUED'),
      end(newUid(), 'COMPLETED'),
    ]);
    expect(more.map((r) => r.status)).toEqual([0x0111, 0, 0, 0x0110, 0x0112]);
    expect(more[3].comment).toMatch(/may no longer be updated/);
    expect((await worklist.get('W1'))?.status).toBe('COMPLETED');
    expect(ids(await findscuW([]))).not.toContain('W1');
  });

  it('IN PROGRESS -> DISCONTINUED; missing and wrong attributes refused', async () => {
    const uid = newUid();
    const missing = create(newUid(), 'W2');
    delete missing.attrs.PerformedProcedureStepID;
    const wrong = create(newUid(), 'W2', { PerformedProcedureStepStatus: 'COMPLETED' });
    const results = await odil([
      missing,
      wrong,
      create(uid, 'W2'),
      { op: 'set', uid, attrs: { PerformedProcedureStepStatus: 'COMPLETED' } },
      end(uid, 'DISCONTINUED'),
    ]);
    expect(results.map((r) => r.status)).toEqual([0x0120, 0x0106, 0, 0x0120, 0]);
    expect((await worklist.get('W2'))?.status).toBe('DISCONTINUED');
  });
});

describe('Storage commitment with Orthanc', () => {
  it('Orthanc as SCU gets a report with the stored and the missing instances', async () => {
    const r = await storescu({ port, calledAet: 'PACS', files: files.slice(0, 2).map((f) => f.path) });
    expect(r.code, r.stderr).toBe(0);
    const missingUid = newUid();
    const body = {
      DicomInstances: [
        ...files.slice(0, 2).map((f) => ({ SOPClassUID: f.sopClassUid, SOPInstanceUID: f.sopInstanceUid })),
        { SOPClassUID: files[0].sopClassUid, SOPInstanceUID: missingUid },
      ],
    };
    const job = await orthanc.rest<{ ID: string; Path: string }>('/modalities/pacs/storage-commitment', { method: 'POST', body: JSON.stringify(body) });
    let report: { Status: string; Success: { SOPInstanceUID: string }[]; Failures: { SOPInstanceUID: string; FailureReason: number }[] } | undefined;
    for (let i = 0; i < 100; i++) {
      report = await orthanc.rest(`/storage-commitment/${job.ID}`);
      if (report!.Status !== 'Pending') break;
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(report?.Status).toBe('Failure');
    expect(report!.Success.map((s) => s.SOPInstanceUID).sort()).toEqual(
      files
        .slice(0, 2)
        .map((f) => f.sopInstanceUid)
        .sort(),
    );
    expect(report!.Failures).toEqual([expect.objectContaining({ SOPInstanceUID: missingUid, FailureReason: 0x0112 })]);
  });

  it('pacs commit gets the report from Orthanc as the provider (on a new association)', async () => {
    const stored = files[2];
    await orthanc.rest('/instances', { method: 'POST', body: readFileSync(stored.path) });
    const missing = newUid();
    const r = await runDcmtk(
      process.execPath,
      [
        join(REPO_ROOT, 'bin/pacs.js'),
        'commit',
        '127.0.0.1',
        String(orthanc.dicomPort),
        '--aec',
        orthanc.aet,
        '--listen',
        String(clientPort),
        '--timeout',
        '30',
        '--json',
        stored.path,
        `${stored.sopClassUid}:${missing}`,
      ],
      { timeoutMs: 60_000 },
    );
    expect(r.code, r.stderr).toBe(1); // one failed
    const report = JSON.parse(r.stdout.trim());
    expect(report.via).toBe('new-association');
    expect(report.success).toEqual([{ sopClassUid: stored.sopClassUid, sopInstanceUid: stored.sopInstanceUid }]);
    expect(report.failed).toEqual([{ sopClassUid: stored.sopClassUid, sopInstanceUid: missing, reason: 0x0112 }]);
  });
});
