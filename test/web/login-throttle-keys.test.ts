/** The login throttle's bookkeeping: a cap on the keys it remembers; IPv6 clients counted by /64. */
import { describe, expect, it } from 'vitest';
import { LoginThrottle } from '../../src/web/login-throttle.js';

describe('LoginThrottle', () => {
  it('keeps at most its cap of keys, dropping the oldest', () => {
    const t = new LoginThrottle({ maxFailuresPerUser: 5, maxFailuresPerAddress: 20, windowMs: 15 * 60_000, maxKeys: 1000 });
    for (let i = 0; i < 50_000; i++) t.failed(`user${i}`, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    expect(t.size).toBeLessThanOrEqual(2 * 1000);
    // the newest keys are still remembered
    for (let i = 0; i < 4; i++) t.failed('user49999', '10.0.195.79');
    expect(t.check('user49999', '10.0.195.79')).toMatchObject({ blocked: 'user' });
  });

  it('counts an IPv6 client by its /64 network', () => {
    const t = new LoginThrottle({ maxFailuresPerUser: 5, maxFailuresPerAddress: 3, windowMs: 60_000, maxKeys: 100 });
    t.failed('a', '2001:db8:1:2::1');
    t.failed('b', '2001:db8:1:2:ffff::7');
    t.failed('c', '2001:0db8:0001:0002:0:0:0:9');
    expect(t.check('d', '2001:db8:1:2::42')).toMatchObject({ blocked: 'address' });
    expect(t.check('d', '2001:db8:1:3::42')).toEqual({ blocked: undefined });
  });
});
