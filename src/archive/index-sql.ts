/**
 * The SQL shared by both index backends: one schema (DDL in the backend's dialect) and
 * one implementation of the transaction operations over a minimal runner. Statements are
 * written with PostgreSQL placeholders ($1, $2, ...); the SQLite runner rewrites them.
 * Parameterized SQL only.
 */
import type { ForwardQueueWriter } from './forward-queue.js';
import { SqlForwardQueueWriter } from './forward-queue-sql.js';
import type { DuplicateAction, FileCheck, InsertResult, InstanceRecord, InstanceRow, InstanceSummary, SeriesRow, StudyRow } from './index-types.js';
import {
  checkPatientKey,
  checkPatientUpdate,
  checkReason,
  PatientIdentityError,
  type PatientChange,
  type PatientConflict,
  type PatientKey,
  type PatientUpdate,
} from './patient-identity.js';
import { jsonTarget } from '../dicom/matching.js';
import type { DicomJsonObject } from '../dicom/dataset-json.js';
import type { SqlDialect, SqlReader, SqlRow, SqlRunner, SqlValue, SqlWriter } from './sql-types.js';

export const SCHEMA_VERSION = 3;

/**
 * Additive changes since version 1, for databases created before them (SQLite has no
 * ADD COLUMN IF NOT EXISTS: its index checks the column first).
 *   2: instances.file_crc32, the CRC-32 of the stored file (the start-up sweep checks a
 *      file whose row was committed while its data was still being made durable).
 */
export const ADDED_COLUMNS: ReadonlyArray<{ table: string; column: string; type: string }> = [
  { table: 'instances', column: 'file_crc32', type: 'BIGINT' },
  // 3: patient identity (patient-identity.ts): the study's own patient attributes, and when an update or merge corrected them.
  { table: 'studies', column: 'patient_name', type: 'TEXT' },
  { table: 'studies', column: 'patient_birth_date', type: 'TEXT' },
  { table: 'studies', column: 'patient_sex', type: 'TEXT' },
  { table: 'studies', column: 'patient_corrected', type: 'TEXT' },
  // The study's change stamp (studyStampDdl of each backend): no data to move, so no new version.
  { table: 'studies', column: 'change_stamp', type: 'TEXT' },
];

/**
 * Each study carries a change stamp, a random token replaced in the same transaction as
 * any change to what its WADO-RS metadata says: an instance inserted, replaced, moved or
 * deleted, a series moved to another study, the study's patient or patient attributes
 * corrected. Database triggers (each backend's studyStampDdl) set it, so that a node of
 * an older version writing to a shared index changes it too. Random rather than counted:
 * a study deleted and received again never gets a stamp it had before. The metadata cache
 * (web/dicomweb/metadata.ts) is keyed by it and answers ETag/If-None-Match with it.
 */
export const STUDY_STAMP_COLUMNS = ['patient_fk', 'patient_name', 'patient_birth_date', 'patient_sex', 'patient_corrected'] as const;
/** The instance columns whose change changes the study's metadata. */
export const INSTANCE_STAMP_COLUMNS = ['series_fk', 'sop_instance_uid', 'transfer_syntax_uid', 'json'] as const;

/**
 * Version 3 keys patients by (patient_id, issuer): a version 2 patients table (patient_id
 * UNIQUE, no issuer) is rebuilt by the backend before schemaDdl (SQLite: a new table, its
 * rows copied with their pks; PostgreSQL: ALTER TABLE), then migrateToPatientIdentity
 * splits and fills in the rest from the stored instances.
 */
export const PATIENTS_V3_COLUMNS = 'pk, patient_id, issuer, patient_name, patient_birth_date, patient_sex';

/** Indexes on columns that ADDED_COLUMNS may have just added: created after it. */
export function lateIndexDdl(): string[] {
  return [
    // The study-level patient attributes are what C-FIND and QIDO-RS match at study level and below.
    `CREATE INDEX IF NOT EXISTS studies_patient_name ON studies (patient_name)`,
    `CREATE INDEX IF NOT EXISTS studies_patient_birth_date ON studies (patient_birth_date)`,
    `CREATE INDEX IF NOT EXISTS studies_patient_corrected ON studies (patient_corrected)`,
  ];
}

/** The patients table (version 3), under `name` (SQLite's migration builds it under another name first). */
export function patientsTableDdl(dialect: SqlDialect, name: string): string {
  return `CREATE TABLE IF NOT EXISTS ${name} (
      pk ${dialect.identityPk},
      patient_id TEXT NOT NULL,
      issuer TEXT NOT NULL DEFAULT '',
      patient_name TEXT,
      patient_birth_date TEXT,
      patient_sex TEXT,
      UNIQUE (patient_id, issuer))`;
}

/**
 * The data part of the move to version 3, in one write transaction, once (it checks the
 * stored schema_version itself and raises it at the end): each study gets the patient
 * name, birth date and sex of its newest stored instance, and a study whose instances
 * name an Issuer of Patient ID moves to the patient (Patient ID, issuer); patients left
 * without studies go. Returns the number of studies looked at.
 */
export async function migrateToPatientIdentity(tx: SqlWriter): Promise<number> {
  const forUpdate = tx.dialect.forUpdate;
  const v = await tx.execute(`SELECT value FROM archive_meta WHERE key = 'schema_version'${forUpdate}`);
  if (v.length > 0 && Number(v[0].value) >= 3) return 0;
  let after = 0;
  let seen = 0;
  for (;;) {
    const rows = await tx.execute(
      `SELECT st.pk, st.patient_fk, p.patient_id, p.issuer,
         (SELECT i.json FROM instances i JOIN series se ON se.pk = i.series_fk WHERE se.study_fk = st.pk ORDER BY i.pk DESC LIMIT 1) AS json
       FROM studies st JOIN patients p ON p.pk = st.patient_fk WHERE st.pk > $1 ORDER BY st.pk LIMIT 500`,
      [after],
    );
    for (const r of rows) {
      seen++;
      if (r.json === null || r.json === undefined) continue;
      const t = jsonTarget(JSON.parse(String(r.json)) as DicomJsonObject);
      const first = (tag: number): string | null => nul(t.values(tag)?.[0]?.trim()) ?? null;
      const issuer = first(0x00100021) ?? '';
      let patientFk = Number(r.patient_fk);
      if (issuer !== String(r.issuer)) {
        const p = await tx.execute(
          `INSERT INTO patients (patient_id, issuer, patient_name, patient_birth_date, patient_sex) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (patient_id, issuer) DO UPDATE SET patient_name = excluded.patient_name RETURNING pk`,
          [String(r.patient_id), issuer, first(0x00100010), first(0x00100030), first(0x00100040)],
        );
        patientFk = Number(p[0].pk);
      }
      await tx.execute(`UPDATE studies SET patient_fk = $2, patient_name = $3, patient_birth_date = $4, patient_sex = $5 WHERE pk = $1`, [
        Number(r.pk),
        patientFk,
        first(0x00100010),
        first(0x00100030),
        first(0x00100040),
      ]);
    }
    if (rows.length < 500) break;
    after = Number(rows[rows.length - 1].pk);
  }
  await tx.execute(`DELETE FROM patients WHERE NOT EXISTS (SELECT 1 FROM studies st WHERE st.patient_fk = patients.pk)`);
  await tx.execute(
    `INSERT INTO archive_meta (key, value) VALUES ('schema_version', $1)
     ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE CAST(archive_meta.value AS INTEGER) < CAST(excluded.value AS INTEGER)`,
    [String(SCHEMA_VERSION)],
  );
  return seen;
}

export function schemaDdl(dialect: SqlDialect): string[] {
  const pk = dialect.identityPk;
  const fk = dialect.foreignKey;
  return [
    `CREATE TABLE IF NOT EXISTS archive_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
    patientsTableDdl(dialect, 'patients'),
    `CREATE TABLE IF NOT EXISTS studies (
      pk ${pk},
      study_instance_uid TEXT NOT NULL UNIQUE,
      patient_fk ${fk} NOT NULL REFERENCES patients(pk),
      study_date TEXT,
      study_time TEXT,
      accession_number TEXT,
      study_id TEXT,
      study_description TEXT,
      referring_physician_name TEXT,
      modalities_in_study TEXT,
      patient_name TEXT,
      patient_birth_date TEXT,
      patient_sex TEXT,
      patient_corrected TEXT)`,
    `CREATE INDEX IF NOT EXISTS studies_patient_fk ON studies (patient_fk)`,
    `CREATE INDEX IF NOT EXISTS studies_study_date ON studies (study_date)`,
    `CREATE INDEX IF NOT EXISTS studies_accession_number ON studies (accession_number)`,
    `CREATE TABLE IF NOT EXISTS series (
      pk ${pk},
      series_instance_uid TEXT NOT NULL UNIQUE,
      study_fk ${fk} NOT NULL REFERENCES studies(pk),
      modality TEXT,
      series_number INTEGER,
      series_description TEXT,
      body_part_examined TEXT)`,
    `CREATE INDEX IF NOT EXISTS series_study_fk ON series (study_fk)`,
    `CREATE TABLE IF NOT EXISTS instances (
      pk ${pk},
      sop_instance_uid TEXT NOT NULL UNIQUE,
      series_fk ${fk} NOT NULL REFERENCES series(pk),
      sop_class_uid TEXT NOT NULL,
      instance_number INTEGER,
      transfer_syntax_uid TEXT NOT NULL,
      file_key TEXT NOT NULL UNIQUE,
      file_size BIGINT NOT NULL,
      file_crc32 BIGINT,
      received_at TEXT NOT NULL,
      calling_ae TEXT NOT NULL,
      called_ae TEXT,
      json TEXT NOT NULL)`,
    `CREATE INDEX IF NOT EXISTS instances_series_fk ON instances (series_fk)`,
    // Updates and merges of patients, as they were made (patient-identity.ts).
    `CREATE TABLE IF NOT EXISTS patient_changes (
      pk ${pk},
      at TEXT NOT NULL,
      action TEXT NOT NULL,
      patient_id TEXT NOT NULL,
      issuer TEXT NOT NULL,
      from_patient_id TEXT,
      from_issuer TEXT,
      update_json TEXT,
      reason TEXT NOT NULL,
      studies INTEGER NOT NULL)`,
  ];
}

const notFound = (key: PatientKey, field: string) =>
  new PatientIdentityError('not-found', field, `no patient ${key.patientId}${key.issuer ? ` (issuer ${key.issuer})` : ''}`);

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const nul = <T>(v: T | undefined | null): T | null => (v === undefined || v === '' ? null : v);

const INSTANCE_SUMMARY_COLUMNS = `i.sop_instance_uid, i.sop_class_uid, se.series_instance_uid, st.study_instance_uid,
  i.instance_number, i.transfer_syntax_uid, i.file_key, i.file_size, i.received_at, i.calling_ae, i.called_ae`;
const INSTANCE_FROM = `FROM instances i JOIN series se ON se.pk = i.series_fk JOIN studies st ON st.pk = se.study_fk`;

function toSummary(r: SqlRow): InstanceSummary {
  return {
    sopInstanceUid: String(r.sop_instance_uid),
    sopClassUid: String(r.sop_class_uid),
    seriesInstanceUid: String(r.series_instance_uid),
    studyInstanceUid: String(r.study_instance_uid),
    instanceNumber: num(r.instance_number),
    transferSyntaxUid: String(r.transfer_syntax_uid),
    fileKey: String(r.file_key),
    fileSize: Number(r.file_size),
    receivedAt: String(r.received_at),
    callingAeTitle: String(r.calling_ae),
    calledAeTitle: str(r.called_ae),
  };
}

/** Read operations over a runner. */
export class SqlIndexReader implements SqlReader {
  constructor(protected readonly db: SqlRunner) {}

  get dialect(): SqlDialect {
    return this.db.dialect;
  }

  async hasInstance(uid: string): Promise<boolean> {
    return (await this.db.all(`SELECT 1 AS x FROM instances WHERE sop_instance_uid = $1`, [uid])).length > 0;
  }

  async hasFileKey(fileKey: string): Promise<boolean> {
    return (await this.db.all(`SELECT 1 AS x FROM instances WHERE file_key = $1`, [fileKey])).length > 0;
  }

  async fileCheck(fileKey: string): Promise<FileCheck | undefined> {
    const rows = await this.db.all(`SELECT sop_instance_uid, file_size, file_crc32 FROM instances WHERE file_key = $1`, [fileKey]);
    if (rows.length === 0) return undefined;
    return { sopInstanceUid: String(rows[0].sop_instance_uid), fileSize: Number(rows[0].file_size), fileCrc32: num(rows[0].file_crc32) };
  }

  async fileKeysEndingWith(suffix: string): Promise<string[]> {
    const like = `%${suffix.replace(/[\\%_]/g, (c) => `\\${c}`)}`;
    return (await this.db.all(`SELECT file_key FROM instances WHERE file_key LIKE $1 ESCAPE '\\'`, [like])).map((r) => String(r.file_key));
  }

  async getInstance(uid: string): Promise<InstanceRow | undefined> {
    const rows = await this.db.all(`SELECT ${INSTANCE_SUMMARY_COLUMNS}, i.json ${INSTANCE_FROM} WHERE i.sop_instance_uid = $1`, [uid]);
    if (rows.length === 0) return undefined;
    return { ...toSummary(rows[0]), json: String(rows[0].json) };
  }

  async countInstances(): Promise<number> {
    const rows = await this.db.all(`SELECT COUNT(*) AS n FROM instances`);
    return Number(rows[0].n);
  }

  async listStudies(): Promise<StudyRow[]> {
    const rows = await this.db.all(
      `SELECT st.*, p.patient_id, p.issuer
       FROM studies st JOIN patients p ON p.pk = st.patient_fk
       ORDER BY st.study_date, st.study_instance_uid`,
    );
    return rows.map((r) => ({
      patientId: String(r.patient_id),
      issuerOfPatientId: String(r.issuer ?? ''),
      patientName: str(r.patient_name),
      patientBirthDate: str(r.patient_birth_date),
      patientSex: str(r.patient_sex),
      studyInstanceUid: String(r.study_instance_uid),
      studyDate: str(r.study_date),
      studyTime: str(r.study_time),
      accessionNumber: str(r.accession_number),
      studyId: str(r.study_id),
      studyDescription: str(r.study_description),
      referringPhysicianName: str(r.referring_physician_name),
      modalitiesInStudy: r.modalities_in_study ? String(r.modalities_in_study).split('\\') : [],
    }));
  }

  async listSeries(studyInstanceUid: string): Promise<SeriesRow[]> {
    const rows = await this.db.all(
      `SELECT se.*, st.study_instance_uid FROM series se JOIN studies st ON st.pk = se.study_fk
       WHERE st.study_instance_uid = $1 ORDER BY se.series_number, se.series_instance_uid`,
      [studyInstanceUid],
    );
    return rows.map((r) => ({
      seriesInstanceUid: String(r.series_instance_uid),
      studyInstanceUid: String(r.study_instance_uid),
      modality: str(r.modality),
      seriesNumber: num(r.series_number),
      seriesDescription: str(r.series_description),
      bodyPartExamined: str(r.body_part_examined),
    }));
  }

  async listInstances(seriesInstanceUid: string): Promise<InstanceSummary[]> {
    const rows = await this.db.all(
      `SELECT ${INSTANCE_SUMMARY_COLUMNS} ${INSTANCE_FROM} WHERE se.series_instance_uid = $1
       ORDER BY i.instance_number, i.sop_instance_uid`,
      [seriesInstanceUid],
    );
    return rows.map(toSummary);
  }

  /** Patients whose studies disagree on patient name, birth date or sex (at most `limit`), with every study's own values. */
  async patientConflicts(limit: number): Promise<PatientConflict[]> {
    const patients = await this.db.all(
      `SELECT p.pk, p.patient_id, p.issuer, p.patient_name, p.patient_birth_date, p.patient_sex FROM patients p
       WHERE p.pk IN (SELECT patient_fk FROM studies GROUP BY patient_fk
         HAVING COUNT(DISTINCT patient_name) > 1 OR COUNT(DISTINCT patient_birth_date) > 1 OR COUNT(DISTINCT patient_sex) > 1)
       ORDER BY p.patient_id, p.issuer LIMIT $1`,
      [limit],
    );
    const out: PatientConflict[] = [];
    for (const p of patients) {
      const studies = await this.db.all(
        `SELECT study_instance_uid, study_date, study_description, accession_number, patient_name, patient_birth_date, patient_sex
         FROM studies WHERE patient_fk = $1 ORDER BY study_date, study_instance_uid`,
        [Number(p.pk)],
      );
      out.push({
        patientId: String(p.patient_id),
        issuer: String(p.issuer),
        patientName: str(p.patient_name),
        patientBirthDate: str(p.patient_birth_date),
        patientSex: str(p.patient_sex),
        studies: studies.map((r) => ({
          studyInstanceUid: String(r.study_instance_uid),
          studyDate: str(r.study_date),
          studyDescription: str(r.study_description),
          accessionNumber: str(r.accession_number),
          patientName: str(r.patient_name),
          patientBirthDate: str(r.patient_birth_date),
          patientSex: str(r.patient_sex),
        })),
      });
    }
    return out;
  }

  /** The most recent updates and merges, newest first. */
  async patientChanges(limit: number): Promise<PatientChange[]> {
    const rows = await this.db.all(`SELECT * FROM patient_changes ORDER BY pk DESC LIMIT $1`, [limit]);
    return rows.map((r) => ({
      at: String(r.at),
      action: String(r.action) === 'merge' ? 'merge' : 'update',
      patient: { patientId: String(r.patient_id), issuer: String(r.issuer) },
      from: r.from_patient_id === null ? null : { patientId: String(r.from_patient_id), issuer: String(r.from_issuer ?? '') },
      update: r.update_json === null ? null : (JSON.parse(String(r.update_json)) as PatientUpdate),
      reason: String(r.reason),
      studies: Number(r.studies),
    }));
  }

  /** The patient row with this key, or undefined. */
  async findPatient(key: PatientKey): Promise<(PatientKey & { pk: number; name: string | null; birthDate: string | null; sex: string | null }) | undefined> {
    const rows = await this.db.all(`SELECT pk, patient_name, patient_birth_date, patient_sex FROM patients WHERE patient_id = $1 AND issuer = $2`, [
      key.patientId,
      key.issuer,
    ]);
    if (rows.length === 0) return undefined;
    const r = rows[0];
    return { ...key, pk: Number(r.pk), name: str(r.patient_name), birthDate: str(r.patient_birth_date), sex: str(r.patient_sex) };
  }

  select(sql: string, params: readonly SqlValue[] = []): Promise<SqlRow[]> {
    return this.db.all(sql, params);
  }
}

/**
 * The patient, study and series rows last upserted, each under its identifying UID or ID,
 * with the values written and the row's pk: an upsert with the same values again is a
 * no-op and is skipped. Within one transaction always; across transactions only where the
 * backend keeps one memo per writer connection and clears it whenever the rows may have
 * changed otherwise (SQLite: rollback, another connection's commit, any other write).
 * Why: the upserts of a series' 2nd..nth instance rewrote the patient, study and series
 * rows and four secondary indexes, about half the pages each one-instance commit wrote to
 * the WAL (issue 16).
 */
export class UpsertMemo {
  private readonly rows = new Map<string, { values: string; pk: number }>();
  /** Bounded: a memo past this many rows starts again empty. */
  static readonly MAX_ROWS = 4096;

  /** The pk if the row `id` of `kind` was last upserted with exactly `values`. */
  get(kind: string, id: string, values: string): number | undefined {
    const r = this.rows.get(`${kind}:${id}`);
    return r !== undefined && r.values === values ? r.pk : undefined;
  }

  set(kind: string, id: string, values: string, pk: number): void {
    if (this.rows.size >= UpsertMemo.MAX_ROWS) this.rows.clear();
    this.rows.set(`${kind}:${id}`, { values, pk });
  }

  clear(): void {
    this.rows.clear();
  }
}

/** Read and write operations; only handed out inside a write transaction. */
export class SqlIndexWriter extends SqlIndexReader implements SqlWriter {
  readonly forwardQueue: ForwardQueueWriter = new SqlForwardQueueWriter(this);

  /** `memo`: the backend's, kept across its transactions (see UpsertMemo), or one for this transaction. */
  constructor(
    db: SqlRunner,
    private readonly memo: UpsertMemo = new UpsertMemo(),
  ) {
    super(db);
  }

  async execute(sql: string, params: readonly SqlValue[] = []): Promise<SqlRow[]> {
    if (!/^\s*SELECT\b/i.test(sql)) this.memo.clear(); // may write any row
    return this.executeOwn(sql, params);
  }

  async executeOwn(sql: string, params: readonly SqlValue[] = []): Promise<SqlRow[]> {
    if (/^\s*(SELECT|WITH)\b|\bRETURNING\b/i.test(sql)) return this.db.all(sql, params);
    await this.db.run(sql, params);
    return [];
  }

  async insertInstances(records: readonly InstanceRecord[], onDuplicate: DuplicateAction): Promise<InsertResult[]> {
    const forUpdate = this.db.dialect.forUpdate;
    const touchedStudies = new Set<number>();
    const maybeEmptySeries = new Set<number>();
    const orphanPatients = new Set<number>();
    const results: InsertResult[] = [];
    for (const r of records) {
      const existing = await this.db.all(`SELECT pk, file_key, series_fk FROM instances WHERE sop_instance_uid = $1${forUpdate}`, [r.sopInstanceUid]);
      if (existing.length > 0 && onDuplicate === 'keep') {
        results.push({ status: 'duplicate', existingFileKey: String(existing[0].file_key) });
        continue;
      }
      const { pk: patientFk } = await this.upsert(
        'p',
        [nul(r.patientId) ?? '', nul(r.issuerOfPatientId) ?? '', nul(r.patientName), nul(r.patientBirthDate), nul(r.patientSex)],
        `INSERT INTO patients (patient_id, issuer, patient_name, patient_birth_date, patient_sex) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (patient_id, issuer) DO UPDATE SET
           patient_name = COALESCE(excluded.patient_name, patients.patient_name),
           patient_birth_date = COALESCE(excluded.patient_birth_date, patients.patient_birth_date),
           patient_sex = COALESCE(excluded.patient_sex, patients.patient_sex)
         RETURNING pk`,
      );
      // A study an update or merge corrected keeps its patient and patient attributes
      // when more of its instances arrive with the old ones (they go out corrected too).
      const study = await this.upsert(
        'st',
        [
          r.studyInstanceUid,
          patientFk,
          nul(r.studyDate),
          nul(r.studyTime),
          nul(r.accessionNumber),
          nul(r.studyId),
          nul(r.studyDescription),
          nul(r.referringPhysicianName),
          nul(r.patientName),
          nul(r.patientBirthDate),
          nul(r.patientSex),
        ],
        `INSERT INTO studies (study_instance_uid, patient_fk, study_date, study_time, accession_number, study_id,
           study_description, referring_physician_name, patient_name, patient_birth_date, patient_sex)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (study_instance_uid) DO UPDATE SET
           patient_fk = CASE WHEN studies.patient_corrected IS NULL THEN excluded.patient_fk ELSE studies.patient_fk END,
           study_date = COALESCE(excluded.study_date, studies.study_date),
           study_time = COALESCE(excluded.study_time, studies.study_time),
           accession_number = COALESCE(excluded.accession_number, studies.accession_number),
           study_id = COALESCE(excluded.study_id, studies.study_id),
           study_description = COALESCE(excluded.study_description, studies.study_description),
           referring_physician_name = COALESCE(excluded.referring_physician_name, studies.referring_physician_name),
           patient_name = CASE WHEN studies.patient_corrected IS NULL THEN COALESCE(excluded.patient_name, studies.patient_name)
             ELSE studies.patient_name END,
           patient_birth_date = CASE WHEN studies.patient_corrected IS NULL
             THEN COALESCE(excluded.patient_birth_date, studies.patient_birth_date) ELSE studies.patient_birth_date END,
           patient_sex = CASE WHEN studies.patient_corrected IS NULL THEN COALESCE(excluded.patient_sex, studies.patient_sex)
             ELSE studies.patient_sex END
         RETURNING pk, patient_fk`,
        (row) => {
          // The study stayed with its corrected patient: the patient row the upsert made for it may be empty.
          if (Number(row.patient_fk) !== patientFk) orphanPatients.add(patientFk);
        },
      );
      const studyFk = study.pk;
      const series = await this.upsert(
        'se',
        [r.seriesInstanceUid, studyFk, nul(r.modality), r.seriesNumber ?? null, nul(r.seriesDescription), nul(r.bodyPartExamined)],
        `INSERT INTO series (series_instance_uid, study_fk, modality, series_number, series_description, body_part_examined)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (series_instance_uid) DO UPDATE SET
           study_fk = excluded.study_fk,
           modality = COALESCE(excluded.modality, series.modality),
           series_number = COALESCE(excluded.series_number, series.series_number),
           series_description = COALESCE(excluded.series_description, series.series_description),
           body_part_examined = COALESCE(excluded.body_part_examined, series.body_part_examined)
         RETURNING pk`,
      );
      const seriesFk = series.pk;
      // modalities_in_study follows its series' rows: only a series row written changes it.
      if (series.written) touchedStudies.add(studyFk);
      const values: SqlValue[] = [
        r.sopInstanceUid,
        seriesFk,
        r.sopClassUid,
        r.instanceNumber ?? null,
        r.transferSyntaxUid,
        r.fileKey,
        r.fileSize,
        r.receivedAt,
        r.callingAeTitle,
        nul(r.calledAeTitle),
        r.json,
        r.fileCrc32 ?? null,
      ];
      if (existing.length === 0) {
        const inserted = await this.db.all(
          `INSERT INTO instances (sop_instance_uid, series_fk, sop_class_uid, instance_number, transfer_syntax_uid,
             file_key, file_size, received_at, calling_ae, called_ae, json, file_crc32)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
           ON CONFLICT (sop_instance_uid) DO NOTHING RETURNING pk`,
          values,
        );
        if (inserted.length > 0) {
          results.push({ status: 'stored' });
        } else {
          // Inserted concurrently by another node since our SELECT (PostgreSQL only).
          const now = await this.db.all(`SELECT file_key FROM instances WHERE sop_instance_uid = $1`, [r.sopInstanceUid]);
          results.push({ status: 'duplicate', existingFileKey: String(now[0]?.file_key ?? '') });
        }
      } else {
        await this.db.run(
          `UPDATE instances SET series_fk = $2, sop_class_uid = $3, instance_number = $4, transfer_syntax_uid = $5,
             file_key = $6, file_size = $7, received_at = $8, calling_ae = $9, called_ae = $10, json = $11,
             file_crc32 = $12
           WHERE sop_instance_uid = $1`,
          values,
        );
        const oldSeries = Number(existing[0].series_fk);
        if (oldSeries !== seriesFk) maybeEmptySeries.add(oldSeries);
        results.push({ status: 'replaced', previousFileKey: String(existing[0].file_key) });
      }
    }
    if (maybeEmptySeries.size > 0 || orphanPatients.size > 0) this.memo.clear(); // series, studies, patients may go
    for (const s of maybeEmptySeries) await this.removeIfEmpty(s);
    for (const p of orphanPatients) await this.removePatientIfEmpty(p);
    for (const st of touchedStudies) await this.updateModalities(st);
    return results;
  }

  /**
   * Sets the given attributes on the patient and on every study of it (each marked
   * corrected, so its instances go out with them); records the change. Returns the
   * number of studies touched; PatientIdentityError 'not-found' when there is no such patient.
   */
  async updatePatient(key: PatientKey, update: PatientUpdate, reason: string): Promise<number> {
    key = checkPatientKey(key, 'patient');
    update = checkPatientUpdate(update);
    reason = checkReason(reason);
    this.memo.clear(); // patient and study rows change
    const forUpdate = this.db.dialect.forUpdate;
    const found = await this.db.all(`SELECT pk FROM patients WHERE patient_id = $1 AND issuer = $2${forUpdate}`, [key.patientId, key.issuer]);
    if (found.length === 0) throw notFound(key, 'patient');
    const pk = Number(found[0].pk);
    const v = [pk, update.name ?? null, update.birthDate ?? null, update.sex ?? null];
    await this.db.run(
      `UPDATE patients SET patient_name = COALESCE($2, patient_name), patient_birth_date = COALESCE($3, patient_birth_date),
         patient_sex = COALESCE($4, patient_sex) WHERE pk = $1`,
      v,
    );
    const touched = await this.db.all(
      `UPDATE studies SET patient_name = COALESCE($2, patient_name), patient_birth_date = COALESCE($3, patient_birth_date),
         patient_sex = COALESCE($4, patient_sex), patient_corrected = $5 WHERE patient_fk = $1 RETURNING pk`,
      [...v, new Date().toISOString()],
    );
    await this.recordChange('update', key, null, update, reason, touched.length);
    return touched.length;
  }

  /**
   * Moves every study of `from` to `into` (created with from's attributes when it does
   * not exist: a change of Patient ID), giving each the patient attributes of `into` and
   * marking it corrected; `from` is deleted; the change is recorded. Returns the number
   * of studies moved; PatientIdentityError 'not-found' when `from` does not exist,
   * 'invalid' when both are the same patient.
   */
  async mergePatients(from: PatientKey, into: PatientKey, reason: string): Promise<number> {
    from = checkPatientKey(from, 'from');
    into = checkPatientKey(into, 'into');
    reason = checkReason(reason);
    if (from.patientId === into.patientId && from.issuer === into.issuer) {
      throw new PatientIdentityError('invalid', 'into', 'a patient cannot be merged into itself');
    }
    this.memo.clear(); // patient and study rows change
    const forUpdate = this.db.dialect.forUpdate;
    const src = await this.db.all(`SELECT pk, patient_name, patient_birth_date, patient_sex FROM patients WHERE patient_id = $1 AND issuer = $2${forUpdate}`, [
      from.patientId,
      from.issuer,
    ]);
    if (src.length === 0) throw notFound(from, 'from');
    const fromPk = Number(src[0].pk);
    let dst = await this.db.all(`SELECT pk, patient_name, patient_birth_date, patient_sex FROM patients WHERE patient_id = $1 AND issuer = $2${forUpdate}`, [
      into.patientId,
      into.issuer,
    ]);
    if (dst.length === 0) {
      dst = await this.db.all(
        `INSERT INTO patients (patient_id, issuer, patient_name, patient_birth_date, patient_sex) VALUES ($1, $2, $3, $4, $5)
         RETURNING pk, patient_name, patient_birth_date, patient_sex`,
        [into.patientId, into.issuer, str(src[0].patient_name), str(src[0].patient_birth_date), str(src[0].patient_sex)],
      );
    }
    const d = dst[0];
    const moved = await this.db.all(
      `UPDATE studies SET patient_fk = $2, patient_name = COALESCE($3, patient_name), patient_birth_date = COALESCE($4, patient_birth_date),
         patient_sex = COALESCE($5, patient_sex), patient_corrected = $6 WHERE patient_fk = $1 RETURNING pk`,
      [fromPk, Number(d.pk), str(d.patient_name), str(d.patient_birth_date), str(d.patient_sex), new Date().toISOString()],
    );
    await this.db.run(`DELETE FROM patients WHERE pk = $1`, [fromPk]);
    await this.recordChange('merge', into, from, null, reason, moved.length);
    return moved.length;
  }

  private async recordChange(
    action: 'update' | 'merge',
    patient: PatientKey,
    from: PatientKey | null,
    update: PatientUpdate | null,
    reason: string,
    studies: number,
  ) {
    await this.db.run(
      `INSERT INTO patient_changes (at, action, patient_id, issuer, from_patient_id, from_issuer, update_json, reason, studies)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        new Date().toISOString(),
        action,
        patient.patientId,
        patient.issuer,
        from?.patientId ?? null,
        from?.issuer ?? null,
        update ? JSON.stringify(update) : null,
        reason,
        studies,
      ],
    );
  }

  async deleteInstance(uid: string): Promise<{ fileKey: string } | undefined> {
    this.memo.clear(); // series, studies, patients may go
    const rows = await this.db.all(`DELETE FROM instances WHERE sop_instance_uid = $1 RETURNING file_key, series_fk`, [uid]);
    if (rows.length === 0) return undefined;
    await this.removeIfEmpty(Number(rows[0].series_fk));
    return { fileKey: String(rows[0].file_key) };
  }

  /**
   * Upsert returning pk, keyed by params[0] (the row's UID or ID); skipped when the memo
   * holds that row as last written with the same values (`written` false).
   */
  private async upsert(kind: string, params: SqlValue[], sql: string, written?: (row: SqlRow) => void): Promise<{ pk: number; written: boolean }> {
    const id = String(params[0]);
    const values = JSON.stringify(params);
    const hit = this.memo.get(kind, id, values);
    if (hit !== undefined) return { pk: hit, written: false };
    const rows = await this.db.all(sql, params);
    written?.(rows[0]);
    const pk = Number(rows[0].pk);
    this.memo.set(kind, id, values, pk);
    return { pk, written: true };
  }

  /** Deletes a series left without instances, then its study and patient if left empty. */
  private async removeIfEmpty(seriesFk: number): Promise<void> {
    if ((await this.db.all(`SELECT 1 AS x FROM instances WHERE series_fk = $1 LIMIT 1`, [seriesFk])).length > 0) return;
    const se = await this.db.all(`DELETE FROM series WHERE pk = $1 RETURNING study_fk`, [seriesFk]);
    if (se.length === 0) return;
    const studyFk = Number(se[0].study_fk);
    if ((await this.db.all(`SELECT 1 AS x FROM series WHERE study_fk = $1 LIMIT 1`, [studyFk])).length > 0) {
      await this.updateModalities(studyFk);
      return;
    }
    const st = await this.db.all(`DELETE FROM studies WHERE pk = $1 RETURNING patient_fk`, [studyFk]);
    if (st.length === 0) return;
    await this.removePatientIfEmpty(Number(st[0].patient_fk));
  }

  private async removePatientIfEmpty(patientFk: number): Promise<void> {
    if ((await this.db.all(`SELECT 1 AS x FROM studies WHERE patient_fk = $1 LIMIT 1`, [patientFk])).length > 0) return;
    await this.db.run(`DELETE FROM patients WHERE pk = $1`, [patientFk]);
  }

  private async updateModalities(studyFk: number): Promise<void> {
    const rows = await this.db.all(`SELECT DISTINCT modality FROM series WHERE study_fk = $1 AND modality IS NOT NULL`, [studyFk]);
    const mods = rows
      .map((r) => String(r.modality))
      .sort()
      .join('\\');
    await this.db.run(`UPDATE studies SET modalities_in_study = $2 WHERE pk = $1`, [studyFk, mods === '' ? null : mods]);
  }
}
