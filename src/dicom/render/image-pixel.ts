/**
 * The Image Pixel module (PS3.3 C.7.6.3) and the attributes rendering needs besides it:
 * Modality LUT (C.11.1: Rescale Slope / Intercept), VOI LUT (C.11.2: Window Center /
 * Width / VOI LUT Function) and the Palette Color Lookup Table (C.7.6.3.1.5-6).
 */
import { getNumber, getNumbers, getString, getStrings, type Dataset } from '../dataset.js';
import { PixelTags } from '../pixel-tags.js';
import { PixelDataError } from './errors.js';

export { PixelTags };

export type VoiFunction = 'linear' | 'linear-exact' | 'sigmoid';

export interface Window {
  center: number;
  width: number;
  fn: VoiFunction;
}

export interface PaletteLut {
  /** Number of entries (descriptor value 0 means 65536). */
  entries: number;
  /** Stored pixel value mapped to the first entry. */
  firstMapped: number;
  /** The three tables scaled to 8 bits. */
  red: Uint8Array;
  green: Uint8Array;
  blue: Uint8Array;
}

export interface ImagePixel {
  rows: number;
  columns: number;
  samplesPerPixel: number;
  photometricInterpretation: string;
  planarConfiguration: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  /** 1: two's complement samples. */
  pixelRepresentation: number;
  frames: number;
  rescaleSlope: number;
  rescaleIntercept: number;
  /** The dataset's first Window Center / Width pair, if any. */
  window: Window | undefined;
  palette: PaletteLut | undefined;
}

const VOI_FUNCTIONS: Record<string, VoiFunction> = { LINEAR: 'linear', LINEAR_EXACT: 'linear-exact', SIGMOID: 'sigmoid' };

/** True for YBR_FULL_422 / YBR_PARTIAL_422: native frames hold Y1 Y2 Cb Cr per two pixels (PS3.3 C.7.6.3.1.2). */
export function isSubsampled422(photometric: string): boolean {
  return photometric === 'YBR_FULL_422' || photometric === 'YBR_PARTIAL_422';
}

/** Bits of one frame of native pixel data (Bits Allocated 1 frames are packed). */
export function frameBits(p: ImagePixel): number {
  const samples = p.samplesPerPixel === 3 && isSubsampled422(p.photometricInterpretation) ? 2 : p.samplesPerPixel;
  return p.rows * p.columns * samples * p.bitsAllocated;
}

/** Bytes of one frame of native pixel data (rounded up for packed 1-bit frames). */
export function frameBytes(p: ImagePixel): number {
  return Math.ceil(frameBits(p) / 8);
}

function required(ds: Dataset, tag: number, name: string): number {
  const v = getNumber(ds, tag);
  if (v === undefined) throw new PixelDataError('not-an-image', `${name} is missing: not an image`);
  return v;
}

function paletteTable(ds: Dataset, descriptorTag: number, dataTag: number, name: string): { entries: number; first: number; table: Uint8Array } {
  const d = ds.get(descriptorTag);
  const data = ds.get(dataTag);
  if (!d?.value || d.value.length < 6 || !data?.value) {
    throw new PixelDataError(
      'unsupported',
      `PALETTE COLOR without ${name} Palette Color Lookup Table Descriptor and Data (segmented palettes are not supported)`,
    );
  }
  const dv = new DataView(d.value.buffer, d.value.byteOffset, d.value.byteLength);
  const entries = dv.getUint16(0, true) || 65536;
  // The first mapped value is US or SS depending on Pixel Representation (PS3.3 C.7.6.3.1.5).
  const first = (getNumber(ds, PixelTags.PixelRepresentation) ?? 0) === 1 ? dv.getInt16(2, true) : dv.getUint16(2, true);
  const bits = dv.getUint16(4, true);
  const out = new Uint8Array(entries);
  const v = data.value;
  if (bits <= 8 && v.length >= entries && v.length < entries * 2) {
    out.set(v.subarray(0, entries));
  } else {
    if (v.length < entries * 2) throw new PixelDataError('malformed', `${name} Palette Color Lookup Table Data has ${v.length} bytes for ${entries} entries`);
    const words = new Uint16Array(entries);
    const view = new DataView(v.buffer, v.byteOffset, v.byteLength);
    let max = 0;
    for (let i = 0; i < entries; i++) {
      words[i] = view.getUint16(2 * i, true);
      if (words[i] > max) max = words[i];
    }
    // Some writers declare 16-bit entries but store 8-bit values (DCMTK tolerates it likewise).
    const shift = bits === 16 && max > 255 ? 8 : 0;
    for (let i = 0; i < entries; i++) out[i] = words[i] >> shift;
  }
  return { entries, first, table: out };
}

/** The attributes of `ds` that describe its pixels. Throws PixelDataError('not-an-image') without them. */
export function describeImage(ds: Dataset): ImagePixel {
  const rows = required(ds, PixelTags.Rows, 'Rows');
  const columns = required(ds, PixelTags.Columns, 'Columns');
  const bitsAllocated = required(ds, PixelTags.BitsAllocated, 'Bits Allocated');
  const bitsStored = getNumber(ds, PixelTags.BitsStored) ?? bitsAllocated;
  const samplesPerPixel = getNumber(ds, PixelTags.SamplesPerPixel) ?? 1;
  if (rows < 1 || columns < 1) throw new PixelDataError('not-an-image', `image of ${rows}x${columns} pixels`);
  if (![1, 8, 16, 32].includes(bitsAllocated)) throw new PixelDataError('unsupported', `Bits Allocated ${bitsAllocated} is not supported`);
  if (bitsStored < 1 || bitsStored > bitsAllocated) throw new PixelDataError('malformed', `Bits Stored ${bitsStored} with Bits Allocated ${bitsAllocated}`);
  if (samplesPerPixel !== 1 && samplesPerPixel !== 3) throw new PixelDataError('unsupported', `Samples per Pixel ${samplesPerPixel} is not supported`);
  const highBit = getNumber(ds, PixelTags.HighBit) ?? bitsStored - 1;
  const photometricInterpretation = (getString(ds, PixelTags.PhotometricInterpretation) ?? (samplesPerPixel === 3 ? 'RGB' : 'MONOCHROME2')).toUpperCase();
  const centers = getNumbers(ds, PixelTags.WindowCenter);
  const widths = getNumbers(ds, PixelTags.WindowWidth);
  const fnText = getStrings(ds, PixelTags.VoiLutFunction)?.[0]?.toUpperCase();
  let window: Window | undefined;
  if (centers?.length && widths?.length && Number.isFinite(centers[0]) && Number.isFinite(widths[0]) && widths[0] >= 1) {
    window = { center: centers[0], width: widths[0], fn: (fnText && VOI_FUNCTIONS[fnText]) || 'linear' };
  }
  let palette: PaletteLut | undefined;
  if (photometricInterpretation === 'PALETTE COLOR') {
    const r = paletteTable(ds, PixelTags.RedPaletteDescriptor, PixelTags.RedPaletteData, 'Red');
    const g = paletteTable(ds, PixelTags.GreenPaletteDescriptor, PixelTags.GreenPaletteData, 'Green');
    const b = paletteTable(ds, PixelTags.BluePaletteDescriptor, PixelTags.BluePaletteData, 'Blue');
    palette = { entries: r.entries, firstMapped: r.first, red: r.table, green: g.table, blue: b.table };
  }
  const slope = getNumber(ds, PixelTags.RescaleSlope);
  const intercept = getNumber(ds, PixelTags.RescaleIntercept);
  return {
    rows,
    columns,
    samplesPerPixel,
    photometricInterpretation,
    planarConfiguration: getNumber(ds, PixelTags.PlanarConfiguration) ?? 0,
    bitsAllocated,
    bitsStored,
    highBit: highBit >= bitsStored - 1 && highBit < bitsAllocated ? highBit : bitsStored - 1,
    pixelRepresentation: getNumber(ds, PixelTags.PixelRepresentation) ?? 0,
    frames: Math.max(1, Math.trunc(getNumber(ds, PixelTags.NumberOfFrames) ?? 1)),
    rescaleSlope: slope !== undefined && slope !== 0 ? slope : 1,
    rescaleIntercept: intercept ?? 0,
    window,
    palette,
  };
}
