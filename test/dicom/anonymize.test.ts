/** PS3.15 E.1 Basic Application Level Confidentiality Profile: what goes, what stays, UIDs consistent within one export. */
import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { anonymizeDataset, newPatientId, profileAction, UidMap } from '../../src/dicom/anonymize.js';
import { anonymizePart10 } from '../../src/dicom/anonymize-file.js';
import { Dataset, getString } from '../../src/dicom/dataset.js';
import { putString, writeDataset } from '../../src/dicom/dataset-writer.js';
import { keywordToTag } from '../../src/dicom/dictionary.js';
import { readPart10 } from '../../src/dicom/part10.js';
import { EXPLICIT_VR_LITTLE_ENDIAN } from '../../src/dicom/transfer-syntax.js';
import { writeCtSeries } from '../../scripts/gen-test-data.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

afterAll(() => removeTempDirs());

const T = (kw: string): number => {
  const t = keywordToTag(kw);
  if (t === undefined) throw new Error(`no keyword ${kw}`);
  return t;
};

function source(sop: string, referenced: string): Dataset {
  const ds = new Dataset();
  putString(ds, T('SpecificCharacterSet'), 'CS', 'ISO_IR 192');
  putString(ds, T('SOPClassUID'), 'UI', '1.2.840.10008.5.1.4.1.1.2');
  putString(ds, T('SOPInstanceUID'), 'UI', sop);
  putString(ds, T('StudyInstanceUID'), 'UI', '1.2.3.4');
  putString(ds, T('SeriesInstanceUID'), 'UI', '1.2.3.4.5');
  putString(ds, T('FrameOfReferenceUID'), 'UI', '1.2.3.4.6');
  putString(ds, T('PatientName'), 'PN', 'DOE^JANE');
  putString(ds, T('PatientID'), 'LO', 'MRN-4711');
  putString(ds, T('PatientBirthDate'), 'DA', '19700101');
  putString(ds, T('PatientAddress'), 'LO', '1 Main Street');
  putString(ds, T('OtherPatientIDs'), 'LO', 'OLD-1');
  putString(ds, T('StudyDate'), 'DA', '20250310');
  putString(ds, T('SeriesDate'), 'DA', '20250310');
  putString(ds, T('AccessionNumber'), 'SH', 'ACC-1');
  putString(ds, T('ReferringPhysicianName'), 'PN', 'WHO^DR');
  putString(ds, T('PerformingPhysicianName'), 'PN', 'HOUSE^G');
  putString(ds, T('InstitutionName'), 'LO', 'General Hospital');
  putString(ds, T('StationName'), 'SH', 'CT01');
  putString(ds, T('DeviceSerialNumber'), 'LO', 'SN-99');
  putString(ds, T('StudyDescription'), 'LO', 'Head of Jane Doe');
  putString(ds, T('Modality'), 'CS', 'CT');
  putString(ds, T('SliceThickness'), 'DS', '2.5');
  putString(ds, 0x00090010, 'LO', 'ACME private');
  putString(ds, 0x00091001, 'LO', 'secret');
  const item = new Dataset(ds);
  putString(item, T('ReferencedSOPClassUID'), 'UI', '1.2.840.10008.5.1.4.1.1.2');
  putString(item, T('ReferencedSOPInstanceUID'), 'UI', referenced);
  putString(item, 0x00111010, 'LO', 'private in item');
  ds.put({ tag: T('SourceImageSequence'), vr: 'SQ', length: 0, items: [item] });
  return ds;
}

describe('anonymizeDataset', () => {
  it('removes, empties and replaces by Table E.1-1, drops private tags, sets the de-identification attributes', () => {
    const uids = new UidMap();
    const input = source('1.2.3.4.5.1', '1.2.3.4.5.2');
    const before = writeDataset(input, EXPLICIT_VR_LITTLE_ENDIAN);
    const out = anonymizeDataset(input, { uids, patientId: 'ANON1' });
    // The input is untouched.
    expect(writeDataset(input, EXPLICIT_VR_LITTLE_ENDIAN).equals(before)).toBe(true);

    expect(getString(out, T('PatientName'))).toBe('ANONYMOUS');
    expect(getString(out, T('PatientID'))).toBe('ANON1');
    for (const kw of [
      'PatientAddress',
      'OtherPatientIDs',
      'SeriesDate',
      'PerformingPhysicianName',
      'InstitutionName',
      'StationName',
      'DeviceSerialNumber',
      'StudyDescription',
    ]) {
      expect(out.has(T(kw)), kw).toBe(false);
    }
    for (const kw of ['PatientBirthDate', 'StudyDate', 'AccessionNumber', 'ReferringPhysicianName']) {
      expect(out.has(T(kw)), kw).toBe(true);
      expect(out.get(T(kw))!.value!.length, kw).toBe(0);
    }
    expect(out.has(0x00090010)).toBe(false);
    expect(out.has(0x00091001)).toBe(false);
    expect(getString(out, T('Modality'))).toBe('CT');
    expect(getString(out, T('SliceThickness'))).toBe('2.5');
    expect(getString(out, T('SOPClassUID'))).toBe('1.2.840.10008.5.1.4.1.1.2');
    expect(getString(out, T('PatientIdentityRemoved'))).toBe('YES');
    expect(getString(out, T('DeidentificationMethod'))).toMatch(/Basic Application Level Confidentiality/);
    const code = out.get(T('DeidentificationMethodCodeSequence'))!.items![0];
    expect([getString(code, T('CodeValue')), getString(code, T('CodingSchemeDesignator'))]).toEqual(['113100', 'DCM']);

    for (const kw of ['SOPInstanceUID', 'StudyInstanceUID', 'SeriesInstanceUID', 'FrameOfReferenceUID']) {
      expect(getString(out, T(kw)), kw).toMatch(/^2\.25\.\d+$/);
    }
    const item = out.get(T('SourceImageSequence'))!.items![0];
    expect(getString(item, T('ReferencedSOPClassUID'))).toBe('1.2.840.10008.5.1.4.1.1.2');
    expect(getString(item, T('ReferencedSOPInstanceUID'))).toMatch(/^2\.25\./);
    expect(item.has(0x00111010)).toBe(false);
    // It encodes.
    expect(writeDataset(out, EXPLICIT_VR_LITTLE_ENDIAN).length).toBeGreaterThan(0);
  });

  it('maps the same original UID to the same new UID across files of one export, incl. references', () => {
    const uids = new UidMap();
    const a = anonymizeDataset(source('1.2.3.4.5.1', '1.2.3.4.5.2'), { uids, patientId: 'P' });
    const b = anonymizeDataset(source('1.2.3.4.5.2', '1.2.3.4.5.1'), { uids, patientId: 'P' });
    expect(getString(a, T('StudyInstanceUID'))).toBe(getString(b, T('StudyInstanceUID')));
    expect(getString(a, T('SeriesInstanceUID'))).toBe(getString(b, T('SeriesInstanceUID')));
    expect(getString(a, T('SOPInstanceUID'))).not.toBe(getString(b, T('SOPInstanceUID')));
    const refOf = (ds: Dataset) => getString(ds.get(T('SourceImageSequence'))!.items![0], T('ReferencedSOPInstanceUID'));
    expect(refOf(a)).toBe(getString(b, T('SOPInstanceUID')));
    expect(refOf(b)).toBe(getString(a, T('SOPInstanceUID')));
    // Another export: other UIDs.
    const c = anonymizeDataset(source('1.2.3.4.5.1', '1.2.3.4.5.2'), { uids: new UidMap(), patientId: 'P' });
    expect(getString(c, T('StudyInstanceUID'))).not.toBe(getString(a, T('StudyInstanceUID')));
  });

  it('knows the profile action of a tag', () => {
    expect(profileAction(T('PatientAddress'))).toBe('X');
    expect(profileAction(T('StudyDate'))).toBe('Z');
    expect(profileAction(T('StudyInstanceUID'))).toBe('U');
    expect(profileAction(T('Rows'))).toBe('K');
    expect(profileAction(0x00291010)).toBe('X');
    expect(newPatientId()).toMatch(/^ANON\d{10}$/);
  });
});

describe('anonymizePart10', () => {
  it('de-identifies stored CT files, keeps the pixel data, writes a matching meta header', async () => {
    const dir = await makeTempDir('pacs-anon-');
    const ct = await writeCtSeries({ dir, count: 2, rows: 32, cols: 32, patientName: 'DOE^JOHN', patientId: 'PID-1' });
    const uids = new UidMap();
    const outs = await Promise.all(ct.files.map(async (f) => anonymizePart10(await readFile(f), { uids, patientId: 'ANON2', patientName: 'CASE^ONE' })));
    const original = readPart10(await readFile(ct.files[0]));
    const parsed = outs.map((o) => readPart10(o.bytes));
    expect(parsed[0].meta.mediaStorageSopInstanceUid).toBe(outs[0].sopInstanceUid);
    expect(getString(parsed[0].dataset, T('SOPInstanceUID'))).toBe(outs[0].sopInstanceUid);
    expect(getString(parsed[0].dataset, T('PatientName'))).toBe('CASE^ONE');
    expect(getString(parsed[0].dataset, T('StudyInstanceUID'))).toBe(getString(parsed[1].dataset, T('StudyInstanceUID')));
    expect(getString(parsed[0].dataset, T('StudyInstanceUID'))).not.toBe(ct.studyUid);
    expect(getString(parsed[0].dataset, T('FrameOfReferenceUID'))).toBe(getString(parsed[1].dataset, T('FrameOfReferenceUID')));
    const px = (d: Dataset) => Buffer.from(d.get(T('PixelData'))!.value!);
    expect(px(parsed[0].dataset).equals(px(original.dataset))).toBe(true);
    expect(outs[0].bytes.includes(Buffer.from('DOE^JOHN'))).toBe(false);
    expect(outs[0].bytes.includes(Buffer.from('PID-1'))).toBe(false);
  });
});
