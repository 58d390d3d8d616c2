/** The names of the file blob store's layout (file-blob-store.ts), shared with its recovery. */

/** A key of the batch layout: `s/<yyyymmdd>/<batch>/<rand>.dcm`. */
export const BATCH_KEY_RE = /^s\/([0-9]{8})\/([0-9a-f]{12})\/([0-9a-f]{16})\.dcm$/;
/** A key of the layout before batches: `ab/cd/<sha256(uid)>.<rand>.dcm`. */
export const LEGACY_KEY_RE = /^([0-9a-f]{2})\/([0-9a-f]{2})\/([0-9a-f]{64})\.([0-9a-f]{16})\.dcm$/;
/** A marker of an open batch: `open/<yyyymmdd>.<batch>`. */
export const MARKER_RE = /^([0-9]{8})\.([0-9a-f]{12})$/;
