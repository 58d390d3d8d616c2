/**
 * The image decoders: dcmjs-codecs' WebAssembly build of the reference codecs (IJG
 * libjpeg 8/12/16-bit for JPEG processes 1, 2/4, 6/8, 10/12, 14 and SV1; CharLS for
 * JPEG-LS; OpenJPEG for JPEG 2000; OpenJPH for HTJ2K; its RLE decoder). Only its
 * `NativeCodecs` and `Context` are used: data sets stay ours. The module is loaded and
 * initialized on the first decode, so a process that never transcodes never pays for it.
 */
import { createRequire } from 'node:module';

/** The part of dcmjs-codecs' API used here (its own typings declare more). */
interface CodecContext {
  getDecodedBuffer(): Uint8Array | undefined;
  getPhotometricInterpretation(): string | undefined;
  getPlanarConfiguration(): number | undefined;
}
interface CodecContextAttrs {
  width: number;
  height: number;
  bitsAllocated: number;
  bitsStored: number;
  samplesPerPixel: number;
  pixelRepresentation: number;
  planarConfiguration: number;
  photometricInterpretation: string;
  encodedBuffer: Uint8Array;
}
type DecodeFn = (ctx: CodecContext, params?: Record<string, unknown>) => CodecContext;
interface DcmjsCodecs {
  Context: new (attrs: CodecContextAttrs) => CodecContext;
  NativeCodecs: {
    initializeAsync(opts?: { logCodecsInfo?: boolean; logCodecsTrace?: boolean }): Promise<void>;
    decodeRle: DecodeFn;
    decodeJpeg: DecodeFn;
    decodeJpegLs: DecodeFn;
    decodeJpeg2000: DecodeFn;
    decodeHtJpeg2000: DecodeFn;
  };
}

export type CodecFamily = 'rle' | 'jpeg' | 'jpeg-ls' | 'jpeg2000' | 'htj2k';

/** The image parameters of a frame (PS3.3 C.7.6.3), as the data set states them. */
export interface FrameGeometry {
  rows: number;
  columns: number;
  bitsAllocated: number;
  bitsStored: number;
  samplesPerPixel: number;
  pixelRepresentation: number;
  planarConfiguration: number;
  photometricInterpretation: string;
}

export interface DecodedFrame {
  pixels: Uint8Array;
  /** As the decoder reports it after decoding (e.g. RGB after a YBR_FULL_422 JPEG). */
  photometricInterpretation: string;
}

let loading: Promise<DcmjsCodecs> | undefined;

/** Loads and initializes the WebAssembly module once (about 4 MB, ~100 ms). */
export function loadCodecs(): Promise<DcmjsCodecs> {
  loading ??= (async () => {
    const mod = createRequire(import.meta.url)('dcmjs-codecs') as DcmjsCodecs;
    await mod.NativeCodecs.initializeAsync({ logCodecsInfo: false, logCodecsTrace: false });
    return mod;
  })();
  loading.catch(() => {
    loading = undefined;
  });
  return loading;
}

const DECODER: Record<CodecFamily, keyof DcmjsCodecs['NativeCodecs']> = {
  rle: 'decodeRle',
  jpeg: 'decodeJpeg',
  'jpeg-ls': 'decodeJpegLs',
  jpeg2000: 'decodeJpeg2000',
  htj2k: 'decodeHtJpeg2000',
};

/** Decodes one compressed frame into native pixels (samples interleaved, little endian). */
export async function decodeFrame(family: CodecFamily, frame: Uint8Array, g: FrameGeometry): Promise<DecodedFrame> {
  const codecs = await loadCodecs();
  const ctx = new codecs.Context({
    width: g.columns,
    height: g.rows,
    bitsAllocated: g.bitsAllocated,
    bitsStored: g.bitsStored,
    samplesPerPixel: g.samplesPerPixel,
    pixelRepresentation: g.pixelRepresentation,
    planarConfiguration: g.planarConfiguration,
    photometricInterpretation: g.photometricInterpretation,
    encodedBuffer: frame,
  });
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with NativeCodecs as `this` below
  const decode = codecs.NativeCodecs[DECODER[family]] as DecodeFn;
  let out: CodecContext;
  try {
    out = decode.call(codecs.NativeCodecs, ctx, { convertColorspaceToRgb: true });
  } catch (err) {
    throw new Error(`${family} decoder: ${(err as Error).message ?? String(err)}`, { cause: err });
  }
  const pixels = out.getDecodedBuffer();
  if (!pixels) throw new Error(`${family} decoder returned no pixels`);
  return { pixels, photometricInterpretation: out.getPhotometricInterpretation() ?? g.photometricInterpretation };
}
