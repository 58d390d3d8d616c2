/**
 * JPEG 2000 made by an encoder other than the codecs we decode with: GDCM's gdcmconv
 * (OpenJPEG inside) writes JPEG 2000 DICOM files, lossless and lossy.
 * decompressDataset() (what retrieve and the router use when a peer refuses the stored
 * syntax) must give back the original pixels (lossless), or what GDCM itself decodes
 * (lossy). test/dicom/codecs.test.ts covers frames encoded by dcmjs-codecs itself.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCtSeries } from '../../scripts/gen-test-data.js';
import { decompressDataset } from '../../src/dicom/codecs/index.js';
import { getNumber, type Dataset } from '../../src/dicom/dataset.js';
import { readPart10 } from '../../src/dicom/part10.js';
import { runDcmtk } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

const PIXEL_DATA = 0x7fe00010;
const TS = { j2kLossless: '1.2.840.10008.1.2.4.90', j2k: '1.2.840.10008.1.2.4.91' };

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

describe('JPEG 2000 from another encoder (GDCM)', () => {
  it('decodes GDCM\'s lossless JPEG 2000 to the original pixels', async () => {
    const out = path.join(dir, 'gdcm-j2k-lossless.dcm');
    await run('gdcmconv', ['--j2k', original.file, out]);
    const { ts, ds } = read(out);
    expect(ts).toBe(TS.j2kLossless);
    expect(ds.get(PIXEL_DATA)?.fragments?.length).toBeGreaterThan(1);
    await decompressDataset(ds, ts);
    expect(pixelsOf(ds).subarray(0, original.pixels.length).equals(original.pixels)).toBe(true);
  });

  it('decodes GDCM\'s lossy JPEG 2000 as GDCM itself does', async () => {
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
});
