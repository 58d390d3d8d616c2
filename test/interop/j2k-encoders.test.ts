/**
 * JPEG 2000 and HTJ2K made by encoders other than the codecs we decode with: GDCM's
 * gdcmconv (OpenJPEG inside) writes JPEG 2000 DICOM files, lossless and lossy; OpenJPH's
 * ojph_compress writes an HTJ2K codestream (wrapped here in encapsulated Pixel Data).
 * decompressDataset() (what retrieve and the router use when a peer refuses the stored
 * syntax) must give back the original pixels (lossless), or what GDCM itself decodes
 * (lossy). And the other way: the signed HTJ2K our fixtures make with dcmjs-codecs
 * (writeJ2kVariant in test/web/pixel-fixtures.ts) decodes in OpenJPEG's opj_decompress
 * to the original samples.
 * Not used: ojph_compress with signed raw input. OpenJPEG and dcmjs-codecs both decode
 * its codestream of a CT's -2000 as 32767 (and ojph_expand decodes dcmjs-codecs' as 0),
 * so that tool path, not our decoder, is the odd one out.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCtSeries } from '../../scripts/gen-test-data.js';
import { decompressDataset } from '../../src/dicom/codecs/index.js';
import { getNumber, type Dataset } from '../../src/dicom/dataset.js';
import { putNumbers } from '../../src/dicom/dataset-writer.js';
import { readPart10 } from '../../src/dicom/part10.js';
import { runDcmtk } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { writeJ2kVariant } from '../web/pixel-fixtures.js';

const PIXEL_DATA = 0x7fe00010;
const TS = { j2kLossless: '1.2.840.10008.1.2.4.90', j2k: '1.2.840.10008.1.2.4.91', htj2kLossless: '1.2.840.10008.1.2.4.201' };

let dir: string;
let original: { file: string; ds: Dataset; pixels: Buffer; rows: number; cols: number };

function read(file: string): { ts: string; ds: Dataset } {
  const { meta, dataset } = readPart10(fs.readFileSync(file), { stopAtPixelData: false, maxValueLength: Number.POSITIVE_INFINITY });
  return { ts: meta.transferSyntaxUid, ds: dataset };
}

function pixelsOf(ds: Dataset): Buffer {
  const el = ds.get(PIXEL_DATA);
  if (!el?.value) throw new Error('no native Pixel Data');
  return Buffer.from(el.value.buffer, el.value.byteOffset, el.value.byteLength);
}

async function run(tool: string, args: string[]): Promise<void> {
  const r = await runDcmtk(tool, args);
  if (r.code !== 0) throw new Error(`${tool} ${args.join(' ')} exited ${r.code}: ${r.stderr || r.stdout}`);
}

beforeAll(async () => {
  dir = await makeTempDir('pacs-j2k-');
  // One CT slice of the phantom: signed 16-bit, air -1000 HU, water, bone.
  const ct = await writeCtSeries({ dir, count: 1, rows: 128, cols: 128 });
  const { ts, ds } = read(ct.files[0]);
  expect(ts).toBe('1.2.840.10008.1.2.1');
  original = { file: ct.files[0], ds, pixels: pixelsOf(ds), rows: getNumber(ds, 0x00280010)!, cols: getNumber(ds, 0x00280011)! };
  expect(getNumber(ds, 0x00280103)).toBe(1);
}, 60_000);

afterAll(() => removeTempDirs());

describe('JPEG 2000 and HTJ2K across encoders and decoders', () => {
  it("decodes GDCM's lossless JPEG 2000 to the original pixels", async () => {
    const out = path.join(dir, 'gdcm-j2k-lossless.dcm');
    await run('gdcmconv', ['--j2k', original.file, out]);
    const { ts, ds } = read(out);
    expect(ts).toBe(TS.j2kLossless);
    expect(ds.get(PIXEL_DATA)?.fragments?.length).toBeGreaterThan(1);
    await decompressDataset(ds, ts);
    expect(pixelsOf(ds).subarray(0, original.pixels.length).equals(original.pixels)).toBe(true);
  });

  it("decodes GDCM's lossy JPEG 2000 as GDCM itself does", async () => {
    const out = path.join(dir, 'gdcm-j2k-lossy.dcm');
    await run('gdcmconv', ['--j2k', '--lossy', '-q', '30', original.file, out]);
    const { ts, ds } = read(out);
    expect(ts).toBe(TS.j2k);
    // GDCM's own decoding of its file (OpenJPEG) is the reference for a lossy codestream.
    const reference = path.join(dir, 'gdcm-j2k-lossy-decoded.dcm');
    await run('gdcmconv', ['--raw', out, reference]);
    const want = pixelsOf(read(reference).ds);
    await decompressDataset(ds, ts);
    const got = pixelsOf(ds);
    const n = original.rows * original.cols;
    let maxDiff = 0;
    let changed = 0;
    for (let i = 0; i < n; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(got.readInt16LE(2 * i) - want.readInt16LE(2 * i)));
      if (got.readInt16LE(2 * i) !== original.pixels.readInt16LE(2 * i)) changed++;
    }
    expect(maxDiff).toBeLessThanOrEqual(1); // the 9/7 wavelet's rounding may differ by one
    expect(changed).toBeGreaterThan(0); // lossy indeed: not the lossless path by accident
  });

  it('decodes an OpenJPH (ojph_compress) HTJ2K lossless codestream to the original pixels', async () => {
    // The CT's samples + 2000 as unsigned 16-bit (PGM is big-endian).
    const n = original.rows * original.cols;
    const unsigned = Buffer.alloc(2 * n);
    const pgm = Buffer.alloc(2 * n);
    for (let i = 0; i < n; i++) {
      const v = original.pixels.readInt16LE(2 * i) + 2000;
      expect(v).toBeGreaterThanOrEqual(0);
      unsigned.writeUInt16LE(v, 2 * i);
      pgm.writeUInt16BE(v, 2 * i);
    }
    const pgmFile = path.join(dir, 'ct.pgm');
    const j2c = path.join(dir, 'ct.j2c');
    fs.writeFileSync(pgmFile, Buffer.concat([Buffer.from(`P5\n${original.cols} ${original.rows}\n65535\n`, 'latin1'), pgm]));
    await run('ojph_compress', ['-i', pgmFile, '-o', j2c, '-reversible', 'true']);
    const codestream = fs.readFileSync(j2c);
    expect(codestream.readUInt16BE(0)).toBe(0xff4f); // SOC
    const { ds } = read(original.file);
    putNumbers(ds, 0x00280103, 'US', [0]); // Pixel Representation: unsigned
    const frame = codestream.length % 2 ? Buffer.concat([codestream, Buffer.alloc(1)]) : codestream;
    ds.put({
      tag: PIXEL_DATA,
      vr: 'OB',
      length: 0xffffffff,
      fragments: [Buffer.alloc(0), frame].map((value, i) => ({ length: value.length, offset: i, value })),
    });
    await decompressDataset(ds, TS.htj2kLossless);
    expect(pixelsOf(ds).subarray(0, unsigned.length).equals(unsigned)).toBe(true);
  });

  it("makes signed HTJ2K (writeJ2kVariant, our fixtures' encoder) that OpenJPEG decodes to the original samples", async () => {
    const { ts, ds } = read(await writeJ2kVariant(original.file, path.join(dir, 'ours-htj2k.dcm'), 'htj2k'));
    expect(ts).toBe(TS.htj2kLossless);
    const [, frame] = ds.get(PIXEL_DATA)!.fragments!;
    const j2c = path.join(dir, 'ours.j2c');
    fs.writeFileSync(j2c, frame.value!);
    const raw = path.join(dir, 'ours-opj.raw');
    await run('opj_decompress', ['-i', j2c, '-o', raw]);
    expect(fs.readFileSync(raw).equals(original.pixels.subarray(0, original.rows * original.cols * 2))).toBe(true); // signed 16-bit LE
  });
});
