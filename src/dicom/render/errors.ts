/** Why pixel data could not be served or rendered; the web layer maps `kind` to an HTTP status. */
export type PixelErrorKind =
  /** The instance has no Pixel Data or lacks the Image Pixel attributes (404 for pixel resources). */
  | 'not-an-image'
  /** A frame number outside 1..Number of Frames (404). */
  | 'frame-out-of-range'
  /** Stored in a form we cannot decode (406 when a decoded form was asked for). */
  | 'unsupported'
  /** The stored bytes contradict their own attributes (500: the archive holds a bad file). */
  | 'malformed';

export class PixelDataError extends Error {
  override name = 'PixelDataError';
  readonly kind: PixelErrorKind;
  constructor(kind: PixelErrorKind, message: string) {
    super(message);
    this.kind = kind;
  }
}
