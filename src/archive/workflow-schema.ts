/**
 * The workflow tables beside the index (same database, same transactions): scheduled
 * procedure steps (Modality Worklist), performed procedure steps (MPPS) and storage
 * commitment transactions. DDL in both dialects, created on first use, idempotent.
 */
import { sqlIndex } from './base-index.js';
import type { Index } from './index-types.js';
import type { SqlDialect } from './sql-types.js';

export function workflowDdl(dialect: SqlDialect): string[] {
  const pk = dialect.identityPk;
  return [
    `CREATE TABLE IF NOT EXISTS worklist (
      pk ${pk},
      sps_id TEXT NOT NULL UNIQUE,
      status TEXT NOT NULL,
      patient_id TEXT NOT NULL,
      patient_name TEXT NOT NULL,
      accession_number TEXT,
      requested_procedure_id TEXT,
      study_instance_uid TEXT NOT NULL,
      modality TEXT NOT NULL,
      station_ae TEXT,
      start_date TEXT NOT NULL,
      start_time TEXT,
      entry TEXT NOT NULL,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL)`,
    `CREATE INDEX IF NOT EXISTS worklist_start_date ON worklist (start_date)`,
    `CREATE INDEX IF NOT EXISTS worklist_status ON worklist (status)`,
    `CREATE INDEX IF NOT EXISTS worklist_created_at ON worklist (created_at)`,
    `CREATE TABLE IF NOT EXISTS mpps (
      pk ${pk},
      sop_instance_uid TEXT NOT NULL UNIQUE,
      status TEXT NOT NULL,
      calling_ae TEXT NOT NULL,
      sps_ids TEXT NOT NULL,
      json TEXT NOT NULL,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS storage_commitments (
      pk ${pk},
      transaction_uid TEXT NOT NULL UNIQUE,
      calling_ae TEXT NOT NULL,
      called_ae TEXT NOT NULL,
      state TEXT NOT NULL,
      request TEXT NOT NULL,
      result TEXT,
      attempts INTEGER NOT NULL DEFAULT 0,
      last_error TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      claimed_by TEXT,
      claim_until TEXT)`,
    `CREATE INDEX IF NOT EXISTS storage_commitments_state ON storage_commitments (state)`,
  ];
}

/** Columns added after a table was first made: added where missing (an index made before them). */
const ADDED_WORKFLOW_COLUMNS: ReadonlyArray<{ table: string; column: string; type: string }> = [
  // Which node is sending a commitment report, until when (several nodes on one database).
  { table: 'storage_commitments', column: 'claimed_by', type: 'TEXT' },
  { table: 'storage_commitments', column: 'claim_until', type: 'TEXT' },
];

const ready = new WeakMap<Index, Promise<void>>();

/** Creates the workflow tables once per index object (every later call waits for the first). */
export function ensureWorkflowSchema(index: Index): Promise<void> {
  let p = ready.get(index);
  if (!p) {
    p = sqlIndex(index).write(async (tx) => {
      if (tx.dialect.schemaLock) await tx.execute(tx.dialect.schemaLock, ['pacs-workflow-schema']);
      for (const ddl of workflowDdl(tx.dialect)) await tx.execute(ddl);
      for (const c of ADDED_WORKFLOW_COLUMNS) {
        const have = await tx.execute(tx.dialect.tableColumns, [c.table]);
        if (!have.some((r) => r.name === c.column)) await tx.execute(`ALTER TABLE ${c.table} ADD COLUMN ${c.column} ${c.type}`);
      }
    });
    ready.set(index, p);
    p.catch(() => ready.delete(index));
  }
  return p;
}

export const nowIso = (): string => new Date().toISOString();
