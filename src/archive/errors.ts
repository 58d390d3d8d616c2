/**
 * Archive errors. Each carries the DIMSE status (PS3.4 C-STORE / PS3.7 Annex C) it
 * maps to, so the storage service converts it to a response at one boundary.
 */
import type { FieldIssue } from '../config/index.js';

export const DimseStatus = {
  /** Refused: out of resources (disk, index). */
  OutOfResources: 0xa700,
  /** Error: data set does not match SOP class. */
  DatasetDoesNotMatchSopClass: 0xa900,
  /** Error: cannot understand. */
  CannotUnderstand: 0xc000,
  /** Failure: duplicate SOP instance (PS3.7 C.5.8), used by the 'reject' duplicate policy. */
  DuplicateSopInstance: 0x0111,
} as const;

export abstract class ArchiveError extends Error {
  abstract readonly status: number;
  /** The attribute(s) at fault, for the response's Offending Element (0000,0901). */
  readonly offendingElement: number[] | undefined;
  constructor(message: string, options?: { cause?: unknown; offendingElement?: number[] }) {
    super(message, options);
    this.offendingElement = options?.offendingElement;
  }
}

/**
 * The dataset cannot be parsed (0xC000), or does not match the request or its SOP class
 * (0xA900: e.g. a UID attribute whose value is not a UID, PS3.4 B.2.3).
 */
export class InvalidDatasetError extends ArchiveError {
  override readonly name = 'InvalidDatasetError';
  readonly status: number;
  constructor(status: 0xa900 | 0xc000, message: string, options?: { cause?: unknown; offendingElement?: number[] }) {
    super(message, options);
    this.status = status;
  }
}

/** Disk or index failure, or a dataset header past limits.dataset.maxHeaderBytes (0xA700). */
export class OutOfResourcesError extends ArchiveError {
  override readonly name = 'OutOfResourcesError';
  readonly status = DimseStatus.OutOfResources;
}

/** The instance exists and the duplicate policy is 'reject' (0x0111). */
export class DuplicateInstanceError extends ArchiveError {
  override readonly name = 'DuplicateInstanceError';
  readonly status = DimseStatus.DuplicateSopInstance;
}

/** The store was aborted by its caller, or used after end()/abort(). */
export class StoreAbortedError extends ArchiveError {
  override readonly name = 'StoreAbortedError';
  readonly status = DimseStatus.OutOfResources;
}

/**
 * A worklist entry refused by the worklist store: a field that does not validate, a
 * Scheduled Procedure Step ID already in use ('invalid'), or no entry with that ID
 * ('not-found'). Not an ArchiveError: no DIMSE request writes entries; the REST API and
 * the CLI report it, naming the fields in `issues`.
 */
export class WorklistEntryError extends Error {
  override readonly name = 'WorklistEntryError';
  constructor(readonly kind: 'invalid' | 'not-found', readonly issues: FieldIssue[], message = issues.map((i) => `${i.field}: ${i.message}`).join('; ')) {
    super(message);
  }
}
