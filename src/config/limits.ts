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

export const httpLimitsSchema = z.strictObject({});
const HTTP_DEFAULTS = {};

// ---- storage: what the archives keep beside the stored files ----

export const storageLimitsSchema = z.strictObject({
  /** Thumbnail cache of each archive (Main, Workstation), least recently used out beyond this. */
  thumbnailCacheMiB: positiveInt('limits.storage.thumbnailCacheMiB').max(1024 * 1024, 'limits.storage.thumbnailCacheMiB: at most 1048576 (1 TiB)').optional(),
});
const STORAGE_DEFAULTS = { thumbnailCacheMiB: 256 };

// ---- all sections ----

export const limitsSchema = z.strictObject({
  dicom: dicomLimitsSchema.optional(),
  query: queryLimitsSchema.optional(),
  dataset: datasetLimitsSchema.optional(),
  http: httpLimitsSchema.optional(),
  storage: storageLimitsSchema.optional(),
});
export type Limits = z.infer<typeof limitsSchema>;

export const DEFAULT_LIMITS = { dicom: DICOM_DEFAULTS, query: QUERY_DEFAULTS, dataset: DATASET_DEFAULTS, http: HTTP_DEFAULTS, storage: STORAGE_DEFAULTS };
export type EffectiveLimits = {
  dicom: typeof DICOM_DEFAULTS & z.infer<typeof dicomLimitsSchema>;
  query: typeof QUERY_DEFAULTS & z.infer<typeof queryLimitsSchema>;
  dataset: typeof DATASET_DEFAULTS & z.infer<typeof datasetLimitsSchema>;
  http: typeof HTTP_DEFAULTS & z.infer<typeof httpLimitsSchema>;
  storage: typeof STORAGE_DEFAULTS & z.infer<typeof storageLimitsSchema>;
};

/** The limits in force: the registry's values over the defaults, section by section. */
export function effectiveLimits(reg: { limits?: Limits }): EffectiveLimits {
  const l = reg.limits ?? {};
  return {
    dicom: { ...DICOM_DEFAULTS, ...l.dicom },
    query: { ...QUERY_DEFAULTS, ...l.query },
    dataset: { ...DATASET_DEFAULTS, ...l.dataset },
    http: { ...HTTP_DEFAULTS, ...l.http },
    storage: { ...STORAGE_DEFAULTS, ...l.storage },
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
void seconds;
