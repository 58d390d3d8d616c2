/**
 * The bound on converting a stored instance on retrieve (limits.dataset.maxTranscodeBytes):
 * conversion holds the whole instance in memory (the stored file, its parsed data set, the
 * decoded pixels and the re-encoded copy), so an instance whose stored file or decoded
 * pixel data is over the limit is refused before it is read, or before it is decoded.
 * It can always be had as stored.
 */
import { getNumber, type Dataset } from '../dicom/dataset.js';
import { PixelTags } from '../dicom/pixel-tags.js';

/** A conversion refused for its size; the message starts with the limit's name (a DIMSE Error Comment keeps 64 characters). */
export class TranscodeLimitError extends Error {
  override readonly name = 'TranscodeLimitError';
  constructor(
    readonly sopInstanceUid: string,
    readonly bytes: number,
    readonly limit: number,
    what: 'stored file' | 'decoded pixel data',
  ) {
    super(
      `over limits.dataset.maxTranscodeBytes (${limit}): the ${what} of ${sopInstanceUid} has ${bytes} bytes; it can be retrieved in its stored transfer syntax`,
    );
  }
}

/** Bytes of native Pixel Data the data set decodes to: Rows x Columns x Samples x bytes per sample x frames. */
export function decodedPixelBytes(ds: Dataset): number {
  const n = (tag: number, dflt: number): number => {
    const v = getNumber(ds, tag);
    return v === undefined || !Number.isFinite(v) || v < 0 ? dflt : v;
  };
  const frames = Math.max(1, n(PixelTags.NumberOfFrames, 1));
  return n(PixelTags.Rows, 0) * n(PixelTags.Columns, 0) * Math.max(1, n(PixelTags.SamplesPerPixel, 1)) * Math.ceil(n(PixelTags.BitsAllocated, 8) / 8) * frames;
}

/** Throws TranscodeLimitError when `bytes` (of the stored file, or of its decoded pixel data) is over `limit`. */
export function checkTranscodeSize(sopInstanceUid: string, what: 'stored file' | 'decoded pixel data', bytes: number, limit: number): void {
  if (bytes > limit) throw new TranscodeLimitError(sopInstanceUid, bytes, limit, what);
}
