// The stack's Pixel Data batch request as the viewer names it (ui/src/viewer/batch-request.ts):
// the series' Pixel Data URL with each instance named once, percent-encoded, in the batch's
// order, and each frame's native size (what its deflated form must inflate to) by the
// frame's absolute URL; none for an instance whose header lacks its shape; and the grey
// layout the fetch worker reads each frame's range in, where it can.
import { describe, expect, it } from 'vitest';
import type { DicomJson } from '../../ui/src/dicom-json.js';
import { batchRequest, type FrameRequest } from '../../ui/src/viewer/batch-request.js';

const shape = (rows: number, cols: number, bits: number, samples = 1, signed = false, stored = bits): DicomJson => ({
  '00280010': { vr: 'US', Value: [rows] },
  '00280011': { vr: 'US', Value: [cols] },
  '00280100': { vr: 'US', Value: [bits] },
  '00280101': { vr: 'US', Value: [stored] },
  '00280103': { vr: 'US', Value: [signed ? 1 : 0] },
  '00280002': { vr: 'US', Value: [samples] },
});
const frames = 'http://pacs.test/dicomweb/studies/1/series/2/instances';
const req = (sop: string, frame: number, instance: DicomJson): FrameRequest => ({ imageId: `wadors:${frames}/${sop}/frames/${frame}`, sopUid: sop, instance });

describe('a Pixel Data batch request', () => {
  it('names each instance once, in order, percent-encoded, and each frame its native size', () => {
    const ct = shape(512, 512, 16);
    const rgb = shape(4, 3, 8, 3);
    const batch = [req('1.2.3', 1, ct), req('1.2.4', 1, rgb), req('1.2.4', 2, rgb), req('1.2,5', 1, ct)];
    const { url, frames: got } = batchRequest(batch, '/dicomweb/studies/1/series/2/pixeldata', 'http://pacs.test/viewer?x=1');
    expect(url).toBe('http://pacs.test/dicomweb/studies/1/series/2/pixeldata?instances=1.2.3,1.2.4,1.2%2C5');
    expect(Object.fromEntries(Object.entries(got).map(([href, f]) => [href, f.size]))).toEqual({
      [`${frames}/1.2.3/frames/1`]: 512 * 512 * 2,
      [`${frames}/1.2.4/frames/1`]: 4 * 3 * 3,
      [`${frames}/1.2.4/frames/2`]: 4 * 3 * 3,
      [`${frames}/1.2,5/frames/1`]: 512 * 512 * 2,
    });
  });

  it('gives the grey layout of one-sample frames whose range the worker can read, none for colour or narrow signed values', () => {
    const batch = [
      req('1', 1, shape(2, 2, 16, 1, true)),
      req('2', 1, shape(2, 2, 16)),
      req('3', 1, shape(2, 2, 8)),
      req('4', 1, shape(2, 2, 8, 3)),
      req('5', 1, shape(2, 2, 16, 1, true, 12)),
      req('6', 1, shape(2, 2, 8, 1, true)),
    ];
    const { frames: got } = batchRequest(batch, '/p', 'http://pacs.test/');
    expect(Object.fromEntries(Object.entries(got).map(([href, f]) => [href, f.layout]))).toEqual({
      [`${frames}/1/frames/1`]: { bitsAllocated: 16, signed: true },
      [`${frames}/2/frames/1`]: { bitsAllocated: 16, signed: false },
      [`${frames}/3/frames/1`]: { bitsAllocated: 8, signed: false },
      [`${frames}/4/frames/1`]: undefined,
      [`${frames}/5/frames/1`]: undefined,
      [`${frames}/6/frames/1`]: undefined,
    });
  });

  it('gives no size for a frame whose header lacks rows, columns or bits', () => {
    const { frames: got } = batchRequest([req('9.9', 1, { '00280010': { vr: 'US', Value: [8] } })], '/p', 'http://pacs.test/');
    expect(got).toEqual({ [`${frames}/9.9/frames/1`]: {} });
  });
});
