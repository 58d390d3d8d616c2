import { describe, expect, it } from 'vitest';
import { Dataset, decodeBinaryNumbers, getNumber, getNumbers, getStrings } from '../../src/dicom/dataset.js';
import type { VR } from '../../src/dicom/vr.js';

function withValue(tag: number, vr: VR, bytes: Buffer | number[], charset?: string): Dataset {
  const ds = new Dataset();
  if (charset) ds.put({ tag: 0x00080005, vr: 'CS', length: charset.length, value: new Uint8Array(Buffer.from(charset, 'latin1')) });
  const value = new Uint8Array(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes));
  ds.put({ tag, vr, length: value.length, value });
  return ds;
}

describe('dataset accessors', () => {
  it('trims trailing spaces and NULs, and leading spaces only where the VR says they are insignificant', () => {
    expect(getStrings(withValue(0x00100020, 'LO', Buffer.from('  ab c \0\0 \\ x\\\\   ')), 0x00100020)).toEqual(['ab c', 'x', '', '']);
    expect(getStrings(withValue(0x00081030, 'ST', Buffer.from('  two\\words  ')), 0x00081030)).toEqual(['  two\\words']);
    expect(getStrings(withValue(0x00100010, 'PN', Buffer.from(' Doe^J ')), 0x00100010)).toEqual([' Doe^J']);
    expect(getStrings(withValue(0x00080060, 'CS', Buffer.from('    ')), 0x00080060)).toEqual(['']);
    expect(getStrings(withValue(0x0020000d, 'UI', Buffer.from('1.2.3\0')), 0x0020000d)).toEqual(['1.2.3']);
  });

  it('decodes text with the Specific Character Set, and IS/DS as numbers', () => {
    expect(getStrings(withValue(0x00100010, 'PN', Buffer.from([0x4d, 0xfc, 0x6c, 0x6c, 0x65, 0x72]), 'ISO_IR 100'), 0x00100010)).toEqual(['Müller']);
    expect(getStrings(withValue(0x00100010, 'PN', Buffer.from('Müller', 'utf8'), 'ISO_IR 192'), 0x00100010)).toEqual(['Müller']);
    expect(getNumbers(withValue(0x00200013, 'IS', Buffer.from(' 12\\-3 ')), 0x00200013)).toEqual([12, -3]);
    expect(getNumbers(withValue(0x00200013, 'IS', Buffer.from('  ')), 0x00200013)).toEqual([]);
    expect(getNumber(withValue(0x00280030, 'DS', Buffer.from('0.5\\0.25')), 0x00280030)).toBe(0.5);
  });

  it('decodes with the character set in effect now, also after it was replaced or differs between datasets', () => {
    const latin = Buffer.from([0x4d, 0xfc, 0x6c, 0x6c, 0x65, 0x72]); // 'Müller' in ISO_IR 100
    const ds = withValue(0x00100010, 'PN', latin, 'ISO_IR 100');
    expect(getStrings(ds, 0x00100010)).toEqual(['Müller']);
    // A new Specific Character Set value: the terms decoded for the old one must not be used.
    const utf8 = new Uint8Array(Buffer.from('ISO_IR 192'));
    ds.put({ tag: 0x00080005, vr: 'CS', length: utf8.length, value: utf8 });
    ds.put({ tag: 0x00100010, vr: 'PN', length: 7, value: new Uint8Array(Buffer.from('Müller', 'utf8')) });
    expect(ds.characterSets()).toEqual(['ISO_IR 192']);
    expect(getStrings(ds, 0x00100010)).toEqual(['Müller']);
    // Datasets taking turns, each with its own set.
    const other = withValue(0x00100010, 'PN', latin, 'ISO_IR 100');
    for (let i = 0; i < 3; i++) {
      expect(getStrings(other, 0x00100010)).toEqual(['Müller']);
      expect(getStrings(ds, 0x00100010)).toEqual(['Müller']);
    }
    expect(getStrings(withValue(0x00100010, 'PN', latin), 0x00100010)).toEqual(['Müller']); // default repertoire
  });

  it('decodes every binary numeric VR in little endian, ignoring a trailing partial value', () => {
    const b = Buffer.alloc(16);
    b.writeUInt16LE(0xfffe, 0);
    b.writeInt16LE(-2, 2);
    b.writeInt32LE(-5, 4);
    b.writeFloatLE(1.5, 8);
    b.writeUInt32LE(7, 12);
    expect(decodeBinaryNumbers(b.subarray(0, 5), 'US')).toEqual([0xfffe, 0xfffe]);
    expect(decodeBinaryNumbers(b.subarray(2, 4), 'SS')).toEqual([-2]);
    expect(decodeBinaryNumbers(b.subarray(4, 8), 'SL')).toEqual([-5]);
    expect(decodeBinaryNumbers(b.subarray(4, 8), 'UL')).toEqual([0xfffffffb]);
    expect(decodeBinaryNumbers(b.subarray(8, 12), 'FL')).toEqual([1.5]);
    expect(decodeBinaryNumbers(b.subarray(8, 12), 'OF')).toEqual([1.5]);
    expect(decodeBinaryNumbers(b.subarray(12, 16), 'OL')).toEqual([7]);
    expect(decodeBinaryNumbers(b.subarray(0, 2), 'OW')).toEqual([0xfffe]);
    expect(decodeBinaryNumbers(b.subarray(0, 3), 'OB')).toEqual([0xfe, 0xff, 0xfe]);
    const d = Buffer.alloc(8);
    d.writeDoubleLE(-0.125, 0);
    expect(decodeBinaryNumbers(d, 'FD')).toEqual([-0.125]);
    expect(decodeBinaryNumbers(d, 'OD')).toEqual([-0.125]);
    d.writeBigInt64LE(-9n, 0);
    expect(decodeBinaryNumbers(d, 'SV')).toEqual([-9]);
    d.writeBigUInt64LE(9n, 0);
    expect(decodeBinaryNumbers(d, 'UV')).toEqual([9]);
    expect(decodeBinaryNumbers(d, 'LO')).toBeUndefined();
    expect(decodeBinaryNumbers(d, 'AT')).toBeUndefined();
  });
});
