/**
 * QIDO-RS query parameters (PS3.18 8.3.4, 10.6.1.2) as C-FIND keys: `{attributeID}={value}`
 * by keyword or tag (`PatientName=DOE*`, `00100020=P1`, `RequestAttributesSequence.RequestedProcedureID=X`),
 * compiled by the same matcher as C-FIND (wildcards, ranges, UID lists, empty value "").
 * `includefield` (repeatable, comma lists, `all`), `fuzzymatching`, `limit`, `offset`.
 */
import { knownAttributeLevel, levelDepth, type QueryLevel } from '../../archive/query.js';
import { lookupTag } from '../../dicom/dictionary.js';
import { compileMatcher, InvalidQueryKeyError, type QueryKey } from '../../dicom/matching.js';
import { parseTag, tagKeyword } from '../../dicom/tag.js';
import type { VR } from '../../dicom/vr.js';
import { badRequest } from './errors.js';

export interface QidoQuery {
  level: QueryLevel;
  /** Matching keys (and the universal ones given without a value: they are returned). */
  keys: QueryKey[];
  /** Attributes asked for with includefield; 'all' for every one. */
  include: Set<number> | 'all';
  limit?: number;
  offset: number;
  fuzzy: boolean;
}

const LEVEL_NAME: Record<QueryLevel, string> = { PATIENT: 'patient', STUDY: 'study', SERIES: 'series', IMAGE: 'instance' };

function attribute(name: string): { tag: number; vr: VR } {
  let tag: number;
  try {
    if (!/^[0-9A-Fa-f]{8}$/.test(name) && !/^[A-Za-z][A-Za-z0-9]*$/.test(name)) throw new Error();
    tag = parseTag(name);
  } catch {
    throw badRequest(`unknown attribute "${name}" (a keyword such as PatientName, or a tag such as 00100010)`, name);
  }
  const vr = lookupTag(tag)?.vr;
  if (!vr) throw badRequest(`unknown attribute "${name}": not in the DICOM dictionary`, name);
  return { tag, vr };
}

function nonNegative(name: string, v: string): number {
  if (!/^\d{1,9}$/.test(v)) throw badRequest(`${name} must be a non-negative integer, got "${v}"`, name);
  return Number(v);
}

/** A key's values: UIDs are split at ',' or '\', other values at '\' (as in C-FIND). */
function splitValues(vr: VR, value: string): string[] {
  if (value === '') return [];
  return (vr === 'UI' ? value.split(/[,\\]/) : value.split('\\')).map((v) => v.trim());
}

function compile(tag: number, vr: VR, value: string): QueryKey {
  try {
    return { tag, vr, matcher: compileMatcher(tag, vr, splitValues(vr, value), { caseInsensitivePersonNames: true }) };
  } catch (err) {
    if (err instanceof InvalidQueryKeyError) throw badRequest(err.message, tagKeyword(tag));
    throw err;
  }
}

/**
 * Parses a query string for a search at `level`; `fixed` are the keys the path gives
 * (the study and series of `/studies/{study}/series/...`).
 */
export function parseQido(search: URLSearchParams, level: QueryLevel, fixed: QueryKey[] = []): QidoQuery {
  const keys = new Map<number, QueryKey>(fixed.map((k) => [k.tag, k]));
  const include = new Set<number>();
  let all = false;
  let limit: number | undefined;
  let offset = 0;
  let fuzzy = false;
  for (const [name, value] of search) {
    switch (name) {
      case 'includefield':
        for (const f of value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)) {
          if (f === 'all') all = true;
          else include.add(attribute(f.split('.')[0]).tag);
        }
        continue;
      case 'limit':
        // Above limits.query.qidoMaxLimit it is cut, with a Warning (qido.ts).
        limit = nonNegative('limit', value);
        continue;
      case 'offset':
        offset = nonNegative('offset', value);
        continue;
      case 'fuzzymatching':
        if (value !== 'true' && value !== 'false') throw badRequest(`fuzzymatching must be true or false, got "${value}"`, 'fuzzymatching');
        fuzzy = value === 'true';
        continue;
    }
    const path = name.split('.');
    if (path.length > 2) throw badRequest(`"${name}": only one level of sequence nesting is supported`, name);
    const top = attribute(path[0]);
    if (keys.has(top.tag) && (path.length === 1 || keys.get(top.tag)!.vr !== 'SQ')) {
      throw badRequest(`"${name}" is given more than once (several values go in one parameter, separated by "\\")`, name);
    }
    if (path.length === 2) {
      if (top.vr !== 'SQ') throw badRequest(`"${path[0]}" is not a sequence`, name);
      const sub = attribute(path[1]);
      const k = compile(sub.tag, sub.vr, value);
      const seq = keys.get(top.tag) ?? { tag: top.tag, vr: 'SQ' as VR, matcher: { kind: 'universal' as const }, items: [] };
      seq.items = [...(seq.items ?? []), k];
      const matching = seq.items.filter((x) => x.matcher.kind !== 'universal');
      seq.matcher = matching.length ? { kind: 'sequence', keys: matching } : { kind: 'universal' };
      keys.set(top.tag, seq);
      continue;
    }
    if (top.vr === 'SQ') {
      if (value !== '') throw badRequest(`"${name}" is a sequence: match on its items' attributes (${name}.Attribute=value)`, name);
      keys.set(top.tag, { tag: top.tag, vr: 'SQ', matcher: { kind: 'universal' }, items: [] });
      continue;
    }
    if (top.tag >>> 16 === 0x0002 || top.tag === 0x00080005) throw badRequest(`"${name}" cannot be queried`, name);
    const at = knownAttributeLevel(top.tag);
    if (at !== undefined && levelDepth(at) > levelDepth(level)) {
      const hint = top.tag === 0x00080060 ? ' (use ModalitiesInStudy for studies)' : '';
      throw badRequest(`"${name}" is an attribute of the ${LEVEL_NAME[at]} level; it cannot be matched in a ${LEVEL_NAME[level]} search${hint}`, name);
    }
    keys.set(top.tag, compile(top.tag, top.vr, value));
  }
  return { level, keys: [...keys.values()], include: all ? 'all' : include, limit, offset, fuzzy };
}
