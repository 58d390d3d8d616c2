import { describe, expect, it } from 'vitest';
import { safeNamePart, zipFileName } from '../../src/web/export-name.js';
import { elementName } from '../../src/web/dictionary-api.js';

describe('zip file names', () => {
  it('keeps ASCII letters, digits and hyphens, drops accents, turns the rest into one underscore', () => {
    expect(safeNamePart('DOE^JANE')).toBe('DOE_JANE');
    expect(safeNamePart('Tête/cou: contrôle')).toBe('Tete_cou_controle');
    expect(safeNamePart('../../etc/passwd')).toBe('etc_passwd');
    expect(safeNamePart('山田^太郎')).toBe('');
    expect(safeNamePart('a\r\nb"c\\d')).toBe('a_b_c_d');
    expect(safeNamePart('x'.repeat(500))).toHaveLength(48);
  });

  it('joins the parts that have something safe, with a fallback', () => {
    expect(zipFileName(['DOE^JANE', 'PID-7', '20240102', 'CT head'], 'study')).toBe('DOE_JANE_PID-7_20240102_CT_head.zip');
    expect(zipFileName(['山田', '', undefined, null], 'study')).toBe('study.zip');
    expect(zipFileName(Array(10).fill('y'.repeat(40)), 'study').length).toBeLessThanOrEqual(124);
  });
});

describe('element names for the tag browser', () => {
  it('names standard, private (by creator), creator and group length elements', () => {
    expect(elementName(0x00100010)).toBe('Patient Name');
    expect(elementName(0x00291010, 'SIEMENS CSA HEADER')).toBe('CSAImageHeaderInfo');
    expect(elementName(0x00291010)).toBeNull();
    expect(elementName(0x00290010)).toBe('Private Creator');
    expect(elementName(0x00080000)).toBe('Group Length');
    expect(elementName(0x00091234, 'NOBODY')).toBeNull();
  });
});
