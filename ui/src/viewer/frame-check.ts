// A look at a retrieved frame before it is decoded. OpenJPEG (JPEG 2000) does not fail on
// a codestream it cannot read: it logs, and the loader's one decoder instance hands back
// the previous frame's pixels, or none (a black viewport reading "W: NaN L: NaN"). So a
// JPEG 2000 / HTJ2K frame's main header is checked here first (SOC, SIZ with the image's
// size and samples, markers up to the first tile-part, tile-part lengths within the data,
// EOC at the end); a frame that fails is refused with the reason and never reaches the
// decoder. Damage inside the entropy-coded data is beyond this check. Byte scanning only
// (no regular expressions on network input). No DOM, no Cornerstone: unit-tested under Node.

/** What the image's header says the frame holds. */
export interface FrameShape {
  rows?: number;
  columns?: number;
  samplesPerPixel?: number;
}

const J2K_SYNTAXES = new Set([
  '1.2.840.10008.1.2.4.90',
  '1.2.840.10008.1.2.4.91',
  '1.2.840.10008.1.2.4.201',
  '1.2.840.10008.1.2.4.202',
  '1.2.840.10008.1.2.4.203',
]);
const J2K_MEDIA_TYPES = new Set(['image/jp2', 'image/jpx', 'image/jphc', 'image/j2c']);

/** Thrown (as the reason of a refused frame) when a frame cannot be decoded. */
export class FrameError extends Error {
  override readonly name = 'FrameError';
}

const u16 = (b: Uint8Array, at: number) => (b[at] << 8) | b[at + 1];
const u32 = (b: Uint8Array, at: number) => ((b[at] << 24) >>> 0) + (b[at + 1] << 16) + (b[at + 2] << 8) + b[at + 3];

/** The problem of a JPEG 2000 codestream, or undefined when its structure holds. */
export function j2kProblem(cs: Uint8Array, shape: FrameShape = {}): string | undefined {
  if (cs.length < 2 || cs[0] !== 0xff || cs[1] !== 0x4f) return 'no JPEG 2000 start of codestream (SOC)';
  if (cs.length < 42 || cs[2] !== 0xff || cs[3] !== 0x51) return 'the JPEG 2000 image header (SIZ) is missing or damaged';
  const lsiz = u16(cs, 4);
  const width = u32(cs, 8) - u32(cs, 16);
  const height = u32(cs, 12) - u32(cs, 20);
  const components = u16(cs, 40);
  if (lsiz !== 38 + 3 * components || components === 0 || components > 4) return 'the JPEG 2000 image header (SIZ) is damaged';
  if (shape.columns !== undefined && shape.rows !== undefined && (width !== shape.columns || height !== shape.rows))
    return `the JPEG 2000 image is ${width} x ${height}, the header says ${shape.columns} x ${shape.rows}`;
  if (shape.samplesPerPixel !== undefined && components !== shape.samplesPerPixel)
    return `the JPEG 2000 image has ${components} component(s), the header says ${shape.samplesPerPixel}`;
  // Main header markers (each with its length) up to the first tile-part (SOT).
  let at = 4 + lsiz;
  for (;;) {
    if (at + 4 > cs.length) return 'the JPEG 2000 codestream ends inside its header';
    if (cs[at] !== 0xff) return 'the JPEG 2000 header is damaged (no marker where one must be)';
    if (cs[at + 1] === 0x90) break;
    const length = u16(cs, at + 2);
    if (length < 2) return 'the JPEG 2000 header is damaged (a marker of no length)';
    at += 2 + length;
  }
  // Tile-parts: SOT with its Psot (length of the tile-part, 0 = up to EOC), then EOC.
  while (at + 12 <= cs.length && cs[at] === 0xff && cs[at + 1] === 0x90) {
    const psot = u32(cs, at + 6);
    if (psot === 0) return cs[cs.length - 2] === 0xff && cs[cs.length - 1] === 0xd9 ? undefined : 'the JPEG 2000 codestream is cut short (no EOC)';
    if (psot < 14 || at + psot > cs.length) return 'the JPEG 2000 codestream is cut short (a tile-part runs past its end)';
    at += psot;
  }
  if (at + 2 > cs.length || cs[at] !== 0xff || cs[at + 1] !== 0xd9) return 'the JPEG 2000 codestream is damaged (no EOC after its tile-parts)';
  return undefined;
}

/** Index of `needle` in `hay` from `from`, -1 when absent. */
function indexOf(hay: Uint8Array, needle: Uint8Array, from = 0): number {
  outer: for (let i = from; i + needle.length <= hay.length; i++) {
    for (let k = 0; k < needle.length; k++) if (hay[i + k] !== needle[k]) continue outer;
    return i;
  }
  return -1;
}

/** A parameter of a media type header value (`boundary`, `transfer-syntax`), quotes removed. */
export function mediaParam(header: string, name: string): string | undefined {
  for (const part of header.split(';').slice(1)) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim().toLowerCase() !== name) continue;
    const v = part.slice(eq + 1).trim();
    return v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
  }
  return undefined;
}

const ascii = (b: Uint8Array) => String.fromCharCode(...b);

/**
 * The problem of a WADO-RS frame response (multipart/related, one part), or undefined when
 * it is not JPEG 2000 or its codestream's structure holds.
 */
export function frameProblem(body: ArrayBuffer, contentType: string, shape: FrameShape = {}): string | undefined {
  const boundary = mediaParam(contentType, 'boundary');
  const bytes = new Uint8Array(body);
  let partType = contentType;
  let data = bytes;
  if (contentType.trim().toLowerCase().startsWith('multipart/') && boundary) {
    const end = indexOf(bytes, new TextEncoder().encode('\r\n\r\n'));
    if (end < 0 || end > 4096) return undefined; // not a shape this check knows: the loader says what is wrong
    const headers = ascii(bytes.subarray(0, end)).split('\r\n');
    partType = headers.find((l) => l.toLowerCase().startsWith('content-type:'))?.slice('content-type:'.length) ?? '';
    const close = indexOf(bytes, new TextEncoder().encode(`\r\n--${boundary}`), end + 4);
    data = bytes.subarray(end + 4, close < 0 ? bytes.length : close);
  }
  const media = partType.split(';')[0].trim().toLowerCase();
  const syntax = mediaParam(partType, 'transfer-syntax');
  if (!J2K_MEDIA_TYPES.has(media) && !(syntax && J2K_SYNTAXES.has(syntax))) return undefined;
  // A JP2 file (its signature box) rather than a bare codestream: the codestream box inside.
  if (data.length > 12 && u32(data, 0) === 12 && ascii(data.subarray(4, 8)) === 'jP  ') {
    const jp2c = indexOf(data, new TextEncoder().encode('jp2c'));
    if (jp2c < 4) return 'the JPEG 2000 file holds no codestream';
    data = data.subarray(jp2c + 4);
  }
  return j2kProblem(trimPadding(data), shape);
}

/** Without the zero byte an odd-length fragment is padded with (PS3.5 A.4). */
function trimPadding(cs: Uint8Array): Uint8Array {
  return cs.length > 2 && cs[cs.length - 1] === 0 && cs[cs.length - 3] === 0xff && cs[cs.length - 2] === 0xd9 ? cs.subarray(0, cs.length - 1) : cs;
}
