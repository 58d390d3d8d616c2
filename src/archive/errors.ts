/**
 * Archive errors. Each carries the status (PS3.4 C-STORE / PS3.7 Annex C, from the one
 * catalogue) it maps to, so the storage service and STOW-RS convert it at their boundary.
 */
import type { FieldIssue } from '../config/index.js';
import { Status, StatusError } from '../dicom/status.js';

/** The archive's failures: each a StatusError, answered by the storage service and STOW-RS alike. */
export abstract class ArchiveError extends StatusError {}

/**
 * The dataset cannot be parsed (0xC000), or does not match the request or its SOP class
 * (0xA900: e.g. a UID attribute whose value is not a UID, PS3.4 B.2.3).
 */
export class InvalidDatasetError extends ArchiveError {
  override readonly name = 'InvalidDatasetError';
  readonly status: number;
  constructor(
    status: typeof Status.DataSetDoesNotMatchSopClass | typeof Status.CannotUnderstand,
    message: string,
    options?: { cause?: unknown; offendingElement?: number[] },
  ) {
    super(message, options);
    this.status = status;
  }
}

/** Disk or index failure, or a dataset header past limits.dataset.maxHeaderBytes (0xA700). */
export class OutOfResourcesError extends ArchiveError {
  override readonly name = 'OutOfResourcesError';
  readonly status = Status.OutOfResources;
}

/** The instance exists and the duplicate policy is 'reject' (0x0111). */
export class DuplicateInstanceError extends ArchiveError {
  override readonly name = 'DuplicateInstanceError';
  readonly status = Status.DuplicateSopInstance;
}

/** The store was aborted by its caller, or used after end()/abort(). */
export class StoreAbortedError extends ArchiveError {
  override readonly name = 'StoreAbortedError';
  readonly status = Status.OutOfResources;
}

/**
 * A worklist entry refused by the worklist store: a field that does not validate, a
 * Scheduled Procedure Step ID already in use ('invalid'), or no entry with that ID
 * ('not-found'). Not an ArchiveError: no DIMSE request writes entries; the REST API and
 * the CLI report it, naming the fields in `issues`.
 */
export class WorklistEntryError extends Error {
  override readonly name = 'WorklistEntryError';
  constructor(
    readonly kind: 'invalid' | 'not-found',
    readonly issues: FieldIssue[],
    message = issues.map((i) => `${i.field}: ${i.message}`).join('; '),
  ) {
    super(message);
  }
}
