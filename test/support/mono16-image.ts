// The Image Pixel module of the small synthetic images the query tests and benches
// store: unsigned 16-bit MONOCHROME2 words, one sample, and the Pixel Data itself.
import type { Dataset } from '../../src/dicom/dataset.js';
import { putNumbers, putString } from '../../src/dicom/dataset-writer.js';

export function putMono16Image(ds: Dataset, o: { rows: number; cols: number; bitsStored: number; pixels: Uint8Array }): void {
  putNumbers(ds, 0x00280002, 'US', [1]);
  putString(ds, 0x00280004, 'CS', 'MONOCHROME2');
  putNumbers(ds, 0x00280010, 'US', [o.rows]);
  putNumbers(ds, 0x00280011, 'US', [o.cols]);
  putNumbers(ds, 0x00280100, 'US', [16]);
  putNumbers(ds, 0x00280101, 'US', [o.bitsStored]);
  putNumbers(ds, 0x00280102, 'US', [o.bitsStored - 1]);
  putNumbers(ds, 0x00280103, 'US', [0]);
  ds.put({ tag: 0x7fe00010, vr: 'OW', length: o.pixels.length, value: o.pixels });
}
