/**
 * Queries over the index, streamed: C-FIND matches (query-sql.ts plans the SQL
 * pre-filter, the matching functions of src/dicom decide exactly) and the instances a
 * C-MOVE / C-GET selects. Both read in pages, each page its own read transaction, so
 * a query over 100,000 instances never holds more than one page in memory and never
 * blocks writers or other readers for long. Pages are sized by time and the event loop
 * runs between slices of work; a query ends with QueryLimitError past its cost limits
 * (query-budget.ts).
 */
import { jsonTarget, matchAll, overlayTarget, type MatchOptions, type MatchTarget, type QueryKey } from '../dicom/matching.js';
import type { DicomJsonObject } from '../dicom/dataset-json.js';
import { sqlIndex } from './base-index.js';
import type { Index, InstanceSummary } from './index-types.js';
import { PageSizer, QueryBudget, type QueryCost } from './query-budget.js';
import { applyPatientCorrectionJson, type PatientCorrection } from './patient-identity.js';
import type { SqlRow } from './sql-types.js';
import { planQuery, RETRIEVE_FROM, retrieveWhere, type QueryLevel, type RetrieveSelection } from './query-sql.js';

export { QueryBudget, QueryLimitError, type QueryCost } from './query-budget.js';
export { knownAttributeLevel, levelDepth, QUERY_LEVELS, type QueryLevel, type RetrieveSelection } from './query-sql.js';

export interface QueryOptions extends MatchOptions {
  /** Most rows per page (default 1000; fewer when pages take long). */
  pageSize?: number;
  /** Limits on rows examined and seconds of work (default none); past one, QueryLimitError. */
  cost?: QueryCost;
  /** Or an accounting shared with the caller (what it has examined counts too); overrides `cost`. */
  budget?: QueryBudget;
  /** Stops the iteration (C-CANCEL) before the next page or row. */
  signal?: AbortSignal;
  /** Select the representative instance's JSON even when no key needs it (QIDO includefield). */
  withJson?: boolean;
}

export interface QueryMatch {
  /** Values of the entity: index columns and computed attributes first, then its representative instance's JSON. */
  target: MatchTarget;
  /** The representative instance's DICOM JSON, when the query needed it (or `withJson` asked for it). */
  json?: DicomJsonObject;
}

const EMPTY: MatchTarget = { values: () => undefined, items: () => undefined };

/**
 * Streams the entities at `level` that match every key. Keys with universal matching
 * only say what to return; they are selected too, so `target` can answer them.
 */
export async function* queryIndex(index: Index, level: QueryLevel, keys: readonly QueryKey[], opts: QueryOptions = {}): AsyncGenerator<QueryMatch> {
  const db = sqlIndex(index);
  const plan = planQuery(level, keys, db.dialect, opts);
  const wantJson = plan.withJson;
  const filters = keys.filter((k) => k.matcher.kind !== 'universal');
  const budget = opts.budget ?? new QueryBudget(opts.cost);
  const pages = new PageSizer(opts.pageSize ?? 1000);
  const params = [...plan.params];
  const n = params.length;
  // Rows stored after the query started are not looked at: the pages end here.
  const last = Number((await db.read((tx) => tx.select(plan.maxPkSql, [])))[0]?.m ?? 0);
  let after = 0;
  while (after < last) {
    if (opts.signal?.aborted) return;
    if (budget.due()) await budget.pause();
    const upto = Math.min(after + pages.span, last);
    const limit = pages.limit;
    params[n - 3] = after;
    params[n - 2] = upto;
    params[n - 1] = limit;
    const started = performance.now();
    const rows = await db.read((tx) => tx.select(plan.sql, params));
    pages.update(performance.now() - started, rows.length);
    for (const row of rows) {
      if (opts.signal?.aborted) return;
      if (budget.due()) await budget.pause();
      budget.examine(1);
      const overlay = new Map<number, string[]>();
      for (const c of plan.columns) {
        const v = row[c.alias];
        if (v === null || v === undefined) continue;
        const s = String(v);
        overlay.set(c.tag, c.multi ? s.split('\\') : [s]);
      }
      const json = wantJson && row.json ? (JSON.parse(String(row.json)) as DicomJsonObject) : undefined;
      const target = overlayTarget(overlay, json ? jsonTarget(json) : EMPTY);
      if (matchAll(filters, target, opts)) {
        budget.suspend();
        yield json ? { target, json } : { target };
        budget.resume();
      }
    }
    budget.checkTime();
    // A full page may have stopped before the end of its range: go on from its last row.
    after = rows.length >= limit ? Number(rows[rows.length - 1].pk) : upto;
  }
}

/**
 * Number of instances a retrieve selects, and the (SOP class, transfer syntax) pairs among
 * them. Counted page by page, letting the event loop run between pages: a retrieve of a
 * patient with a million instances is one statement of seconds otherwise.
 */
export async function describeRetrieve(
  index: Index,
  sel: RetrieveSelection,
  opts: { pageSize?: number } = {},
): Promise<{ count: number; pairs: { sopClassUid: string; transferSyntaxUid: string }[] }> {
  const db = sqlIndex(index);
  const { where, params } = retrieveWhere(sel);
  const pageSize = opts.pageSize ?? 5000;
  const sql = `SELECT i.pk, i.sop_class_uid, i.transfer_syntax_uid ${RETRIEVE_FROM}
    WHERE ${where} AND i.pk > $${params.length + 1} ORDER BY i.pk LIMIT $${params.length + 2}`;
  const budget = new QueryBudget();
  const pairs = new Map<string, { sopClassUid: string; transferSyntaxUid: string }>();
  let count = 0;
  let after = 0;
  for (;;) {
    if (budget.due()) await budget.pause();
    const rows = await db.read((tx) => tx.select(sql, [...params, after, pageSize]));
    count += rows.length;
    for (const r of rows) {
      const p = { sopClassUid: String(r.sop_class_uid), transferSyntaxUid: String(r.transfer_syntax_uid) };
      pairs.set(`${p.sopClassUid}\u0000${p.transferSyntaxUid}`, p);
    }
    if (rows.length < pageSize) break;
    after = Number(rows[rows.length - 1].pk);
  }
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return { count, pairs: [...pairs.values()].sort((a, b) => cmp(a.sopClassUid, b.sopClassUid) || cmp(a.transferSyntaxUid, b.transferSyntaxUid)) };
}

/** The patients and studies a selection touches, with instance counts per SOP class: what an audit message names. */
export interface RetrieveSubjects {
  patients: { id: string; name?: string }[];
  studies: { studyInstanceUid: string; accessionNumbers: string[]; sopClasses: { uid: string; count: number }[] }[];
}

/**
 * The subjects of a retrieve, deletion or export, for its audit messages: one grouped
 * statement, at most `maxGroups` (study, SOP class) rows (a patient-level retrieve of a
 * huge record names its first studies, not all of them).
 */
export async function describeSubjects(index: Index, sel: RetrieveSelection, opts: { maxGroups?: number } = {}): Promise<RetrieveSubjects> {
  const db = sqlIndex(index);
  const { where, params } = retrieveWhere(sel);
  const sql = `SELECT st.study_instance_uid, st.accession_number, p.patient_id, p.patient_name, i.sop_class_uid, COUNT(*) AS n ${RETRIEVE_FROM}
    WHERE ${where} GROUP BY st.study_instance_uid, st.accession_number, p.patient_id, p.patient_name, i.sop_class_uid
    ORDER BY st.study_instance_uid, i.sop_class_uid LIMIT $${params.length + 1}`;
  const rows = await db.read((tx) => tx.select(sql, [...params, opts.maxGroups ?? 1000]));
  const patients = new Map<string, { id: string; name?: string }>();
  const studies = new Map<string, RetrieveSubjects['studies'][number]>();
  for (const r of rows) {
    const id = String(r.patient_id);
    if (!patients.has(id)) patients.set(id, r.patient_name ? { id, name: String(r.patient_name) } : { id });
    const uid = String(r.study_instance_uid);
    let study = studies.get(uid);
    if (!study) studies.set(uid, (study = { studyInstanceUid: uid, accessionNumbers: r.accession_number ? [String(r.accession_number)] : [], sopClasses: [] }));
    study.sopClasses.push({ uid: String(r.sop_class_uid), count: Number(r.n) });
  }
  return { patients: [...patients.values()], studies: [...studies.values()] };
}

/** The study's patient module, selected beside each instance a retrieve reads: set on a corrected study only. */
const CORRECTION_COLUMNS = `st.patient_corrected AS c_at, p.patient_id AS c_id, p.issuer AS c_issuer, st.patient_name AS c_name,
  st.patient_birth_date AS c_birth, st.patient_sex AS c_sex`;

function correctionOf(r: SqlRow): { patientCorrection?: PatientCorrection } {
  if (r.c_at === null || r.c_at === undefined) return {};
  const s = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return {
    patientCorrection: { patientId: String(r.c_id), issuer: String(r.c_issuer ?? ''), name: s(r.c_name), birthDate: s(r.c_birth), sex: s(r.c_sex) },
  };
}

/** An instance's stored JSON text with a study's correction applied (parsed and written again only then). */
function correctedJson(json: string, c: PatientCorrection | undefined): string {
  if (!c) return json;
  const o = JSON.parse(json) as Record<string, unknown>;
  applyPatientCorrectionJson(o, c);
  return JSON.stringify(o);
}

/** Streams the instances a retrieve selects, in storage order; an instance of a corrected study carries its patientCorrection. */
export async function* iterateRetrieve(
  index: Index,
  sel: RetrieveSelection,
  opts: { pageSize?: number; signal?: AbortSignal } = {},
): AsyncGenerator<InstanceSummary> {
  const db = sqlIndex(index);
  const { where, params } = retrieveWhere(sel);
  const pageSize = opts.pageSize ?? 500;
  const a = `$${params.length + 1}`;
  const l = `$${params.length + 2}`;
  const sql = `SELECT i.pk, i.sop_instance_uid, i.sop_class_uid, se.series_instance_uid, st.study_instance_uid,
      i.instance_number, i.transfer_syntax_uid, i.file_key, i.file_size, i.received_at, i.calling_ae, i.called_ae,
      ${CORRECTION_COLUMNS}
    ${RETRIEVE_FROM} WHERE ${where} AND i.pk > ${a} ORDER BY i.pk LIMIT ${l}`;
  const budget = new QueryBudget();
  let after = 0;
  for (;;) {
    if (opts.signal?.aborted) return;
    if (budget.due()) await budget.pause();
    const rows = await db.read((tx) => tx.select(sql, [...params, after, pageSize]));
    for (const r of rows) {
      yield {
        sopInstanceUid: String(r.sop_instance_uid),
        sopClassUid: String(r.sop_class_uid),
        seriesInstanceUid: String(r.series_instance_uid),
        studyInstanceUid: String(r.study_instance_uid),
        instanceNumber: r.instance_number === null ? null : Number(r.instance_number),
        transferSyntaxUid: String(r.transfer_syntax_uid),
        fileKey: String(r.file_key),
        fileSize: Number(r.file_size),
        receivedAt: String(r.received_at),
        callingAeTitle: String(r.calling_ae),
        calledAeTitle: r.called_ae === null ? null : String(r.called_ae),
        ...correctionOf(r),
      };
    }
    if (rows.length < pageSize) return;
    after = Number(rows[rows.length - 1].pk);
  }
}

/** One instance's stored DICOM JSON text and what a WADO-RS metadata response adds to it. */
export interface InstanceJsonRow {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  /** The index's JSON text, as stored (not parsed). */
  json: string;
}

/** Streams the stored JSON text of the instances a selection holds, in storage order, page by page. */
export async function* iterateInstanceJson(
  index: Index,
  sel: RetrieveSelection,
  opts: { pageSize?: number; signal?: AbortSignal } = {},
): AsyncGenerator<InstanceJsonRow[]> {
  const db = sqlIndex(index);
  const { where, params } = retrieveWhere(sel);
  const pageSize = opts.pageSize ?? 500;
  // The page's keys are chosen from the indexes alone, then only those rows' JSON is read:
  // sorting whole rows (ORDER BY over the join) would read, and spill to a temporary
  // file, the JSON of every remaining instance of the selection for each page.
  const sql = `SELECT i.pk, st.study_instance_uid, se.series_instance_uid, i.sop_instance_uid, i.transfer_syntax_uid, i.json,
      ${CORRECTION_COLUMNS}
    ${RETRIEVE_FROM} WHERE i.pk IN (
      SELECT i.pk ${RETRIEVE_FROM} WHERE ${where} AND i.pk > $${params.length + 1} ORDER BY i.pk LIMIT $${params.length + 2})
    ORDER BY i.pk`;
  let after = 0;
  for (;;) {
    if (opts.signal?.aborted) return;
    const rows = await db.read((tx) => tx.select(sql, [...params, after, pageSize]));
    if (rows.length) {
      yield rows.map((r) => ({
        studyInstanceUid: String(r.study_instance_uid),
        seriesInstanceUid: String(r.series_instance_uid),
        sopInstanceUid: String(r.sop_instance_uid),
        transferSyntaxUid: String(r.transfer_syntax_uid),
        json: correctedJson(String(r.json), correctionOf(r).patientCorrection),
      }));
    }
    if (rows.length < pageSize) return;
    after = Number(rows[rows.length - 1].pk);
  }
}

/** The study and series of each stored instance among `sopInstanceUids` (absent ones are left out). */
export async function locateInstances(
  index: Index,
  sopInstanceUids: readonly string[],
): Promise<{ sopInstanceUid: string; studyInstanceUid: string; seriesInstanceUid: string }[]> {
  const db = sqlIndex(index);
  const out: { sopInstanceUid: string; studyInstanceUid: string; seriesInstanceUid: string }[] = [];
  for (let i = 0; i < sopInstanceUids.length; i += 500) {
    const { where, params } = retrieveWhere({ sopInstanceUids: sopInstanceUids.slice(i, i + 500) });
    const rows = await db.read((tx) =>
      tx.select(`SELECT i.sop_instance_uid, st.study_instance_uid, se.series_instance_uid ${RETRIEVE_FROM} WHERE ${where}`, params),
    );
    for (const r of rows) {
      out.push({
        sopInstanceUid: String(r.sop_instance_uid),
        studyInstanceUid: String(r.study_instance_uid),
        seriesInstanceUid: String(r.series_instance_uid),
      });
    }
  }
  return out;
}

/**
 * The study's change stamp (index-sql.ts STUDY_STAMP_COLUMNS): a token that changes in the
 * same transaction as anything its metadata says. null for a study that has none yet (made
 * by a node of an older version, until its next instance); undefined when there is no
 * such study.
 */
export async function studyChangeStamp(index: Index, studyInstanceUid: string): Promise<string | null | undefined> {
  const rows = await sqlIndex(index).read((tx) => tx.select(`SELECT change_stamp FROM studies WHERE study_instance_uid = $1`, [studyInstanceUid]));
  if (rows.length === 0) return undefined;
  const v = rows[0].change_stamp;
  return v === null || v === undefined ? null : String(v);
}
