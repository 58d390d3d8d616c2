/**
 * Decompression of a data set's encapsulated Pixel Data (PS3.5 A.4) into native Pixel
 * Data, for sending an instance to a peer that did not accept its stored transfer
 * syntax. The Image Pixel attributes that describe the encoding are updated as DCMTK's
 * dcmdjpeg/dcmdjpls/dcmdrle do: Photometric Interpretation after the decoder's colour
 * conversion (YBR_FULL_422 / YBR_ICT / YBR_RCT -> RGB), Planar Configuration 0 (samples
 * interleaved), Lossy Image Compression kept (set to 01 for the DCT processes).
 */
import { Dataset, getNumber, getString, type Element, type Fragment } from '../dataset.js';
import { putNumbers, putString } from '../dataset-writer.js';
import { Tags } from '../tag.js';
import { decodeFrame, type CodecFamily, type FrameGeometry } from './native-codecs.js';
import { PixelTags } from '../pixel-tags.js';

/** Stored transfer syntaxes we decompress, with their codec. */
const FAMILY: ReadonlyMap<string, CodecFamily | 'raw'> = new Map<string, CodecFamily | 'raw'>([
  ['1.2.840.10008.1.2.1.98', 'raw'], // Encapsulated Uncompressed Explicit VR Little Endian
  ['1.2.840.10008.1.2.4.50', 'jpeg'], // baseline (process 1)
  ['1.2.840.10008.1.2.4.51', 'jpeg'], // extended (processes 2 and 4, 12-bit)
  ['1.2.840.10008.1.2.4.53', 'jpeg'], // spectral selection (6 and 8, retired)
  ['1.2.840.10008.1.2.4.55', 'jpeg'], // full progression (10 and 12, retired)
  ['1.2.840.10008.1.2.4.57', 'jpeg'], // lossless (process 14)
  ['1.2.840.10008.1.2.4.70', 'jpeg'], // lossless, first-order prediction (SV1)
  ['1.2.840.10008.1.2.4.80', 'jpeg-ls'],
  ['1.2.840.10008.1.2.4.81', 'jpeg-ls'],
  ['1.2.840.10008.1.2.4.90', 'jpeg2000'],
  ['1.2.840.10008.1.2.4.91', 'jpeg2000'],
  ['1.2.840.10008.1.2.4.201', 'htj2k'],
  ['1.2.840.10008.1.2.4.202', 'htj2k'],
  ['1.2.840.10008.1.2.4.203', 'htj2k'],
  ['1.2.840.10008.1.2.5', 'rle'],
]);

/** The DCT processes are always lossy. */
const ALWAYS_LOSSY = new Set(['1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.51', '1.2.840.10008.1.2.4.53', '1.2.840.10008.1.2.4.55']);

const SUBSAMPLED_OR_TRANSFORMED = new Set(['YBR_FULL_422', 'YBR_PARTIAL_422', 'YBR_PARTIAL_420', 'YBR_ICT', 'YBR_RCT']);

const T = PixelTags;

/** The decoder of a stored transfer syntax ('raw': encapsulated but uncompressed), undefined when there is none. */
export function codecFamily(transferSyntaxUid: string): CodecFamily | 'raw' | undefined {
  return FAMILY.get(transferSyntaxUid);
}

/** True when a data set stored in `transferSyntaxUid` can be decompressed here. */
export function canDecompress(transferSyntaxUid: string): boolean {
  return FAMILY.has(transferSyntaxUid);
}

export class DecompressError extends Error {
  override name = 'DecompressError';
}

const u32 = (v: Uint8Array, o: number): number => v[o] | (v[o + 1] << 8) | (v[o + 2] << 16) | (v[o + 3] * 0x1000000);

/** The first bytes of a compressed frame's codestream: a fragment starting with one begins a frame. */
function startsFrame(family: CodecFamily | 'raw', v: Uint8Array | undefined): boolean {
  if (!v || v.length < 2 || v[0] !== 0xff) return false;
  if (family === 'jpeg' || family === 'jpeg-ls') return v[1] === 0xd8; // SOI
  if (family === 'jpeg2000' || family === 'htj2k') return v[1] === 0x4f || (v.length >= 4 && v[1] === 0x00); // SOC or a JP2 box
  return false;
}

/**
 * The frames of encapsulated Pixel Data (PS3.5 A.4): by the Basic Offset Table when it
 * has one, one fragment each when the counts agree, all fragments for a single frame,
 * else by the codestream start markers.
 */
export function splitFrames(el: Element, frames: number, family: CodecFamily | 'raw'): Uint8Array[] {
  const fragments = el.fragments ?? [];
  const [bot, ...data] = fragments;
  const bytes = (f: Fragment): Uint8Array => {
    if (!f.value) throw new DecompressError('a Pixel Data fragment was not read');
    return f.value;
  };
  if (data.length === 0) throw new DecompressError('encapsulated Pixel Data without fragments');
  if (frames === data.length) return data.map(bytes);
  if (frames === 1) return [Buffer.concat(data.map(bytes))];
  const botValue = bot?.value;
  if (botValue && botValue.length >= 4 * frames) {
    // Offsets are from the first byte of the first fragment's item tag; each item header is 8 bytes.
    const starts: number[] = [];
    let pos = 0;
    for (const f of data) {
      starts.push(pos);
      pos += 8 + f.length;
    }
    const out: Uint8Array[] = [];
    for (let i = 0; i < frames; i++) {
      const from = u32(botValue, 4 * i);
      const to = i + 1 < frames ? u32(botValue, 4 * (i + 1)) : pos;
      const parts = data.filter((_, k) => starts[k] >= from && starts[k] < to).map(bytes);
      if (parts.length === 0) throw new DecompressError(`Basic Offset Table entry ${i} points at no fragment`);
      out.push(Buffer.concat(parts));
    }
    return out;
  }
  const out: Uint8Array[][] = [];
  for (const f of data) {
    const v = bytes(f);
    if (out.length === 0 || startsFrame(family, v)) out.push([v]);
    else out[out.length - 1].push(v);
  }
  if (out.length !== frames) {
    throw new DecompressError(`cannot split ${data.length} fragments into ${frames} frames (no Basic Offset Table)`);
  }
  return out.map((parts) => Buffer.concat(parts));
}

function geometry(ds: Dataset): FrameGeometry {
  const need = (tag: number, name: string): number => {
    const v = getNumber(ds, tag);
    if (v === undefined) throw new DecompressError(`${name} missing: cannot decode Pixel Data`);
    return v;
  };
  return {
    rows: need(T.Rows, 'Rows'),
    columns: need(T.Columns, 'Columns'),
    bitsAllocated: need(T.BitsAllocated, 'Bits Allocated'),
    bitsStored: getNumber(ds, T.BitsStored) ?? need(T.BitsAllocated, 'Bits Allocated'),
    samplesPerPixel: getNumber(ds, T.SamplesPerPixel) ?? 1,
    pixelRepresentation: getNumber(ds, T.PixelRepresentation) ?? 0,
    planarConfiguration: getNumber(ds, T.PlanarConfiguration) ?? 0,
    photometricInterpretation: getString(ds, T.PhotometricInterpretation) ?? 'MONOCHROME2',
  };
}

/**
 * Replaces the encapsulated Pixel Data of `ds` (stored in `transferSyntaxUid`) with
 * native Pixel Data, in place. A data set without encapsulated Pixel Data is left as
 * it is. Throws DecompressError with the reason when a frame cannot be decoded.
 */
export async function decompressDataset(ds: Dataset, transferSyntaxUid: string): Promise<void> {
  const family = FAMILY.get(transferSyntaxUid);
  if (!family) throw new DecompressError(`no decoder for transfer syntax ${transferSyntaxUid}`);
  const el = ds.get(Tags.PixelData);
  if (!el?.fragments) return;
  const g = geometry(ds);
  const frames = Math.max(1, getNumber(ds, T.NumberOfFrames) ?? 1);
  const frameBytes = g.rows * g.columns * g.samplesPerPixel * Math.ceil(g.bitsAllocated / 8);
  const encoded = splitFrames(el, frames, family);
  const out = Buffer.alloc(frameBytes * frames + ((frameBytes * frames) % 2));
  let photometric = g.photometricInterpretation;
  for (let i = 0; i < frames; i++) {
    let pixels: Uint8Array;
    if (family === 'raw') {
      pixels = encoded[i];
    } else {
      const d = await decodeFrame(family, encoded[i], g);
      pixels = d.pixels;
      photometric = d.photometricInterpretation;
    }
    if (pixels.length < frameBytes) {
      throw new DecompressError(
        `frame ${i + 1} decoded to ${pixels.length} bytes, expected ${frameBytes} (${g.rows}x${g.columns}x${g.samplesPerPixel}, ${g.bitsAllocated} bits)`,
      );
    }
    out.set(pixels.subarray(0, frameBytes), i * frameBytes);
  }
  ds.delete(T.ExtendedOffsetTable);
  ds.delete(T.ExtendedOffsetTableLengths);
  ds.put({ tag: Tags.PixelData, vr: g.bitsAllocated > 8 ? 'OW' : 'OB', length: out.length, value: out });
  if (g.samplesPerPixel > 1) {
    // Decoders return full-resolution samples, converted to RGB from the colour spaces of the codestream.
    if (SUBSAMPLED_OR_TRANSFORMED.has(photometric)) photometric = 'RGB';
    putNumbers(ds, T.PlanarConfiguration, 'US', [0]);
  }
  if (photometric !== g.photometricInterpretation) putString(ds, T.PhotometricInterpretation, 'CS', photometric);
  if (ALWAYS_LOSSY.has(transferSyntaxUid)) putString(ds, T.LossyImageCompression, 'CS', '01');
}
