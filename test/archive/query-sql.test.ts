/** The SQL pre-filter's LIKE patterns: a superset of what the key matches, bounded in size. */
import { describe, expect, it } from 'vitest';
import { toLike } from '../../src/archive/query-sql.js';
import { compileWildcard, matchWildcard } from '../../src/dicom/wildcard.js';

/** LIKE (escape '\') evaluated as a DICOM wildcard: '%' -> '*', '_' -> '?'; escaped characters are literal. */
function likeMatches(like: string, value: string): boolean {
  // Characters that are wildcards for one but literal for the other do not occur in the values below.
  let w = '';
  for (let i = 0; i < like.length; i++) {
    const c = like[i];
    if (c === '\\') w += like[++i];
    else w += c === '%' ? '*' : c === '_' ? '?' : c;
  }
  return matchWildcard(compileWildcard(w, false), value);
}

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a * 1664525 + 1013904223) >>> 0;
    return a / 4294967296;
  };
}

describe('toLike', () => {
  it('collapses runs of * and keeps short patterns as they are', () => {
    expect(toLike('DOE*')).toBe('DOE%');
    expect(toLike('**D*?E***')).toBe('%D%_E%');
    expect(toLike('P_4%')).toBe('P\\_4\\%');
  });

  it('keeps at most the first, last and two longest middle parts, each cut to 64 characters', () => {
    expect(toLike('a*bb*c*dddd*eee*f')).toBe('a%dddd%eee%f');
    const long = toLike(`${'x'.repeat(100)}*${'y'.repeat(100)}*${'z'.repeat(100)}`);
    expect(long).toBe(`${'x'.repeat(64)}%${'y'.repeat(64)}%${'z'.repeat(64)}`);
    expect(toLike(`D${'*'.repeat(60_000)}e^jane`)).toBe('D%e^jane');
    expect(toLike('?'.repeat(30_000))).toBe(`${'_'.repeat(128)}%`);
    expect(toLike(`*${'*?'.repeat(30_000)}`).length).toBeLessThanOrEqual(4 * 64 + 3);
  });

  it('selects every value the key matches (3,000 random keys)', () => {
    const r = rng(42);
    const alphabet = ['a', 'b', 'c'];
    let matched = 0;
    for (let n = 0; n < 3000; n++) {
      let value = '';
      for (let i = 0, len = Math.floor(r() * 300); i < len; i++) value += alphabet[Math.floor(r() * 3)];
      let pattern = '';
      for (const c of value) {
        const x = r();
        pattern += x < 0.05 ? '*' : x < 0.1 ? '?' : x < 0.11 ? '' : c;
        if (r() < 0.05) pattern += '*'.repeat(1 + Math.floor(r() * 3));
      }
      if (!matchWildcard(compileWildcard(pattern, false), value)) continue;
      matched++;
      expect(likeMatches(toLike(pattern), value), `${pattern} -> ${toLike(pattern)} vs ${value}`).toBe(true);
    }
    expect(matched).toBeGreaterThan(1000);
  });
});
