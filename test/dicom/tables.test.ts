import { describe, expect, it } from 'vitest';
import { dictionarySize, implicitVr, keywordToTag, lookupTag } from '../../src/dicom/dictionary.js';
import { formatTag, makeTag, parseTag, tagKeyword, tagToHex } from '../../src/dicom/tag.js';
import { getTransferSyntax, resolveTransferSyntax, TRANSFER_SYNTAXES } from '../../src/dicom/transfer-syntax.js';
import { isValidUid, newUid } from '../../src/dicom/uid-generator.js';
import { isStorageSopClass, STORAGE_SOP_CLASS_UIDS, uidName } from '../../src/dicom/uids.js';
import { VR_INFO } from '../../src/dicom/vr.js';

describe('tags and dictionary', () => {
  it('formats and parses tags', () => {
    expect(makeTag(0x7fe0, 0x0010)).toBe(0x7fe00010);
    expect(formatTag(0x00100010)).toBe('(0010,0010)');
    expect(tagToHex(0xfffee000)).toBe('FFFEE000');
    expect(parseTag('(0010,0010)')).toBe(0x00100010);
    expect(parseTag('7fe00010')).toBe(0x7fe00010);
    expect(parseTag('PatientName')).toBe(0x00100010);
    expect(() => parseTag('nope')).toThrow();
    expect(tagKeyword(0x0020000d)).toBe('StudyInstanceUID');
  });

  it('looks up entries, repeating groups, retired, private and group length', () => {
    expect(dictionarySize()).toBeGreaterThan(5000);
    expect(lookupTag(0x00100010)).toMatchObject({ vr: 'PN', vm: '1', keyword: 'PatientName', name: 'Patient Name', retired: false });
    expect(lookupTag(0x7fe00010)?.vrs).toEqual(['OW', 'OB']);
    expect(lookupTag(0x60023000)).toMatchObject({ keyword: 'OverlayData', tag: 0x60023000, repeating: true });
    expect(lookupTag(0x601e0010)?.keyword).toBe('OverlayRows');
    expect(lookupTag(0x60200010)).toBeUndefined();
    expect(lookupTag(0x50000005)?.retired).toBe(true);
    expect(keywordToTag('SOPClassUID')).toBe(0x00080016);
    expect(implicitVr(0x00090010)).toBe('LO');
    expect(implicitVr(0x00091001)).toBe('UN');
    expect(implicitVr(0x00280000)).toBe('UL');
    expect(implicitVr(0x00280106)).toBe('US');
    expect(implicitVr(0x00280106, true)).toBe('SS');
    expect(implicitVr(0x00400275)).toBe('SQ');
  });

  it('knows VR properties', () => {
    expect(VR_INFO.OB).toMatchObject({ longLength: true, padding: 0, kind: 'binary', bulk: true });
    expect(VR_INFO.UT).toMatchObject({ longLength: true, padding: 0x20, kind: 'string', bulk: true, charset: true });
    expect(VR_INFO.UI).toMatchObject({ longLength: false, padding: 0, kind: 'string', charset: false, maxLength: 64 });
    expect(VR_INFO.SQ.longLength).toBe(true);
    expect(VR_INFO.US).toMatchObject({ longLength: false, size: 2 });
  });
});

describe('UIDs and transfer syntaxes', () => {
  it('lists storage SOP classes and names UIDs', () => {
    expect(uidName('1.2.840.10008.5.1.4.1.1.2')).toBe('CT Image Storage');
    expect(STORAGE_SOP_CLASS_UIDS.length).toBeGreaterThan(150);
    expect(isStorageSopClass('1.2.840.10008.5.1.4.1.1.4')).toBe(true); // MR
    expect(isStorageSopClass('1.2.840.10008.5.1.4.1.1.88.33')).toBe(true); // Comprehensive SR
    expect(isStorageSopClass('1.2.840.10008.5.1.4.1.1.104.1')).toBe(true); // Encapsulated PDF
    expect(isStorageSopClass('1.2.840.10008.1.20.1')).toBe(false); // Storage Commitment
    expect(isStorageSopClass('1.2.840.10008.5.1.4.1.2.2.1')).toBe(false); // Study Root Q/R FIND
    expect(isStorageSopClass('1.2.840.10008.1.1')).toBe(false);
  });

  it('describes transfer syntaxes', () => {
    expect(getTransferSyntax('1.2.840.10008.1.2')).toMatchObject({ explicitVr: false, littleEndian: true, encapsulated: false });
    expect(getTransferSyntax('1.2.840.10008.1.2.2')).toMatchObject({ explicitVr: true, littleEndian: false, retired: true });
    expect(getTransferSyntax('1.2.840.10008.1.2.1.99')?.deflated).toBe(true);
    expect(getTransferSyntax('1.2.840.10008.1.2.4.203')?.encapsulated).toBe(true);
    expect(getTransferSyntax('1.2.840.10008.1.2.5\0')?.name).toBe('RLE Lossless');
    for (let n = 50; n <= 66; n++) expect(TRANSFER_SYNTAXES.has(`1.2.840.10008.1.2.4.${n}`)).toBe(true);
    expect(resolveTransferSyntax('1.2.3.999')).toMatchObject({ explicitVr: true, encapsulated: true });
  });

  it('generates valid unique 2.25 UIDs and validates UIDs', () => {
    const a = newUid(),
      b = newUid();
    expect(a).not.toBe(b);
    expect(a.startsWith('2.25.')).toBe(true);
    expect(isValidUid(a)).toBe(true);
    expect(isValidUid('1.2.840.10008.1.2')).toBe(true);
    expect(isValidUid('1.02.3')).toBe(true); // leading zeros tolerated: see uidProblem()
    expect(isValidUid('1..3')).toBe(false);
    expect(isValidUid('1.2.a')).toBe(false);
    expect(isValidUid('1.' + '1'.repeat(63))).toBe(false);
    expect(isValidUid('0.1')).toBe(true);
  });
});
