/**
 * HL7 intake against a real worklist (SQLite index): ORM^O01 and OMI^O23 create, change,
 * cancel and discontinue scheduled procedure steps; every bad message is answered AE or AR
 * with an ERR segment naming the segment and field, and leaves the worklist as it was.
 * ADT^A08 / ADT^A40 go to the patient directory, here a recording stand-in: the boundary
 * with issue 19 item 1's index calls, which land separately.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SqliteIndex } from '../../src/archive/sqlite-index.js';
import { WorklistStore, type WorklistEntry } from '../../src/archive/worklist-store.js';
import { parseHl7 } from '../../src/hl7/message.js';
import { Hl7Intake, type PatientDirectory, type PatientKey, type PatientUpdate } from '../../src/services/hl7-intake.js';
import { PostgresIndex } from '../../src/archive/postgres-index.js';
import { mulberry32 } from '../support/seeded-random.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { dropSchema, freshSchemaName, PG_URL } from '../archive/pg-support.js';

const silent = { info: () => undefined, warn: () => undefined };

class RecordingDirectory implements PatientDirectory {
  calls: (['update', PatientKey, PatientUpdate, string] | ['merge', PatientKey, PatientKey, string])[] = [];
  fail?: Error;
  async updatePatient(key: PatientKey, update: PatientUpdate, reason: string): Promise<number> {
    if (this.fail) throw this.fail;
    this.calls.push(['update', key, update, reason]);
    return 2;
  }
  async mergePatients(from: PatientKey, into: PatientKey, reason: string): Promise<number> {
    if (this.fail) throw this.fail;
    this.calls.push(['merge', from, into, reason]);
    return 3;
  }
}

let index: SqliteIndex;
let worklist: WorklistStore;
let directory: RecordingDirectory;
let intake: Hl7Intake;

beforeAll(async () => {
  index = await SqliteIndex.open(join(await makeTempDir('pacs-hl7-intake-'), 'index.sqlite'));
  worklist = await WorklistStore.open(index);
});
afterAll(async () => {
  await index.close();
  await removeTempDirs();
});
beforeEach(() => {
  directory = new RecordingDirectory();
  intake = new Hl7Intake({ worklist, patients: directory, logger: silent });
});

let control = 0;
const msh = (type: string, version = '2.5.1') => `MSH|^~\\&|RIS|HOSP|PACS|RAD|20250310120000||${type}|C${++control}|P|${version}`;
const msg = (...segments: string[]) => segments.join('\r');

/** An ORM^O01 with the IHE places: OBR-18 accession, OBR-19 requested procedure, OBR-20 step, OBR-21 station, OBR-24 modality, OBR-36 start. */
function orm(control: string, sps: string, over: { pid?: string; obr?: Partial<Record<number, string>>; zds?: string } = {}): string {
  const obr: string[] = ['OBR', '1', 'PL-' + sps, 'FL-' + sps, 'CTHEAD^CT head \\T\\ neck'];
  const fields: Record<number, string> = { 18: 'ACC-' + sps, 19: 'RP-' + sps, 20: sps, 21: 'CT01', 24: 'CT', 36: '202503101430', ...over.obr };
  for (const [k, v] of Object.entries(fields)) obr[Number(k)] = v ?? '';
  return msg(
    msh('ORM^O01^ORM_O01'),
    over.pid ?? 'PID|1||P100^^^HOSP^MR||DOE^JOHN^Q^^DR||19700102|M',
    'PV1|1|O||||||1234^WELBY^MARCUS',
    `ORC|${control}|PL-${sps}|FL-${sps}`,
    Array.from(obr, (v) => v ?? '').join('|'),
    ...(over.zds ? [`ZDS|${over.zds}`] : []),
  );
}

async function send(text: string) {
  const a = await intake.handleText(text);
  const ack = parseHl7(a.ack);
  const err = ack.segment('ERR');
  return {
    code: a.code,
    msa: ack.segment('MSA')!,
    location: err
      ? err
          .field(2)[0]
          .map((c) => c[0])
          .join('^')
      : undefined,
    errorCode: err?.value(3),
    text: err?.value(8),
  };
}

const snapshot = async () => (await worklist.list()).map(({ updatedAt: _u, ...e }) => e);

describe('ORM^O01', () => {
  it('NW creates a step with every mapped field, and the ACK is AA with the control ID', async () => {
    const r = await send(orm('NW', 'S1', { zds: '1.2.826.0.1.3680043.2.1125.99.1^^Application^DICOM' }));
    expect(r.code).toBe('AA');
    expect(r.msa.value(2)).toBe(`C${control}`);
    expect(r.msa.value(3)).toBe('scheduled S1');
    const e = (await worklist.get('S1'))!;
    expect(e).toMatchObject<Partial<WorklistEntry>>({
      spsId: 'S1',
      status: 'SCHEDULED',
      patientId: 'P100',
      patientName: 'DOE^JOHN^Q^DR',
      patientBirthDate: '19700102',
      patientSex: 'M',
      referringPhysicianName: 'WELBY^MARCUS',
      accessionNumber: 'ACC-S1',
      requestedProcedureId: 'RP-S1',
      requestedProcedureDescription: 'CT head & neck',
      spsDescription: 'CT head & neck',
      stationAeTitle: 'CT01',
      modality: 'CT',
      startDate: '20250310',
      startTime: '1430',
      studyInstanceUid: '1.2.826.0.1.3680043.2.1125.99.1',
    });
  });

  it('XO changes the fields the message carries; CA cancels; DC discontinues', async () => {
    expect((await send(orm('NW', 'S2'))).code).toBe('AA');
    const before = (await worklist.get('S2'))!;
    const r = await send(orm('XO', 'S2', { pid: 'PID|1||P100^^^HOSP||DOE^JOHNNY||19700102|M', obr: { 21: 'CT02', 36: '202503111000' } }));
    expect(r.code).toBe('AA');
    expect(r.msa.value(3)).toBe('updated S2');
    const after = (await worklist.get('S2'))!;
    expect(after).toMatchObject({ patientName: 'DOE^JOHNNY', stationAeTitle: 'CT02', startDate: '20250311', startTime: '1000', status: 'SCHEDULED' });
    expect(after.studyInstanceUid).toBe(before.studyInstanceUid);
    expect((await send(orm('CA', 'S2'))).code).toBe('AA');
    expect((await worklist.get('S2'))!.status).toBe('CANCELED');
    expect((await send(orm('NW', 'S3'))).code).toBe('AA');
    await worklist.change('S3', { status: 'STARTED' });
    // A step begun cannot be canceled, only discontinued.
    const ca = await send(orm('CA', 'S3'));
    expect(ca).toMatchObject({ code: 'AE', location: 'OBR^1^20', errorCode: '206' });
    expect((await send(orm('DC', 'S3'))).code).toBe('AA');
    expect((await worklist.get('S3'))!.status).toBe('DISCONTINUED');
  });

  it('takes the placer order number (ORC-2) as the step ID when OBR-20 is empty', async () => {
    expect((await send(orm('NW', 'S4', { obr: { 20: '' } }))).code).toBe('AA');
    expect((await worklist.get('PL-S4'))?.accessionNumber).toBe('ACC-S4');
    expect((await send(orm('CA', 'S4', { obr: { 20: '' } }))).code).toBe('AA');
    expect((await worklist.get('PL-S4'))?.status).toBe('CANCELED');
  });

  it.each([
    ['no patient ID', { pid: 'PID|1||||DOE^JOHN' }, 'AE', 'PID^1^3', '101'],
    ['no patient name', { pid: 'PID|1||P1' }, 'AE', 'PID^1^5', '101'],
    ['a bad birth date', { pid: 'PID|1||P1||DOE^J||1970-01-02' }, 'AE', 'PID^1^7', '102'],
    ['an impossible birth date', { pid: 'PID|1||P1||DOE^J||19701341' }, 'AE', 'PID^1^7', '102'],
    ['an unknown sex', { pid: 'PID|1||P1||DOE^J|||Q' }, 'AE', 'PID^1^8', '103'],
    ['no modality', { obr: { 24: '' } }, 'AE', 'OBR^1^24', '101'],
    ['a bad modality', { obr: { 24: 'ct scan' } }, 'AE', 'OBR^1^24', '102'],
    ['no start', { obr: { 36: '' } }, 'AE', 'TQ1^1^7', '101'],
    ['a bad start time', { obr: { 36: '20250310143' } }, 'AE', 'OBR^1^36', '102'],
    ['an accession number over 16 characters', { obr: { 18: 'A'.repeat(17) } }, 'AE', 'OBR^1^18', '104'],
    ['a station AE title with a backslash', { obr: { 21: 'CT\\E\\01' } }, 'AE', 'OBR^1^21', '102'],
    ['a bad Study Instance UID', { zds: '1.2.abc' }, 'AE', 'ZDS^1^1', '102'],
  ])('refuses %s with %s at %s and changes nothing', async (_name, over, code, location, errorCode) => {
    const before = await snapshot();
    const r = await send(orm('NW', 'BAD1', over));
    expect({ code: r.code, location: r.location, errorCode: r.errorCode }).toEqual({ code, location, errorCode });
    expect(r.text).toMatch(new RegExp(`^${location.split('^')[0]}-${location.split('^')[2]}: `));
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a second NW of a step, XO and CA of an unknown step', async () => {
    expect((await send(orm('NW', 'S5'))).code).toBe('AA');
    const before = await snapshot();
    expect(await send(orm('NW', 'S5'))).toMatchObject({ code: 'AE', location: 'OBR^1^20', errorCode: '205' });
    expect(await send(orm('XO', 'NOPE'))).toMatchObject({ code: 'AE', location: 'OBR^1^20', errorCode: '204' });
    expect(await send(orm('CA', 'NOPE'))).toMatchObject({ code: 'AE', location: 'OBR^1^20', errorCode: '204' });
    expect(await send(orm('SC', 'S5'))).toMatchObject({ code: 'AE', location: 'ORC^1^1', errorCode: '103' });
    expect(await snapshot()).toEqual(before);
  });

  it('applies nothing when a later order of the message fails', async () => {
    const before = await snapshot();
    const good = orm('NW', 'S6').split('\r').slice(3);
    const bad = orm('NW', 'S7', { obr: { 24: '' } })
      .split('\r')
      .slice(3);
    const r = await send(msg(...orm('NW', 'S6').split('\r').slice(0, 3), ...good, ...bad));
    expect(r).toMatchObject({ code: 'AE', location: 'OBR^2^24' });
    expect(await snapshot()).toEqual(before);
    expect(await worklist.get('S6')).toBeUndefined();
  });
});

describe('OMI^O23', () => {
  it('creates one step per IPC from the IPC fields, and cancels them', async () => {
    const omi = (control: string) =>
      msg(
        msh('OMI^O23^OMI_O23'),
        'PID|1||P200^^^HOSP||ROE^JANE||19800506|F',
        `ORC|${control}|PL9|FL9`,
        'TQ1|1||||||202504011015',
        'OBR|1|PL9|FL9|MRBRAIN^MR brain',
        'IPC|ACC9|RP9|1.2.826.0.1.3680043.2.1125.99.9|SPS9A|MR^MR^DCM|PROT^Brain routine|MRSTATION1|ROOM 3|MR01',
        'IPC|ACC9|RP9|1.2.826.0.1.3680043.2.1125.99.9|SPS9B|MR|PROT2^Brain contrast|MRSTATION1|ROOM 3|MR01',
      );
    const r = await send(omi('NW'));
    expect(r.code).toBe('AA');
    expect(r.msa.value(3)).toBe('scheduled SPS9A, SPS9B');
    expect(await worklist.get('SPS9A')).toMatchObject({
      patientId: 'P200',
      patientName: 'ROE^JANE',
      patientSex: 'F',
      accessionNumber: 'ACC9',
      requestedProcedureId: 'RP9',
      studyInstanceUid: '1.2.826.0.1.3680043.2.1125.99.9',
      modality: 'MR',
      spsDescription: 'Brain routine',
      requestedProcedureDescription: 'MR brain',
      stationName: 'MRSTATION1',
      location: 'ROOM 3',
      stationAeTitle: 'MR01',
      startDate: '20250401',
      startTime: '1015',
    });
    expect((await worklist.get('SPS9B'))?.spsDescription).toBe('Brain contrast');
    expect((await send(omi('CA'))).code).toBe('AA');
    expect((await worklist.get('SPS9A'))?.status).toBe('CANCELED');
    expect((await worklist.get('SPS9B'))?.status).toBe('CANCELED');
  });
});

describe('the header', () => {
  it.each([
    ['an unsupported message type', msg(msh('ORU^R01'), 'PID|1||P1'), 'AR', 'MSH^1^9^^1', '200'],
    ['an unsupported event', msg(msh('ADT^A01'), 'PID|1||P1'), 'AR', 'MSH^1^9^^2', '201'],
    ['no message type', msg(msh(''), 'PID|1||P1'), 'AR', 'MSH^1^9', '101'],
    ['no control ID', 'MSH|^~\\&|RIS|HOSP|PACS|RAD|20250310||ADT^A08||P|2.5\rPID|1||P1||X', 'AR', 'MSH^1^10', '101'],
    ['a bad processing ID', 'MSH|^~\\&|RIS|HOSP|PACS|RAD|20250310||ADT^A08|X1|Q|2.5\rPID|1||P1||X', 'AR', 'MSH^1^11', '202'],
    ['a version 3', msg(msh('ADT^A08', '3.0'), 'PID|1||P1||X'), 'AR', 'MSH^1^12', '203'],
    ['bad delimiters', 'MSH|^^\\&|RIS|HOSP|PACS|RAD|20250310||ADT^A08|X2|P|2.5', 'AR', 'MSH^1^2', '102'],
    ['no MSH', 'PID|1||P1||X', 'AR', 'MSH^1', '100'],
  ])('refuses %s with %s at %s', async (_name, text, code, location, errorCode) => {
    const before = await snapshot();
    expect(await send(text)).toMatchObject({ code, location, errorCode });
    expect(await snapshot()).toEqual(before);
    expect(directory.calls).toEqual([]);
  });
});

describe('ADT (patient directory stand-in)', () => {
  it('A08 updates the patient named by PID-3 and its issuer (PID-3.4)', async () => {
    const r = await send(msg(msh('ADT^A08^ADT_A01'), 'EVN|A08|20250310', 'PID|1||P300^^^HOSP&1.2.3&ISO||SMITH^ANNA^^^MRS||19650203|F', 'PV1|1|I'));
    expect(r.code).toBe('AA');
    expect(directory.calls).toEqual([
      ['update', { patientId: 'P300', issuer: 'HOSP' }, { name: 'SMITH^ANNA^^MRS', birthDate: '19650203', sex: 'F' }, `HL7 ADT^A08 C${control} from RIS@HOSP`],
    ]);
  });

  it('A40 merges MRG-1 into PID-3, every pair', async () => {
    const r = await send(
      msg(msh('ADT^A40^ADT_A39'), 'EVN|A40|20250310', 'PID|1||P400^^^HOSP||SMITH^ANNA', 'MRG|P401^^^HOSP', 'PID|2||P500||JONES^BOB', 'MRG|P501^^^OTHER'),
    );
    expect(r.code).toBe('AA');
    expect(directory.calls).toEqual([
      ['merge', { patientId: 'P401', issuer: 'HOSP' }, { patientId: 'P400', issuer: 'HOSP' }, `HL7 ADT^A40 C${control} from RIS@HOSP`],
      ['merge', { patientId: 'P501', issuer: 'OTHER' }, { patientId: 'P500', issuer: '' }, `HL7 ADT^A40 C${control} from RIS@HOSP`],
    ]);
  });

  it.each([
    ['A40 without MRG', msg(msh('ADT^A40'), 'PID|1||P400||X'), 'MRG^1', '100'],
    ['A40 with an empty MRG-1', msg(msh('ADT^A40'), 'PID|1||P400||X', 'MRG|'), 'MRG^1^1', '101'],
    ['A40 with a second PID missing its MRG', msg(msh('ADT^A40'), 'PID|1||P400||X', 'MRG|P1', 'PID|2||P9||Y'), 'MRG^2', '100'],
    ['A08 without PID', msg(msh('ADT^A08'), 'EVN|A08'), 'PID^1', '100'],
    ['A08 with nothing to change', msg(msh('ADT^A08'), 'PID|1||P1'), 'PID^1^5', '101'],
    ['A08 with a patient ID over 64 characters', msg(msh('ADT^A08'), `PID|1||${'9'.repeat(65)}||X`), 'PID^1^3^^1', '104'],
  ])('refuses %s (AE at %s), calling nothing', async (_name, text, location, errorCode) => {
    expect(await send(text)).toMatchObject({ code: 'AE', location, errorCode });
    expect(directory.calls).toEqual([]);
  });

  it('answers a directory failure AE 207 with its message', async () => {
    directory.fail = new Error('no patient P1 with issuer HOSP');
    const r = await send(msg(msh('ADT^A08'), 'PID|1||P1^^^HOSP||X'));
    expect(r).toMatchObject({ code: 'AE', errorCode: '207', text: 'MSH: no patient P1 with issuer HOSP' });
  });
});

describe('on PostgreSQL', () => {
  it('NW, XO, CA and a refused NW on a worklist in PostgreSQL', async () => {
    const schema = freshSchemaName();
    const pgIndex = await PostgresIndex.open({ connectionString: PG_URL, schema });
    try {
      const pgWorklist = await WorklistStore.open(pgIndex);
      const pgIntake = new Hl7Intake({ worklist: pgWorklist, patients: directory, logger: silent });
      const codes = async (text: string) => (await pgIntake.handleText(text)).code;
      expect(await codes(orm('NW', 'PG1'))).toBe('AA');
      expect(await codes(orm('XO', 'PG1', { obr: { 21: 'CT09' } }))).toBe('AA');
      expect(await pgWorklist.get('PG1')).toMatchObject({ stationAeTitle: 'CT09', accessionNumber: 'ACC-PG1', startTime: '1430' });
      expect(await codes(orm('NW', 'PG2', { obr: { 24: '' } }))).toBe('AE');
      expect(await codes(orm('CA', 'PG1'))).toBe('AA');
      expect((await pgWorklist.list()).map((e) => [e.spsId, e.status])).toEqual([['PG1', 'CANCELED']]);
    } finally {
      await pgIndex.close();
      await dropSchema(schema);
    }
  });
});

describe('hostile input', () => {
  it('answers every mutated message with a parseable AA, AE or AR ACK and never throws', async () => {
    const seeds = [
      orm('NW', 'FZ'),
      msg(msh('OMI^O23'), 'PID|1||P1||A^B', 'ORC|NW|PL|FL', 'TQ1|1||||||202501011200', 'OBR|1', 'IPC|A|R|1.2.3|FZ2|CT'),
      msg(msh('ADT^A40'), 'PID|1||P1^^^H||X', 'MRG|P2^^^H'),
    ];
    const noise = ['|', '^', '~', '\\', '&', '\r', '\n', '""', 'MSH', '\x00', 'é', '\\X4\\', '\\F', '#'];
    const random = mulberry32(19);
    const pick = <T>(a: readonly T[]) => a[Math.floor(random() * a.length)];
    const counts = { AA: 0, AE: 0, AR: 0 };
    for (let i = 0; i < 1500; i++) {
      let s = pick(seeds);
      for (let k = 1 + Math.floor(random() * 4); k > 0; k--) {
        const at = Math.floor(random() * s.length);
        const r = random();
        if (r < 0.5) s = s.slice(0, at) + pick(noise) + s.slice(at + 1);
        else if (r < 0.7) s = s.slice(0, at);
        else s = s.slice(0, at) + pick(noise) + s.slice(at);
      }
      const a = await intake.handleText(s);
      const ack = parseHl7(a.ack);
      expect(ack.segment('MSA')!.value(1), `case ${i}: ${JSON.stringify(s)}`).toBe(a.code);
      if (a.code !== 'AA') expect(ack.segment('ERR')!.value(2), `case ${i}`).not.toBe('');
      counts[a.code]++;
    }
    // The mutations reach every answer, not only the header checks.
    expect(counts.AA).toBeGreaterThan(0);
    expect(counts.AE).toBeGreaterThan(0);
    expect(counts.AR).toBeGreaterThan(0);
  });
});
