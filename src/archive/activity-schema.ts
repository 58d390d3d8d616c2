/**
 * The activity log's tables beside the index (same database): one row per event, its
 * whole event as JSON, with the columns the filters use; and the patients and studies
 * each event names (an association may store many studies), for the patient and study
 * filters. DDL in both dialects, created on first use, idempotent.
 */
import { sqlIndex } from './base-index.js';
import type { Index } from './index-types.js';
import type { SqlDialect } from './sql-types.js';

export function activityDdl(dialect: SqlDialect): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS activity (
      pk ${dialect.identityPk},
      time TEXT NOT NULL,
      kind TEXT NOT NULL,
      outcome TEXT NOT NULL,
      calling_ae TEXT,
      called_ae TEXT,
      json TEXT NOT NULL)`,
    `CREATE INDEX IF NOT EXISTS activity_time ON activity (time)`,
    `CREATE TABLE IF NOT EXISTS activity_subjects (
      event_fk ${dialect.foreignKey} NOT NULL,
      patient_id TEXT,
      study_uid TEXT)`,
    `CREATE INDEX IF NOT EXISTS activity_subjects_event ON activity_subjects (event_fk)`,
    `CREATE INDEX IF NOT EXISTS activity_subjects_patient ON activity_subjects (patient_id)`,
    `CREATE INDEX IF NOT EXISTS activity_subjects_study ON activity_subjects (study_uid)`,
  ];
}

const ready = new WeakMap<Index, Promise<void>>();

/** Creates the activity tables once per index object (every later call waits for the first). */
export function ensureActivitySchema(index: Index): Promise<void> {
  let p = ready.get(index);
  if (!p) {
    p = sqlIndex(index).write(async (tx) => {
      if (tx.dialect.schemaLock) await tx.execute(tx.dialect.schemaLock, ['pacs-activity-schema']);
      for (const ddl of activityDdl(tx.dialect)) await tx.execute(ddl);
    });
    ready.set(index, p);
    p.catch(() => ready.delete(index));
  }
  return p;
}
