/**
 * The query planner: turns compiled C-FIND keys (src/dicom/matching.ts) into one
 * parameterized SELECT per information-model level, for SQLite and PostgreSQL.
 *
 * The SQL is a *pre-filter*: for every key on an index column it selects a superset of
 * what matches (SQLite's LIKE ignores ASCII case, person names are matched with a
 * trailing '%' to cover trailing empty components and other component groups), and the
 * exact decision is made afterwards in JavaScript by the same matching functions for
 * every key. Keys on attributes that only the instance's DICOM JSON holds are matched
 * in that second step alone. Rows are read in pages by primary key ranges (keyset
 * pagination), so one statement scans a bounded part of the level's table.
 */
import type { Matcher, QueryKey } from '../dicom/matching.js';
import type { SqlDialect } from './sql-types.js';

export type QueryLevel = 'PATIENT' | 'STUDY' | 'SERIES' | 'IMAGE';
export const QUERY_LEVELS: readonly QueryLevel[] = ['PATIENT', 'STUDY', 'SERIES', 'IMAGE'];
export const levelDepth = (l: QueryLevel): number => QUERY_LEVELS.indexOf(l);

type ColumnKind = 'text' | 'pn' | 'uid' | 'date' | 'time' | 'int';
interface Column {
  level: QueryLevel;
  expr: string;
  kind: ColumnKind;
  /** At study level and below: the study's own value (patient attributes its instances carried, or a correction). */
  studyExpr?: string;
}

/** Attributes kept as index columns (index-sql.ts), by tag. */
export const COLUMNS: ReadonlyMap<number, Column> = new Map<number, Column>([
  [0x00100020, { level: 'PATIENT', expr: 'p.patient_id', kind: 'text' }],
  // '' in the column (absent) is no value.
  [0x00100021, { level: 'PATIENT', expr: "NULLIF(p.issuer, '')", kind: 'text' }],
  // Patient level: the newest; study level and below: the study's own (patient-identity.ts).
  [0x00100010, { level: 'PATIENT', expr: 'p.patient_name', kind: 'pn', studyExpr: 'st.patient_name' }],
  [0x00100030, { level: 'PATIENT', expr: 'p.patient_birth_date', kind: 'date', studyExpr: 'st.patient_birth_date' }],
  [0x00100040, { level: 'PATIENT', expr: 'p.patient_sex', kind: 'text', studyExpr: 'st.patient_sex' }],
  [0x0020000d, { level: 'STUDY', expr: 'st.study_instance_uid', kind: 'uid' }],
  [0x00080020, { level: 'STUDY', expr: 'st.study_date', kind: 'date' }],
  [0x00080030, { level: 'STUDY', expr: 'st.study_time', kind: 'time' }],
  [0x00080050, { level: 'STUDY', expr: 'st.accession_number', kind: 'text' }],
  [0x00200010, { level: 'STUDY', expr: 'st.study_id', kind: 'text' }],
  [0x00081030, { level: 'STUDY', expr: 'st.study_description', kind: 'text' }],
  [0x00080090, { level: 'STUDY', expr: 'st.referring_physician_name', kind: 'pn' }],
  [0x0020000e, { level: 'SERIES', expr: 'se.series_instance_uid', kind: 'uid' }],
  [0x00080060, { level: 'SERIES', expr: 'se.modality', kind: 'text' }],
  [0x00200011, { level: 'SERIES', expr: 'se.series_number', kind: 'int' }],
  [0x0008103e, { level: 'SERIES', expr: 'se.series_description', kind: 'text' }],
  [0x00180015, { level: 'SERIES', expr: 'se.body_part_examined', kind: 'text' }],
  [0x00080018, { level: 'IMAGE', expr: 'i.sop_instance_uid', kind: 'uid' }],
  [0x00080016, { level: 'IMAGE', expr: 'i.sop_class_uid', kind: 'uid' }],
  [0x00200013, { level: 'IMAGE', expr: 'i.instance_number', kind: 'int' }],
]);

export const Computed = {
  NumberOfPatientRelatedStudies: 0x00201200,
  NumberOfPatientRelatedSeries: 0x00201202,
  NumberOfPatientRelatedInstances: 0x00201204,
  NumberOfStudyRelatedSeries: 0x00201206,
  NumberOfStudyRelatedInstances: 0x00201208,
  NumberOfSeriesRelatedInstances: 0x00201209,
  ModalitiesInStudy: 0x00080061,
  SOPClassesInStudy: 0x00080062,
  InstanceAvailability: 0x00080056,
} as const;

const INSTANCES_OF_STUDY = 'FROM instances i2 JOIN series s2 ON s2.pk = i2.series_fk WHERE s2.study_fk = st.pk';
const INSTANCES_OF_PATIENT = `FROM instances i2 JOIN series s2 ON s2.pk = i2.series_fk JOIN studies t2 ON t2.pk = s2.study_fk
  WHERE t2.patient_fk = p.pk`;

/** Computed attributes: the level they belong to and their SQL (a scalar subquery or column). */
function computedSql(tag: number, dialect: Pick<SqlDialect, 'distinctList'>): { level: QueryLevel; expr: string } | undefined {
  const agg = (col: string, from: string) => dialect.distinctList(col, from);
  switch (tag) {
    case Computed.NumberOfPatientRelatedStudies:
      return { level: 'PATIENT', expr: '(SELECT COUNT(*) FROM studies t2 WHERE t2.patient_fk = p.pk)' };
    case Computed.NumberOfPatientRelatedSeries:
      return { level: 'PATIENT', expr: '(SELECT COUNT(*) FROM series s2 JOIN studies t2 ON t2.pk = s2.study_fk WHERE t2.patient_fk = p.pk)' };
    case Computed.NumberOfPatientRelatedInstances:
      return { level: 'PATIENT', expr: `(SELECT COUNT(*) ${INSTANCES_OF_PATIENT})` };
    case Computed.NumberOfStudyRelatedSeries:
      return { level: 'STUDY', expr: '(SELECT COUNT(*) FROM series s2 WHERE s2.study_fk = st.pk)' };
    case Computed.NumberOfStudyRelatedInstances:
      return { level: 'STUDY', expr: `(SELECT COUNT(*) ${INSTANCES_OF_STUDY})` };
    case Computed.NumberOfSeriesRelatedInstances:
      return { level: 'SERIES', expr: '(SELECT COUNT(*) FROM instances i2 WHERE i2.series_fk = se.pk)' };
    case Computed.ModalitiesInStudy:
      return { level: 'STUDY', expr: 'st.modalities_in_study' };
    case Computed.SOPClassesInStudy:
      return { level: 'STUDY', expr: agg('i2.sop_class_uid', INSTANCES_OF_STUDY) };
    case Computed.InstanceAvailability:
      return { level: 'PATIENT', expr: `'ONLINE'` };
    default:
      return undefined;
  }
}

/** The level an attribute belongs to, for the attributes the index knows as columns or computes. */
export function knownAttributeLevel(tag: number): QueryLevel | undefined {
  return COLUMNS.get(tag)?.level ?? computedSql(tag, LEVEL_ONLY)?.level;
}

/** For asking computedSql the level alone: no SQL is built from it. */
const LEVEL_ONLY: Pick<SqlDialect, 'distinctList'> = { distinctList: () => '' };

const FROM: Record<QueryLevel, string> = {
  PATIENT: 'FROM patients p',
  STUDY: 'FROM studies st JOIN patients p ON p.pk = st.patient_fk',
  SERIES: 'FROM series se JOIN studies st ON st.pk = se.study_fk JOIN patients p ON p.pk = st.patient_fk',
  IMAGE: `FROM instances i JOIN series se ON se.pk = i.series_fk JOIN studies st ON st.pk = se.study_fk
    JOIN patients p ON p.pk = st.patient_fk`,
};
const PK: Record<QueryLevel, string> = { PATIENT: 'p.pk', STUDY: 'st.pk', SERIES: 'se.pk', IMAGE: 'i.pk' };
const TABLE: Record<QueryLevel, string> = { PATIENT: 'patients', STUDY: 'studies', SERIES: 'series', IMAGE: 'instances' };

/** The JSON of one instance standing for the entity (its first stored instance). */
const REPRESENTATIVE_JSON: Record<QueryLevel, string> = {
  PATIENT: `(SELECT i2.json ${INSTANCES_OF_PATIENT} ORDER BY i2.pk LIMIT 1)`,
  STUDY: `(SELECT i2.json ${INSTANCES_OF_STUDY} ORDER BY i2.pk LIMIT 1)`,
  SERIES: '(SELECT i2.json FROM instances i2 WHERE i2.series_fk = se.pk ORDER BY i2.pk LIMIT 1)',
  IMAGE: 'i.json',
};

export interface PlannedQuery {
  /**
   * SELECT ... with $1..$n placeholders; the last three parameters are the page's primary-key
   * range (start exclusive, end inclusive) and its row limit.
   */
  sql: string;
  /** SELECT MAX(pk) AS m of the level's table: where the pages end. */
  maxPkSql: string;
  params: (string | number)[];
  /** Result column aliases -> tag, for the values of column and computed attributes. */
  columns: { alias: string; tag: number; multi: boolean }[];
  /** The rows carry a `json` column. */
  withJson: boolean;
}

const NON_ASCII = /[^\x00-\x7f]/;

function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, '\\$&');
}

/**
 * Bounds on what a key sends to SQL. The SQL is only a pre-filter, so a key beyond them
 * is sent simplified (a LIKE pattern that selects a superset) or not at all, and the
 * matcher decides. SQLite refuses LIKE patterns over 50,000 bytes ("LIKE or GLOB pattern
 * too complex") and expressions nested over 1,000 deep (one OR per value); PostgreSQL's
 * ILIKE cost grows with the pattern's length (measured: a 60,000-character pattern took
 * 0.2 s over 300 rows). Patterns with many '%' are not a problem in either engine
 * (measured: 30 '%A' or 5,000 '%A' against values of 64 and 2,000 letters, about a
 * millisecond per 300 rows), but every '%' beyond a few adds little selectivity.
 */
const LIKE_SEGMENT_MAX = 64; // code points kept of each literal part of a LIKE pattern
const LIKE_MIDDLE_SEGMENTS = 2; // literal parts kept between the first and the last '%'
const OR_VALUES_MAX = 32; // values of one key sent as ORed LIKEs
const IN_VALUES_MAX = 1000; // values of one key sent as an IN list

/** A literal part of a DICOM wildcard pattern (no '*') as LIKE text: '?' -> '_'. */
const likePart = (cps: readonly string[]): string => cps.map((c) => (c === '?' ? '_' : likeEscape(c))).join('');

/**
 * A DICOM wildcard pattern as a LIKE pattern (escape character '\') selecting every value
 * the pattern matches, at most a few hundred characters whatever the key: runs of '*'
 * become one '%'; the first and last literal parts are kept (cut to LIKE_SEGMENT_MAX from
 * their outer end), and of the parts between, the LIKE_MIDDLE_SEGMENTS longest, in order
 * (cut to LIKE_SEGMENT_MAX). Dropping a part between two '%', or cutting a part next to a
 * '%', only widens what the pattern selects.
 */
export function toLike(pattern: string): string {
  const parts = pattern.split('*').map((p) => [...p]);
  if (parts.length === 1) {
    const only = parts[0];
    return only.length <= 2 * LIKE_SEGMENT_MAX ? likePart(only) : `${likePart(only.slice(0, 2 * LIKE_SEGMENT_MAX))}%`;
  }
  const first = parts[0].slice(0, LIKE_SEGMENT_MAX);
  const last = parts[parts.length - 1];
  const middle = parts
    .slice(1, -1)
    .map((p, i) => ({ p, i }))
    .filter((x) => x.p.length > 0);
  const kept = [...middle]
    .sort((a, b) => b.p.length - a.p.length || a.i - b.i)
    .slice(0, LIKE_MIDDLE_SEGMENTS)
    .sort((a, b) => a.i - b.i);
  return [
    likePart(first),
    ...kept.map((x) => likePart(x.p.slice(0, LIKE_SEGMENT_MAX))),
    likePart(last.slice(Math.max(0, last.length - LIKE_SEGMENT_MAX))),
  ].join('%');
}

/** A literal value as a LIKE prefix pattern (value + '%'), cut to a bounded length. */
function likePrefix(value: string): string {
  const cps = [...value];
  return `${likeEscape(cps.slice(0, 2 * LIKE_SEGMENT_MAX).join(''))}%`;
}

class Params {
  readonly values: (string | number)[] = [];
  add(v: string | number): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

/** A superset condition for one key on one column, or undefined when SQL cannot help. */
function columnCondition(col: Column, m: Matcher, p: Params, dialect: SqlDialect, ciPn: boolean): string | undefined {
  const c = col.expr;
  switch (m.kind) {
    case 'empty':
      return `(${c} IS NULL OR ${c} = '')`;
    case 'uids':
    case 'single':
    case 'wildcard': {
      const values = m.kind === 'uids' ? m.uids : m.kind === 'single' ? m.values : m.patterns;
      if (values.length > IN_VALUES_MAX) return undefined;
      if (col.kind === 'int') {
        if (m.kind === 'wildcard' || !values.every((v) => /^[+-]?\d{1,9}$/.test(v))) return undefined;
        return `${c} IN (${values.map((v) => p.add(Number(v))).join(', ')})`;
      }
      if (col.kind === 'date' || col.kind === 'time') return undefined;
      if (col.kind === 'pn') {
        // Case folding of non-ASCII letters differs between the engines: leave those to JavaScript.
        if (ciPn && values.some((v) => NON_ASCII.test(v))) return undefined;
        if (values.length > OR_VALUES_MAX) return undefined;
        const like = ciPn ? dialect.caseInsensitiveLike : 'LIKE';
        const ors = values.flatMap((v) => {
          const pat = m.kind === 'wildcard' ? `${toLike(v)}%` : likePrefix(v);
          return [`${c} ${like} ${p.add(pat)} ESCAPE '\\'`, `${c} ${like} ${p.add('%=' + pat)} ESCAPE '\\'`];
        });
        return `(${ors.join(' OR ')})`;
      }
      if (m.kind === 'wildcard') {
        if (values.length > OR_VALUES_MAX) return undefined;
        return `(${values.map((v) => `${c} LIKE ${p.add(toLike(v))} ESCAPE '\\'`).join(' OR ')})`;
      }
      return values.length === 1 ? `${c} = ${p.add(values[0])}` : `${c} IN (${values.map((v) => p.add(v)).join(', ')})`;
    }
    case 'numbers':
      if (col.kind !== 'int' || m.numbers.length > IN_VALUES_MAX || !m.numbers.every((n) => Number.isInteger(n))) return undefined;
      return `${c} IN (${m.numbers.map((n) => p.add(n)).join(', ')})`;
    case 'range': {
      // Times and datetimes of varying precision: JavaScript only.
      if (col.kind !== 'date' || m.ranges.length > OR_VALUES_MAX) return undefined;
      const ors = m.ranges.map((r) => {
        const parts: string[] = [];
        if (r.lower !== undefined) parts.push(`${c} >= ${p.add(r.lower)}`);
        if (r.upper !== undefined) parts.push(`${c} <= ${p.add(r.upper)}`);
        return parts.length ? `(${parts.join(' AND ')})` : `${c} IS NOT NULL`;
      });
      return `(${ors.join(' OR ')})`;
    }
    default:
      return undefined;
  }
}

/** Conditions on computed attributes that SQL can decide exactly (a list of modalities or SOP classes). */
function computedCondition(tag: number, m: Matcher, p: Params): string | undefined {
  const values = m.kind === 'single' ? m.values : m.kind === 'uids' ? m.uids : undefined;
  if (!values || values.length > IN_VALUES_MAX) return undefined;
  const list = values.map((v) => p.add(v)).join(', ');
  if (tag === Computed.ModalitiesInStudy) return `EXISTS (SELECT 1 FROM series s3 WHERE s3.study_fk = st.pk AND s3.modality IN (${list}))`;
  if (tag === Computed.SOPClassesInStudy) {
    return `EXISTS (SELECT 1 FROM instances i3 JOIN series s3 ON s3.pk = i3.series_fk WHERE s3.study_fk = st.pk AND i3.sop_class_uid IN (${list}))`;
  }
  return undefined;
}

/**
 * Plans a query at `level`: every key's column or computed value is selected when it
 * is at or above the level; the representative JSON is selected only when some key
 * is neither.
 */
export function planQuery(
  level: QueryLevel,
  keys: readonly QueryKey[],
  dialect: SqlDialect,
  opts: { caseInsensitivePersonNames?: boolean; withJson?: boolean } = {},
): PlannedQuery {
  const depth = levelDepth(level);
  const p = new Params();
  const where: string[] = [];
  const select = [`${PK[level]} AS pk`];
  const columns: PlannedQuery['columns'] = [];
  let withJson = opts.withJson ?? false;
  const ciPn = opts.caseInsensitivePersonNames ?? true;
  for (const key of keys) {
    const known = COLUMNS.get(key.tag);
    const col = known?.studyExpr && level !== 'PATIENT' ? { ...known, expr: known.studyExpr } : known;
    const comp = col ? undefined : computedSql(key.tag, dialect);
    const at = col?.level ?? comp?.level;
    if (at === undefined || levelDepth(at) > depth || key.vr === 'SQ') {
      withJson = true;
      continue;
    }
    const alias = `k${columns.length}`;
    select.push(`${col ? col.expr : comp!.expr} AS ${alias}`);
    // Multi-valued: modalities and SOP classes are stored '\'-joined, and so is any multi-valued column value.
    columns.push({ alias, tag: key.tag, multi: col?.kind !== 'int' && comp?.expr.startsWith('(SELECT COUNT') !== true });
    if (key.matcher.kind === 'universal') continue;
    const cond = col ? columnCondition(col, key.matcher, p, dialect, ciPn) : computedCondition(key.tag, key.matcher, p);
    if (cond) where.push(cond);
  }
  if (withJson) select.push(`${REPRESENTATIVE_JSON[level]} AS json`);
  const after = p.add(0);
  const upto = p.add(0);
  const limit = p.add(0);
  where.push(`${PK[level]} > ${after}`, `${PK[level]} <= ${upto}`);
  const sql = `SELECT ${select.join(', ')} ${FROM[level]} WHERE ${where.join(' AND ')} ORDER BY ${PK[level]} LIMIT ${limit}`;
  return { sql, maxPkSql: `SELECT MAX(pk) AS m FROM ${TABLE[level]}`, params: p.values, columns, withJson };
}

/** Which instances a C-MOVE / C-GET identifier selects: lists of unique keys (all given ones must match). */
export interface RetrieveSelection {
  patientIds?: readonly string[];
  /** With patientIds: the Issuer of Patient ID ('' = none) the patients must have. */
  issuerOfPatientId?: string;
  studyInstanceUids?: readonly string[];
  seriesInstanceUids?: readonly string[];
  sopInstanceUids?: readonly string[];
}

export function retrieveWhere(sel: RetrieveSelection): { where: string; params: (string | number)[] } {
  const p = new Params();
  const conds: string[] = [];
  const add = (col: string, values: readonly string[] | undefined) => {
    if (values) conds.push(values.length ? `${col} IN (${values.map((v) => p.add(v)).join(', ')})` : '1 = 0');
  };
  add('p.patient_id', sel.patientIds);
  if (sel.issuerOfPatientId !== undefined) conds.push(`p.issuer = ${p.add(sel.issuerOfPatientId)}`);
  add('st.study_instance_uid', sel.studyInstanceUids);
  add('se.series_instance_uid', sel.seriesInstanceUids);
  add('i.sop_instance_uid', sel.sopInstanceUids);
  return { where: conds.length ? conds.join(' AND ') : '1 = 1', params: p.values };
}

export const RETRIEVE_FROM = FROM.IMAGE;
