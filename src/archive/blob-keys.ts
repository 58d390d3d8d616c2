/** The names of the file blob store's layout (file-blob-store.ts), shared with its recovery. */

/** A key of the batch layout: `s/<yyyymmdd>/<batch>/<rand>.dcm`. */
export const BATCH_KEY_RE = /^s\/([0-9]{8})\/([0-9a-f]{12})\/([0-9a-f]{16})\.dcm$/;
/** A key of the layout before batches: `ab/cd/<sha256(uid)>.<rand>.dcm`. */
export const LEGACY_KEY_RE = /^([0-9a-f]{2})\/([0-9a-f]{2})\/([0-9a-f]{64})\.([0-9a-f]{16})\.dcm$/;
/** A marker of an open batch: `open/<yyyymmdd>.<batch>`. */
export const MARKER_RE = /^([0-9]{8})\.([0-9a-f]{12})$/;
/**
 * A node id, also the name of its directory of open-batch markers (`open-by-node/<id>/`):
 * a host name's characters, starting with a letter or digit (so never `.` or `..`).
 */
export const NODE_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** The directory of every node's open-batch markers when nodes share the store. */
export const NODE_MARKERS_DIR = 'open-by-node';
