/**
 * Frame extraction from a Part 10 file: the attributes up to Pixel Data are parsed, then
 * only the bytes of the frames asked for are read (native frames by offset; encapsulated
 * frames by walking the fragment item headers, PS3.5 A.4), so a frame of a multi-GB
 * instance costs the frame. Native frames come out little endian whatever the transfer
 * syntax; decoded frames come from src/dicom/codecs.
 */
import { inflateRawSync } from 'node:zlib';
import { codecFamily, decodeFrame, type CodecFamily } from '../codecs/index.js';
import { UNDEFINED_LENGTH, type Dataset, type Element } from '../dataset.js';
import { DatasetHeaderReader } from '../dataset-reader.js';
import { DicomParseError } from '../errors.js';
import { readMetaHeader, type FileMeta } from '../part10.js';
import { EXPLICIT_VR_LITTLE_ENDIAN, resolveTransferSyntax, type TransferSyntax } from '../transfer-syntax.js';
import { bufferSource, type ByteSource } from './byte-source.js';
import { PixelDataError } from './errors.js';
import { describeImage, frameBits, frameBytes, PixelTags, type ImagePixel } from './image-pixel.js';

/** A fragment's value: offset and length in the data set stream. */
export interface FragmentRef {
  offset: number;
  length: number;
}

/** A native frame, little endian, with the colour model its samples are in. */
export interface NativeFrame {
  pixels: Uint8Array;
  photometricInterpretation: string;
  planarConfiguration: number;
}

const GE_PRIVATE_BIG_ENDIAN_PIXELS = '1.2.840.113619.5.2';
const HEADER_CHUNK = 256 * 1024;
/** Larger header values (OB/OW/UN...) than this are skipped; palettes of 65536 16-bit entries still fit. */
const HEADER_VALUE_LIMIT = 256 * 1024;
/** A deflated data set is inflated whole (no random access into a deflate stream): bounded. */
const MAX_INFLATED = 1 << 30;

/** Offsets in the data set stream, read through `source`, which starts at the data set. */
function offsetSource(src: ByteSource, base: number): ByteSource {
  return { size: src.size - base, read: (p, n) => src.read(base + p, n), readOwned: (p, n) => src.readOwned(base + p, n), close: () => src.close() };
}

const u32 = (v: Uint8Array, o: number): number => v[o] | (v[o + 1] << 8) | (v[o + 2] << 16) | (v[o + 3] * 0x1000000);

/** Byte order swap in place, `unit` bytes per value. */
function swapBytes(v: Uint8Array, unit: number): void {
  if (unit === 2) {
    for (let o = 0; o + 1 < v.length; o += 2) {
      const t = v[o];
      v[o] = v[o + 1];
      v[o + 1] = t;
    }
  } else if (unit === 4) {
    for (let o = 0; o + 3 < v.length; o += 4) {
      let t = v[o];
      v[o] = v[o + 3];
      v[o + 3] = t;
      t = v[o + 1];
      v[o + 1] = v[o + 2];
      v[o + 2] = t;
    }
  }
}

export class PixelFile {
  private fragmentList: FragmentRef[] | undefined;
  private basicOffsetTable: Uint8Array | undefined;
  private frameMap: FragmentRef[][] | undefined;
  private imageCache: ImagePixel | undefined;

  private constructor(
    readonly meta: FileMeta,
    readonly transferSyntax: TransferSyntax,
    /** The attributes before Pixel Data (Pixel Data itself is present, `skipped`, with its offset). */
    readonly dataset: Dataset,
    /** The data set stream (inflated for the deflated transfer syntax). */
    readonly source: ByteSource,
  ) {}

  /** Reads the meta header and the attributes up to Pixel Data. Closes `src` on failure. */
  static async open(src: ByteSource): Promise<PixelFile> {
    try {
      let head = await src.read(0, Math.min(src.size, 64 * 1024));
      let parsed: ReturnType<typeof readMetaHeader>;
      try {
        parsed = readMetaHeader(head);
      } catch (e) {
        if (src.size <= head.length) throw e;
        head = await src.read(0, Math.min(src.size, 4 << 20)); // an unusually long meta header
        parsed = readMetaHeader(head);
      }
      const { meta, dataSetOffset } = parsed;
      const ts = resolveTransferSyntax(meta.transferSyntaxUid);
      let dataSource: ByteSource;
      if (ts.deflated) {
        const compressed = await src.read(dataSetOffset, src.size - dataSetOffset);
        const inflated = inflateRawSync(compressed, { maxOutputLength: MAX_INFLATED });
        await src.close();
        dataSource = bufferSource(inflated);
      } else {
        dataSource = offsetSource(src, dataSetOffset);
      }
      // An inflated data set is explicit VR little endian (PS3.5 A.5).
      const reader = new DatasetHeaderReader({
        transferSyntaxUid: ts.deflated ? EXPLICIT_VR_LITTLE_ENDIAN : ts.uid,
        stopAtPixelData: true,
        maxValueLength: HEADER_VALUE_LIMIT,
      });
      for (let pos = 0; !reader.done; pos += HEADER_CHUNK) {
        if (pos >= dataSource.size) {
          reader.end();
          break;
        }
        reader.push(await dataSource.read(pos, HEADER_CHUNK));
      }
      return new PixelFile(meta, ts, reader.dataset, dataSource);
    } catch (e) {
      await src.close().catch(() => {});
      if (e instanceof DicomParseError) throw new PixelDataError('malformed', `stored file cannot be parsed: ${e.message}`);
      throw e;
    }
  }

  close(): Promise<void> {
    return this.source.close();
  }

  /** The Pixel Data element (value not read), undefined when the instance has none. */
  get pixelData(): Element | undefined {
    const el = this.dataset.get(PixelTags.PixelData);
    return el?.valueOffset === undefined ? undefined : el;
  }

  get encapsulated(): boolean {
    return this.pixelData?.length === UNDEFINED_LENGTH;
  }

  /** The image description; throws PixelDataError('not-an-image') for instances without pixels. */
  get image(): ImagePixel {
    if (!this.pixelData) throw new PixelDataError('not-an-image', 'the instance has no Pixel Data');
    this.imageCache ??= describeImage(this.dataset);
    return this.imageCache;
  }

  get frameCount(): number {
    return this.image.frames;
  }

  private checkFrame(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.frameCount) {
      throw new PixelDataError('frame-out-of-range', `frame ${index + 1} does not exist: the instance has ${this.frameCount} frame(s)`);
    }
  }

  /** The byte order unit of native pixel data that is stored big endian, else 1. */
  private swapUnit(): number {
    const bigEndian = !this.transferSyntax.littleEndian || this.transferSyntax.uid === GE_PRIVATE_BIG_ENDIAN_PIXELS;
    if (!bigEndian) return 1;
    const ba = this.image.bitsAllocated;
    return ba >= 16 ? ba / 8 : this.pixelData?.vr === 'OW' ? 2 : 1;
  }

  /** The fragments of encapsulated Pixel Data, without the Basic Offset Table. */
  async fragments(): Promise<FragmentRef[]> {
    if (this.fragmentList) return this.fragmentList;
    const el = this.pixelData;
    if (!el || el.length !== UNDEFINED_LENGTH) throw new PixelDataError('not-an-image', 'Pixel Data is not encapsulated');
    const list: FragmentRef[] = [];
    let pos = el.valueOffset!;
    let bot: FragmentRef | undefined;
    for (;;) {
      const h = await this.source.read(pos, 8);
      if (h.length < 8) throw new PixelDataError('malformed', `encapsulated Pixel Data is truncated at offset ${pos}`);
      const group = h[0] | (h[1] << 8),
        element = h[2] | (h[3] << 8);
      const length = u32(h, 4);
      if (group === 0xfffe && element === 0xe0dd) break;
      if (group !== 0xfffe || element !== 0xe000) throw new PixelDataError('malformed', `expected a fragment item at offset ${pos} of the data set`);
      if (length === UNDEFINED_LENGTH || pos + 8 + length > this.source.size)
        throw new PixelDataError('malformed', `fragment at offset ${pos} overruns the file`);
      if (bot) list.push({ offset: pos + 8, length });
      else bot = { offset: pos + 8, length };
      pos += 8 + length;
    }
    if (!bot) throw new PixelDataError('malformed', 'encapsulated Pixel Data without a Basic Offset Table item');
    this.basicOffsetTable = bot.length > 0 ? await this.readBytes(bot) : new Uint8Array(0);
    this.fragmentList = list;
    return list;
  }

  private async readBytes(f: FragmentRef): Promise<Uint8Array> {
    const b = await this.source.readOwned(f.offset, f.length);
    if (b.length < f.length) throw new PixelDataError('malformed', `stored file ends inside Pixel Data`);
    return b;
  }

  /** Which fragments make up each frame (PS3.5 A.4). */
  private async framesOfFragments(): Promise<FragmentRef[][]> {
    if (this.frameMap) return this.frameMap;
    const fragments = await this.fragments();
    const frames = this.frameCount;
    if (fragments.length === 0) throw new PixelDataError('malformed', 'encapsulated Pixel Data without fragments');
    let map: FragmentRef[][] | undefined;
    if (frames === fragments.length) map = fragments.map((f) => [f]);
    else if (frames === 1) map = [fragments];
    else map = this.byOffsetTable(fragments, frames) ?? (await this.byStartMarkers(fragments, frames));
    this.frameMap = map;
    return map;
  }

  /** By the Extended Offset Table or the Basic Offset Table: offsets from the first fragment's item tag. */
  private byOffsetTable(fragments: FragmentRef[], frames: number): FragmentRef[][] | undefined {
    const first = fragments[0].offset - 8;
    const eot = this.dataset.get(PixelTags.ExtendedOffsetTable)?.value;
    let starts: number[] | undefined;
    if (eot && eot.length >= 8 * frames) {
      const dv = new DataView(eot.buffer, eot.byteOffset, eot.byteLength);
      starts = Array.from({ length: frames }, (_, i) => Number(dv.getBigUint64(8 * i, true)));
    } else if (this.basicOffsetTable && this.basicOffsetTable.length >= 4 * frames) {
      const bot = this.basicOffsetTable;
      starts = Array.from({ length: frames }, (_, i) => u32(bot, 4 * i));
    }
    if (!starts) return undefined;
    const out: FragmentRef[][] = [];
    for (let i = 0; i < frames; i++) {
      const from = first + starts[i];
      const to = i + 1 < frames ? first + starts[i + 1] : Number.POSITIVE_INFINITY;
      const parts = fragments.filter((f) => f.offset - 8 >= from && f.offset - 8 < to);
      if (parts.length === 0) throw new PixelDataError('malformed', `offset table entry ${i} points at no fragment`);
      out.push(parts);
    }
    return out;
  }

  /** Without an offset table: a fragment that starts a codestream (JPEG SOI, JPEG 2000 SOC) starts a frame. */
  private async byStartMarkers(fragments: FragmentRef[], frames: number): Promise<FragmentRef[][]> {
    const family = codecFamily(this.transferSyntax.uid);
    const out: FragmentRef[][] = [];
    for (const f of fragments) {
      const v = await this.source.read(f.offset, Math.min(4, f.length));
      let starts = false;
      if (v.length >= 2 && v[0] === 0xff) {
        if (family === 'jpeg' || family === 'jpeg-ls') starts = v[1] === 0xd8;
        else if (family === 'jpeg2000' || family === 'htj2k') starts = v[1] === 0x4f;
      }
      if (out.length === 0 || starts) out.push([f]);
      else out[out.length - 1].push(f);
    }
    if (out.length !== frames) {
      throw new PixelDataError('malformed', `cannot split ${fragments.length} fragments into ${frames} frames (no offset table)`);
    }
    return out;
  }

  /** The fragments of frame `index` (0-based) of encapsulated Pixel Data. */
  async frameFragments(index: number): Promise<FragmentRef[]> {
    this.checkFrame(index);
    return (await this.framesOfFragments())[index];
  }

  /**
   * Frame `index` (0-based) as stored: the codestream of an encapsulated frame (its
   * fragments joined), or the native frame in little endian.
   */
  async storedFrame(index: number): Promise<Uint8Array> {
    this.checkFrame(index);
    if (this.encapsulated) {
      const parts = await this.frameFragments(index);
      const chunks = await Promise.all(parts.map((f) => this.readBytes(f)));
      return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    }
    return this.nativeStoredFrame(index);
  }

  private async nativeStoredFrame(index: number): Promise<Uint8Array> {
    const el = this.pixelData!;
    const img = this.image;
    const bits = frameBits(img);
    const bytes = frameBytes(img);
    if (el.length < Math.ceil((bits * img.frames) / 8)) {
      throw new PixelDataError(
        'malformed',
        `Pixel Data has ${el.length} bytes, ${img.frames} frame(s) of ${img.rows}x${img.columns}x${img.samplesPerPixel} at ${img.bitsAllocated} bits need ${Math.ceil((bits * img.frames) / 8)}`,
      );
    }
    const startBit = bits * index;
    const start = el.valueOffset! + Math.floor(startBit / 8);
    const shift = startBit % 8;
    const raw = await this.readBytes({ offset: start, length: shift ? bytes + 1 : bytes });
    let out = raw;
    if (shift) {
      // A packed 1-bit frame that does not start on a byte boundary: realign (bits are LSB first).
      out = new Uint8Array(bytes);
      for (let i = 0; i < bytes; i++) out[i] = ((raw[i] >> shift) | (raw[i + 1] << (8 - shift))) & 0xff;
    }
    const unit = this.swapUnit();
    if (unit > 1) swapBytes(out, unit);
    return out;
  }

  /** The decoder for this file's encapsulated frames; PixelDataError('unsupported') when there is none. */
  codec(): CodecFamily | 'raw' {
    const family = codecFamily(this.transferSyntax.uid);
    if (!family) throw new PixelDataError('unsupported', `no decoder for transfer syntax ${this.transferSyntax.uid} (${this.transferSyntax.name})`);
    return family;
  }

  /** Frame `index` (0-based) as native little endian pixels, decoded if compressed. */
  async nativeFrame(index: number): Promise<NativeFrame> {
    const img = this.image;
    const stored = await this.storedFrame(index);
    if (!this.encapsulated) {
      return { pixels: stored, photometricInterpretation: img.photometricInterpretation, planarConfiguration: img.planarConfiguration };
    }
    const family = this.codec();
    const expected = img.rows * img.columns * img.samplesPerPixel * Math.ceil(img.bitsAllocated / 8);
    let pixels = stored;
    let photometric = img.photometricInterpretation;
    let planar = img.planarConfiguration;
    if (family !== 'raw') {
      let d;
      try {
        d = await decodeFrame(family, stored, {
          rows: img.rows,
          columns: img.columns,
          bitsAllocated: img.bitsAllocated,
          bitsStored: img.bitsStored,
          samplesPerPixel: img.samplesPerPixel,
          pixelRepresentation: img.pixelRepresentation,
          planarConfiguration: img.planarConfiguration,
          photometricInterpretation: img.photometricInterpretation,
        });
      } catch (e) {
        throw new PixelDataError('malformed', `frame ${index + 1}: ${(e as Error).message}`);
      }
      pixels = d.pixels;
      photometric = d.photometricInterpretation;
      // The decoders interleave samples and convert YBR_FULL_422 / YBR_ICT / YBR_RCT to RGB.
      if (img.samplesPerPixel === 3) {
        planar = 0;
        if (['YBR_FULL_422', 'YBR_PARTIAL_422', 'YBR_ICT', 'YBR_RCT'].includes(photometric)) photometric = 'RGB';
      }
    }
    if (pixels.length < expected) {
      throw new PixelDataError('malformed', `frame ${index + 1} decoded to ${pixels.length} bytes, expected ${expected}`);
    }
    return { pixels: pixels.length === expected ? pixels : pixels.subarray(0, expected), photometricInterpretation: photometric, planarConfiguration: planar };
  }

  /**
   * The value of a top-level attribute before Pixel Data, little endian (read from the
   * file when it was too long to keep). Undefined when the data set has no such element.
   */
  async elementValue(tag: number): Promise<Uint8Array | undefined> {
    const el = this.dataset.get(tag);
    if (!el || el.items || el.fragments || el.length === UNDEFINED_LENGTH) return undefined;
    if (el.value) return el.value;
    if (el.valueOffset === undefined) return undefined;
    const v = await this.readBytes({ offset: el.valueOffset, length: el.length });
    if (!this.transferSyntax.littleEndian) {
      const size =
        el.vr === 'OW' || el.vr === 'US' || el.vr === 'SS'
          ? 2
          : ['OL', 'OF', 'UL', 'SL', 'FL'].includes(el.vr)
            ? 4
            : ['OD', 'OV', 'FD', 'SV', 'UV'].includes(el.vr)
              ? 8
              : 1;
      if (size === 8) {
        for (let o = 0; o + 7 < v.length; o += 8) v.subarray(o, o + 8).reverse();
      } else swapBytes(v, size);
    }
    return v;
  }
}
