/**
 * Patient identity (issue 19) against DCMTK, on SQLite and on PostgreSQL: studies keep
 * the patient attributes their instances carried (findscu by each name finds its own
 * study), a conflict between studies of one patient is listed, two issuers of one Patient
 * ID stay two patients, a merge moves the studies (findscu shows the merged identity),
 * and getscu after the merge receives the corrected patient module with the pixel data
 * unchanged, while the stored files stay as they were.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IndexSpec } from '../../src/archive/open-index.js';
import { Dataset, getString } from '../../src/dicom/dataset.js';
import { putString, writeDataset } from '../../src/dicom/dataset-writer.js';
import { buildMetaHeader, readPart10 } from '../../src/dicom/part10.js';
import { EXPLICIT_VR_LITTLE_ENDIAN } from '../../src/dicom/transfer-syntax.js';
import { startMainServer, type MainServer } from '../../src/roles/main-server.js';
import { dropSchema, freshSchemaName, PG_URL, postgresAvailable } from '../archive/pg-support.js';
import { findscuDatasets } from '../support/findscu.js';
import { freePort, runDcmtk, stopAllPeers, storescu } from '../support/peers.js';
import { putMono16Image } from '../support/mono16-image.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const ROOT = '1.2.826.0.1.3680043.10.2024.19';
const T = { PatientName: 0x00100010, PatientID: 0x00100020, Issuer: 0x00100021, BirthDate: 0x00100030, Sex: 0x00100040, Study: 0x0020000d, Pixels: 0x7fe00010 };

interface StudySpec {
  uid: string;
  patientId: string;
  issuer?: string;
  name: string;
  birthDate: string;
  sex: string;
}
// One Patient ID, two names (a name changed between visits); the same ID from another hospital; the merge target.
const S1: StudySpec = { uid: `${ROOT}.1`, patientId: 'ID-1', name: 'SMITH^ANNE', birthDate: '19700101', sex: 'F' };
const S2: StudySpec = { uid: `${ROOT}.2`, patientId: 'ID-1', name: 'JONES^ANNE', birthDate: '19700101', sex: 'F' };
const S3: StudySpec = { uid: `${ROOT}.3`, patientId: 'ID-1', issuer: 'HOSP-B', name: 'BROWN^CARL', birthDate: '19501224', sex: 'M' };
const S4: StudySpec = { uid: `${ROOT}.4`, patientId: 'ID-9', name: 'JONES^ANNE^M', birthDate: '19700102', sex: 'F' };

const pixelsOf = (n: number): Uint8Array => new Uint8Array(Buffer.alloc(8 * 8 * 2, n));

function writeInstance(dir: string, s: StudySpec, n: number, override: Partial<StudySpec> = {}): string {
  const v = { ...s, ...override };
  const ds = new Dataset();
  const uid = `${s.uid}.1.${n}`;
  putString(ds, 0x00080016, 'UI', CT);
  putString(ds, 0x00080018, 'UI', uid);
  putString(ds, 0x00080020, 'DA', '20240101');
  putString(ds, 0x00080060, 'CS', 'CT');
  putString(ds, T.PatientName, 'PN', v.name);
  putString(ds, T.PatientID, 'LO', v.patientId);
  if (v.issuer) putString(ds, T.Issuer, 'LO', v.issuer);
  putString(ds, T.BirthDate, 'DA', v.birthDate);
  putString(ds, T.Sex, 'CS', v.sex);
  putString(ds, T.Study, 'UI', s.uid);
  putString(ds, 0x0020000e, 'UI', `${s.uid}.1`);
  putString(ds, 0x00200013, 'IS', String(n));
  putMono16Image(ds, { rows: 8, cols: 8, bitsStored: 12, pixels: pixelsOf(n) });
  const file = join(dir, `${uid}.dcm`);
  writeFileSync(
    file,
    Buffer.concat([
      buildMetaHeader({ sopClassUid: CT, sopInstanceUid: uid, transferSyntaxUid: EXPLICIT_VR_LITTLE_ENDIAN }),
      writeDataset(ds, EXPLICIT_VR_LITTLE_ENDIAN),
    ]),
  );
  return file;
}

const backends: { name: string; spec: () => Promise<{ index: IndexSpec; cleanup: () => Promise<void> }> }[] = [
  { name: 'SQLite', spec: async () => ({ index: 'sqlite', cleanup: async () => undefined }) },
  {
    name: 'PostgreSQL',
    spec: async () => {
      if (!(await postgresAvailable())) throw new Error(`PostgreSQL is not reachable at ${PG_URL}`);
      const schema = freshSchemaName();
      return { index: { postgres: PG_URL, schema }, cleanup: () => dropSchema(schema) };
    },
  },
];

afterAll(async () => {
  await stopAllPeers();
  await removeTempDirs();
});

describe.each(backends)('patient identity with DCMTK, $name index', ({ spec }) => {
  let dir: string;
  let server: MainServer;
  let port: number;
  let cleanup: () => Promise<void> = async () => undefined;
  let run = 0;

  beforeAll(async () => {
    dir = await makeTempDir('pacs-identity-');
    mkdirSync(join(dir, 'in'));
    const s = await spec();
    cleanup = s.cleanup;
    port = await freePort();
    server = await startMainServer({ aeTitle: 'PACS', port, host: '127.0.0.1', dataDir: join(dir, 'data'), index: s.index, logger: pino({ level: 'silent' }) });
    const files = [S1, S2, S3, S4].flatMap((st, i) => [writeInstance(join(dir, 'in'), st, 2 * i + 1), writeInstance(join(dir, 'in'), st, 2 * i + 2)]);
    const r = await storescu({ port, calledAet: 'PACS', files });
    expect(r.code, r.stderr).toBe(0);
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await cleanup();
  });

  async function findscu(model: '-S' | '-P', keys: string[]): Promise<Dataset[]> {
    return findscuDatasets({ port, model, keys, outDir: join(dir, `find-${++run}`) });
  }

  /** Study-level findscu: [StudyInstanceUID, PatientName, PatientID, IssuerOfPatientID] per match, sorted. */
  async function studies(keys: string[]): Promise<string[][]> {
    const rs = await findscu('-S', ['QueryRetrieveLevel=STUDY', 'StudyInstanceUID', 'PatientName', 'PatientID', 'IssuerOfPatientID', ...keys]);
    return rs
      .map((d) => [getString(d, T.Study) ?? '', getString(d, T.PatientName) ?? '', getString(d, T.PatientID) ?? '', getString(d, T.Issuer) ?? ''])
      .sort();
  }

  it('finds each study by the name its own instances carry', async () => {
    expect(await studies(['PatientName=SMITH*'])).toEqual([[S1.uid, 'SMITH^ANNE', 'ID-1', '']]);
    expect(await studies(['PatientName=JONES*'])).toEqual([
      [S2.uid, 'JONES^ANNE', 'ID-1', ''],
      [S4.uid, 'JONES^ANNE^M', 'ID-9', ''],
    ]);
    // Below study level too: a series answers with its study's patient.
    const series = await findscu('-S', ['QueryRetrieveLevel=SERIES', `StudyInstanceUID=${S1.uid}`, 'SeriesInstanceUID', 'PatientName']);
    expect(series.map((d) => getString(d, T.PatientName))).toEqual(['SMITH^ANNE']);
  });

  it('keeps two issuers of one Patient ID two patients', async () => {
    expect(await studies(['PatientID=ID-1'])).toEqual([
      [S1.uid, 'SMITH^ANNE', 'ID-1', ''],
      [S2.uid, 'JONES^ANNE', 'ID-1', ''],
      [S3.uid, 'BROWN^CARL', 'ID-1', 'HOSP-B'],
    ]);
    expect(await studies(['PatientID=ID-1', 'IssuerOfPatientID=HOSP-B'])).toEqual([[S3.uid, 'BROWN^CARL', 'ID-1', 'HOSP-B']]);
    const patients = await findscu('-P', ['QueryRetrieveLevel=PATIENT', 'PatientID=ID-1', 'IssuerOfPatientID', 'PatientName', 'NumberOfPatientRelatedStudies']);
    expect(patients.map((d) => `${getString(d, T.Issuer) ?? ''}|${getString(d, T.PatientName)}|${getString(d, 0x00201200)}`).sort()).toEqual([
      'HOSP-B|BROWN^CARL|1',
      // Patient level: the newest name of the two studies.
      '|JONES^ANNE|2',
    ]);
  });

  it("lists the patient whose studies disagree, with each study's own name", async () => {
    const conflicts = await server.archive.index.patientConflicts();
    expect(conflicts.map((c) => [c.patientId, c.issuer, c.studies.map((s) => `${s.studyInstanceUid}=${s.patientName}`).sort()])).toEqual([
      ['ID-1', '', [`${S1.uid}=SMITH^ANNE`, `${S2.uid}=JONES^ANNE`]],
    ]);
  });

  it('merges: the studies move, findscu shows the merged identity, the conflict is gone', async () => {
    const moved = await server.archive.index.mergePatients({ patientId: 'ID-1', issuer: '' }, { patientId: 'ID-9', issuer: '' }, 'duplicate registration');
    expect(moved).toBe(2);
    expect(await studies(['PatientID=ID-9'])).toEqual([
      [S1.uid, 'JONES^ANNE^M', 'ID-9', ''],
      [S2.uid, 'JONES^ANNE^M', 'ID-9', ''],
      [S4.uid, 'JONES^ANNE^M', 'ID-9', ''],
    ]);
    expect(await studies(['PatientID=ID-1'])).toEqual([[S3.uid, 'BROWN^CARL', 'ID-1', 'HOSP-B']]);
    expect(await studies(['PatientName=SMITH*'])).toEqual([]);
    expect(await server.archive.index.patientConflicts()).toEqual([]);
    const changes = await server.archive.index.patientChanges();
    expect(changes.map((c) => [c.action, c.from?.patientId, c.patient.patientId, c.reason, c.studies])).toEqual([
      ['merge', 'ID-1', 'ID-9', 'duplicate registration', 2],
    ]);
  });

  it('getscu after the merge receives the corrected patient module, pixel data unchanged; the stored file is not rewritten', async () => {
    const out = join(dir, 'getscu');
    mkdirSync(out);
    const r = await runDcmtk('getscu', [
      '-S',
      '-aet',
      'GETSCU',
      '-aec',
      'PACS',
      '-od',
      out,
      '-k',
      'QueryRetrieveLevel=STUDY',
      '-k',
      `StudyInstanceUID=${S1.uid}`,
      '127.0.0.1',
      String(port),
    ]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const got = readdirSync(out).sort();
    expect(got).toHaveLength(2);
    for (const f of got) {
      const d = readPart10(readFileSync(join(out, f))).dataset;
      expect([getString(d, T.PatientID), getString(d, T.PatientName), getString(d, T.BirthDate), getString(d, T.Sex), d.get(T.Issuer)]).toEqual([
        'ID-9',
        'JONES^ANNE^M',
        '19700102',
        'F',
        undefined,
      ]);
      const n = Number(getString(d, 0x00200013));
      expect(Buffer.from(d.get(T.Pixels)!.value!)).toEqual(Buffer.from(pixelsOf(n)));
    }
    const row = await server.archive.index.getInstance(`${S1.uid}.1.1`);
    const stored = readPart10(readFileSync(server.archive.blobs.path(row!.fileKey))).dataset;
    expect([getString(stored, T.PatientID), getString(stored, T.PatientName)]).toEqual(['ID-1', 'SMITH^ANNE']);
  });

  it('an update corrects every study of the patient; a late instance with the old identity stays with the corrected study', async () => {
    const touched = await server.archive.index.updatePatient({ patientId: 'ID-9', issuer: '' }, { name: 'JONES^ANNE^MARIE', sex: 'F' }, 'ADT^A08');
    expect(touched).toBe(3);
    const late = writeInstance(join(dir, 'in'), S1, 99);
    const r = await storescu({ port, calledAet: 'PACS', files: [late] });
    expect(r.code, r.stderr).toBe(0);
    expect(await studies([`StudyInstanceUID=${S1.uid}`])).toEqual([[S1.uid, 'JONES^ANNE^MARIE', 'ID-9', '']]);
    // No patient ID-1 without issuer came back for the late instance.
    const patients = await findscu('-P', ['QueryRetrieveLevel=PATIENT', 'PatientID=ID-1', 'IssuerOfPatientID']);
    expect(patients.map((d) => getString(d, T.Issuer))).toEqual(['HOSP-B']);
  });
});
