/**
 * Limits and timeouts (DESIGN.md section 8: on by default, safe for a first start), kept
 * in the registry's `limits`, one section per kind of input. Every field is optional in
 * the file; `effectiveLimits` fills in the defaults, so the file holds only what a site
 * changed and `pacs config show` prints what is in force.
 */
import { z } from 'zod';

const positiveInt = (field: string) =>
  z
    .number({ error: `${field} must be a positive integer` })
    .int(`${field} must be a positive integer`)
    .positive(`${field} must be a positive integer`);
const seconds = (field: string) => z.number({ error: `${field} must be a number of seconds` }).positive(`${field} must be a positive number of seconds`);

// ---- DICOM associations (roles/, net/) ----

export const dicomLimitsSchema = z.strictObject({
  /** Associations open at once on each server role; one more is refused (A-ASSOCIATE-RJ transient, local limit exceeded). */
  maxAssociations: positiveInt('maxAssociations').optional(),
  /** An established association with no PDU either way for this long is aborted (A-ABORT). */
  idleTimeoutSeconds: seconds('idleTimeoutSeconds').optional(),
  /** ARTIM (PS3.8 9.1.5): the wait for the A-ASSOCIATE-RQ after a connection, and for the peer to close after a release or rejection. */
  artimTimeoutSeconds: seconds('artimTimeoutSeconds').optional(),
  /** Largest P-DATA-TF PDU the server roles accept (announced in the A-ASSOCIATE-AC). */
  maxPduLength: z
    .number({ error: 'maxPduLength must be an integer number of bytes' })
    .int('maxPduLength must be an integer number of bytes')
    .min(4096, 'maxPduLength must be at least 4096 bytes')
    .max(16 * 1024 * 1024, 'maxPduLength may be at most 16777216 bytes (16 MiB)')
    .optional(),
});
const DICOM_DEFAULTS = {
  // Generous for one role (a modality sends over one or a few associations at a time), yet
  // a flood of connections cannot take every socket and file descriptor of the process.
  maxAssociations: 64,
  // Any live exchange moves a PDU far more often than this (each PDV, each C-MOVE/C-FIND
  // pending response; reading paused for a slow disk does not count as idle), so only a
  // dead or silent peer reaches it. 5 min frees a dead association's slot well before a
  // flood could exhaust the cap with them, and is 10 times Orthanc's 30 s DicomScpTimeout,
  // which modalities already live with.
  idleTimeoutSeconds: 300,
  // PS3.8's ARTIM; DCMTK's ACSE timeout is 30 s too.
  artimTimeoutSeconds: 30,
  // The acceptor's long-standing default (net/acceptor.ts DEFAULT_MAX_PDU_LENGTH).
  maxPduLength: 262144,
};

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

const MiB = 1024 * 1024;

export const datasetLimitsSchema = z.strictObject({
  /**
   * Bytes of one received dataset's header (everything before Pixel Data) kept in memory
   * while it is read: the values, plus a fixed cost per element and item (so a flood of
   * empty elements counts too). Past it the C-STORE is refused (0xA700) and a STOW-RS part
   * fails. Real headers are kilobytes; a large enhanced multi-frame a few MiB; an RT
   * Structure Set (contours are header text) can need more. Each association receiving
   * holds up to this much, so it is kept at "a few MiB": a refused 500 MB header raised
   * the server's peak RSS by 24-51 MB over six interop runs (with 8 and 16 MiB alike: most
   * of it is the drained bytes' garbage awaiting a GC), within the 64 MB issue 15 asks for.
   */
  maxHeaderBytes: positiveInt('maxHeaderBytes').optional(),
  /**
   * Largest instance converted on retrieve (WADO-RS to Explicit VR Little Endian, C-GET /
   * C-MOVE to a peer that refused the stored syntax, router copies): the stored file and
   * its decompressed pixel data must each fit. Conversion holds the instance in memory, a
   * few times over; larger ones can be had as stored.
   */
  maxTranscodeBytes: positiveInt('maxTranscodeBytes').optional(),
});
const DATASET_DEFAULTS = { maxHeaderBytes: 8 * MiB, maxTranscodeBytes: 256 * MiB };

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

// ---- storage: what the archives keep beside the stored files ----

export const storageLimitsSchema = z.strictObject({
  /** Thumbnail cache of each archive (Main, Workstation), least recently used out beyond this. */
  thumbnailCacheMiB: positiveInt('thumbnailCacheMiB')
    .max(1024 * 1024, 'thumbnailCacheMiB may be at most 1048576 (1 TiB)')
    .optional(),
  /**
   * How the Main and Workstation archives write received files (read when an archive opens):
   * 'auto' with direct I/O where the file system takes it, 'on' only so (the archive does not
   * open otherwise), 'off' through the page cache (archive/blob-writer.ts says why).
   */
  directIo: z.enum(['auto', 'on', 'off'], { error: "directIo is one of 'auto', 'on', 'off'" }).optional(),
});
const STORAGE_DEFAULTS: { thumbnailCacheMiB: number; directIo: 'auto' | 'on' | 'off' } = { thumbnailCacheMiB: 256, directIo: 'auto' };

// ---- the activity log (services/activity-log.ts) ----

export const activityLimitsSchema = z.strictObject({
  /** Events older than this many days are deleted from the index (checked hourly). */
  retentionDays: positiveInt('limits.activity.retentionDays').max(36500, 'limits.activity.retentionDays may be at most 36500 (100 years)').optional(),
});
// 90 days: a quarter of a modality's traffic to look back over, about 100 MB of index for a
// site of 2,000 associations a day (one row each, ~500 bytes).
const ACTIVITY_DEFAULTS = { retentionDays: 90 };

// ---- storage commitment reports (services/storage-commitment.ts) ----

export const commitmentLimitsSchema = z.strictObject({
  /** Undelivered reports are tried again this often (and at start). */
  retrySeconds: seconds('limits.commitment.retrySeconds').max(86400, 'limits.commitment.retrySeconds may be at most 86400 (a day)').optional(),
  /**
   * A node sending a report holds it this long: no other node sharing the database sends it
   * meanwhile; a node that died holding it lets it go once this has passed. Longer than
   * one delivery attempt (association + the report's response timeout, 30 s).
   */
  leaseSeconds: seconds('limits.commitment.leaseSeconds').max(3600, 'limits.commitment.leaseSeconds may be at most 3600').optional(),
});
const COMMITMENT_DEFAULTS = { retrySeconds: 60, leaseSeconds: 120 };

// ---- the Workstation Server's archive (roles/workstation-cap.ts) ----

export const workstationLimitsSchema = z.strictObject({
  /**
   * Bytes of stored files the Workstation Server's archive may hold; beyond it the studies
   * received or viewed longest ago are deleted until it is under again (the Workstation is
   * a cache of what is being read: the Main Server keeps the archive).
   */
  maxBytes: positiveInt('limits.workstation.maxBytes').optional(),
  /**
   * A study received or read (the viewer, DICOMweb) within this many seconds counts as
   * being received or open and is not deleted by the clean-up; 0 turns that off.
   */
  inUseSeconds: z
    .number({ error: 'limits.workstation.inUseSeconds must be a number of seconds' })
    .min(0, 'limits.workstation.inUseSeconds must be 0 or more seconds')
    .optional(),
});
// 20 GiB: a few hundred CT studies, room for a reading session's priors on any disk a first
// start runs on; a site sizes it to the disk it gives the Workstation.
// 10 minutes: a study being read is fetched again and again (series, frames) well within it,
// and a modality's association sending a study stores an instance every few seconds.
const WORKSTATION_DEFAULTS = { maxBytes: 20 * 1024 * MiB, inUseSeconds: 600 };

// ---- all sections ----

export const limitsSchema = z.strictObject({
  dicom: dicomLimitsSchema.optional(),
  query: queryLimitsSchema.optional(),
  dataset: datasetLimitsSchema.optional(),
  http: httpLimitsSchema.optional(),
  storage: storageLimitsSchema.optional(),
  activity: activityLimitsSchema.optional(),
  commitment: commitmentLimitsSchema.optional(),
  workstation: workstationLimitsSchema.optional(),
});
export type Limits = z.infer<typeof limitsSchema>;

export const DEFAULT_LIMITS = {
  dicom: DICOM_DEFAULTS,
  query: QUERY_DEFAULTS,
  dataset: DATASET_DEFAULTS,
  http: HTTP_DEFAULTS,
  storage: STORAGE_DEFAULTS,
  activity: ACTIVITY_DEFAULTS,
  commitment: COMMITMENT_DEFAULTS,
  workstation: WORKSTATION_DEFAULTS,
};
export type DatasetLimits = typeof DATASET_DEFAULTS & z.infer<typeof datasetLimitsSchema>;
export type EffectiveLimits = {
  dicom: typeof DICOM_DEFAULTS & z.infer<typeof dicomLimitsSchema>;
  query: typeof QUERY_DEFAULTS & z.infer<typeof queryLimitsSchema>;
  dataset: DatasetLimits;
  http: typeof HTTP_DEFAULTS & z.infer<typeof httpLimitsSchema>;
  storage: typeof STORAGE_DEFAULTS & z.infer<typeof storageLimitsSchema>;
  activity: typeof ACTIVITY_DEFAULTS & z.infer<typeof activityLimitsSchema>;
  commitment: typeof COMMITMENT_DEFAULTS & z.infer<typeof commitmentLimitsSchema>;
  workstation: typeof WORKSTATION_DEFAULTS & z.infer<typeof workstationLimitsSchema>;
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
    activity: { ...ACTIVITY_DEFAULTS, ...l.activity },
    commitment: { ...COMMITMENT_DEFAULTS, ...l.commitment },
    workstation: { ...WORKSTATION_DEFAULTS, ...l.workstation },
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
