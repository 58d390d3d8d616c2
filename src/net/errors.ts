// Typed errors of the upper layer. Each carries what it maps to on the wire
// (A-ABORT source/reason or A-ASSOCIATE-RJ result/source/reason); the conversion to a
// PDU happens in one place, the association driver.

import { AbortReason, AbortSource, describeAbort, describeReject, type AbortReasonCode } from './reasons.js';

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
  readonly abortSource = AbortSource.ServiceProvider;
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
