// Uncompressed little-endian grey frames (most CT and MR as stored here) decoded on the
// page instead of the dicom-image-loader's decode worker. Decoding them is a typed-array
// view, a min/max pass and the modality LUT (~1 ms for 512x512): the worker added two
// structured clones of the frame, a message round trip and a queue shared with the
// compressed frames, on a machine with two cores, and the worker's 3.6 MB script has to
// be loaded before the first of them. What this does is the loader worker's own post-
// processing (decodeImageFrameWorker.js postProcessDecodedPixels) for exactly this case;
// anything else (compressed, colour, big endian, a volume's target buffer, PT SUV or RT
// dose scaling) still goes to the worker (loader.ts routes the tasks). No DOM, no
// Cornerstone: unit-tested under Node.

import { greyLayoutOf, takeRange } from './frame-range.js';

const RAW_LITTLE_ENDIAN = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1']);

interface ScalingParameters {
  rescaleSlope?: number;
  rescaleIntercept?: number;
  modality?: string;
  suvbw?: number;
  doseGridScaling?: number;
}

/** The part of the loader's decode task arguments (createImage.js → decodeImageFrame.js) read here. */
export interface DecodeTaskArgs {
  imageFrame: {
    samplesPerPixel?: number;
    bitsAllocated?: number;
    bitsStored?: number;
    pixelRepresentation?: number;
    photometricInterpretation?: string;
    pixelData?: ArrayLike<number> | ArrayBuffer;
    pixelDataLength?: number;
    smallestPixelValue?: number;
    largestPixelValue?: number;
    preScale?: unknown;
    decodeTimeInMS?: number;
    [k: string]: unknown;
  };
  transferSyntax: string;
  pixelData: Uint8Array;
  options?: {
    targetBuffer?: unknown;
    decodeLevel?: unknown;
    allowFloatRendering?: boolean;
    preScale?: { enabled?: boolean; scalingParameters?: ScalingParameters };
  };
}

/** Whether a decode task is one this module does: raw little endian, one sample of 8 or 16 bits, no target buffer, plain rescale. */
export function decodesOnPage(a: DecodeTaskArgs): boolean {
  const f = a.imageFrame;
  if (!RAW_LITTLE_ENDIAN.has(a.transferSyntax) || !(a.pixelData instanceof Uint8Array)) return false;
  if (f.samplesPerPixel !== 1 || (f.bitsAllocated !== 16 && f.bitsAllocated !== 8)) return false;
  if (f.photometricInterpretation !== 'MONOCHROME1' && f.photometricInterpretation !== 'MONOCHROME2') return false;
  const o = a.options ?? {};
  if (o.targetBuffer !== undefined || (o.decodeLevel !== undefined && o.decodeLevel !== 0)) return false;
  const sp = o.preScale?.enabled ? o.preScale.scalingParameters : undefined;
  if (sp && ((sp.modality === 'PT' && typeof sp.suvbw === 'number') || (sp.modality === 'RTDOSE' && typeof sp.doseGridScaling === 'number'))) return false;
  const bytesPerSample = f.bitsAllocated / 8;
  return a.pixelData.length % bytesPerSample === 0;
}

type IntArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Float32Array;
/** A constructor of one of those arrays: of a length, or as a view over a buffer. */
interface IntArrayType {
  new (length: number): IntArray;
  new (buffer: ArrayBuffer, byteOffset: number, length: number): IntArray;
  readonly BYTES_PER_ELEMENT: number;
}

/** The loader's choice of array for a value range (getPixelDataTypeFromMinMax.js). */
function arrayTypeFor(min: number, max: number): IntArrayType {
  if (Number.isInteger(min) && Number.isInteger(max)) {
    if (min >= 0) {
      if (max <= 255) return Uint8Array;
      if (max <= 65535) return Uint16Array;
      if (max <= 4294967295) return Uint32Array;
    } else {
      if (min >= -128 && max <= 127) return Int8Array;
      if (min >= -32768 && max <= 32767) return Int16Array;
    }
  }
  return Float32Array;
}

/** The frame decoded, as the worker's decodeTask resolves it (the same imageFrame object, filled in). */
export function decodeOnPage(a: DecodeTaskArgs): DecodeTaskArgs['imageFrame'] {
  const start = performance.now();
  const f = a.imageFrame;
  const px = a.pixelData;
  // A frame the stack's worker made (frame-range.ts) comes with its range, and its buffer is
  // the page's alone: no range pass, and the values are rescaled where they are.
  const layout = greyLayoutOf(f);
  const known = layout ? takeRange(px, layout) : undefined;
  let data: Uint8Array | Int16Array | Uint16Array;
  if (f.bitsAllocated === 16) {
    // A view where the bytes are aligned (the multipart reader hands each frame its own buffer); a copy otherwise.
    const src = px.byteOffset % 2 ? px.slice() : px;
    data =
      f.pixelRepresentation === 1 ? new Int16Array(src.buffer, src.byteOffset, src.length / 2) : new Uint16Array(src.buffer, src.byteOffset, src.length / 2);
  } else {
    data = px;
  }
  const n = data.length;
  // Signed values narrower than their container: sign-extended from Bits Stored, as the worker does.
  if (f.pixelRepresentation === 1 && f.bitsStored !== undefined && f.bitsStored < (f.bitsAllocated ?? 16)) {
    const shift = 32 - f.bitsStored;
    for (let i = 0; i < n; i++) data[i] = (data[i] << shift) >> shift;
  }
  let min = known ? known.min : n ? data[0] : 0;
  let max = known ? known.max : min;
  if (!known)
    for (let i = 1; i < n; i++) {
      const v = data[i];
      if (v < min) min = v;
      else if (v > max) max = v;
    }
  /** The array for the decoded values: over the frame's own bytes when the page owns them and the sizes match. */
  const outFor = (Type: IntArrayType): IntArray =>
    known && Type.BYTES_PER_ELEMENT === data.BYTES_PER_ELEMENT ? new Type(data.buffer as ArrayBuffer, 0, n) : new Type(n);
  const o = a.options ?? {};
  const sp = o.preScale?.enabled ? o.preScale.scalingParameters : undefined;
  const canRenderFloat = o.allowFloatRendering ?? true;
  const floatRescale = sp !== undefined && Object.values(sp).some((v) => typeof v === 'number' && !Number.isInteger(v));
  const scale = sp !== undefined && !(!canRenderFloat && floatRescale);
  const slope = sp?.rescaleSlope;
  const intercept = sp?.rescaleIntercept;
  const rescale = scale && typeof slope === 'number' && typeof intercept === 'number';
  let out: IntArray;
  if (rescale) {
    const a0 = slope * min + intercept;
    const a1 = slope * max + intercept;
    out = outFor(arrayTypeFor(a0, a1));
    for (let i = 0; i < n; i++) out[i] = data[i] * slope + intercept;
    f.preScale = { ...o.preScale, scaled: true };
    min = a0;
    max = a1;
  } else {
    const Type = arrayTypeFor(min, max);
    if (known && data instanceof Type) out = data;
    else {
      out = outFor(Type);
      if (out.buffer === data.buffer) for (let i = 0; i < n; i++) out[i] = data[i];
      else out.set(data);
    }
  }
  f.pixelDataLength = n;
  // The loader's createImage then makes the array it wants with `new Type(pixelData)`, Type
  // chosen from the range set below (setPixelDataType.js): the same type as `out`. Given the
  // buffer, that is a view; given `out`, it would be a second copy of every frame.
  f.pixelData = out.buffer as ArrayBuffer;
  f.smallestPixelValue = min;
  f.largestPixelValue = max;
  f.decodeTimeInMS = performance.now() - start;
  return f;
}
