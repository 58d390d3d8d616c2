/** The two-pointer wildcard matcher and its case folding (src/dicom/wildcard.ts). */
import { describe, expect, it } from 'vitest';
import { compileWildcard, foldCase, matchWildcard } from '../../src/dicom/wildcard.js';

const m = (pattern: string, value: string, ci = false) => matchWildcard(compileWildcard(pattern, ci), value);

describe('wildcard matcher', () => {
  it.each([
    ['*', '', true],
    ['?', '', false],
    ['a*', 'a', true],
    ['*a', 'ba', true],
    ['*a', 'ab', false],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'acb', false],
    ['*ab*ab*', 'xabyab', true],
    ['*aab', 'aaab', true], // the resume point moves one past the last star's start
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['?', '😀', true], // one code point, not one UTF-16 unit
    ['??', '😀', false],
    ['*😀', 'x😀', true],
    ['a\nb', 'a\nb', true],
    ['?', '\n', true],
    ['.*', 'x', false], // regular-expression characters are literal
    ['.*', '.anything', true],
  ])('%j against %j: %s', (pattern, value, expected) => {
    expect(m(pattern, value)).toBe(expected);
  });

  it('the freeze key of issue 15 item 2 is decided', () => {
    expect(m(`${'*'.repeat(30)}Z`, 'A'.repeat(40))).toBe(false);
    expect(m(`${'*A'.repeat(30)}Z`, 'A'.repeat(40))).toBe(false);
    expect(m(`${'*A'.repeat(30)}*`, 'A'.repeat(40))).toBe(true);
    expect(m(`*${'A?'.repeat(500)}B`, 'A'.repeat(5000))).toBe(false);
  });

  it('case-insensitive: each code point against one code point, after simple case folding', () => {
    expect(m('doe*', 'DOE^JANE', true)).toBe(true);
    expect(m('doe*', 'DOE^JANE', false)).toBe(false);
    expect(m('MÜLLER*', 'müller', true)).toBe(true);
    expect(m('ss', 'ß', true)).toBe(false);
    expect(m('?', 'ẞ', true)).toBe(true);
  });

  it('folds every code point as a regular expression with the iu flags compares it', () => {
    // For every code point with a case mapping: its fold is in its class (no false match),
    // and the code points its lower / upper case mappings reach fold alike exactly when
    // /^x$/iu says they match (no false mismatch).
    const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const wrong: string[] = [];
    let checked = 0;
    for (let cp = 0x41; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const c = String.fromCodePoint(cp);
      const lower = c.toLowerCase();
      const upper = c.toUpperCase();
      const f = foldCase(cp);
      if (lower === c && upper === c && f === cp) continue;
      checked++;
      const re = new RegExp(`^${esc(c)}$`, 'iu');
      if (!re.test(String.fromCodePoint(f))) wrong.push(`U+${cp.toString(16)} folds to U+${f.toString(16)}, another letter`);
      for (const x of [lower, upper, upper.toLowerCase(), lower.toUpperCase()]) {
        const cps = [...x];
        if (cps.length !== 1) continue;
        const y = cps[0].codePointAt(0)!;
        if (re.test(x) !== (foldCase(y) === f)) wrong.push(`U+${cp.toString(16)} and U+${y.toString(16)}: regexp ${re.test(x)}, fold ${!re.test(x)}`);
      }
    }
    expect(checked).toBeGreaterThan(2500);
    expect(wrong).toEqual([]);
  });
});
