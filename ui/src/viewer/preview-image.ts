// The first image as the viewer will show it, computed without Cornerstone from the frame
// the page fetched early (early.ts) and its instance's metadata: grey levels under the
// same window (the header's first Window Center/Width, else the image's own range, as the
// dicom-image-loader and Cornerstone's stack viewport choose), after the same modality
// LUT (Rescale Slope/Intercept), inverted for MONOCHROME1, and the rectangle the image
// takes when fitted to its viewport. Only what this can match exactly is taken: raw little
// endian grey frames with a linear window; anything else (compressed, colour, PT's SUV
// scaling, LUT sequences, a sigmoid VOI) has no preview. No DOM, no Cornerstone:
// unit-tested under Node.
import { nums, num, str, TAG, type DicomJson } from '../dicom-json.js';

const RAW_LITTLE_ENDIAN = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1']);
/** Modalities the loader scales further (SUV, dose): their window is not the header's. */
const SCALED_FURTHER = new Set(['PT', 'RTDOSE']);

export interface PreviewImage {
  rows: number;
  cols: number;
  /** Grey levels (0-255), one per pixel, row by row: the window and MONOCHROME1 applied. */
  grey: Uint8ClampedArray;
  /** The window as a range of modality values (Cornerstone's VOI range). */
  voi: { lower: number; upper: number };
  /** The image's extent in mm (columns x column spacing, rows x row spacing): its aspect on screen. */
  widthMm: number;
  heightMm: number;
}

/** The parameters of a media type ("application/octet-stream; transfer-syntax=..."), names in lower case. */
function mediaParams(type: string): { essence: string; params: Record<string, string> } {
  const [essence, ...rest] = type.split(';');
  const params: Record<string, string> = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq > 0)
      params[p.slice(0, eq).trim().toLowerCase()] = p
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1');
  }
  return { essence: essence.trim().toLowerCase(), params };
}

/** Cornerstone's VOI range of a window (utilities.windowLevel.toLowHighRange). */
export function voiRange(center: number, width: number, fn: string): { lower: number; upper: number } {
  if (fn === 'LINEAR_EXACT') return { lower: center - width / 2, upper: center + width / 2 };
  return { lower: center - 0.5 - (width - 1) / 2, upper: center - 0.5 + (width - 1) / 2 };
}

/** Stored forms whose frames the server sends raw (or may): anything else is compressed, and has no preview. */
const RAW_STORED = new Set([...RAW_LITTLE_ENDIAN, '1.2.840.10008.1.2.1.99', '1.2.840.10008.1.2.2']);

/**
 * Whether the instance's metadata allows a preview at all: what previewImage asks of the
 * header, and a stored transfer syntax (the archive's Available Transfer Syntax UID, when it
 * names one) that is not compressed. Known before the frame is fetched (early.ts).
 */
export function previewableHeader(ds: DicomJson): boolean {
  const stored = str(ds, TAG.AvailableTransferSyntaxUID);
  if (stored && !RAW_STORED.has(stored)) return false;
  const rows = num(ds, TAG.Rows) ?? 0;
  const cols = num(ds, TAG.Columns) ?? 0;
  const bits = num(ds, TAG.BitsAllocated);
  const photometric = str(ds, TAG.PhotometricInterpretation);
  if (!(rows > 0 && cols > 0) || (bits !== 8 && bits !== 16) || (num(ds, TAG.SamplesPerPixel) ?? 1) !== 1) return false;
  if (photometric !== 'MONOCHROME1' && photometric !== 'MONOCHROME2') return false;
  if (SCALED_FURTHER.has(str(ds, TAG.Modality)) || ds[TAG.ModalityLUTSequence]?.Value?.length || ds[TAG.VOILUTSequence]?.Value?.length) return false;
  const fn = str(ds, TAG.VOILUTFunction).toUpperCase() || 'LINEAR';
  return fn === 'LINEAR' || fn === 'LINEAR_EXACT';
}

/**
 * The preview of a frame (`partType`: its multipart part's Content-Type; `body`: its bytes),
 * or undefined when the viewer might show it otherwise.
 */
export function previewImage(ds: DicomJson, partType: string, body: Uint8Array): PreviewImage | undefined {
  const { essence, params } = mediaParams(partType);
  if (essence !== 'application/octet-stream' || !RAW_LITTLE_ENDIAN.has(params['transfer-syntax'] ?? '')) return undefined;
  if (!previewableHeader(ds)) return undefined;
  const rows = num(ds, TAG.Rows)!;
  const cols = num(ds, TAG.Columns)!;
  const bits = num(ds, TAG.BitsAllocated)!;
  const photometric = str(ds, TAG.PhotometricInterpretation);
  const fn = str(ds, TAG.VOILUTFunction).toUpperCase() || 'LINEAR';
  const n = rows * cols;
  if (body.length !== n * (bits / 8)) return undefined;

  // Stored values, sign-extended from Bits Stored as the loader does; then the modality LUT.
  const signed = num(ds, TAG.PixelRepresentation) === 1;
  const stored = num(ds, TAG.BitsStored) ?? bits;
  const src = bits === 16 ? (body.byteOffset % 2 ? body.slice() : body) : body;
  const raw =
    bits === 8
      ? signed
        ? new Int8Array(src.buffer, src.byteOffset, n)
        : src
      : signed
        ? new Int16Array(src.buffer, src.byteOffset, n)
        : new Uint16Array(src.buffer, src.byteOffset, n);
  const slope = num(ds, TAG.RescaleSlope) ?? 1;
  const intercept = num(ds, TAG.RescaleIntercept) ?? 0;
  const shift = signed && stored < bits ? 32 - stored : 0;
  const values = new Float32Array(n);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const s = shift ? (raw[i] << shift) >> shift : raw[i];
    const v = s * slope + intercept;
    values[i] = v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  // The header's first window, else the image's range (the loader's createImage).
  const center = nums(ds, TAG.WindowCenter)?.[0];
  const width = nums(ds, TAG.WindowWidth)?.[0];
  const voi =
    center !== undefined && width !== undefined && Number.isFinite(center) && Number.isFinite(width) ? voiRange(center, width, fn) : { lower: min, upper: max };
  const grey = new Uint8ClampedArray(n);
  const span = voi.upper - voi.lower;
  const invert = photometric === 'MONOCHROME1';
  for (let i = 0; i < n; i++) {
    const v = values[i];
    const g = span > 0 ? ((v - voi.lower) / span) * 255 : v > voi.lower ? 255 : 0;
    grey[i] = invert ? 255 - g : g; // clamped and rounded by the array
  }
  const spacing = nums(ds, TAG.PixelSpacing) ?? nums(ds, TAG.ImagerPixelSpacing);
  const [rowSpacing, colSpacing] = spacing && spacing.length >= 2 && spacing[0] > 0 && spacing[1] > 0 ? spacing : [1, 1];
  return { rows, cols, grey, voi, widthMm: cols * colSpacing, heightMm: rows * rowSpacing };
}

/** Where the image goes in a box of `w` x `h`: fitted whole and centred, as Cornerstone's camera reset places it. */
export function fitRect(img: Pick<PreviewImage, 'widthMm' | 'heightMm'>, w: number, h: number): { x: number; y: number; w: number; h: number } {
  const scale = Math.min(w / img.widthMm, h / img.heightMm);
  const fw = img.widthMm * scale;
  const fh = img.heightMm * scale;
  return { x: (w - fw) / 2, y: (h - fh) / 2, w: fw, h: fh };
}
