/**
 * For the pixel route tests: an Archive in a temp dir behind a tiny fastify app with only
 * the pixel routes under /dicomweb, storing Part 10 files into it, JPEG 2000 / HTJ2K
 * variants made with dcmjs-codecs' encoders, and a multipart/related parser.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { createRequire } from 'node:module';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Archive } from '../../src/archive/index.js';
import { loadCodecs } from '../../src/dicom/codecs/index.js';
import { getNumber, getString } from '../../src/dicom/dataset.js';
import { putString, writeDataset } from '../../src/dicom/dataset-writer.js';
import { buildMetaHeader, readMetaHeader, readPart10 } from '../../src/dicom/part10.js';
import { registerPixelRoutes } from '../../src/web/dicomweb/pixel-routes.js';
import { newUid } from '../../scripts/gen-test-data.js';
import { tempDir } from '../archive/helpers.js';

export interface PixelApp {
  app: FastifyInstance;
  archive: Archive;
  dir: string;
  close(): Promise<void>;
}

export async function pixelApp(): Promise<PixelApp> {
  const dir = tempDir('pacs-pixels-');
  const archive = await Archive.open({ dataDir: dir });
  const app = Fastify();
  await app.register(async (scope) => registerPixelRoutes(scope, { archive }), { prefix: '/dicomweb' });
  await app.ready();
  return {
    app,
    archive,
    dir,
    close: async () => {
      await app.close();
      await archive.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface StoredRef {
  study: string;
  series: string;
  sop: string;
  transferSyntaxUid: string;
  file: string;
}

/** Stores a Part 10 file as a C-STORE would (data set after the meta header). */
export async function storeFile(archive: Archive, file: string): Promise<StoredRef> {
  const bytes = readFileSync(file);
  const { meta, dataSetOffset } = readMetaHeader(bytes);
  const sink = archive.beginStore({
    sopClassUid: meta.mediaStorageSopClassUid,
    sopInstanceUid: meta.mediaStorageSopInstanceUid,
    transferSyntaxUid: meta.transferSyntaxUid,
    callingAeTitle: 'TEST',
  });
  await sink.write(bytes.subarray(dataSetOffset));
  const outcome = await sink.end();
  if (outcome.status !== 'stored') throw new Error(`not stored: ${outcome.status}`);
  const row = (await archive.index.getInstance(meta.mediaStorageSopInstanceUid))!;
  return { study: row.studyInstanceUid, series: row.seriesInstanceUid, sop: row.sopInstanceUid, transferSyntaxUid: meta.transferSyntaxUid, file };
}

export const instancePath = (r: StoredRef): string => `/dicomweb/studies/${r.study}/series/${r.series}/instances/${r.sop}`;

interface EncoderContext {
  getEncodedBuffer(): Uint8Array;
}
interface Codecs {
  Context: new (a: Record<string, unknown>) => unknown;
  NativeCodecs: Record<'encodeJpeg2000' | 'encodeHtJpeg2000', (ctx: unknown, params: Record<string, unknown>) => EncoderContext>;
}

/**
 * The uncompressed explicit VR LE `source` re-encoded (lossless, or lossy at 8:1 when asked) as
 * JPEG 2000 or HTJ2K by dcmjs-codecs (no installed tool writes these), with a new SOP
 * Instance UID.
 */
export async function writeJ2kVariant(source: string, out: string, kind: 'jpeg2000' | 'htj2k', lossy = false): Promise<string> {
  await loadCodecs();
  const codecs = createRequire(import.meta.url)('dcmjs-codecs') as Codecs;
  const { meta, dataset } = readPart10(readFileSync(source));
  const px = dataset.get(0x7fe00010)!.value!;
  const ctx = new codecs.Context({
    width: getNumber(dataset, 0x00280011),
    height: getNumber(dataset, 0x00280010),
    bitsAllocated: getNumber(dataset, 0x00280100),
    bitsStored: getNumber(dataset, 0x00280101),
    samplesPerPixel: getNumber(dataset, 0x00280002) ?? 1,
    pixelRepresentation: getNumber(dataset, 0x00280103) ?? 0,
    planarConfiguration: getNumber(dataset, 0x00280006) ?? 0,
    photometricInterpretation: getString(dataset, 0x00280004),
    decodedBuffer: new Uint8Array(px),
  });
  const method = kind === 'jpeg2000' ? 'encodeJpeg2000' : 'encodeHtJpeg2000';
  let frame = Uint8Array.from(codecs.NativeCodecs[method](ctx, lossy ? { lossy, rate: 8 } : { lossy }).getEncodedBuffer());
  if (frame.length % 2) frame = Uint8Array.from([...frame, 0]);
  const ts =
    kind === 'jpeg2000' ? (lossy ? '1.2.840.10008.1.2.4.91' : '1.2.840.10008.1.2.4.90') : lossy ? '1.2.840.10008.1.2.4.203' : '1.2.840.10008.1.2.4.201';
  const uid = newUid();
  putString(dataset, 0x00080018, 'UI', uid);
  dataset.put({
    tag: 0x7fe00010,
    vr: 'OB',
    length: 0xffffffff,
    fragments: [
      { length: 0, offset: 0, value: new Uint8Array(0) },
      { length: frame.length, offset: 0, value: frame },
    ],
  });
  writeFileSync(
    out,
    Buffer.concat([buildMetaHeader({ sopClassUid: meta.mediaStorageSopClassUid, sopInstanceUid: uid, transferSyntaxUid: ts }), writeDataset(dataset, ts)]),
  );
  return out;
}

export interface MultipartPart {
  headers: Record<string, string>;
  body: Buffer;
}

/** Splits a multipart/related body by the boundary of its Content-Type. */
export function parseMultipart(contentType: unknown, body: Buffer): MultipartPart[] {
  const m = /boundary=("?)([^";]+)\1/.exec(String(contentType ?? ''));
  if (!m) throw new Error(`no boundary in '${String(contentType)}'`);
  const delim = Buffer.from(`--${m[2]}`);
  const parts: MultipartPart[] = [];
  let pos = body.indexOf(delim);
  while (pos >= 0) {
    const after = pos + delim.length;
    if (body.subarray(after, after + 2).toString() === '--') break;
    const headerEnd = body.indexOf('\r\n\r\n', after);
    const headers: Record<string, string> = {};
    for (const line of body
      .subarray(after + 2, headerEnd)
      .toString('latin1')
      .split('\r\n')) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const next = body.indexOf(delim, headerEnd + 4);
    parts.push({ headers, body: body.subarray(headerEnd + 4, next - 2) });
    pos = next;
  }
  return parts;
}

/** The native Pixel Data and image attributes of an uncompressed file, read with the full (non-streaming) reader. */
export function nativePixels(file: string): {
  pixels: Buffer;
  rows: number;
  cols: number;
  spp: number;
  bits: number;
  stored: number;
  signed: boolean;
  slope: number;
  intercept: number;
} {
  const { dataset } = readPart10(readFileSync(file));
  return {
    pixels: Buffer.from(dataset.get(0x7fe00010)!.value!),
    rows: getNumber(dataset, 0x00280010)!,
    cols: getNumber(dataset, 0x00280011)!,
    spp: getNumber(dataset, 0x00280002) ?? 1,
    bits: getNumber(dataset, 0x00280100)!,
    stored: getNumber(dataset, 0x00280101)!,
    signed: getNumber(dataset, 0x00280103) === 1,
    slope: getNumber(dataset, 0x00281053) ?? 1,
    intercept: getNumber(dataset, 0x00281052) ?? 0,
  };
}

/** Stored values (masked to Bits Stored, sign applied) of 16-bit or 8-bit samples: high bits beyond Bits Stored are not pixel data. */
export function storedValues(pixels: Uint8Array, bits: number, stored: number, signed: boolean): number[] {
  const out: number[] = [];
  const mask = 2 ** stored - 1;
  for (let o = 0; o + bits / 8 <= pixels.length; o += bits / 8) {
    let v = (bits === 16 ? pixels[o] | (pixels[o + 1] << 8) : pixels[o]) & mask;
    if (signed && v >= 2 ** (stored - 1)) v -= 2 ** stored;
    out.push(v);
  }
  return out;
}

/** The stored encapsulated frames of a single-frame file, read with the full reader: fragments after the offset table, joined. */
export function storedCodestream(file: string): Buffer {
  const { dataset } = readPart10(readFileSync(file));
  const frags = dataset.get(0x7fe00010)!.fragments!;
  return Buffer.concat(frags.slice(1).map((f) => f.value!));
}
