import { describe, expect, it } from 'vitest';
import { isValidUid, quoteValue, uidProblem } from '../../src/dicom/uids.js';

describe('uidProblem: the one UID check (PS3.5 9.1, leading zeros tolerated)', () => {
  it('accepts UIDs of digits and dots up to 64 characters', () => {
    for (const uid of ['0', '1.2', '1.2.840.10008.5.1.4.1.1.7', '2.25.' + '9'.repeat(59), '1.2.040.05']) {
      expect(uidProblem(uid), uid).toBeUndefined();
      expect(isValidUid(uid)).toBe(true);
    }
  });

  it('says why anything else is not a UID', () => {
    const cases: [string, RegExp][] = [
      ['', /empty/],
      ['1.' + '1'.repeat(63), /longer than 64/],
      ['1.2.3"x', /only digits and dots/],
      ['1.2.3x', /only digits and dots/],
      ['1.2.3 ', /only digits and dots/],
      ['1.2\\3.4', /only digits and dots/],
      ['1.2.3\r\nX-Injected: 1', /only digits and dots/],
      ['.1.2', /starts with a dot/],
      ['1..2', /empty component/],
      ['1.2.', /ends with a dot/],
      ['١.٢', /only digits and dots/], // Arabic-Indic digits are not DICOM digits
    ];
    for (const [uid, why] of cases) {
      expect(uidProblem(uid), JSON.stringify(uid)).toMatch(why);
      expect(isValidUid(uid)).toBe(false);
    }
  });

  it('quotes a value for a message with JSON escapes, cut short', () => {
    expect(quoteValue('1.2"x')).toBe('"1.2\\"x"');
    expect(quoteValue('a\nb')).toBe('"a\\nb"');
    expect(quoteValue('9'.repeat(30), 10)).toBe(`"${'9'.repeat(10)}..."`);
  });
});
