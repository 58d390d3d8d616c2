import { describe, expect, it } from 'vitest';
import { AbortReason, AbortSource, describeAbort, describeReject, Reject } from '../../src/net/reasons.js';

// The wire numbers, copied from PS3.8 Table 9-21 (A-ASSOCIATE-RJ) and Table 9-26 (A-ABORT).
describe('A-ASSOCIATE-RJ and A-ABORT reasons', () => {
  it('gives each named rejection the result, source and reason of PS3.8 Table 9-21', () => {
    expect(Reject.ProtocolVersionNotSupported).toEqual({ result: 1, source: 2, reason: 2 });
    expect(Reject.ApplicationContextNameNotSupported).toEqual({ result: 1, source: 1, reason: 2 });
    expect(Reject.CallingAeTitleNotRecognized).toEqual({ result: 1, source: 1, reason: 3 });
    expect(Reject.CalledAeTitleNotRecognized).toEqual({ result: 1, source: 1, reason: 7 });
    expect(Reject.LocalLimitExceeded).toEqual({ result: 2, source: 3, reason: 2 });
    expect(Reject.TransientNoReasonGiven).toEqual({ result: 2, source: 1, reason: 1 });
  });

  it('names every rejection back as the standard does', () => {
    const described = Object.values(Reject).map((r) => describeReject(r.result, r.source, r.reason));
    expect(described).toEqual([
      'A-ASSOCIATE-RJ rejected-permanent, service-provider (ACSE): protocol-version-not-supported',
      'A-ASSOCIATE-RJ rejected-permanent, service-user: application-context-name-not-supported',
      'A-ASSOCIATE-RJ rejected-permanent, service-user: calling-AE-title-not-recognized',
      'A-ASSOCIATE-RJ rejected-permanent, service-user: called-AE-title-not-recognized',
      'A-ASSOCIATE-RJ rejected-transient, service-provider (presentation): local-limit-exceeded',
      'A-ASSOCIATE-RJ rejected-transient, service-user: no-reason-given',
    ]);
    expect(describeReject(3, 4, 9)).toBe('A-ASSOCIATE-RJ result 3, source 4: reason 9');
  });

  it('gives A-ABORT sources and provider reasons the numbers of PS3.8 Table 9-26', () => {
    expect(AbortSource).toEqual({ ServiceUser: 0, ServiceProvider: 2 });
    expect(AbortReason).toEqual({
      NotSpecified: 0,
      UnrecognizedPdu: 1,
      UnexpectedPdu: 2,
      UnrecognizedPduParameter: 4,
      UnexpectedPduParameter: 5,
      InvalidPduParameterValue: 6,
    });
    expect(describeAbort(AbortSource.ServiceUser, AbortReason.NotSpecified)).toBe('A-ABORT from service-user');
    expect(describeAbort(AbortSource.ServiceProvider, AbortReason.InvalidPduParameterValue)).toBe('A-ABORT from service-provider: invalid-PDU-parameter-value');
    expect(describeAbort(AbortSource.ServiceProvider, 3)).toBe('A-ABORT from service-provider: reserved');
    expect(describeAbort(1, 0)).toBe('A-ABORT source 1 reason 0');
  });
});
