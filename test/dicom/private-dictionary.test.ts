import { describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dicom/dataset.js';
import { readDataset } from '../../src/dicom/dataset-reader.js';
import { writeDataset } from '../../src/dicom/dataset-writer.js';
import { privateCreatorTag, privateName, privateVr } from '../../src/dicom/private-dictionary.js';

const IMPLICIT_LE = '1.2.840.10008.1.2';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const text = (s: string) => new Uint8Array(Buffer.from(s.length % 2 ? `${s} ` : s, 'latin1'));

describe('private dictionary (DCMTK private.dic)', () => {
  it('knows the Siemens CSA header elements in whatever block their creator reserved', () => {
    expect(privateVr(0x00291010, 'SIEMENS CSA HEADER')).toBe('OB');
    expect(privateVr(0x00291108, 'SIEMENS CSA HEADER')).toBe('CS');
    expect(privateVr(0x00291120, 'SIEMENS CSA HEADER')).toBe('OB');
    expect(privateVr(0x00291010, 'SOMEBODY ELSE')).toBeUndefined();
  });

  it('takes an entry naming the element exactly before one naming its low byte (as DCMTK)', () => {
    // (0019,"PHILIPS MR/PART",1000) DS and (...,1100)? only the exact block counts for 4-digit entries
    expect(privateVr(0x00191008, 'PHILIPS MR/PART')).toBe('IS');
    expect(privateVr(0x00191000, 'PHILIPS MR/PART')).toBe('DS');
  });

  it('names private elements as DCMTK does, in any block, UN ones too', () => {
    expect(privateName(0x00291010, 'SIEMENS CSA HEADER')).toBe('CSAImageHeaderInfo');
    expect(privateName(0x00291110, 'SIEMENS CSA HEADER')).toBe('CSAImageHeaderInfo');
    expect(privateName(0x00291008, 'SIEMENS CSA HEADER')).toBe('CSAImageHeaderType');
    expect(privateName(0x00291010, 'SOMEBODY ELSE')).toBeUndefined();
  });

  it('names the creator element of a private data element', () => {
    expect(privateCreatorTag(0x00291010)).toBe(0x00290010);
    expect(privateCreatorTag(0x002911ff)).toBe(0x00290011);
    expect(privateCreatorTag(0x00290010)).toBeUndefined();
    expect(privateCreatorTag(0x00081010)).toBeUndefined();
  });

  it('reads implicit VR private elements with their dictionary VR, and writes them so in explicit VR', () => {
    const ds = new Dataset();
    ds.put({ tag: 0x00290010, vr: 'LO', length: 18, value: text('SIEMENS CSA HEADER') });
    ds.put({ tag: 0x00290011, vr: 'LO', length: 10, value: text('UNKNOWN CO') });
    ds.put({ tag: 0x00291010, vr: 'OB', length: 4, value: new Uint8Array([1, 2, 3, 4]) });
    ds.put({ tag: 0x00291108, vr: 'OB', length: 4, value: new Uint8Array([0x41, 0x42, 0x43, 0x20]) });
    const back = readDataset(writeDataset(ds, IMPLICIT_LE), IMPLICIT_LE);
    expect(back.get(0x00291010)?.vr).toBe('OB');
    // block 0x11 belongs to a creator the dictionary does not know
    expect(back.get(0x00291108)?.vr).toBe('UN');
    const explicit = readDataset(writeDataset(back, EXPLICIT_LE), EXPLICIT_LE);
    expect(explicit.get(0x00291010)?.vr).toBe('OB');
    expect([...explicit.get(0x00291010)!.value!]).toEqual([1, 2, 3, 4]);
  });

  it('does not take a creator value longer than an LO may be', () => {
    const ds = new Dataset();
    const long = 'SIEMENS CSA HEADER' + ' '.repeat(100);
    ds.put({ tag: 0x00290010, vr: 'LO', length: long.length, value: text(long) });
    ds.put({ tag: 0x00291010, vr: 'OB', length: 2, value: new Uint8Array([1, 2]) });
    expect(readDataset(writeDataset(ds, IMPLICIT_LE), IMPLICIT_LE).get(0x00291010)?.vr).toBe('UN');
  });
});
