// Multi-frame and 1 GB+ instances, streamed to disk in chunks (memory does not grow with size).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { accession, at, encodeFileHeader, num, patientStudyElements, shortId, str, t, ui, type Element } from './part10.js';
import { newUid, SOP_CLASS } from './uids.js';

/**
 * Pixel (unsigned 16-bit, Bits Stored 12) of frame f: background (row + col) % 2048;
 * a disc of value 4095 and radius rows/8 centred at row rows/2, col
 * floor(cols/4 + (cols/2) * (f % 16) / 16) (moves with the frame); pixel (0, 0) holds
 * f % 4096 (the frame index: checks frame order cheaply).
 */
export function multiFramePixel(f: number, row: number, col: number, rows: number, cols: number): number {
  if (row === 0 && col === 0) return f % 4096;
  const cx = Math.floor(cols / 4 + ((cols / 2) * (f % 16)) / 16);
  const dr = row - rows / 2;
  const dc = col - cx;
  if (dr * dr + dc * dc <= (rows / 8) ** 2) return 4095;
  return (row + col) % 2048;
}

function multiFrameTemplate(rows: number, cols: number): Buffer {
  const b = Buffer.alloc(rows * cols * 2);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) b.writeUInt16LE((r + c) % 2048, (r * cols + c) * 2);
  return b;
}

function paintFrame(template: Buffer, out: Buffer, offset: number, f: number, rows: number, cols: number): void {
  template.copy(out, offset);
  const rad = rows / 8;
  const cx = Math.floor(cols / 4 + ((cols / 2) * (f % 16)) / 16);
  const r0 = Math.max(0, Math.floor(rows / 2 - rad));
  const r1 = Math.min(rows - 1, Math.ceil(rows / 2 + rad));
  const c0 = Math.max(0, Math.floor(cx - rad));
  const c1 = Math.min(cols - 1, Math.ceil(cx + rad));
  for (let r = r0; r <= r1; r++) {
    for (let c = c0; c <= c1; c++) {
      const dr = r - rows / 2;
      const dc = c - cx;
      if (dr * dr + dc * dc <= rad * rad) out.writeUInt16LE(4095, offset + (r * cols + c) * 2);
    }
  }
  out.writeUInt16LE(f % 4096, offset);
}

export interface MultiFrameResult {
  file: string;
  sopInstanceUid: string;
  studyUid: string;
  seriesUid: string;
  frames: number;
  rows: number;
  cols: number;
  pixelBytes: number;
  fileBytes: number;
}

/**
 * Writes one Multi-frame Grayscale Word Secondary Capture instance (explicit VR LE,
 * unsigned 16-bit, Bits Stored 12; pixels per multiFramePixel). Streams: the header,
 * then the pixel data in chunks of at most ~16 MB; memory use does not grow with size.
 */
export async function writeMultiFrame(o: {
  dir: string;
  frames?: number;
  rows?: number;
  cols?: number;
  file?: string;
  patientName?: string;
  patientId?: string;
  studyUid?: string;
}): Promise<MultiFrameResult> {
  const frames = o.frames ?? 10;
  const rows = o.rows ?? 256;
  const cols = o.cols ?? 256;
  const frameBytes = rows * cols * 2;
  const pixelBytes = frameBytes * frames;
  const now = new Date();
  const sopInstanceUid = newUid();
  const seriesUid = newUid();
  const studyUid = o.studyUid ?? newUid();
  const elements: Element[] = [
    ...patientStudyElements(
      {
        patientName: o.patientName ?? 'PHANTOM^MF',
        patientId: o.patientId ?? 'PHANTOM-MF',
        studyUid,
        studyDescription: 'Synthetic multi-frame',
        accessionNumber: accession(),
      },
      now,
    ),
    str(t(0x0008, 0x0008), 'CS', ['DERIVED', 'SECONDARY']),
    ui(t(0x0008, 0x0016), SOP_CLASS.multiFrameGrayscaleWordSC),
    ui(t(0x0008, 0x0018), sopInstanceUid),
    str(t(0x0008, 0x0060), 'CS', 'OT'),
    str(t(0x0008, 0x0064), 'CS', 'WSD'),
    str(t(0x0018, 0x1063), 'DS', 40),
    ui(t(0x0020, 0x000e), seriesUid),
    str(t(0x0020, 0x0011), 'IS', 1),
    str(t(0x0020, 0x0013), 'IS', 1),
    str(t(0x0020, 0x0020), 'CS', ''),
    num(t(0x0028, 0x0002), 'US', 1),
    str(t(0x0028, 0x0004), 'CS', 'MONOCHROME2'),
    str(t(0x0028, 0x0008), 'IS', frames),
    at(t(0x0028, 0x0009), t(0x0018, 0x1063)),
    num(t(0x0028, 0x0010), 'US', rows),
    num(t(0x0028, 0x0011), 'US', cols),
    num(t(0x0028, 0x0100), 'US', 16),
    num(t(0x0028, 0x0101), 'US', 12),
    num(t(0x0028, 0x0102), 'US', 11),
    num(t(0x0028, 0x0103), 'US', 0),
    str(t(0x0028, 0x1050), 'DS', 2048),
    str(t(0x0028, 0x1051), 'DS', 4096),
    str(t(0x0028, 0x1052), 'DS', 0),
    str(t(0x0028, 0x1053), 'DS', 1),
    str(t(0x0028, 0x1054), 'LO', 'US'),
  ];
  fs.mkdirSync(o.dir, { recursive: true });
  const file = o.file ?? path.join(o.dir, `mf-${shortId()}-${frames}x${rows}x${cols}.dcm`);
  const header = encodeFileHeader(SOP_CLASS.multiFrameGrayscaleWordSC, sopInstanceUid, elements, pixelBytes, 'OW');
  const template = multiFrameTemplate(rows, cols);
  const framesPerChunk = Math.max(1, Math.floor((16 * 1024 * 1024) / frameBytes));
  const chunk = Buffer.alloc(framesPerChunk * frameBytes);
  const fh = await fs.promises.open(file, 'w');
  try {
    await fh.write(header);
    for (let f = 0; f < frames; f += framesPerChunk) {
      const n = Math.min(framesPerChunk, frames - f);
      for (let k = 0; k < n; k++) paintFrame(template, chunk, k * frameBytes, f + k, rows, cols);
      await fh.write(chunk, 0, n * frameBytes); // awaited: the chunk is reused only after it is written
    }
  } finally {
    await fh.close();
  }
  return { file, sopInstanceUid, studyUid, seriesUid, frames, rows, cols, pixelBytes, fileBytes: header.length + pixelBytes };
}

/** A multi-frame instance whose pixel data is at least `bytes` (default 1.1e9) long,
 *  1024x1024 frames, streamed to disk (never the whole in memory). */
export async function writeLargeInstance(o: { dir: string; bytes?: number; rows?: number; cols?: number }): Promise<MultiFrameResult> {
  const rows = o.rows ?? 1024;
  const cols = o.cols ?? 1024;
  const frames = Math.ceil((o.bytes ?? 1.1e9) / (rows * cols * 2));
  return writeMultiFrame({ dir: o.dir, frames, rows, cols, file: path.join(o.dir, `large-${shortId()}-${frames}x${rows}x${cols}.dcm`) });
}
