/** Typed DIMSE-level failures; each says how it is answered. */

/** The peer broke DIMSE framing rules (PS3.7 Annex E / PS3.8 PDV rules): answered with an A-ABORT. */
export class DimseProtocolError extends Error {
  override readonly name = 'DimseProtocolError';
}

/** A service failed a request: answered with a DIMSE response carrying this status and comment. */
export class DimseServiceError extends Error {
  override readonly name = 'DimseServiceError';
  constructor(
    readonly status: number,
    message: string,
    readonly offendingElement?: number[],
  ) {
    super(message);
  }
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
