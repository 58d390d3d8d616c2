/**
 * Queries over the index, streamed: C-FIND matches (query-sql.ts plans the SQL
 * pre-filter, the matching functions of src/dicom decide exactly) and the instances a
 * C-MOVE / C-GET selects. Both read in pages, each page its own read transaction, so
 * a query over 100,000 instances never holds more than one page in memory and never
 * blocks writers or other readers for long.
 */
import {
  jsonTarget, matchAll, overlayTarget, type MatchOptions, type MatchTarget, type QueryKey,
} from '../dicom/matching.js';
import type { DicomJsonObject } from '../dicom/dataset-json.js';
import type { Index, InstanceSummary } from './index-types.js';
import { planQuery, RETRIEVE_FROM, retrieveWhere, type QueryLevel, type RetrieveSelection } from './query-sql.js';

export { knownAttributeLevel, levelDepth, QUERY_LEVELS, type QueryLevel, type RetrieveSelection } from './query-sql.js';

export interface QueryOptions extends MatchOptions {
  /** Rows per page (default 1000). */
  pageSize?: number;
  /** Stops the iteration (C-CANCEL) before the next page or row. */
  signal?: AbortSignal;
}

export interface QueryMatch {
  /** Values of the entity: index columns and computed attributes first, then its representative instance's JSON. */
  target: MatchTarget;
}

const EMPTY: MatchTarget = { values: () => undefined, items: () => undefined };

/**
 * Streams the entities at `level` that match every key. Keys with universal matching
 * only say what to return; they are selected too, so `target` can answer them.
 */
export async function* queryIndex(
  index: Index,
  level: QueryLevel,
  keys: readonly QueryKey[],
  opts: QueryOptions = {},
): AsyncGenerator<QueryMatch> {
  const plan = planQuery(level, keys, index.kind, opts);
  const pageSize = opts.pageSize ?? 1000;
  const filters = keys.filter((k) => k.matcher.kind !== 'universal');
  const params = [...plan.params];
  let after = 0;
  for (;;) {
    if (opts.signal?.aborted) return;
    params[params.length - 2] = after;
    params[params.length - 1] = pageSize;
    const rows = await index.read((tx) => tx.select(plan.sql, params));
    for (const row of rows) {
      if (opts.signal?.aborted) return;
      const overlay = new Map<number, string[]>();
      for (const c of plan.columns) {
        const v = row[c.alias];
        if (v === null || v === undefined) continue;
        const s = String(v);
        overlay.set(c.tag, c.multi ? s.split('\\') : [s]);
      }
      const base = plan.withJson && row.json ? jsonTarget(JSON.parse(String(row.json)) as DicomJsonObject) : EMPTY;
      const target = overlayTarget(overlay, base);
      if (matchAll(filters, target, opts)) yield { target };
    }
    if (rows.length < pageSize) return;
    after = Number(rows[rows.length - 1].pk);
  }
}

/** Number of instances a retrieve selects, and the (SOP class, transfer syntax) pairs among them. */
export async function describeRetrieve(
  index: Index,
  sel: RetrieveSelection,
): Promise<{ count: number; pairs: { sopClassUid: string; transferSyntaxUid: string }[] }> {
  const { where, params } = retrieveWhere(sel);
  return index.read(async (tx) => {
    const n = await tx.select(`SELECT COUNT(*) AS n ${RETRIEVE_FROM} WHERE ${where}`, params);
    const pairs = await tx.select(
      `SELECT DISTINCT i.sop_class_uid, i.transfer_syntax_uid ${RETRIEVE_FROM} WHERE ${where} ORDER BY 1, 2`, params);
    return {
      count: Number(n[0].n),
      pairs: pairs.map((r) => ({ sopClassUid: String(r.sop_class_uid), transferSyntaxUid: String(r.transfer_syntax_uid) })),
    };
  });
}

/** Streams the instances a retrieve selects, in storage order. */
export async function* iterateRetrieve(
  index: Index,
  sel: RetrieveSelection,
  opts: { pageSize?: number; signal?: AbortSignal } = {},
): AsyncGenerator<InstanceSummary> {
  const { where, params } = retrieveWhere(sel);
  const pageSize = opts.pageSize ?? 500;
  const a = `$${params.length + 1}`;
  const l = `$${params.length + 2}`;
  const sql = `SELECT i.pk, i.sop_instance_uid, i.sop_class_uid, se.series_instance_uid, st.study_instance_uid,
      i.instance_number, i.transfer_syntax_uid, i.file_key, i.file_size, i.received_at, i.calling_ae, i.called_ae
    ${RETRIEVE_FROM} WHERE ${where} AND i.pk > ${a} ORDER BY i.pk LIMIT ${l}`;
  let after = 0;
  for (;;) {
    if (opts.signal?.aborted) return;
    const rows = await index.read((tx) => tx.select(sql, [...params, after, pageSize]));
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
      };
    }
    if (rows.length < pageSize) return;
    after = Number(rows[rows.length - 1].pk);
  }
}
