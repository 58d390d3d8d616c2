// The viewer's check of a JPEG 2000 frame before decoding (ui/src/viewer/frame-check.ts),
// on a real codestream (OpenJPEG through dcmjs-codecs) and damaged copies of it, bare and
// as the WADO-RS multipart response the viewer receives; and where a frame lies
// (ui/src/viewer/geometry.ts): orientation only from the header, location from the position.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCtSeries } from '../../scripts/gen-test-data.js';
import { frameProblem, j2kProblem, mediaParam } from '../../ui/src/viewer/frame-check.js';
import { locationOf, orientationOf } from '../../ui/src/viewer/geometry.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { storedCodestream, writeJ2kVariant } from '../web/pixel-fixtures.js';

let cs: Buffer;

beforeAll(async () => {
  const dir = await makeTempDir('pacs-frame-check-');
  const ct = await writeCtSeries({ dir, count: 1, rows: 64, cols: 80 });
  const file = await writeJ2kVariant(ct.files[0], join(dir, 'j2k.dcm'), 'jpeg2000');
  cs = storedCodestream(file);
  expect((await readFile(file)).length).toBeGreaterThan(cs.length);
});

afterAll(removeTempDirs);

/** A one-part multipart body, as an ArrayBuffer of its own (a Buffer's may be a shared pool). */
const multipart = (body: Uint8Array, partType: string): ArrayBuffer =>
  Uint8Array.from(Buffer.concat([Buffer.from(`--b1\r\nContent-Type: ${partType}\r\n\r\n`), body, Buffer.from('\r\n--b1--\r\n')])).buffer;
const RESPONSE_TYPE = 'multipart/related; type="application/octet-stream"; boundary=b1';

describe('frame check', () => {
  it('passes an intact codestream of the right size, and names a wrong size or component count', () => {
    expect(j2kProblem(cs, { rows: 64, columns: 80, samplesPerPixel: 1 })).toBeUndefined();
    expect(j2kProblem(cs, { rows: 80, columns: 64 })).toBe('the JPEG 2000 image is 80 x 64, the header says 64 x 80');
    expect(j2kProblem(cs, { samplesPerPixel: 3 })).toBe('the JPEG 2000 image has 1 component(s), the header says 3');
  });

  it('names a destroyed header, a cut codestream and a missing start', () => {
    const garbage = Buffer.from(cs);
    for (let k = 2; k < garbage.length; k++) garbage[k] = (k * 37) & 0x7f;
    expect(j2kProblem(garbage)).toBe('the JPEG 2000 image header (SIZ) is missing or damaged');
    expect(j2kProblem(cs.subarray(0, Math.floor(cs.length / 2)))).toMatch(/cut short|no EOC/);
    expect(j2kProblem(cs.subarray(0, 30))).toBe('the JPEG 2000 image header (SIZ) is missing or damaged');
    expect(j2kProblem(cs.subarray(2))).toBe('no JPEG 2000 start of codestream (SOC)');
  });

  it('reads the codestream out of a multipart frame response, and lets other transfer syntaxes through', () => {
    const j2kType = 'application/octet-stream; transfer-syntax=1.2.840.10008.1.2.4.90';
    expect(frameProblem(multipart(cs, j2kType), RESPONSE_TYPE, { rows: 64, columns: 80 })).toBeUndefined();
    expect(frameProblem(multipart(cs, 'image/jp2'), RESPONSE_TYPE)).toBeUndefined();
    const cut = multipart(cs.subarray(0, cs.length - 40), j2kType);
    expect(frameProblem(cut, RESPONSE_TYPE)).toMatch(/cut short|no EOC/);
    const native = multipart(Buffer.alloc(100, 7), 'application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1');
    expect(frameProblem(native, RESPONSE_TYPE)).toBeUndefined();
    expect(mediaParam(RESPONSE_TYPE, 'boundary')).toBe('b1');
    expect(mediaParam(RESPONSE_TYPE, 'type')).toBe('application/octet-stream');
  });
});

describe('frame geometry', () => {
  const axial = {
    '00200037': { vr: 'DS', Value: [1, 0, 0, 0, 1, 0] },
    '00200032': { vr: 'DS', Value: [-100, -100, 42.5] },
    '00201041': { vr: 'DS', Value: [999] },
  };

  it('takes the location from the position along the normal, not Slice Location', () => {
    expect(locationOf(axial)).toBe(42.5);
    // A coronal plane (rows along x, columns along -z): the normal is +y, the location the position's y.
    const coronal = { '00200037': { vr: 'DS', Value: [1, 0, 0, 0, 0, -1] }, '00200032': { vr: 'DS', Value: [0, 30, 0] } };
    expect(locationOf(coronal)).toBe(30);
  });

  it('has no orientation without Image Orientation (Patient), an all-zero one, or a functional group that holds one', () => {
    expect(orientationOf({})).toBeUndefined();
    expect(orientationOf({ '00200037': { vr: 'DS', Value: [0, 0, 0, 0, 0, 0] } })).toBeUndefined();
    expect(locationOf({ '00200032': { vr: 'DS', Value: [0, 0, 5] } })).toBeUndefined();
    const enhanced = {
      '52009229': { vr: 'SQ', Value: [{ '00209116': { vr: 'SQ', Value: [{ '00200037': { vr: 'DS', Value: [0, 1, 0, 0, 0, -1] } }] } }] },
      '52009230': {
        vr: 'SQ',
        Value: [1, 2].map((k) => ({ '00209113': { vr: 'SQ', Value: [{ '00200032': { vr: 'DS', Value: [k * 2.5, 0, 0] } }] } })),
      },
    };
    expect(orientationOf(enhanced, 2)).toEqual([0, 1, 0, 0, 0, -1]);
    expect(locationOf(enhanced, 2)).toBe(-5);
  });
});
