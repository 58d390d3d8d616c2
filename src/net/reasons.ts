/**
 * Why an association ends early, in PS3.8's numbers: A-ASSOCIATE-RJ result, source and
 * reason/diag (9.3.4, Table 9-21) and A-ABORT source and reason/diag (9.3.8, Table 9-26).
 * Call sites name them from here; describeReject and describeAbort name them back for
 * messages and logs, from the same tables.
 */

/** A-ASSOCIATE-RJ Result. */
export const RejectResult = { Permanent: 1, Transient: 2 } as const;

/** A-ASSOCIATE-RJ Source. */
export const RejectSource = { ServiceUser: 1, ServiceProviderAcse: 2, ServiceProviderPresentation: 3 } as const;

/** A-ASSOCIATE-RJ Reason/Diag., by source: the same number means different things under each. */
export const RejectReason = {
  ServiceUser: { NoReasonGiven: 1, ApplicationContextNameNotSupported: 2, CallingAeTitleNotRecognized: 3, CalledAeTitleNotRecognized: 7 },
  ServiceProviderAcse: { NoReasonGiven: 1, ProtocolVersionNotSupported: 2 },
  ServiceProviderPresentation: { TemporaryCongestion: 1, LocalLimitExceeded: 2 },
} as const;

export interface Rejection {
  readonly result: (typeof RejectResult)[keyof typeof RejectResult];
  readonly source: (typeof RejectSource)[keyof typeof RejectSource];
  readonly reason: number;
}

/** The rejections this implementation sends, each a whole result/source/reason triple. */
export const Reject = {
  /** The A-ASSOCIATE-RQ's protocol version lacks bit 0 (version 1). */
  ProtocolVersionNotSupported: {
    result: RejectResult.Permanent,
    source: RejectSource.ServiceProviderAcse,
    reason: RejectReason.ServiceProviderAcse.ProtocolVersionNotSupported,
  },
  ApplicationContextNameNotSupported: {
    result: RejectResult.Permanent,
    source: RejectSource.ServiceUser,
    reason: RejectReason.ServiceUser.ApplicationContextNameNotSupported,
  },
  CallingAeTitleNotRecognized: {
    result: RejectResult.Permanent,
    source: RejectSource.ServiceUser,
    reason: RejectReason.ServiceUser.CallingAeTitleNotRecognized,
  },
  CalledAeTitleNotRecognized: { result: RejectResult.Permanent, source: RejectSource.ServiceUser, reason: RejectReason.ServiceUser.CalledAeTitleNotRecognized },
  /** Too many associations at once: the peer may try again later. */
  LocalLimitExceeded: {
    result: RejectResult.Transient,
    source: RejectSource.ServiceProviderPresentation,
    reason: RejectReason.ServiceProviderPresentation.LocalLimitExceeded,
  },
  /** The local decision could not be made (it failed): the peer may try again later. */
  TransientNoReasonGiven: { result: RejectResult.Transient, source: RejectSource.ServiceUser, reason: RejectReason.ServiceUser.NoReasonGiven },
} as const satisfies Record<string, Rejection>;

/** A-ABORT Source (1 is reserved). */
export const AbortSource = { ServiceUser: 0, ServiceProvider: 2 } as const;

/** A-ABORT Reason/Diag. when the source is the service-provider; a service-user abort carries NotSpecified. */
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
  [AbortReason.NotSpecified]: 'reason-not-specified',
  [AbortReason.UnrecognizedPdu]: 'unrecognized-PDU',
  [AbortReason.UnexpectedPdu]: 'unexpected-PDU',
  3: 'reserved',
  [AbortReason.UnrecognizedPduParameter]: 'unrecognized-PDU-parameter',
  [AbortReason.UnexpectedPduParameter]: 'unexpected-PDU-parameter',
  [AbortReason.InvalidPduParameterValue]: 'invalid-PDU-parameter-value',
};

export function describeAbort(source: number, reason: number): string {
  if (source === AbortSource.ServiceUser) return 'A-ABORT from service-user';
  if (source === AbortSource.ServiceProvider) return `A-ABORT from service-provider: ${ABORT_REASON_NAMES[reason] ?? `reason ${reason}`}`;
  return `A-ABORT source ${source} reason ${reason}`;
}

const RESULT_NAMES: Record<number, string> = { [RejectResult.Permanent]: 'rejected-permanent', [RejectResult.Transient]: 'rejected-transient' };
const SOURCE_NAMES: Record<number, string> = {
  [RejectSource.ServiceUser]: 'service-user',
  [RejectSource.ServiceProviderAcse]: 'service-provider (ACSE)',
  [RejectSource.ServiceProviderPresentation]: 'service-provider (presentation)',
};
const U = RejectReason.ServiceUser;
const A = RejectReason.ServiceProviderAcse;
const P = RejectReason.ServiceProviderPresentation;
const REASON_NAMES: Record<number, Record<number, string>> = {
  [RejectSource.ServiceUser]: {
    [U.NoReasonGiven]: 'no-reason-given',
    [U.ApplicationContextNameNotSupported]: 'application-context-name-not-supported',
    [U.CallingAeTitleNotRecognized]: 'calling-AE-title-not-recognized',
    [U.CalledAeTitleNotRecognized]: 'called-AE-title-not-recognized',
  },
  [RejectSource.ServiceProviderAcse]: { [A.NoReasonGiven]: 'no-reason-given', [A.ProtocolVersionNotSupported]: 'protocol-version-not-supported' },
  [RejectSource.ServiceProviderPresentation]: { [P.TemporaryCongestion]: 'temporary-congestion', [P.LocalLimitExceeded]: 'local-limit-exceeded' },
};

/** PS3.8 Table 9-21, as the standard names each field. */
export function describeReject(result: number, source: number, reason: number): string {
  const r = RESULT_NAMES[result] ?? `result ${result}`;
  const s = SOURCE_NAMES[source] ?? `source ${source}`;
  return `A-ASSOCIATE-RJ ${r}, ${s}: ${REASON_NAMES[source]?.[reason] ?? `reason ${reason}`}`;
}
