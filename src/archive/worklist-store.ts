/**
 * Scheduled procedure steps (the Modality Worklist): one row per step, validated by
 * one zod schema shared by the REST API and the command line. The row keeps the entry
 * as entered (JSON) plus the columns queries pre-filter on; the DICOM worklist item is
 * built from the entry by the worklist service.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { aeTitleSchema, issuesOf } from '../config/index.js';
import { isValidUid, newUid } from '../dicom/uid-generator.js';
import { WorklistEntryError } from './errors.js';
import { sqlIndex } from './base-index.js';
import type { Index } from './index-types.js';
import type { SqlIndex, SqlReader, SqlWriter } from './sql-types.js';
import { ensureWorkflowSchema, nowIso } from './workflow-schema.js';

/** Scheduled Procedure Step Status (0040,0020), PS3.3 C.4.10. */
import { SPS_STATUSES, type SpsStatus } from '../api-types/workflow.js';
export { SPS_STATUSES, type SpsStatus };
/** States in which a step is no longer to be done: left out of worklist queries unless asked for. */
export const FINAL_SPS_STATUSES: readonly SpsStatus[] = ['COMPLETED', 'DISCONTINUED', 'CANCELED'];

const CONTROL = /[\x00-\x1a\x1c-\x1f\x7f]/; // ESC (0x1b) is allowed: ISO 2022 escapes
const text = (vr: string, max: number) =>
  z
    .string()
    .max(max, `${vr} values are at most ${max} characters`)
    .refine((v) => !v.includes('\\'), 'may not contain a backslash')
    .refine((v) => !CONTROL.test(v), 'may not contain control characters');
const sh = text('SH', 16);
const lo = text('LO', 64);
const pn = z
  .string()
  .max(324, 'person name too long')
  .refine((v) => !v.includes('\\') && !CONTROL.test(v), 'may not contain a backslash or control characters')
  .refine(
    (v) => v.split('=').length <= 3 && v.split('=').every((g) => g.split('^').length <= 5 && g.length <= 64),
    'person name: at most 5 components (Family^Given^Middle^Prefix^Suffix) of 64 characters per group',
  );

function validDate(v: string): boolean {
  if (!/^\d{8}$/.test(v)) return false;
  const y = Number(v.slice(0, 4)),
    m = Number(v.slice(4, 6)),
    d = Number(v.slice(6, 8));
  const dt = new Date(Date.UTC(y, m - 1, d));
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === m - 1 && dt.getUTCDate() === d;
}
const da = z.string().refine(validDate, 'must be a date YYYYMMDD');
const tm = z.string().regex(/^([01]\d|2[0-3])([0-5]\d([0-5]\d(\.\d{1,6})?)?)?$/, 'must be a time HHMM, HHMMSS or HHMMSS.FFFFFF');
const cs = z.string().regex(/^[A-Z0-9_ ]{1,16}$/, 'must be 1-16 upper-case letters, digits, spaces or underscores');
const uid = z.string().refine(isValidUid, 'must be a UID (digits and dots, at most 64 characters)');

const fields = {
  patientId: lo.min(1, 'patient ID is required'),
  patientName: pn.refine((v) => v.trim() !== '', 'patient name is required'),
  patientBirthDate: da.optional(),
  patientSex: z.enum(['M', 'F', 'O'], { error: 'must be M, F or O' }).optional(),
  accessionNumber: sh.optional(),
  requestedProcedureId: sh.optional(),
  requestedProcedureDescription: lo.optional(),
  referringPhysicianName: pn.optional(),
  studyInstanceUid: uid.optional(),
  /** Scheduled Procedure Step ID (0040,0009): the entry's identity; generated when absent. */
  spsId: sh.min(1, 'must not be empty').optional(),
  modality: cs,
  stationAeTitle: aeTitleSchema.optional(),
  stationName: sh.optional(),
  startDate: da,
  startTime: tm.optional(),
  performingPhysicianName: pn.optional(),
  spsDescription: lo.optional(),
  location: sh.optional(),
  status: z.enum(SPS_STATUSES, { error: `must be one of ${SPS_STATUSES.join(', ')}` }).default('SCHEDULED'),
};

export const worklistEntrySchema = z.strictObject(fields);
/** A change: any field but the step's ID; null removes an optional field. */
export const worklistPatchSchema = z.strictObject(
  Object.fromEntries(
    Object.entries(fields)
      .filter(([k]) => k !== 'spsId')
      .map(([k, s]) => [k, (s as z.ZodType).nullable().optional()]),
  ),
);

export type WorklistEntryInput = z.input<typeof worklistEntrySchema>;
export interface WorklistEntry extends Omit<z.output<typeof worklistEntrySchema>, 'spsId' | 'studyInstanceUid'> {
  spsId: string;
  studyInstanceUid: string;
  createdAt: string;
  updatedAt: string;
}

const newSpsId = (): string => `SPS${randomBytes(6).toString('hex').toUpperCase()}`;

function rowToEntry(r: Record<string, unknown>): WorklistEntry {
  const entry = JSON.parse(String(r.entry)) as WorklistEntry;
  return { ...entry, spsId: String(r.sps_id), status: String(r.status) as SpsStatus, createdAt: String(r.created_at), updatedAt: String(r.updated_at) };
}

const COLUMNS = 'sps_id, status, entry, created_at, updated_at';

export interface WorklistFilter {
  /** Only these statuses (default: every one). */
  statuses?: readonly SpsStatus[];
  /** Scheduled start date range, inclusive (YYYYMMDD). */
  fromDate?: string;
  toDate?: string;
  modality?: string;
  stationAeTitle?: string;
}

function notFound(spsId: string): WorklistEntryError {
  const message = `no worklist entry with Scheduled Procedure Step ID "${spsId}"`;
  return new WorklistEntryError('not-found', [{ field: 'spsId', message }], message);
}

/** The value parsed by `schema`, or WorklistEntryError naming each field that failed. */
function parseEntry<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new WorklistEntryError('invalid', issuesOf(r.error));
  return r.data;
}

export class WorklistStore {
  private constructor(private readonly index: SqlIndex) {}

  static async open(index: Index): Promise<WorklistStore> {
    await ensureWorkflowSchema(index);
    return new WorklistStore(sqlIndex(index));
  }

  async add(input: unknown): Promise<WorklistEntry> {
    const e = parseEntry(worklistEntrySchema, input);
    const now = nowIso();
    const entry: WorklistEntry = { ...e, spsId: e.spsId ?? newSpsId(), studyInstanceUid: e.studyInstanceUid ?? newUid(), createdAt: now, updatedAt: now };
    return this.index.write(async (tx) => {
      if ((await tx.execute('SELECT 1 AS x FROM worklist WHERE sps_id = $1', [entry.spsId])).length > 0) {
        throw new WorklistEntryError('invalid', [{ field: 'spsId', message: `Scheduled Procedure Step ID "${entry.spsId}" already exists` }]);
      }
      await this.writeRow(tx, entry, true);
      return entry;
    });
  }

  async get(spsId: string): Promise<WorklistEntry | undefined> {
    const rows = await this.index.read((tx) => tx.select(`SELECT ${COLUMNS} FROM worklist WHERE sps_id = $1`, [spsId]));
    return rows.length ? rowToEntry(rows[0]) : undefined;
  }

  /** Entries ordered by scheduled start, the filter applied in SQL. */
  list(filter: WorklistFilter = {}): Promise<WorklistEntry[]> {
    return this.index.read((tx) => listIn(tx, filter));
  }

  /** Scheduled steps created at or after `iso` (ISO 8601, UTC), oldest first, at most `limit`: what a poller has not seen yet. */
  scheduledSince(iso: string, limit = 100): Promise<WorklistEntry[]> {
    return this.index
      .read((tx) =>
        tx.select(`SELECT ${COLUMNS} FROM worklist WHERE created_at >= $1 AND status = 'SCHEDULED' ORDER BY created_at, sps_id LIMIT $2`, [iso, limit]),
      )
      .then((rows) => rows.map(rowToEntry));
  }

  /**
   * The same entries in pages of at most `pageSize`, each page its own read transaction
   * (a worklist query holds one page in memory, and lets other work run between pages).
   * Ordered by start date, start time (none before any), SPS ID.
   */
  async *pages(filter: WorklistFilter = {}, pageSize = 500): AsyncGenerator<WorklistEntry[]> {
    let after: Keyset | undefined;
    for (;;) {
      const page = await this.index.read((tx) => listIn(tx, filter, { after, limit: pageSize }));
      if (page.length) yield page;
      if (page.length < pageSize) return;
      const last = page[page.length - 1];
      after = [last.startDate, last.startTime ?? '', last.spsId];
    }
  }

  /** Applies a patch (validated as a whole entry afterwards). */
  async change(spsId: string, patch: unknown): Promise<WorklistEntry> {
    const p = parseEntry(worklistPatchSchema, patch) as Record<string, unknown>;
    return this.index.write(async (tx) => {
      const rows = await tx.execute(`SELECT ${COLUMNS} FROM worklist WHERE sps_id = $1`, [spsId]);
      if (!rows.length) throw notFound(spsId);
      const old = rowToEntry(rows[0]);
      const { createdAt, updatedAt: _u, ...rest } = old;
      const merged: Record<string, unknown> = { ...rest, ...p };
      for (const [k, v] of Object.entries(merged)) if (v === null) delete merged[k];
      const e = parseEntry(worklistEntrySchema, merged);
      const entry: WorklistEntry = { ...e, spsId, studyInstanceUid: e.studyInstanceUid ?? old.studyInstanceUid, createdAt, updatedAt: nowIso() };
      await this.writeRow(tx, entry, false);
      return entry;
    });
  }

  /** Cancels a step (status CANCELED); `purge` removes the row instead. */
  async cancel(spsId: string, purge = false): Promise<void> {
    await this.index.write(async (tx) => {
      const rows = purge
        ? await tx.execute('DELETE FROM worklist WHERE sps_id = $1 RETURNING sps_id', [spsId])
        : await tx.execute(`UPDATE worklist SET status = 'CANCELED', updated_at = $2 WHERE sps_id = $1 RETURNING sps_id`, [spsId, nowIso()]);
      if (!rows.length) throw notFound(spsId);
    });
  }

  private async writeRow(tx: SqlWriter, e: WorklistEntry, insert: boolean): Promise<void> {
    const { createdAt: _c, updatedAt: _u, status: _s, ...stored } = e;
    const values = [
      e.spsId,
      e.status,
      e.patientId,
      e.patientName,
      e.accessionNumber ?? null,
      e.requestedProcedureId ?? null,
      e.studyInstanceUid,
      e.modality,
      e.stationAeTitle ?? null,
      e.startDate,
      e.startTime ?? null,
      JSON.stringify(stored),
      e.createdAt,
      e.updatedAt,
    ];
    if (insert) {
      await tx.execute(
        `INSERT INTO worklist (sps_id, status, patient_id, patient_name, accession_number, requested_procedure_id,
          study_instance_uid, modality, station_ae, start_date, start_time, entry, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
        values,
      );
    } else {
      await tx.execute(
        `UPDATE worklist SET status = $2, patient_id = $3, patient_name = $4, accession_number = $5,
          requested_procedure_id = $6, study_instance_uid = $7, modality = $8, station_ae = $9, start_date = $10, start_time = $11,
          entry = $12, created_at = $13, updated_at = $14 WHERE sps_id = $1`,
        values,
      );
    }
  }
}

/** Where a page of `pages` starts: after this (start date, start time or '', SPS ID). */
type Keyset = [string, string, string];

async function listIn(tx: SqlReader, f: WorklistFilter, page?: { after?: Keyset; limit: number }): Promise<WorklistEntry[]> {
  const where: string[] = [];
  const params: (string | number)[] = [];
  const add = (sql: string, v: string) => {
    params.push(v);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (f.statuses) {
    if (f.statuses.length === 0) return [];
    const marks = f.statuses.map((s) => (params.push(s), `$${params.length}`));
    where.push(`status IN (${marks.join(', ')})`);
  }
  if (f.fromDate) add('start_date >= ?', f.fromDate);
  if (f.toDate) add('start_date <= ?', f.toDate);
  if (f.modality) add('modality = ?', f.modality);
  if (f.stationAeTitle) add('station_ae = ?', f.stationAeTitle);
  let order = 'start_date, start_time, sps_id';
  let limit = '';
  if (page) {
    // Keyset pagination needs a total order without NULLs (SQLite and PostgreSQL sort them differently).
    order = `start_date, COALESCE(start_time, ''), sps_id`;
    if (page.after) {
      params.push(...page.after);
      const n = params.length;
      where.push(`(start_date, COALESCE(start_time, ''), sps_id) > ($${n - 2}, $${n - 1}, $${n})`);
    }
    params.push(page.limit);
    limit = ` LIMIT $${params.length}`;
  }
  const sql = `SELECT ${COLUMNS} FROM worklist${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
    ORDER BY ${order}${limit}`;
  return (await tx.select(sql, params)).map(rowToEntry);
}

/**
 * Sets the status of the steps a performed procedure step references, inside the
 * caller's transaction (MPPS N-CREATE / N-SET). Returns the IDs found.
 */
export async function setWorklistStatus(tx: SqlWriter, spsIds: readonly string[], status: SpsStatus): Promise<string[]> {
  const found: string[] = [];
  for (const id of new Set(spsIds)) {
    const rows = await tx.execute('UPDATE worklist SET status = $2, updated_at = $3 WHERE sps_id = $1 RETURNING sps_id', [id, status, nowIso()]);
    if (rows.length) found.push(id);
  }
  return found;
}
