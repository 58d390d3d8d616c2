/** limits.commitment: how often undelivered storage commitment reports are retried, and how long a node's claim on one lasts. */
import { describe, expect, it } from 'vitest';
import { ConfigValidationError, defaultRegistry, describeLimits, effectiveLimits, setLimits } from '../../src/config/index.js';

describe('limits.commitment', () => {
  it('retries every 60 s and holds a claim 120 s by default; shown, set and validated', () => {
    expect(effectiveLimits(defaultRegistry()).commitment).toEqual({ retrySeconds: 60, leaseSeconds: 120 });
    expect(describeLimits(defaultRegistry())).toEqual(expect.arrayContaining(['commitment.retrySeconds = 60', 'commitment.leaseSeconds = 120']));
    expect(effectiveLimits(setLimits(defaultRegistry(), { commitment: { leaseSeconds: 30 } })).commitment).toEqual({ retrySeconds: 60, leaseSeconds: 30 });
    for (const [field, bad] of [
      ['retrySeconds', 0],
      ['retrySeconds', 100000],
      ['leaseSeconds', -1],
      ['leaseSeconds', 7200],
    ] as const) {
      let err: unknown;
      try {
        setLimits(defaultRegistry(), { commitment: { [field]: bad } });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigValidationError);
      expect((err as ConfigValidationError).issues[0].field).toBe(`limits.commitment.${field}`);
    }
  });
});
