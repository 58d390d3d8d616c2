// Typed errors of the upper layer. Each carries what it maps to on the wire
// (A-ABORT source/reason or A-ASSOCIATE-RJ result/source/reason); the conversion to a
// PDU happens in one place, the association driver.

/** A-ABORT reasons when the source is the service-provider (PS3.8 Table 9-26). */
export const AbortReason = {
  NotSpecified: 0,
  UnrecognizedPdu: 1,
  UnexpectedPdu: 2,
  UnrecognizedPduParameter: 4,
  UnexpectedPduParameter: 5,
  InvalidPduParameterValue: 6,
} as const;
export type AbortReasonCode = (typeof AbortReason)[keyof typeof AbortReason];

const ABORT_REASON_NAMES: Record<number, string> = {
  0: 'reason-not-specified',
  1: 'unrecognized-PDU',
  2: 'unexpected-PDU',
  3: 'reserved',
  4: 'unrecognized-PDU-parameter',
  5: 'unexpected-PDU-parameter',
  6: 'invalid-PDU-parameter-value',
};

export function describeAbort(source: number, reason: number): string {
  if (source === 0) return 'A-ABORT from service-user';
  if (source === 2) return `A-ABORT from service-provider: ${ABORT_REASON_NAMES[reason] ?? `reason ${reason}`}`;
  return `A-ABORT source ${source} reason ${reason}`;
}

/** PS3.8 Table 9-21. */
export function describeReject(result: number, source: number, reason: number): string {
  const r = result === 1 ? 'rejected-permanent' : result === 2 ? 'rejected-transient' : `result ${result}`;
  const names: Record<number, Record<number, string>> = {
    1: { 1: 'no-reason-given', 2: 'application-context-name-not-supported', 3: 'calling-AE-title-not-recognized', 7: 'called-AE-title-not-recognized' },
    2: { 1: 'no-reason-given', 2: 'protocol-version-not-supported' },
    3: { 1: 'temporary-congestion', 2: 'local-limit-exceeded' },
  };
  const s = source === 1 ? 'service-user' : source === 2 ? 'service-provider (ACSE)' : source === 3 ? 'service-provider (presentation)' : `source ${source}`;
  return `A-ASSOCIATE-RJ ${r}, ${s}: ${names[source]?.[reason] ?? `reason ${reason}`}`;
}

export class NetError extends Error {
  override name = 'NetError';
}

/** Malformed PDU bytes. Maps to A-ABORT source 2 with `abortReason`. */
export class PduDecodeError extends NetError {
  override name = 'PduDecodeError';
  constructor(
    message: string,
    readonly abortReason: AbortReasonCode = AbortReason.InvalidPduParameterValue,
  ) {
    super(message);
  }
}

/** Invalid input to the encoder (a local programming error, never peer input). */
export class PduEncodeError extends NetError {
  override name = 'PduEncodeError';
}

/** A protocol violation by the peer (unexpected PDU, oversize PDU, ...): A-ABORT source 2. */
export class ProtocolError extends NetError {
  override name = 'ProtocolError';
  readonly abortSource = 2 as const;
  constructor(
    message: string,
    readonly abortReason: AbortReasonCode,
  ) {
    super(message);
  }
}

export class AssociationRejectedError extends NetError {
  override name = 'AssociationRejectedError';
  constructor(
    readonly result: number,
    readonly source: number,
    readonly reason: number,
  ) {
    super(describeReject(result, source, reason));
  }
}

export class AssociationAbortedError extends NetError {
  override name = 'AssociationAbortedError';
  constructor(
    readonly source: number,
    readonly reason: number,
    message?: string,
  ) {
    super(message ?? describeAbort(source, reason));
  }
}

/** The transport connection could not be opened (refused, timeout, TLS failure). */
export class ConnectError extends NetError {
  override name = 'ConnectError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A local primitive issued in a state where the standard does not allow it. */
export class InvalidStateError extends NetError {
  override name = 'InvalidStateError';
  constructor(
    readonly state: string,
    readonly event: string,
    message?: string,
  ) {
    super(message ?? `${event} is not valid in state ${state}`);
  }
}

/** The transport connection closed while the association existed (A-P-ABORT). */
export class ConnectionClosedError extends NetError {
  override name = 'ConnectionClosedError';
}
