// Secondary capture images (8-bit grey, RGB) with known pixels: the sources of the
// transfer syntax variants.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { accession, encodeFileHeader, num, patientStudyElements, shortId, str, t, ui, type Element } from './part10.js';
import { newUid, SOP_CLASS } from './uids.js';

/** 8-bit grey test image: horizontal ramp (value = col * 255 / (cols-1)) with a white
 *  disc (255) of radius rows/8 centred at (row rows/4, col cols/4) and a black square
 *  (0) of side rows/8 at (row 3*rows/4, col 3*cols/4) (top-left corner). */
export function mono8Pixel(row: number, col: number, rows: number, cols: number): number {
  const dr = row - rows / 4;
  const dc = col - cols / 4;
  if (dr * dr + dc * dc <= (rows / 8) ** 2) return 255;
  const s = Math.floor(rows / 8);
  const r0 = Math.floor((3 * rows) / 4);
  const c0 = Math.floor((3 * cols) / 4);
  if (row >= r0 && row < r0 + s && col >= c0 && col < c0 + s) return 0;
  return Math.round((col * 255) / Math.max(1, cols - 1));
}

/** RGB test image (interleaved, planar configuration 0): quadrants red (top-left),
 *  green (top-right), blue (bottom-left), white (bottom-right), each 200 in its channels,
 *  with a yellow (255,255,0) disc of radius rows/8 at the centre. */
export function rgbPixel(row: number, col: number, rows: number, cols: number): [number, number, number] {
  const dr = row - rows / 2;
  const dc = col - cols / 2;
  if (dr * dr + dc * dc <= (rows / 8) ** 2) return [255, 255, 0];
  const top = row < rows / 2;
  const left = col < cols / 2;
  if (top && left) return [200, 0, 0];
  if (top) return [0, 200, 0];
  if (left) return [0, 0, 200];
  return [200, 200, 200];
}

export async function writeSecondaryCapture(o: { dir: string; kind: 'mono8' | 'rgb'; rows?: number; cols?: number; file?: string }): Promise<string> {
  const rows = o.rows ?? 256;
  const cols = o.cols ?? 256;
  const rgb = o.kind === 'rgb';
  const pixels = Buffer.alloc(rows * cols * (rgb ? 3 : 1) + ((rows * cols * (rgb ? 3 : 1)) % 2));
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if (rgb) pixels.set(rgbPixel(r, c, rows, cols), (r * cols + c) * 3);
      else pixels[r * cols + c] = mono8Pixel(r, c, rows, cols);
    }
  }
  const now = new Date();
  const sopInstanceUid = newUid();
  const elements: Element[] = [
    ...patientStudyElements(
      {
        patientName: 'PHANTOM^SC',
        patientId: 'PHANTOM-SC',
        studyUid: newUid(),
        studyDescription: `Synthetic ${o.kind}`,
        accessionNumber: accession(),
      },
      now,
    ),
    str(t(0x0008, 0x0008), 'CS', ['DERIVED', 'SECONDARY']),
    ui(t(0x0008, 0x0016), SOP_CLASS.secondaryCapture),
    ui(t(0x0008, 0x0018), sopInstanceUid),
    str(t(0x0008, 0x0060), 'CS', 'OT'),
    str(t(0x0008, 0x0064), 'CS', 'WSD'),
    ui(t(0x0020, 0x000e), newUid()),
    str(t(0x0020, 0x0011), 'IS', 1),
    str(t(0x0020, 0x0013), 'IS', 1),
    str(t(0x0020, 0x0020), 'CS', ''),
    num(t(0x0028, 0x0002), 'US', rgb ? 3 : 1),
    str(t(0x0028, 0x0004), 'CS', rgb ? 'RGB' : 'MONOCHROME2'),
    ...(rgb ? [num(t(0x0028, 0x0006), 'US', 0)] : []),
    num(t(0x0028, 0x0010), 'US', rows),
    num(t(0x0028, 0x0011), 'US', cols),
    num(t(0x0028, 0x0100), 'US', 8),
    num(t(0x0028, 0x0101), 'US', 8),
    num(t(0x0028, 0x0102), 'US', 7),
    num(t(0x0028, 0x0103), 'US', 0),
  ];
  fs.mkdirSync(o.dir, { recursive: true });
  const file = o.file ?? path.join(o.dir, `${o.kind}-${shortId()}.dcm`);
  const header = encodeFileHeader(SOP_CLASS.secondaryCapture, sopInstanceUid, elements, pixels.length, 'OB');
  fs.writeFileSync(file, Buffer.concat([header, pixels]));
  return file;
}
