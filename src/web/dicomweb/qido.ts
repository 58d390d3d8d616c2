/**
 * QIDO-RS (PS3.18 10.6): searches for studies, series and instances, answered as DICOM
 * JSON. Matching is the archive's C-FIND query (one SQL pre-filter per page, then the
 * same matching functions as C-FIND), so QIDO and C-FIND agree on every key. Results come
 * in storage order (stable between calls), `offset` skipped and `limit` taken from that
 * order; no match is 200 with [] (what dicomweb-client and OHIF handle best).
 *
 * Returned attributes (PS3.18 Tables 10.6.3-3..5): the level's defaults, the matching
 * keys, `includefield`s, RetrieveURL; a search of all series or instances (no study in
 * the path) also returns the study's defaults, one of all instances also the series'.
 * Index columns and computed attributes (counts, ModalitiesInStudy) come from SQL, the
 * rest from the entity's first stored instance.
 *
 * Limits (`limits.query`) and streaming: without `limit` a search returns at most
 * qidoDefaultLimit results, and never more than qidoMaxLimit; when the server's limit cut
 * the answer, a Warning says so (PS3.18 8.3.4.4: "The number of results exceeded the
 * maximum supported by the server. Additional results can be requested."). The JSON array
 * is written as results come, never built whole; the status and headers are decided once
 * the first PREFLIGHT_BYTES of it are ready or the search has ended, whichever is first.
 * A search past maxRowsExamined or maxSeconds answers what it found with a Warning (a
 * partial answer is still useful and the client can narrow or page), or 413 when it found
 * nothing (PS3.18: the search was too broad). Past a limit after the headers went out, the
 * response is cut off (no closing bracket, no final chunk): a client cannot take it for
 * a complete answer; the server logs why.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import type { Archive } from '../../archive/archive.js';
import { knownAttributeLevel, levelDepth, queryIndex, QueryLimitError, type QueryLevel, type QueryMatch } from '../../archive/query.js';
import type { QueryLimits } from '../../config/limits.js';
import type { DicomJsonAttribute, DicomJsonObject } from '../../dicom/dataset-json.js';
import { lookupTag } from '../../dicom/dictionary.js';
import type { QueryKey } from '../../dicom/matching.js';
import { tagToHex } from '../../dicom/tag.js';
import { checkUid, DicomwebError } from './errors.js';
import { negotiateDicomJson } from './media-types.js';
import { parseQido, type QidoQuery } from './qido-params.js';
import type { AuditRecorder } from '../../audit/index.js';
import { STUDY_ROOT_FIND, webActor } from '../audit-actor.js';

const T = {
  StudyInstanceUID: 0x0020000d,
  SeriesInstanceUID: 0x0020000e,
  SOPInstanceUID: 0x00080018,
  RetrieveURL: 0x00081190,
} as const;

const STUDY_DEFAULTS = [
  0x00080020, 0x00080030, 0x00080050, 0x00080056, 0x00080061, 0x00080090, 0x00081030, 0x00100010, 0x00100020, 0x00100030, 0x00100040, 0x0020000d, 0x00200010,
  0x00201206, 0x00201208,
];
const SERIES_DEFAULTS = [0x00080060, 0x00080201, 0x0008103e, 0x00180015, 0x0020000d, 0x0020000e, 0x00200011, 0x00201209, 0x00400244, 0x00400245, 0x00400275];
const INSTANCE_DEFAULTS = [0x00080016, 0x00080018, 0x00080056, 0x00080201, 0x0020000d, 0x0020000e, 0x00200013, 0x00280008, 0x00280010, 0x00280011, 0x00280100];

/** With includefield=all at study or series level: the first instance's attributes of these modules (groups 0010 also). */
const STUDY_MODULE = new Set([
  0x00080020, 0x00080030, 0x00080050, 0x00080051, 0x00080090, 0x00080096, 0x00080201, 0x00081030, 0x00081032, 0x00081048, 0x00081049, 0x00081060, 0x00081062,
  0x00081080, 0x00081084, 0x00081110, 0x0020000d, 0x00200010, 0x00321033, 0x00321060, 0x00321064, 0x00401012,
]);
const SERIES_MODULE = new Set([
  0x00080021, 0x00080031, 0x00080060, 0x00080070, 0x00080080, 0x00081010, 0x0008103e, 0x00081040, 0x00081050, 0x00081070, 0x00081090, 0x00081111, 0x00180015,
  0x00181030, 0x00185100, 0x0020000e, 0x00200011, 0x00200052, 0x00200060, 0x00400244, 0x00400245, 0x00400253, 0x00400254, 0x00400260, 0x00400275,
]);

export interface QidoContext {
  archive: () => Archive;
  /** Absolute base URL of this DICOMweb service for a request (for RetrieveURL). */
  baseUrl: (req: FastifyRequest) => string;
  /** The limits in force (limits.query), read per request; absent fields = no limit. */
  queryLimits?: () => Partial<QueryLimits> | undefined;
  /** The audit trail (IHE ATNA: Query) and the AE title the searched archive is audited as. */
  audit?: AuditRecorder;
  auditAs?: () => string;
}

/** JSON buffered before the status and headers are chosen (see the top). */
export const PREFLIGHT_BYTES = 1 << 20;

const WARN_AGENT = '299 open-pacs';
const MORE_RESULTS = 'The number of results exceeded the maximum supported by the server. Additional results can be requested.';
const FUZZY = 'The fuzzymatching parameter is not supported. Only literal matching has been performed.';

/** A Warning header value (RFC 7234 5.5): agent and quoted text (our own ASCII texts; JSON.stringify quotes them as HTTP does). */
const warning = (text: string): string => `${WARN_AGENT} ${JSON.stringify(text)}`;

function limitText(err: QueryLimitError): string {
  return err.limit === 'rows'
    ? `The query was stopped after examining more than ${err.value} rows (limits.query.maxRowsExamined)`
    : `The query was stopped after ${err.value} s of work (limits.query.maxSeconds)`;
}

/** The tags a search returns: defaults of its level (and those above when the path does not fix them), keys, includefields. */
function returnTags(q: QidoQuery, wide: { study: boolean; series: boolean }): number[] {
  const tags = new Set<number>();
  const add = (l: readonly number[]) => l.forEach((t) => tags.add(t));
  if (q.level === 'STUDY' || wide.study) add(STUDY_DEFAULTS);
  if (q.level === 'SERIES' || wide.series) add(SERIES_DEFAULTS);
  if (q.level === 'IMAGE') add(INSTANCE_DEFAULTS);
  for (const k of q.keys) tags.add(k.tag);
  if (q.include !== 'all') q.include.forEach((t) => tags.add(t));
  tags.add(T.StudyInstanceUID);
  if (q.level !== 'STUDY') tags.add(T.SeriesInstanceUID);
  return [...tags].sort((a, b) => a - b);
}

/** A column or computed attribute at or above the level: its value comes from SQL. */
const fromIndex = (tag: number, level: QueryLevel): boolean => {
  const at = knownAttributeLevel(tag);
  return at !== undefined && levelDepth(at) <= levelDepth(level);
};

/** Index values (trimmed strings) as a DICOM JSON attribute of the tag's dictionary VR. */
function indexAttribute(tag: number, values: readonly string[] | undefined): DicomJsonAttribute {
  const vr = lookupTag(tag)?.vr ?? 'UN';
  const present = (values ?? []).filter((v) => v !== '');
  if (present.length === 0) return { vr };
  if (vr === 'PN') {
    return {
      vr,
      Value: present.map((v) => {
        const [a, i, p] = v.split('=');
        return { ...(a ? { Alphabetic: a } : {}), ...(i ? { Ideographic: i } : {}), ...(p ? { Phonetic: p } : {}) };
      }),
    };
  }
  if (vr === 'IS' || vr === 'DS' || vr === 'US' || vr === 'UL' || vr === 'SS' || vr === 'SL') {
    return { vr, Value: present.map((v) => (Number.isFinite(Number(v)) ? Number(v) : v)) };
  }
  return { vr, Value: [...present] };
}

/** One result as DICOM JSON (keys in tag order). */
function render(m: QueryMatch, q: QidoQuery, tags: readonly number[], retrieveUrl: (m: QueryMatch) => string): DicomJsonObject {
  const out: DicomJsonObject = {};
  const json = m.json;
  if (q.include === 'all' && json) {
    for (const [hex, attr] of Object.entries(json)) {
      const tag = parseInt(hex, 16) >>> 0;
      const ok = q.level === 'IMAGE' || tag >>> 16 === 0x0010 || STUDY_MODULE.has(tag) || (q.level === 'SERIES' && SERIES_MODULE.has(tag));
      if (ok) out[hex] = attr;
    }
  }
  for (const tag of tags) {
    const hex = tagToHex(tag);
    if (fromIndex(tag, q.level)) out[hex] = indexAttribute(tag, m.target.values(tag));
    else if (json?.[hex]) out[hex] = json[hex];
  }
  out[tagToHex(T.RetrieveURL)] = { vr: 'UR', Value: [retrieveUrl(m)] };
  const sorted: DicomJsonObject = {};
  for (const k of Object.keys(out).sort()) sorted[k] = out[k];
  return sorted;
}

const uidKey = (tag: number, uid: string): QueryKey => ({ tag, vr: 'UI', matcher: { kind: 'single', values: [uid] } });

type Params = { study?: string; series?: string };

export function registerQido(scope: FastifyInstance, ctx: QidoContext): void {
  const search = (level: QueryLevel) => async (req: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
    const type = negotiateDicomJson(req.headers.accept);
    const fixed: QueryKey[] = [];
    if (req.params.study !== undefined) fixed.push(uidKey(T.StudyInstanceUID, checkUid(req.params.study, 'StudyInstanceUID')));
    if (req.params.series !== undefined) fixed.push(uidKey(T.SeriesInstanceUID, checkUid(req.params.series, 'SeriesInstanceUID')));
    const q = parseQido(new URL(req.url, 'http://localhost').searchParams, level, fixed);
    ctx.audit?.record({
      kind: 'query',
      via: 'QIDO-RS',
      requestor: webActor(req),
      responder: ctx.auditAs?.() ?? 'DICOMweb',
      sopClassUid: STUDY_ROOT_FIND,
      request: Buffer.from(req.url, 'utf8'),
    });
    const tags = returnTags(q, { study: req.params.study === undefined, series: level === 'IMAGE' && req.params.series === undefined });
    const keys: QueryKey[] = [...q.keys];
    for (const tag of tags) {
      if (keys.some((k) => k.tag === tag)) continue;
      const vr = lookupTag(tag)?.vr ?? 'UN';
      keys.push(vr === 'SQ' ? { tag, vr, matcher: { kind: 'universal' }, items: [] } : { tag, vr, matcher: { kind: 'universal' } });
    }
    const base = ctx.baseUrl(req);
    const val = (m: QueryMatch, tag: number) => m.target.values(tag)?.[0] ?? '';
    const retrieveUrl = (m: QueryMatch): string => {
      const study = `${base}/studies/${val(m, T.StudyInstanceUID)}`;
      if (level === 'STUDY') return study;
      const series = `${study}/series/${val(m, T.SeriesInstanceUID)}`;
      return level === 'SERIES' ? series : `${series}/instances/${val(m, T.SOPInstanceUID)}`;
    };
    if (level === 'IMAGE' && !keys.some((k) => k.tag === T.SOPInstanceUID)) keys.push({ tag: T.SOPInstanceUID, vr: 'UI', matcher: { kind: 'universal' } });
    // The number of results: the client's limit within the server's (see the top).
    const limits = ctx.queryLimits?.() ?? {};
    const max = limits.qidoMaxLimit ?? Number.POSITIVE_INFINITY;
    const limit = Math.min(q.limit ?? limits.qidoDefaultLimit ?? max, max);
    const serverCut = q.limit === undefined || q.limit > max;
    // When the server's limit applies, one result more says whether more remain.
    const take = serverCut ? limit + 1 : limit;
    const wanted = q.offset + take;
    const pageSize = Math.max(1, Math.min(1000, Number.isFinite(wanted) ? wanted : 1000));
    const controller = new AbortController();
    // The client went away before the answer was complete: stop the query.
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) controller.abort();
    });
    const warnings = q.fuzzy ? [warning(FUZZY)] : []; // PS3.18 8.3.4.6: literal matching only

    async function* results(): AsyncGenerator<string> {
      if (take === 0) return;
      let seen = 0;
      let sent = 0;
      for await (const m of queryIndex(ctx.archive().index, level, keys, {
        caseInsensitivePersonNames: true,
        pageSize,
        signal: controller.signal,
        withJson: q.include === 'all',
        cost: { maxRowsExamined: limits.maxRowsExamined, maxSeconds: limits.maxSeconds },
      })) {
        if (++seen <= q.offset) continue;
        yield JSON.stringify(render(m, q, tags, retrieveUrl));
        if (++sent >= take) return;
      }
    }

    // The first PREFLIGHT_BYTES (or all) of the answer, before the status is chosen.
    const it = results();
    const head: string[] = [];
    let bytes = 0;
    let ended = false;
    let stopped: QueryLimitError | undefined;
    try {
      while (bytes < PREFLIGHT_BYTES) {
        const r = await it.next();
        if (r.done) {
          ended = true;
          break;
        }
        head.push(r.value);
        bytes += r.value.length;
      }
    } catch (err) {
      if (!(err instanceof QueryLimitError)) throw err;
      stopped = err;
      ended = true;
    }
    if (stopped && head.length === 0) {
      throw new DicomwebError('payload-too-large', `${limitText(stopped)} and found nothing to return: narrow the query (more keys, a study, a date range).`);
    }
    if (stopped) warnings.push(warning(`${limitText(stopped)}: the results are incomplete; narrow the query.`));
    if (ended) {
      if (head.length > limit) {
        head.length = limit;
        warnings.push(warning(MORE_RESULTS));
      }
      if (warnings.length) reply.header('warning', warnings.join(', '));
      return reply.type(type).send(`[${head.join(',')}]`);
    }
    // Streamed: the end is not known yet. The server's limit may cut the answer: say so now
    // (a Warning too many costs a client one empty page; one too few, results it never sees).
    if (serverCut) warnings.push(warning(MORE_RESULTS));
    if (warnings.length) reply.header('warning', warnings.join(', '));
    const log = req.log;
    async function* body(): AsyncGenerator<string> {
      yield `[${head.join(',')}`;
      let n = head.length;
      try {
        while (n < limit) {
          const r = await it.next();
          if (r.done) break;
          yield `,${r.value}`;
          n++;
        }
      } catch (err) {
        if (err instanceof QueryLimitError) log.warn({ url: req.url, results: n }, `QIDO-RS answer cut off: ${err.message}`);
        throw err;
      } finally {
        await it.return(undefined);
      }
      yield ']';
    }
    return reply.type(type).send(Readable.from(body(), { objectMode: false }));
  };

  scope.get('/studies', search('STUDY'));
  scope.get('/series', search('SERIES'));
  scope.get('/instances', search('IMAGE'));
  scope.get('/studies/:study/series', search('SERIES'));
  scope.get('/studies/:study/instances', search('IMAGE'));
  scope.get('/studies/:study/series/:series/instances', search('IMAGE'));
}
