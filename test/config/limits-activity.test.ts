/** limits.activity: the activity log's retention, 90 days by default, set and validated like every limit. */
import { describe, expect, it } from 'vitest';
import { ConfigValidationError, defaultRegistry, describeLimits, effectiveLimits, setLimits } from '../../src/config/index.js';

describe('limits.activity', () => {
  it('keeps 90 days by default, is shown, set and validated', () => {
    expect(effectiveLimits(defaultRegistry()).activity).toEqual({ retentionDays: 90 });
    expect(describeLimits(defaultRegistry())).toContain('activity.retentionDays = 90');
    expect(effectiveLimits(setLimits(defaultRegistry(), { activity: { retentionDays: 7 } })).activity.retentionDays).toBe(7);
    for (const bad of [0, 1.5, 40000]) {
      let err: unknown;
      try {
        setLimits(defaultRegistry(), { activity: { retentionDays: bad } });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigValidationError);
      expect((err as ConfigValidationError).issues[0].field).toBe('limits.activity.retentionDays');
    }
  });
});
