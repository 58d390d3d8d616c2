import { describe, expect, it } from 'vitest';
import { Dataset, getNumber, getNumbers, getString } from '../../src/dicom/dataset.js';
import { readDataset } from '../../src/dicom/dataset-reader.js';
import { putNumbers, putString, writeDataset } from '../../src/dicom/dataset-writer.js';
import { datasetToJson, datasetToJsonText, jsonToDataset } from '../../src/dicom/dataset-json.js';
import { DicomParseError } from '../../src/dicom/errors.js';
import { buildMetaHeader, IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME, readMetaHeader, readPart10 } from '../../src/dicom/part10.js';
import { Tags } from '../../src/dicom/tag.js';
import { isValidUid } from '../../src/dicom/uid-generator.js';
import { RICH_DUMP } from './fixtures.js';
import { dcmdump, dumpToFile, readBytes, workDir } from './helpers/dcmtk.js';
import { normaliseDump, ourLines } from './helpers/compare.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SYNTAXES = ['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2'];

function sample(): Dataset {
  const ds = new Dataset();
  putString(ds, Tags.SpecificCharacterSet, 'CS', 'ISO_IR 192');
  putString(ds, Tags.PatientName, 'PN', 'Müller^Hans=山田^太郎');
  putString(ds, Tags.PatientID, 'LO', 'ID1');
  putString(ds, Tags.SOPInstanceUID, 'UI', '1.2.3.4.5');
  putString(ds, 0x00200032, 'DS', ['-1.5', '2', '3.25']);
  putNumbers(ds, 0x00280010, 'US', [512]);
  putNumbers(ds, 0x00189089, 'FD', [0.5, -1.25, 3]);
  putNumbers(ds, 0x00209165, 'AT', [0x00100010, 0x0020000d]);
  const item = new Dataset(ds);
  putString(item, 0x00080100, 'SH', 'CODE');
  putString(item, 0x00080104, 'LO', 'Meaning');
  const inner = new Dataset(item);
  putNumbers(inner, 0x00280011, 'US', [7]);
  item.put({ tag: 0x00400008, vr: 'SQ', length: 0, items: [inner] });
  ds.put({ tag: 0x00400275, vr: 'SQ', length: 0, items: [item, new Dataset(ds)] });
  ds.put({ tag: 0x00420011, vr: 'OB', length: 4, value: Uint8Array.from([1, 2, 3, 4]) });
  return ds;
}

/** Structure and values without encoding details (lengths, padding). */
function canon(ds: Dataset): unknown {
  return datasetToJson(ds);
}

describe('dataset writer', () => {
  for (const ts of SYNTAXES) {
    for (const undefinedLengths of [false, true]) {
      it(`round-trips read(write(ds)) in ${ts} (undefined lengths: ${undefinedLengths})`, () => {
        const ds = sample();
        const bytes = writeDataset(ds, ts, { undefinedLengths });
        expect(bytes.length % 2).toBe(0);
        const back = readDataset(bytes, ts);
        expect(canon(back)).toEqual(canon(ds));
        expect(getString(back, Tags.PatientName)).toBe('Müller^Hans=山田^太郎');
        expect(getNumbers(back, 0x00189089)).toEqual([0.5, -1.25, 3]);
        // and again: byte-identical second generation
        expect(writeDataset(back, ts, { undefinedLengths })).toEqual(bytes);
      });
    }
  }

  it('writes a file dcmdump reads with the same content', () => {
    const ds = sample();
    for (const ts of SYNTAXES) {
      const file = Buffer.concat([
        buildMetaHeader({ sopClassUid: '1.2.840.10008.5.1.4.1.1.7', sopInstanceUid: '1.2.3.4.5', transferSyntaxUid: ts }),
        writeDataset(ds, ts),
      ]);
      const path = join(workDir, `w${ts}.dcm`);
      writeFileSync(path, file);
      const expected = normaliseDump(dcmdump(path)).filter((l) => l.tag !== '00420011');
      const ours = ourLines(readPart10(file).dataset).filter((l) => l.tag !== '00420011');
      expect(ours.map((l) => [l.tag, l.vr, l.value.replace(/^\[|\]$/g, '')])).toEqual(
        expected.map((l) => [l.tag, l.vr === 'UN' ? 'OB' : l.vr, l.value.replace(/^\[|\]$/g, '')]),
      );
    }
  });
});

describe('DICOM JSON', () => {
  it('follows PS3.18 F.2: PN objects, IS/DS numbers, AT hex, SQ arrays, InlineBinary, bulk without Value', () => {
    const ds = sample();
    ds.put({ tag: Tags.PixelData, vr: 'OW', length: 1 << 20, skipped: true });
    const j = datasetToJson(ds, { bulkDataUri: (el) => (el.tag === Tags.PixelData ? 'bulk/7FE00010' : undefined) });
    expect(j['00100010']).toEqual({ vr: 'PN', Value: [{ Alphabetic: 'Müller^Hans', Ideographic: '山田^太郎' }] });
    expect(j['00200032']).toEqual({ vr: 'DS', Value: [-1.5, 2, 3.25] });
    expect(j['00280010']).toEqual({ vr: 'US', Value: [512] });
    expect(j['00209165']).toEqual({ vr: 'AT', Value: ['00100010', '0020000D'] });
    expect(j['00420011']).toEqual({ vr: 'OB', InlineBinary: 'AQIDBA==' });
    expect(j['7FE00010']).toEqual({ vr: 'OW', BulkDataURI: 'bulk/7FE00010' });
    const seq = j['00400275'].Value as Record<string, unknown>[];
    expect(seq).toHaveLength(2);
    expect(seq[1]).toEqual({});
    expect(seq[0]['00080104']).toEqual({ vr: 'LO', Value: ['Meaning'] });
    // back again
    const back = jsonToDataset(j);
    expect(datasetToJson(back, { bulkDataUri: (el) => (el.tag === Tags.PixelData ? 'bulk/7FE00010' : undefined) })).toEqual(j);
  });

  it('writes the text JSON.stringify writes of datasetToJson, key order and escapes included', () => {
    const bulk = { bulkDataUri: (el: { tag: number }) => (el.tag === Tags.PixelData ? 'bulk/"7FE00010"' : undefined) };
    const rich = readPart10(readBytes(dumpToFile(RICH_DUMP, '+te'))).dataset;
    const s = sample();
    s.put({ tag: Tags.PixelData, vr: 'OW', length: 1 << 20, skipped: true });
    const odd = new Dataset();
    // Keys JSON.stringify puts first (array indices: digits, no leading zero) among others.
    putString(odd, 0x20011001, 'LO', 'private "quoted" \\ back\nline');
    putString(odd, 0x10000010, 'SH', 'x');
    putString(odd, 0x00080050, 'SH', '');
    putString(odd, 0x00200013, 'IS', '12\\abc\\');
    putString(odd, 0x00100010, 'PN', '=Yamada\\^');
    putString(odd, 0x00081030, 'LO', 'tab\there \u0001 \ud800 end');
    putNumbers(odd, 0x00189087, 'FD', [Number.NaN, -0, 1e21, Number.POSITIVE_INFINITY, 0.1]);
    odd.put({ tag: 0x00400275, vr: 'SQ', length: 0, items: [] });
    for (const [ds, opts] of [
      [rich, {}],
      [s, bulk],
      [s, { inlineBinaryMax: 2 }],
      [odd, {}],
    ] as const) {
      expect(datasetToJsonText(ds, opts)).toBe(JSON.stringify(datasetToJson(ds, opts)));
    }
    expect(Object.keys(JSON.parse(datasetToJsonText(odd)) as object).slice(0, 2)).toEqual(['10000010', '20011001']);
  });

  it('converts a DCMTK file (ISO_IR 100) to the same JSON as dcmjs would for the strings', () => {
    const { dataset } = readPart10(readBytes(dumpToFile(RICH_DUMP, '+te')));
    const j = datasetToJson(dataset);
    expect(j['00100010'].Value).toEqual([{ Alphabetic: 'Müller^Hans^^Dr.' }]);
    expect(j['00080008'].Value).toEqual(['ORIGINAL', 'PRIMARY', 'AXIAL']);
    expect(j['00080090']).toEqual({ vr: 'PN' });
    expect(j['00281052'].Value).toEqual([-1024]);
    expect(j['0040A730']).toEqual({ vr: 'SQ' });
  });
});

describe('Part 10 meta header', () => {
  it('encodes the same bytes as a Dataset written by writeDataset, for odd and even values, with and without an AE', () => {
    const generic = (sopClassUid: string, sopInstanceUid: string, transferSyntaxUid: string, ae?: string): Buffer => {
      const ds = new Dataset();
      ds.put({ tag: Tags.FileMetaInformationVersion, vr: 'OB', length: 2, value: new Uint8Array([0, 1]) });
      for (const [tag, uid] of [
        [Tags.MediaStorageSOPClassUID, sopClassUid],
        [Tags.MediaStorageSOPInstanceUID, sopInstanceUid],
        [Tags.TransferSyntaxUID, transferSyntaxUid],
        [Tags.ImplementationClassUID, IMPLEMENTATION_CLASS_UID],
      ] as const) {
        const b = Buffer.from(uid, 'latin1');
        const v = b.length % 2 ? Buffer.concat([b, Buffer.alloc(1)]) : b;
        ds.put({ tag, vr: 'UI', length: v.length, value: new Uint8Array(v) });
      }
      putString(ds, Tags.ImplementationVersionName, 'SH', IMPLEMENTATION_VERSION_NAME);
      if (ae !== undefined) putString(ds, Tags.SourceApplicationEntityTitle, 'AE', ae);
      const body = writeDataset(ds, '1.2.840.10008.1.2.1');
      const gl = Buffer.from([0x02, 0x00, 0x00, 0x00, 0x55, 0x4c, 0x04, 0x00, 0, 0, 0, 0]);
      gl.writeUInt32LE(body.length, 8);
      return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), gl, body]);
    };
    for (const [cls, uid, ts, ae] of [
      ['1.2.840.10008.5.1.4.1.1.2', '1.2.3.45', '1.2.840.10008.1.2.1', 'MODALITY'],
      ['1.2.840.10008.5.1.4.1.1.7', '1.2.3.4', '1.2.840.10008.1.2', 'ODD'],
      ['1.2.840.10008.5.1.4.1.1.4', '1.2.826.0.1.3680043.8.498.12345678901234567890123456789012345678901', '1.2.840.10008.1.2.4.50', undefined],
    ] as const) {
      const built = buildMetaHeader({ sopClassUid: cls, sopInstanceUid: uid, transferSyntaxUid: ts, sourceAeTitle: ae });
      expect(built.equals(generic(cls, uid, ts, ae))).toBe(true);
    }
  });

  it('builds a meta header dcmdump accepts, with the right group length, and reads it back', () => {
    const meta = buildMetaHeader({
      sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
      sopInstanceUid: '1.2.3.45',
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      sourceAeTitle: 'MODALITY',
    });
    expect(meta.subarray(128, 132).toString('latin1')).toBe('DICM');
    expect(meta.readUInt32LE(140)).toBe(meta.length - 144);
    const ds = new Dataset();
    putString(ds, Tags.PatientID, 'LO', 'P1');
    const file = Buffer.concat([meta, writeDataset(ds, '1.2.840.10008.1.2.1')]);
    const { meta: m, dataSetOffset } = readMetaHeader(file);
    expect(dataSetOffset).toBe(meta.length);
    expect(m).toMatchObject({
      mediaStorageSopClassUid: '1.2.840.10008.5.1.4.1.1.2',
      mediaStorageSopInstanceUid: '1.2.3.45',
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      implementationClassUid: IMPLEMENTATION_CLASS_UID,
      implementationVersionName: IMPLEMENTATION_VERSION_NAME,
      sourceAeTitle: 'MODALITY',
    });
    const path = join(workDir, 'meta.dcm');
    writeFileSync(path, file);
    const text = dcmdump(path);
    expect(text.find((l) => l.tag === '00100020')?.value).toBe('[P1]');
    expect(isValidUid(IMPLEMENTATION_CLASS_UID)).toBe(true);
    expect(getNumber(readPart10(file).dataset, Tags.PatientID)).toBeUndefined();
  });

  it('throws DicomParseError for non-Part-10 and truncated meta headers', () => {
    const meta = buildMetaHeader({ sopClassUid: '1.2', sopInstanceUid: '1.3', transferSyntaxUid: '1.2.840.10008.1.2' });
    expect(() => readMetaHeader(meta.subarray(0, 150))).toThrow(DicomParseError);
    expect(() => readMetaHeader(Buffer.alloc(300))).toThrow(DicomParseError);
    const broken = Buffer.from(meta);
    broken.writeUInt32LE(10, 140);
    expect(() => readMetaHeader(broken)).toThrow(DicomParseError);
  });
});
