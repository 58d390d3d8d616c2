/**
 * The wildcard matcher (PS3.4 C.2.2.2.4) against a reference: thousands of random keys
 * and values over a small alphabet (runs of `*` and `?`, characters outside the BMP,
 * case variants whose folding is special: ß/ẞ, σ/ς/Σ, ı/I/i/İ, K/k/KELVIN SIGN,
 * Deseret 𐐀/𐐨), through the public matching API. The reference is a plain dynamic-
 * programming matcher over code points whose case-insensitive comparison of two code
 * points asks the regular-expression engine (`/^x$/iu`, the semantics the matcher had
 * when it compiled keys to regular expressions); the person-name rules (trailing empty
 * components and groups insignificant, any component group matches) are written out
 * again here, separately from the implementation.
 */
import { describe, expect, it } from 'vitest';
import { compileMatcher, matchKey, type QueryKey } from '../../src/dicom/matching.js';
import type { VR } from '../../src/dicom/vr.js';
import { mulberry32 } from '../support/seeded-random.js';

const LETTERS = ['a', 'A', 'b', 'B', 'ß', 'ẞ', 'σ', 'ς', 'Σ', 'ı', 'I', 'i', 'İ', 'k', 'K', '\u212a', '😀', '𐐀', '𐐨', '.', '\n'];
const PN_EXTRA = ['^', '^', ' ', '='];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)];
}

function randomValue(r: () => number, alphabet: readonly string[], max: number): string {
  const n = 1 + Math.floor(r() * max);
  let s = '';
  for (let i = 0; i < n; i++) s += pick(r, alphabet);
  return s;
}

/** A key: letters, `?`, runs of 1-4 `*`; sometimes derived from the value so that it matches. */
function randomPattern(r: () => number, alphabet: readonly string[], value: string): string {
  const src = r() < 0.5 ? [...value] : [...randomValue(r, alphabet, 8)];
  let p = '';
  for (const c of src) {
    const x = r();
    if (x < 0.15) p += '*'.repeat(1 + Math.floor(r() * 4));
    else if (x < 0.3) p += '?';
    else if (x < 0.35) continue;
    else p += c;
    if (r() < 0.1) p += '*'.repeat(1 + Math.floor(r() * 4));
  }
  return p === '' ? '?' : p;
}

// ---- the reference ----

const ciCache = new Map<string, boolean>();
/** Two code points equal ignoring case, as the regular-expression engine decides with the `iu` flags. */
function sameIgnoringCase(a: string, b: string): boolean {
  if (a === b) return true;
  const k = `${a}\u0000${b}`;
  let v = ciCache.get(k);
  if (v === undefined) {
    v = new RegExp(`^${a.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'iu').test(b);
    ciCache.set(k, v);
  }
  return v;
}

/** Dynamic programming over code points: d[i][j] = pattern[0..i) matches value[0..j). */
function referenceMatch(pattern: string, value: string, ci: boolean): boolean {
  const p = [...pattern];
  const s = [...value];
  let prev = new Array<boolean>(s.length + 1).fill(false);
  prev[0] = true;
  for (let i = 1; i <= p.length; i++) {
    const cur = new Array<boolean>(s.length + 1).fill(false);
    const c = p[i - 1];
    if (c === '*') {
      cur[0] = prev[0];
      for (let j = 1; j <= s.length; j++) cur[j] = prev[j] || cur[j - 1];
    } else {
      for (let j = 1; j <= s.length; j++) {
        cur[j] = prev[j - 1] && (c === '?' || (ci ? sameIgnoringCase(c, s[j - 1]) : c === s[j - 1]));
      }
    }
    prev = cur;
  }
  return prev[s.length];
}

/** PN: trailing '^' and ' ' of each group and trailing '=' are not significant. */
function pnNormal(v: string): string {
  const groups = v.split('=').map((g) => {
    let e = g.length;
    while (e > 0 && (g[e - 1] === '^' || g[e - 1] === ' ')) e--;
    return g.slice(0, e);
  });
  while (groups.length > 0 && groups[groups.length - 1] === '') groups.pop();
  return groups.join('=');
}

function referenceKey(vr: VR, pattern: string, stored: string, ci: boolean): boolean {
  if (/^\*+$/.test(pattern)) return true; // universal
  if (stored === '') return false;
  if (vr !== 'PN') return referenceMatch(pattern, stored, false);
  const whole = pnNormal(stored);
  const groups = whole.split('=').filter((g) => g !== '');
  const candidates = groups.length > 1 ? [whole, ...groups] : [whole];
  const p = pnNormal(pattern);
  return candidates.some((c) => referenceMatch(p, c, ci));
}

function implementation(vr: VR, pattern: string, stored: string, ci: boolean): boolean {
  const opts = { caseInsensitivePersonNames: ci };
  const key: QueryKey = { tag: 0x00100010, vr, matcher: compileMatcher(0x00100010, vr, [pattern], opts) };
  return matchKey(key, { values: () => [stored], items: () => undefined }, opts);
}

describe('wildcard matching against a reference (fuzz)', () => {
  const cases: [string, VR, readonly string[], boolean][] = [
    ['LO, case-sensitive', 'LO', LETTERS, false],
    ['PN, case-insensitive', 'PN', [...LETTERS, ...PN_EXTRA], true],
    ['PN, case-sensitive', 'PN', [...LETTERS, ...PN_EXTRA], false],
  ];
  it.each(cases)('%s: 4,000 random keys and values agree with the reference', (_name, vr, alphabet, ci) => {
    const seed = 0x5eed + alphabet.length + (ci ? 1 : 0);
    const r = mulberry32(seed);
    let matched = 0;
    for (let n = 0; n < 4000; n++) {
      const value = randomValue(r, alphabet, 12);
      const pattern = randomPattern(r, alphabet, value);
      const expected = referenceKey(vr, pattern, value, ci);
      const got = implementation(vr, pattern, value, ci);
      if (got !== expected) {
        expect.fail(`seed ${seed} case ${n}: ${vr} key ${JSON.stringify(pattern)} vs ${JSON.stringify(value)}: got ${got}, reference ${expected}`);
      }
      if (expected) matched++;
    }
    // Both outcomes are exercised (the generator derives half the keys from the value).
    expect(matched).toBeGreaterThan(400);
    expect(matched).toBeLessThan(3600);
  });

  it('the special case pairs fold as the regular-expression engine folds them', () => {
    const pairs: [string, string, boolean][] = [
      ['ß', 'ẞ', true],
      ['σ', 'ς', true],
      ['Σ', 'ς', true],
      ['k', '\u212a', true],
      ['𐐀', '𐐨', true],
      ['ı', 'I', false],
      ['ı', 'i', false],
      ['İ', 'i', false],
      ['I', 'i', true],
      ['😀', '?', true],
    ];
    for (const [a, b, same] of pairs) {
      const pattern = b === '?' ? '?' : `${b}*`;
      expect(implementation('PN', pattern, a, true), `${a} ~ ${b}`).toBe(same);
      expect(referenceKey('PN', pattern, a, true), `reference ${a} ~ ${b}`).toBe(same);
    }
  });
});
