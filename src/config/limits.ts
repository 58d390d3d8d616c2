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

export const queryLimitsSchema = z.strictObject({});
const QUERY_DEFAULTS = {};

// ---- datasets received: C-STORE, STOW-RS; transcoding on retrieve ----

export const datasetLimitsSchema = z.strictObject({});
const DATASET_DEFAULTS = {};

// ---- HTTP: the web server, logins ----

export const httpLimitsSchema = z.strictObject({
  /** Time to receive a request's header block (slow headers: slowloris). */
  headersTimeoutSeconds: seconds('headersTimeoutSeconds').optional(),
  /** Time to receive a request's body, for every route but uploads (the bodies are small: 1 MiB at most but for a router dry run). */
  requestTimeoutSeconds: seconds('requestTimeoutSeconds').optional(),
  /** An idle keep-alive connection is closed after this long. */
  keepAliveTimeoutSeconds: seconds('keepAliveTimeoutSeconds').optional(),
  /**
   * Uploads (STOW-RS) may take minutes for gigabytes, so they get no total time; instead
   * each window of `uploadRateWindowSeconds` must bring at least this many bytes per
   * second on average (a stalled or trickling upload is cut).
   */
  uploadMinBytesPerSecond: positiveInt('uploadMinBytesPerSecond').optional(),
  uploadRateWindowSeconds: seconds('uploadRateWindowSeconds').optional(),
  /** Failed logins (POST /api/login, HTTP Basic) of one user name from one address before further attempts get 429. */
  loginMaxFailuresPerUser: positiveInt('loginMaxFailuresPerUser').optional(),
  /** Failed logins from one address (IPv6: one /64), whatever the user names, before further attempts get 429. */
  loginMaxFailuresPerAddress: positiveInt('loginMaxFailuresPerAddress').optional(),
  /** The window the failures are counted over. */
  loginWindowSeconds: seconds('loginWindowSeconds').optional(),
});
const HTTP_DEFAULTS = {
  headersTimeoutSeconds: 20,
  requestTimeoutSeconds: 60,
  keepAliveTimeoutSeconds: 10,
  uploadMinBytesPerSecond: 4096,
  uploadRateWindowSeconds: 30,
  loginMaxFailuresPerUser: 5,
  loginMaxFailuresPerAddress: 20,
  loginWindowSeconds: 900,
};

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
