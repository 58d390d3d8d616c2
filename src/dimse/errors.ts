/** Typed DIMSE-level failures; each says how it is answered. */
import { Status, StatusError, statusOfError, type StatusCode } from '../dicom/status.js';

/** The peer broke DIMSE framing rules (PS3.7 Annex E / PS3.8 PDV rules): answered with an A-ABORT. */
export class DimseProtocolError extends Error {
  override readonly name = 'DimseProtocolError';
}

/** A service failed a request: answered with a DIMSE response carrying this status and comment. */
export class DimseServiceError extends StatusError {
  override readonly name = 'DimseServiceError';
  constructor(
    readonly status: number,
    message: string,
    offendingElement?: number[],
  ) {
    super(message, { offendingElement });
  }
}

/**
 * The DIMSE boundary's one mapping from an error to the failure response it gets: a
 * StatusError (a service's, the archive's) with its own status, comment and offending
 * element; anything else, unexpected, with `fallback` (0xC001 by default; C-STORE passes
 * 0xA700, as its 0xCxxx means "cannot understand" and would blame the sender).
 */
export function toDimseServiceError(err: unknown, fallback: StatusCode = Status.UnableToProcess): DimseServiceError {
  if (err instanceof DimseServiceError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new DimseServiceError(statusOfError(err, fallback), message, err instanceof StatusError ? err.offendingElement : undefined);
}

/** A DIMSE response the SCU received with a failure status. */
export class DimseFailureStatusError extends Error {
  override readonly name = 'DimseFailureStatusError';
  constructor(
    readonly status: number,
    readonly errorComment: string | undefined,
    message: string,
  ) {
    super(message);
  }
}
