/**
 * HL7 intake against independent peers: Debian's python3-hl7 `mllp_send` sends the orders
 * to the listener the registry turns on (`pacs serve --hl7-port`), DCMTK's `findscu -W`
 * reads the worklist they made. ORM^O01 NW, XO and CA on one connection; a malformed
 * message is answered AE or AR with an ERR segment naming the segment and field and
 * changes nothing; a message over the registry's size limit is refused.
 *
 * ADT^A08 and ADT^A40 go to the index's patient directory (updatePatient, mergePatients):
 * stored studies merged and renamed, as DCMTK's study-level findscu then shows them. A
 * second listener over the same archive, given a recording stand-in for that one boundary,
 * checks exactly what the intake asks of it (keys, issuers, reasons).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorklistStore } from '../../src/archive/worklist-store.js';
import { startPacs, type Pacs } from '../../src/cli/serve.js';
import { addAe, hl7Schema, setHl7 } from '../../src/config/index.js';
import { type Dataset, getString } from '../../src/dicom/dataset.js';
import { readPart10 } from '../../src/dicom/part10.js';
import type { MllpServer } from '../../src/hl7/mllp-server.js';
import { startHl7Listener } from '../../src/roles/hl7-listener.js';
import type { PatientDirectory, PatientKey, PatientUpdate } from '../../src/services/hl7-intake.js';
import { writeCtSeries } from '../../scripts/gen-test-data.js';
import { findscuDatasets } from '../support/findscu.js';
import { freePort, runDcmtk, storescu } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

const MLLP_SEND = '/usr/bin/mllp_send';

let dir: string;
let pacs: Pacs;
let port: number;
let hl7Port: number;
let adtPort: number;
let adt: MllpServer;
let worklist: WorklistStore;
const calls: unknown[][] = [];

const recording: PatientDirectory = {
  async updatePatient(key: PatientKey, update: PatientUpdate, reason: string) {
    calls.push(['update', key, update, reason]);
    return 1;
  },
  async mergePatients(from: PatientKey, into: PatientKey, reason: string) {
    calls.push(['merge', from, into, reason]);
    return 1;
  },
};

beforeAll(async () => {
  dir = await makeTempDir('pacs-hl7-interop-');
  const [ws, router] = await Promise.all([freePort(), freePort()]);
  [port, hl7Port, adtPort] = await Promise.all([freePort(), freePort(), freePort()]);
  pacs = await startPacs({
    dataDir: join(dir, 'data'),
    logger: pino({ level: 'silent' }),
    overrides: { port, host: '127.0.0.1', workstationPort: ws, routerPort: router, hl7Port },
    web: false,
  });
  // findscu -W calls as MODALITY: a registered AE with the worklist permission.
  await pacs.config.update((r) => addAe(r, { aeTitle: 'MODALITY', connection: { host: '127.0.0.1' }, permissions: ['echo', 'worklist'] }));
  const archive = pacs.roles.archive('main')!;
  worklist = await WorklistStore.open(archive.index);
  adt = await startHl7Listener({
    archive,
    settings: () => hl7Schema.parse({ enabled: true, host: '127.0.0.1', port: adtPort }),
    logger: pino({ level: 'silent' }),
    patients: recording,
  });
});

afterAll(async () => {
  await adt?.close();
  await pacs?.close();
  await removeTempDirs();
});

let fileNo = 0;
/** mllp_send --loose: one connection, each message (LF between segments) answered in turn; the ACKs it printed. */
async function mllpSend(to: number, ...messages: string[][]): Promise<{ msa: string[]; err?: string[] }[]> {
  const file = join(dir, `msg-${++fileNo}.hl7`);
  writeFileSync(file, messages.map((m) => m.join('\n')).join('\n') + '\n');
  const r = await runDcmtk(MLLP_SEND, ['--loose', '-f', file, '-p', String(to), '127.0.0.1'], { timeoutMs: 30_000 });
  expect(r.code, r.stderr).toBe(0);
  const acks = r.stdout.split('\x0b').slice(1);
  expect(acks).toHaveLength(messages.length);
  return acks.map((a) => {
    const segs = a.split('\x1c')[0].split('\r');
    const field = (name: string) => segs.find((s) => s.startsWith(name + '|'))?.split('|');
    return { msa: field('MSA')!, err: field('ERR') };
  });
}

let run = 0;
async function findscuW(keys: string[]): Promise<Dataset[]> {
  const out = join(dir, `mwl-${++run}`);
  mkdirSync(out);
  const all = [
    'PatientName',
    'PatientID',
    'PatientBirthDate',
    'AccessionNumber',
    'RequestedProcedureID',
    'RequestedProcedureDescription',
    'StudyInstanceUID',
    'ScheduledProcedureStepSequence[0].ScheduledProcedureStepID',
    'ScheduledProcedureStepSequence[0].Modality',
    'ScheduledProcedureStepSequence[0].ScheduledStationAETitle',
    'ScheduledProcedureStepSequence[0].ScheduledProcedureStepStartDate',
    'ScheduledProcedureStepSequence[0].ScheduledProcedureStepStartTime',
    ...keys,
  ];
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
const sps = (d: Dataset) => d.get(0x00400100)!.items![0];

const MSH = (type: string, id: string) => `MSH|^~\\&|RIS|HOSP|PACS|RAD|20250310120000||${type}|${id}|P|2.5.1`;
function orm(control: string, id: string, obr: Record<number, string> = {}, pid = 'PID|1||H100^^^HOSP^MR||MUSTER^ERIKA^^^DR||19640812|F'): string[] {
  const f: string[] = ['OBR', '1', 'PL77', 'FL77', 'CTABD^CT abdomen'];
  const values: Record<number, string> = { 18: 'ACC77', 19: 'RP77', 20: 'SPS77', 21: 'CT01', 24: 'CT', 36: '202503150930', ...obr };
  for (const [k, v] of Object.entries(values)) f[Number(k)] = v;
  return [
    MSH('ORM^O01^ORM_O01', id),
    pid,
    'PV1|1|O',
    `ORC|${control}|PL77|FL77`,
    Array.from(f, (v) => v ?? '').join('|'),
    'ZDS|1.2.826.0.1.3680043.2.1125.77.1^^Application^DICOM',
  ];
}

describe('mllp_send -> pacs serve --hl7-port -> findscu -W', () => {
  it('ORM NW creates a step findscu -W sees; XO changes it; CA cancels it (one connection)', async () => {
    const [nw] = await mllpSend(hl7Port, orm('NW', 'M1'));
    expect(nw.msa.slice(1, 3)).toEqual(['AA', 'M1']);
    expect(nw.err).toBeUndefined();
    const [item] = await findscuW(['AccessionNumber=ACC77']);
    expect(getString(item, 0x00100010)).toBe('MUSTER^ERIKA^^DR');
    expect(getString(item, 0x00100020)).toBe('H100');
    expect(getString(item, 0x00100030)).toBe('19640812');
    expect(getString(item, 0x00401001)).toBe('RP77');
    expect(getString(item, 0x00321060)).toBe('CT abdomen');
    expect(getString(item, 0x0020000d)).toBe('1.2.826.0.1.3680043.2.1125.77.1');
    expect(getString(sps(item), 0x00400009)).toBe('SPS77');
    expect(getString(sps(item), 0x00080060)).toBe('CT');
    expect(getString(sps(item), 0x00400001)).toBe('CT01');
    expect(getString(sps(item), 0x00400002)).toBe('20250315');
    expect(getString(sps(item), 0x00400003)).toBe('0930');

    const [xo, ca] = await mllpSend(hl7Port, orm('XO', 'M2', { 21: 'CT02', 36: '202503161100' }), orm('CA', 'M3'));
    expect(xo.msa.slice(1, 3)).toEqual(['AA', 'M2']);
    expect(ca.msa.slice(1, 3)).toEqual(['AA', 'M3']);
    expect(await findscuW(['AccessionNumber=ACC77'])).toEqual([]);
    const [canceled] = await findscuW(['AccessionNumber=ACC77', 'ScheduledProcedureStepSequence[0].ScheduledProcedureStepStatus=CANCELED']);
    expect(getString(sps(canceled), 0x00400001)).toBe('CT02');
    expect(getString(sps(canceled), 0x00400002)).toBe('20250316');
    expect(getString(sps(canceled), 0x00400003)).toBe('1100');
  });

  it('malformed messages get AE or AR naming the segment and field, and change nothing', async () => {
    await mllpSend(hl7Port, orm('NW', 'M4', { 18: 'ACC78', 20: 'SPS78' }));
    const before = await worklist.list();
    const seen = (await findscuW([])).length;
    const [noName, badDate, noModality, unknownType, unknownStep] = await mllpSend(
      hl7Port,
      orm('NW', 'M5', { 18: 'ACC79', 20: 'SPS79' }, 'PID|1||H101^^^HOSP'),
      orm('NW', 'M6', { 18: 'ACC79', 20: 'SPS79', 36: '2025-03-15' }),
      orm('NW', 'M7', { 18: 'ACC79', 20: 'SPS79', 24: '' }),
      [MSH('ORU^R01', 'M9'), 'PID|1||H1||X'],
      orm('XO', 'M10', { 20: 'NOSUCH' }),
    );
    expect([noName.msa[1], noName.msa[2], noName.err?.[2], noName.err?.[3]]).toEqual(['AE', 'M5', 'PID^1^5', '101^Required field missing^HL70357']);
    expect(noName.err?.[4]).toBe('E');
    expect(noName.err?.[8]).toMatch(/^PID-5: patient name is required/);
    expect([badDate.msa[1], badDate.err?.[2], badDate.err?.[3]]).toEqual(['AE', 'OBR^1^36', '102^Data type error^HL70357']);
    expect([noModality.msa[1], noModality.err?.[2], noModality.err?.[3]]).toEqual(['AE', 'OBR^1^24', '101^Required field missing^HL70357']);
    expect([unknownType.msa[1], unknownType.msa[2], unknownType.err?.[2], unknownType.err?.[3]]).toEqual([
      'AR',
      'M9',
      'MSH^1^9^^1',
      '200^Unsupported message type^HL70357',
    ]);
    expect([unknownStep.msa[1], unknownStep.err?.[2], unknownStep.err?.[3]]).toEqual(['AE', 'OBR^1^20', '204^Unknown key identifier^HL70357']);
    expect(await worklist.list()).toEqual(before);
    expect(await findscuW([])).toHaveLength(seen);
  });

  it('a message with bad delimiters gets AR naming MSH-2', async () => {
    // Framed by hand (mllp_send without --loose reads <SB>msg<EB> blocks), as a broken sender would.
    const file = join(dir, 'bad-delimiters.mllp');
    writeFileSync(file, Buffer.from('\x0bMSH|^^\\&|RIS|HOSP|PACS|RAD|20250310||ORM^O01|B1|P|2.5.1\rPID|1||X\r\x1c\r', 'latin1'));
    const r = await runDcmtk(MLLP_SEND, ['-f', file, '-p', String(hl7Port), '127.0.0.1'], { timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    const segs = r.stdout.split('\x0b')[1].split('\x1c')[0].split('\r');
    expect(segs.find((s) => s.startsWith('MSA|'))!.split('|')[1]).toBe('AR');
    const err = segs.find((s) => s.startsWith('ERR|'))!.split('|');
    expect([err[2], err[3]]).toEqual(['MSH^1^2', '102^Data type error^HL70357']);
  });

  it('the registry size limit applies to the next connection: a larger message gets AR', async () => {
    await pacs.config.update((r) => setHl7(r, { maxMessageBytes: 2048 }));
    const before = await worklist.list();
    const big = [...orm('NW', 'M11', { 18: 'ACC80', 20: 'SPS80' }), `NTE|1||${'x'.repeat(4000)}`];
    const [ack] = await mllpSend(hl7Port, big);
    expect([ack.msa[1], ack.msa[2], ack.err?.[2], ack.err?.[3]]).toEqual(['AR', 'M11', 'MSH^1', '207^Application internal error^HL70357']);
    expect(ack.err?.[8]).toMatch(/over the size limit/);
    expect(await worklist.list()).toEqual(before);
    await pacs.config.update((r) => setHl7(r, { maxMessageBytes: null }));
  });
});

describe('mllp_send ADT -> the index', () => {
  /** Study-level C-FIND by Patient ID (DCMTK findscu as the built-in client): [Study UID, Patient ID, Patient Name, Birth Date] sorted. */
  async function studiesOf(patientId: string): Promise<string[][]> {
    const keys = ['QueryRetrieveLevel=STUDY', `PatientID=${patientId}`, 'StudyInstanceUID', 'PatientName', 'PatientBirthDate'];
    return (await findscuDatasets({ port, model: '-S', keys, callingAet: 'PACS_CLIENT', outDir: join(dir, `q-${++run}`) }))
      .map((d) => [getString(d, 0x0020000d) ?? '', getString(d, 0x00100020) ?? '', getString(d, 0x00100010) ?? '', getString(d, 0x00100030) ?? ''])
      .sort((a, b) => a[0].localeCompare(b[0]));
  }

  it('ADT^A40 moves the studies of the old Patient ID to the new one; ADT^A08 then renames the patient', async () => {
    const keep = await writeCtSeries({ dir: join(dir, 'keep'), count: 1, rows: 16, cols: 16, patientName: 'KEEP^ME', patientId: 'H301' });
    const gone = await writeCtSeries({ dir: join(dir, 'gone'), count: 1, rows: 16, cols: 16, patientName: 'GONE^AWAY', patientId: 'H302' });
    const stored = await storescu({ port, calledAet: 'PACS', files: [...keep.files, ...gone.files] });
    expect(stored.code, stored.stderr).toBe(0);
    expect((await studiesOf('H302')).map((s) => s[0])).toEqual([gone.studyUid]);

    const [a40] = await mllpSend(hl7Port, [MSH('ADT^A40^ADT_A39', 'M1'), 'EVN|A40|20261206', 'PID|1||H301||KEEP^ME', 'MRG|H302']);
    expect(a40.msa.slice(1, 3)).toEqual(['AA', 'M1']);
    expect(await studiesOf('H302')).toEqual([]);
    const merged = await studiesOf('H301');
    expect(merged.map((s) => s[0])).toEqual([keep.studyUid, gone.studyUid].sort());
    expect(merged.map((s) => s[1])).toEqual(['H301', 'H301']);

    const [a08] = await mllpSend(hl7Port, [MSH('ADT^A08^ADT_A01', 'U1'), 'EVN|A08|20261206', 'PID|1||H301||NEW^NAME||19700101|F', 'PV1|1|O']);
    expect(a08.msa.slice(1, 3)).toEqual(['AA', 'U1']);
    expect((await studiesOf('H301')).map((s) => s.slice(1))).toEqual([
      ['H301', 'NEW^NAME', '19700101'],
      ['H301', 'NEW^NAME', '19700101'],
    ]);

    // A merge from a patient the index does not know is refused, and nothing changes.
    const [unknown] = await mllpSend(hl7Port, [MSH('ADT^A40^ADT_A39', 'M2'), 'EVN|A40|20261206', 'PID|1||H301||NEW^NAME', 'MRG|NOBODY']);
    expect(unknown.msa[1]).toBe('AE');
    expect((await studiesOf('H301')).length).toBe(2);
  });
});

describe('mllp_send ADT -> the patient directory (recording stand-in)', () => {
  it('ADT^A08 updates and ADT^A40 merges, with the issuer of each patient ID', async () => {
    const [a08, a40] = await mllpSend(
      adtPort,
      [MSH('ADT^A08^ADT_A01', 'A1'), 'EVN|A08|20250310', 'PID|1||H200^^^HOSP||NEU^NAME||19500101|M', 'PV1|1|I'],
      [MSH('ADT^A40^ADT_A39', 'A2'), 'EVN|A40|20250310', 'PID|1||H200^^^HOSP||NEU^NAME', 'MRG|H201^^^HOSP'],
    );
    expect(a08.msa.slice(1, 3)).toEqual(['AA', 'A1']);
    expect(a40.msa.slice(1, 3)).toEqual(['AA', 'A2']);
    expect(calls).toEqual([
      ['update', { patientId: 'H200', issuer: 'HOSP' }, { name: 'NEU^NAME', birthDate: '19500101', sex: 'M' }, 'HL7 ADT^A08 A1 from RIS@HOSP'],
      ['merge', { patientId: 'H201', issuer: 'HOSP' }, { patientId: 'H200', issuer: 'HOSP' }, 'HL7 ADT^A40 A2 from RIS@HOSP'],
    ]);
  });

  it('an ADT^A40 without MRG is AE naming MRG, and merges nothing', async () => {
    calls.length = 0;
    const [ack] = await mllpSend(adtPort, [MSH('ADT^A40', 'A3'), 'PID|1||H200^^^HOSP||X']);
    expect([ack.msa[1], ack.err?.[2], ack.err?.[3]]).toEqual(['AE', 'MRG^1', '100^Segment sequence error^HL70357']);
    expect(calls).toEqual([]);
  });
});

describe('the registry drives the listener', () => {
  const refused = (p: number) =>
    new Promise<string>((resolve) => {
      const s = connect(p, '127.0.0.1');
      s.on('connect', () => (s.destroy(), resolve('connected')));
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });

  it('a changed port re-opens it; disabling it closes it', async () => {
    const next = await freePort();
    await pacs.config.update((r) => setHl7(r, { port: next }));
    await pacs.roles.settled();
    expect(pacs.roles.hl7Status()).toEqual({ enabled: true, listening: true, host: '0.0.0.0', port: next });
    const [ack] = await mllpSend(next, [MSH('ORU^R01', 'R1'), 'PID|1||H1||X']);
    expect(ack.msa.slice(1, 3)).toEqual(['AR', 'R1']);
    expect(await refused(hl7Port)).toBe('ECONNREFUSED');
    await pacs.config.update((r) => setHl7(r, { enabled: false }));
    await pacs.roles.settled();
    expect(pacs.roles.hl7Status()).toEqual({ enabled: false, listening: false });
    expect(await refused(next)).toBe('ECONNREFUSED');
  });
});
