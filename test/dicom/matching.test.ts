/** PS3.4 C.2.2.2 matching: one row per rule, key value against stored values. */
import { describe, expect, it } from 'vitest';
import {
  compileKeys,
  compileMatcher,
  datasetTarget,
  InvalidQueryKeyError,
  jsonTarget,
  matchAll,
  matchKey,
  temporalBound,
  type MatchTarget,
  type QueryKey,
} from '../../src/dicom/matching.js';
import { Dataset } from '../../src/dicom/dataset.js';
import { putString } from '../../src/dicom/dataset-writer.js';
import type { VR } from '../../src/dicom/vr.js';

const TAG = 0x00100010;

function target(values: string[] | undefined): MatchTarget {
  return { values: () => values, items: () => undefined };
}

function matches(vr: VR, key: string, stored: string[] | undefined, opts = {}): boolean {
  const k: QueryKey = { tag: TAG, vr, matcher: compileMatcher(TAG, vr, key === '' ? [] : key.split('\\'), opts) };
  return matchKey(k, target(stored), opts);
}

// [rule, VR, key value, stored values, expected]
const TABLE: [string, VR, string, string[] | undefined, boolean][] = [
  ['universal matches anything', 'LO', '', ['X'], true],
  ['universal matches an absent attribute', 'LO', '', undefined, true],
  ['* alone is universal', 'PN', '*', undefined, true],
  ['single value exact', 'LO', 'PID-1', ['PID-1'], true],
  ['single value differs', 'LO', 'PID-1', ['PID-2'], false],
  ['single value is case-sensitive for LO', 'LO', 'abc', ['ABC'], false],
  ['single value on absent attribute', 'LO', 'PID-1', undefined, false],
  ['single value on empty attribute', 'LO', 'PID-1', [''], false],
  ['multi-valued attribute: any value', 'CS', 'MR', ['CT', 'MR'], true],
  ['multi-valued key: any value', 'CS', 'CT\\MR', ['MR'], true],
  ['PN case-insensitive by default', 'PN', 'doe^jane', ['DOE^JANE'], true],
  ['PN trailing empty components are insignificant', 'PN', 'Doe^Jane', ['Doe^Jane^^^'], true],
  ['PN matches a component group', 'PN', 'ドウ^ジェーン', ['Doe^Jane=ドウ^ジェーン'], true],
  ['PN single value is not a prefix match', 'PN', 'Doe', ['Doe^Jane'], false],
  ['wildcard *', 'PN', 'do*', ['Doe^Jane'], true],
  ['wildcard * in the middle', 'LO', 'A*Z', ['ABCZ'], true],
  ['wildcard * matches nothing', 'LO', 'AB*', ['AB'], true],
  ['wildcard ? one character', 'SH', 'A?C', ['ABC'], true],
  ['wildcard ? not zero characters', 'SH', 'A?C', ['AC'], false],
  ['wildcard is case-sensitive for SH', 'SH', 'a*', ['ABC'], false],
  ['regex characters are literal', 'LO', 'a.c*', ['abc'], false],
  ['regex characters are literal (match)', 'LO', 'a.c*', ['a.cd'], true],
  ['UID single', 'UI', '1.2.3', ['1.2.3'], true],
  ['UID list', 'UI', '1.2.3\\1.2.4', ['1.2.4'], true],
  ['UID list no match', 'UI', '1.2.3\\1.2.4', ['1.2.5'], false],
  ['UID: * is not a wildcard', 'UI', '1.2.*', ['1.2.3'], false],
  ['date single', 'DA', '20240102', ['20240102'], true],
  ['date single differs', 'DA', '20240102', ['20240103'], false],
  ['date closed range', 'DA', '20240101-20240131', ['20240115'], true],
  ['date closed range inclusive end', 'DA', '20240101-20240131', ['20240131'], true],
  ['date closed range outside', 'DA', '20240101-20240131', ['20240201'], false],
  ['date open end', 'DA', '20240101-', ['20991231'], true],
  ['date open start', 'DA', '-20240101', ['19991231'], true],
  ['date open start outside', 'DA', '-20240101', ['20240102'], false],
  ['legacy date format stored', 'DA', '20240101-20240131', ['2024.01.15'], true],
  ['date range on absent attribute', 'DA', '20240101-', undefined, false],
  ['time range', 'TM', '0800-1200', ['101530.123'], true],
  ['time range end includes its whole minute', 'TM', '0800-1015', ['101559'], true],
  ['time range outside', 'TM', '0800-1015', ['101600'], false],
  ['time single hour', 'TM', '10', ['1015'], true],
  ['datetime range', 'DT', '20240101-202401311200', ['20240131115959.5'], true],
  ['datetime range outside', 'DT', '20240101-202401311200', ['20240131120100'], false],
  ['datetime open start', 'DT', '-2023', ['20231231235959'], true],
  ['number single (IS)', 'IS', '7', ['7'], true],
  ['number single (IS) 07', 'IS', '07', ['7'], true],
  ['number single differs', 'IS', '7', ['8'], false],
  ['empty value matching', 'LO', '""', [''], true],
  ['empty value matching absent', 'LO', '""', undefined, true],
  ['empty value matching present', 'LO', '""', ['X'], false],
];

describe('matching (PS3.4 C.2.2.2)', () => {
  it.each(TABLE)('%s: %s key %j vs %j', (_rule, vr, key, stored, expected) => {
    expect(matches(vr, key, stored)).toBe(expected);
  });

  it('PN case-sensitive when configured', () => {
    expect(matches('PN', 'doe^jane', ['DOE^JANE'], { caseInsensitivePersonNames: false })).toBe(false);
    expect(matches('PN', 'DOE^*', ['DOE^JANE'], { caseInsensitivePersonNames: false })).toBe(true);
    expect(matches('PN', 'doe^*', ['DOE^JANE'], { caseInsensitivePersonNames: false })).toBe(false);
  });

  it.each([
    ['DA', '2024-01-01'],
    ['DA', '20240132x'],
    ['DA', '20240201-20240101'],
    ['DA', '-'],
    ['DA', '2024'],
    ['TM', '25:00'.replace(':', 'x')],
    ['DT', '2024-2025-2026'],
  ] as [VR, string][])('rejects a malformed %s key %j', (vr, key) => {
    expect(() => compileMatcher(TAG, vr, [key])).toThrow(InvalidQueryKeyError);
  });

  it('completes partial temporal values', () => {
    expect(temporalBound('1015', 'TM', 'lower')).toBe('101500.000000');
    expect(temporalBound('1015', 'TM', 'upper')).toBe('101559.999999');
    expect(temporalBound('2024', 'DT', 'upper')).toBe('20241231235959.999999');
    expect(temporalBound('20240102+0100', 'DT', 'lower')).toBe('20240102000000.000000');
  });

  it('compiles an identifier, sequences included, and matches a dataset and its JSON', () => {
    const id = new Dataset();
    putString(id, 0x00080005, 'CS', 'ISO_IR 192');
    putString(id, 0x00080052, 'CS', 'STUDY');
    putString(id, 0x00100010, 'PN', 'müller*');
    putString(id, 0x00080020, 'DA', '20240101-');
    putString(id, 0x0020000d, 'UI', '');
    const item = new Dataset(id);
    putString(item, 0x00080100, 'SH', 'T-04000');
    id.put({ tag: 0x00081032, vr: 'SQ', length: 0, items: [item] }); // ProcedureCodeSequence
    const keys = compileKeys(id);
    expect(keys.map((k) => [k.tag, k.matcher.kind])).toEqual([
      [0x00080020, 'range'],
      [0x00080052, 'single'],
      [0x00081032, 'sequence'],
      [0x00100010, 'wildcard'],
      [0x0020000d, 'universal'],
    ]);
    const study = keys.filter((k) => k.tag !== 0x00080052);
    const json = {
      '00080020': { vr: 'DA', Value: ['20240510'] },
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'MÜLLER^Hans' }] },
      '00081032': { vr: 'SQ', Value: [{ '00080100': { vr: 'SH', Value: ['X'] } }, { '00080100': { vr: 'SH', Value: ['T-04000'] } }] },
    };
    expect(matchAll(study, jsonTarget(json))).toBe(true);
    json['00081032'].Value.pop();
    expect(matchAll(study, jsonTarget(json))).toBe(false);

    const stored = new Dataset();
    putString(stored, 0x00080005, 'CS', 'ISO_IR 192');
    putString(stored, 0x00080020, 'DA', '20240101');
    putString(stored, 0x00100010, 'PN', 'Müller^Hans');
    const sItem = new Dataset(stored);
    putString(sItem, 0x00080100, 'SH', 'T-04000');
    stored.put({ tag: 0x00081032, vr: 'SQ', length: 0, items: [sItem] });
    expect(matchAll(study, datasetTarget(stored))).toBe(true);
  });

  it('an empty sequence key is universal', () => {
    const id = new Dataset();
    id.put({ tag: 0x00081032, vr: 'SQ', length: 0, items: [] });
    const [k] = compileKeys(id);
    expect(k.matcher.kind).toBe('universal');
    expect(matchKey(k, target(undefined))).toBe(true);
  });
});
