/**
 * The DICOMDIR writer (PS3.10 / PS3.3 Annex F): records linked by offsets DCMTK follows
 * (dcmdump prints each record's offset beside the offsets pointing at it), record types by
 * SOP Class, Type 1 keys a file lacks invented, file IDs checked.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { Dataset } from '../../src/dicom/dataset.js';
import { putString } from '../../src/dicom/dataset-writer.js';
import { buildDicomdir, dicomdirFile, fileIdProblem, recordKind } from '../../src/dicom/dicomdir.js';
import { readPart10 } from '../../src/dicom/part10.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

const run = promisify(execFile);
const CT = '1.2.840.10008.5.1.4.1.1.2';
const SR = '1.2.840.10008.5.1.4.1.1.88.22';
const ELE = '1.2.840.10008.1.2.1';

afterAll(removeTempDirs);

function file(id: string[], sopClass: string, sop: string, keys: Record<number, [string, string]>) {
  const ds = new Dataset();
  for (const [tag, [vr, v]] of Object.entries(keys)) putString(ds, Number(tag), vr as 'LO', v);
  return dicomdirFile(id, { mediaStorageSopClassUid: sopClass, mediaStorageSopInstanceUid: sop, transferSyntaxUid: ELE }, ds);
}

const patient = { 0x00100010: ['PN', 'DOE^JANE'], 0x00100020: ['LO', 'P1'] } as Record<number, [string, string]>;
const studyA = { ...patient, 0x0020000d: ['UI', '1.2.3'], 0x00080020: ['DA', '20240102'], 0x00080030: ['TM', '101010'], 0x00200010: ['SH', '7'] } as Record<
  number,
  [string, string]
>;

describe('DICOMDIR', () => {
  it('links patient, study, series and file records by offsets DCMTK reads', async () => {
    const files = [
      file(['DICOM', 'S0000001', 'I0000001'], CT, '1.2.3.1.1', { ...studyA, 0x0020000e: ['UI', '1.2.3.1'], 0x00080060: ['CS', 'CT'], 0x00200013: ['IS', '1'] }),
      file(['DICOM', 'S0000001', 'I0000002'], CT, '1.2.3.1.2', { ...studyA, 0x0020000e: ['UI', '1.2.3.1'], 0x00080060: ['CS', 'CT'], 0x00200013: ['IS', '2'] }),
      file(['DICOM', 'S0000002', 'I0000001'], SR, '1.2.3.2.1', { ...studyA, 0x0020000e: ['UI', '1.2.3.2'], 0x00080060: ['CS', 'SR'] }),
    ];
    const bytes = buildDicomdir(files);
    const dir = await makeTempDir('pacs-dicomdir-');
    await writeFile(join(dir, 'DICOMDIR'), bytes);
    expect((await run('dcmftest', [join(dir, 'DICOMDIR')])).stdout).toMatch(/^yes:/);
    const dump = (await run('dcmdump', ['-q', join(dir, 'DICOMDIR')])).stdout;
    // Each record as DCMTK finds it: its type and the offset it sits at.
    const records = [...dump.matchAll(/"Directory Record" ([A-Z ]+?) #=\d+[^\n]*\n\s*# +offset=\$(\d+)/g)].map((m) => [m[1], Number(m[2])] as const);
    expect(records.map((r) => r[0])).toEqual(['PATIENT', 'STUDY', 'SERIES', 'IMAGE', 'IMAGE', 'SERIES', 'SR DOCUMENT']);
    const at = (type: string, n = 0) => records.filter((r) => r[0] === type)[n][1];
    const { dataset } = readPart10(bytes);
    const seq = dataset.get(0x00041220)!.items!;
    const ul = (ds: Dataset, tag: number) => Buffer.from(ds.get(tag)!.value!).readUInt32LE(0);
    expect(ul(dataset, 0x00041200)).toBe(at('PATIENT'));
    expect(ul(dataset, 0x00041202)).toBe(at('PATIENT'));
    expect(ul(seq[0], 0x00041420)).toBe(at('STUDY'));
    expect(ul(seq[1], 0x00041420)).toBe(at('SERIES'));
    expect(ul(seq[2], 0x00041400)).toBe(at('SERIES', 1));
    expect(ul(seq[2], 0x00041420)).toBe(at('IMAGE'));
    expect(ul(seq[3], 0x00041400)).toBe(at('IMAGE', 1));
    expect(ul(seq[4], 0x00041400)).toBe(0);
    expect(ul(seq[5], 0x00041420)).toBe(at('SR DOCUMENT'));
    expect(dump).toContain('(0004,1500) CS [DICOM\\S0000002\\I0000001]');
    // The SR record's Type 1 instance number is not in its file: invented, as dcmmkdir --invent would.
    expect(dump).toMatch(/SR DOCUMENT[\s\S]*\(0020,0013\) IS \[1\]/);
  });

  it('refuses file IDs that are not PS3.10 file IDs', () => {
    expect(fileIdProblem(['DICOM', 'S0000001', 'I0000001'])).toBeUndefined();
    expect(fileIdProblem(['dicom'])).toMatch(/A-Z, 0-9, _/);
    expect(fileIdProblem(['TOOLONGNAME'])).toMatch(/1 to 8 characters/);
    expect(fileIdProblem(['..'])).toMatch(/not 1 to 8/);
    expect(fileIdProblem(Array(9).fill('A'))).toMatch(/1 to 8 components/);
    expect(() => file(['a.dcm'], CT, '1.2', {})).toThrow(RangeError);
    expect(() => buildDicomdir([])).toThrow(/at least one file/);
  });

  it('chooses the record type by SOP Class', () => {
    expect(recordKind(CT).type).toBe('IMAGE');
    expect(recordKind(SR).type).toBe('SR DOCUMENT');
    expect(recordKind('1.2.840.10008.5.1.4.1.1.88.59').type).toBe('KEY OBJECT DOC');
    expect(recordKind('1.2.840.10008.5.1.4.1.1.11.1').type).toBe('PRESENTATION');
    expect(recordKind('1.2.840.10008.5.1.4.1.1.104.1').type).toBe('ENCAP DOC');
  });
});
