/** limits.dataset: defaults on, validated, shown by `pacs config show` (describeLimits). */
import { describe, expect, it } from 'vitest';
import { describeLimits, effectiveLimits, limitsSchema } from '../../src/config/limits.js';

describe('limits.dataset', () => {
  it('is on by default: 8 MiB of header, 256 MiB per conversion', () => {
    expect(effectiveLimits({}).dataset).toEqual({ maxHeaderBytes: 8 * 1024 * 1024, maxTranscodeBytes: 256 * 1024 * 1024 });
    expect(describeLimits({})).toEqual(expect.arrayContaining(['dataset.maxHeaderBytes = 8388608', 'dataset.maxTranscodeBytes = 268435456']));
  });

  it('takes a site value over the default, field by field', () => {
    const limits = limitsSchema.parse({ dataset: { maxHeaderBytes: 64 * 1024 * 1024 } });
    expect(effectiveLimits({ limits }).dataset).toEqual({ maxHeaderBytes: 64 * 1024 * 1024, maxTranscodeBytes: 256 * 1024 * 1024 });
  });

  it('refuses what is not a positive integer, and unknown fields, naming them', () => {
    for (const bad of [{ maxHeaderBytes: 0 }, { maxHeaderBytes: -1 }, { maxTranscodeBytes: 1.5 }, { maxTranscodeBytes: '1' }]) {
      const r = limitsSchema.safeParse({ dataset: bad });
      expect(r.success, JSON.stringify(bad)).toBe(false);
      expect(r.error!.issues[0].message).toMatch(/(maxHeaderBytes|maxTranscodeBytes) must be a positive integer/);
    }
    expect(limitsSchema.safeParse({ dataset: { maxHeaderByte: 1 } }).success).toBe(false);
  });
});
