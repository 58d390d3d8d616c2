/**
 * Limits and timeouts (DESIGN.md section 8: on by default, safe for a first start), kept
 * in the registry's `limits`, one section per kind of input. Every field is optional in
 * the file; `effectiveLimits` fills in the defaults, so the file holds only what a site
 * changed and `pacs config show` prints what is in force.
 */
import { z } from 'zod';

const positiveInt = (field: string) => z.number({ error: `${field} must be a positive integer` }).int(`${field} must be a positive integer`).positive(`${field} must be a positive integer`);
const seconds = (field: string) => z.number({ error: `${field} must be a number of seconds` }).positive(`${field} must be a positive number of seconds`);

// ---- DICOM associations (roles/, net/) ----

export const dicomLimitsSchema = z.strictObject({});
const DICOM_DEFAULTS = {};

// ---- queries: C-FIND, MWL, QIDO-RS (archive/query, services, web/dicomweb) ----

export const queryLimitsSchema = z.strictObject({
  /**
   * Rows one query (C-FIND, worklist C-FIND, QIDO-RS) may read from the index and match;
   * past it, the query ends: C-FIND with 0xA700 and a comment, QIDO-RS with what it found
   * and a Warning (413 when it found nothing).
   */
  maxRowsExamined: positiveInt('limits.query.maxRowsExamined').optional(),
  /** Seconds of work one query may take (reading and matching, not the time waiting for a slow client); then as above. */
  maxSeconds: seconds('limits.query.maxSeconds').optional(),
  /** QIDO-RS: results returned when the request gives no `limit`. */
  qidoDefaultLimit: positiveInt('limits.query.qidoDefaultLimit').optional(),
  /** QIDO-RS: the most results one response holds; a larger `limit` is cut to it, with a Warning (PS3.18 8.3.4.4). */
  qidoMaxLimit: positiveInt('limits.query.qidoMaxLimit').optional(),
});
// A million rows: ten times the 100,000-instance C-FIND of test/services/query-streaming
// (a key only the stored JSON holds, every row parsed: 12 s here), so a query that needs
// more is one to narrow. 60 s of work is far more than a query narrowed by a patient, a
// study or a date needs. QIDO-RS: 1,000 results by default (several pages of a study
// browser), 10,000 at most (a series of 10,000 instances in one answer).
const QUERY_DEFAULTS = { maxRowsExamined: 1_000_000, maxSeconds: 60, qidoDefaultLimit: 1000, qidoMaxLimit: 10_000 };
export type QueryLimits = typeof QUERY_DEFAULTS;

// ---- datasets received: C-STORE, STOW-RS; transcoding on retrieve ----

export const datasetLimitsSchema = z.strictObject({});
const DATASET_DEFAULTS = {};

// ---- HTTP: the web server, logins ----

export const httpLimitsSchema = z.strictObject({});
const HTTP_DEFAULTS = {};

// ---- all sections ----

export const limitsSchema = z.strictObject({
  dicom: dicomLimitsSchema.optional(),
  query: queryLimitsSchema.optional(),
  dataset: datasetLimitsSchema.optional(),
  http: httpLimitsSchema.optional(),
});
export type Limits = z.infer<typeof limitsSchema>;

export const DEFAULT_LIMITS = { dicom: DICOM_DEFAULTS, query: QUERY_DEFAULTS, dataset: DATASET_DEFAULTS, http: HTTP_DEFAULTS };
export type EffectiveLimits = {
  dicom: typeof DICOM_DEFAULTS & z.infer<typeof dicomLimitsSchema>;
  query: typeof QUERY_DEFAULTS & z.infer<typeof queryLimitsSchema>;
  dataset: typeof DATASET_DEFAULTS & z.infer<typeof datasetLimitsSchema>;
  http: typeof HTTP_DEFAULTS & z.infer<typeof httpLimitsSchema>;
};

/** The limits in force: the registry's values over the defaults, section by section. */
export function effectiveLimits(reg: { limits?: Limits }): EffectiveLimits {
  const l = reg.limits ?? {};
  return {
    dicom: { ...DICOM_DEFAULTS, ...l.dicom },
    query: { ...QUERY_DEFAULTS, ...l.query },
    dataset: { ...DATASET_DEFAULTS, ...l.dataset },
    http: { ...HTTP_DEFAULTS, ...l.http },
  };
}

/** One line per limit in force, `section.field = value`, for `pacs config show`. */
export function describeLimits(reg: { limits?: Limits }): string[] {
  const lines: string[] = [];
  for (const [section, values] of Object.entries(effectiveLimits(reg))) {
    for (const [field, value] of Object.entries(values as Record<string, unknown>)) lines.push(`${section}.${field} = ${JSON.stringify(value)}`);
  }
  return lines;
}

// Referenced by the sections as they are filled in.
void positiveInt;
void seconds;
