/**
 * The SQL shared by both index backends: one schema (DDL in the backend's dialect) and
 * one implementation of the transaction operations over a minimal runner. Statements are
 * written with PostgreSQL placeholders ($1, $2, ...); the SQLite runner rewrites them.
 * Parameterized SQL only.
 */
import type { ForwardQueueWriter } from './forward-queue.js';
import { SqlForwardQueueWriter } from './forward-queue-sql.js';
import type { DuplicateAction, FileCheck, InsertResult, InstanceRecord, InstanceRow, InstanceSummary, SeriesRow, StudyRow } from './index-types.js';
import type { SqlDialect, SqlReader, SqlRow, SqlRunner, SqlValue, SqlWriter } from './sql-types.js';

export const SCHEMA_VERSION = 2;

/**
 * Additive changes since version 1, for databases created before them (SQLite has no
 * ADD COLUMN IF NOT EXISTS: its index checks the column first).
 *   2: instances.file_crc32, the CRC-32 of the stored file (the start-up sweep checks a
 *      file whose row was committed while its data was still being made durable).
 */
export const ADDED_COLUMNS: ReadonlyArray<{ table: string; column: string; type: string }> = [{ table: 'instances', column: 'file_crc32', type: 'BIGINT' }];

export function schemaDdl(dialect: SqlDialect): string[] {
  const pk = dialect.identityPk;
  const fk = dialect.foreignKey;
  return [
    `CREATE TABLE IF NOT EXISTS archive_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS patients (
      pk ${pk},
      patient_id TEXT NOT NULL UNIQUE,
      patient_name TEXT,
      patient_birth_date TEXT,
      patient_sex TEXT)`,
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
      modalities_in_study TEXT)`,
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
  ];
}

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
      `SELECT st.*, p.patient_id, p.patient_name, p.patient_birth_date, p.patient_sex
       FROM studies st JOIN patients p ON p.pk = st.patient_fk
       ORDER BY st.study_date, st.study_instance_uid`,
    );
    return rows.map((r) => ({
      patientId: String(r.patient_id),
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
    if (/^\s*(SELECT|WITH)\b|\bRETURNING\b/i.test(sql)) {
      if (!/^\s*SELECT\b/i.test(sql)) this.memo.clear(); // may write any row
      return this.db.all(sql, params);
    }
    this.memo.clear(); // may write any row
    await this.db.run(sql, params);
    return [];
  }

  async insertInstances(records: readonly InstanceRecord[], onDuplicate: DuplicateAction): Promise<InsertResult[]> {
    const forUpdate = this.db.dialect.forUpdate;
    const touchedStudies = new Set<number>();
    const maybeEmptySeries = new Set<number>();
    const results: InsertResult[] = [];
    for (const r of records) {
      const existing = await this.db.all(`SELECT pk, file_key, series_fk FROM instances WHERE sop_instance_uid = $1${forUpdate}`, [r.sopInstanceUid]);
      if (existing.length > 0 && onDuplicate === 'keep') {
        results.push({ status: 'duplicate', existingFileKey: String(existing[0].file_key) });
        continue;
      }
      const { pk: patientFk } = await this.upsert(
        'p',
        [nul(r.patientId) ?? '', nul(r.patientName), nul(r.patientBirthDate), nul(r.patientSex)],
        `INSERT INTO patients (patient_id, patient_name, patient_birth_date, patient_sex) VALUES ($1, $2, $3, $4)
         ON CONFLICT (patient_id) DO UPDATE SET
           patient_name = COALESCE(excluded.patient_name, patients.patient_name),
           patient_birth_date = COALESCE(excluded.patient_birth_date, patients.patient_birth_date),
           patient_sex = COALESCE(excluded.patient_sex, patients.patient_sex)
         RETURNING pk`,
      );
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
        ],
        `INSERT INTO studies (study_instance_uid, patient_fk, study_date, study_time, accession_number, study_id,
           study_description, referring_physician_name) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (study_instance_uid) DO UPDATE SET
           patient_fk = excluded.patient_fk,
           study_date = COALESCE(excluded.study_date, studies.study_date),
           study_time = COALESCE(excluded.study_time, studies.study_time),
           accession_number = COALESCE(excluded.accession_number, studies.accession_number),
           study_id = COALESCE(excluded.study_id, studies.study_id),
           study_description = COALESCE(excluded.study_description, studies.study_description),
           referring_physician_name = COALESCE(excluded.referring_physician_name, studies.referring_physician_name)
         RETURNING pk`,
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
    if (maybeEmptySeries.size > 0) this.memo.clear(); // series, studies, patients may go
    for (const s of maybeEmptySeries) await this.removeIfEmpty(s);
    for (const st of touchedStudies) await this.updateModalities(st);
    return results;
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
  private async upsert(kind: string, params: SqlValue[], sql: string): Promise<{ pk: number; written: boolean }> {
    const id = String(params[0]);
    const values = JSON.stringify(params);
    const hit = this.memo.get(kind, id, values);
    if (hit !== undefined) return { pk: hit, written: false };
    const rows = await this.db.all(sql, params);
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
    const patientFk = Number(st[0].patient_fk);
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
