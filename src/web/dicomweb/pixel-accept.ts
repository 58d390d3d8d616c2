/**
 * Accept negotiation of the pixel resources (PS3.18 8.7.3: media types and transfer
 * syntaxes of bulk data and frames). A frame goes out either decoded (native little
 * endian, application/octet-stream) or as stored (its codestream, in the media type of
 * the stored transfer syntax); "transfer-syntax=*" asks for it as stored.
 */
import { PixelRequestError } from './pixel-params.js';

export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
/**
 * Deflated Image Frame Compression (PS3.5 A.4.13, Sup 244): each frame's native little
 * endian bytes, raw deflate (RFC 1951). Lossless and cheap to make: the viewer's stack
 * asks for it (inflated in its stack worker), since a browser's delivery of response bytes
 * to the page, not the server, bounds how fast a stack arrives.
 */
export const DEFLATED_IMAGE_FRAME = '1.2.840.10008.1.2.8.1';
export const OCTET_STREAM = 'application/octet-stream';

/** The single-frame media types of PS3.18 Table 8.7.3-2 and the transfer syntaxes each may carry. */
const MEDIA_TRANSFER_SYNTAXES: Record<string, readonly string[]> = {
  'image/jpeg': ['1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.51', '1.2.840.10008.1.2.4.57', '1.2.840.10008.1.2.4.70'],
  'image/jls': ['1.2.840.10008.1.2.4.80', '1.2.840.10008.1.2.4.81'],
  'image/jp2': ['1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.4.91'],
  'image/jpx': ['1.2.840.10008.1.2.4.92', '1.2.840.10008.1.2.4.93'],
  'image/jphc': ['1.2.840.10008.1.2.4.201', '1.2.840.10008.1.2.4.202', '1.2.840.10008.1.2.4.203'],
  'image/dicom-rle': ['1.2.840.10008.1.2.5'],
};
/** Older names clients still send. */
const ALIASES: Record<string, string> = { 'image/x-jls': 'image/jls', 'image/x-dicom-rle': 'image/dicom-rle' };

/** The media type a stored (encapsulated) transfer syntax is sent in; octet-stream when the table has none. */
export function mediaTypeOf(transferSyntaxUid: string): string {
  for (const [type, list] of Object.entries(MEDIA_TRANSFER_SYNTAXES)) if (list.includes(transferSyntaxUid)) return type;
  return OCTET_STREAM;
}

export interface MediaRange {
  type: string;
  params: Record<string, string>;
  q: number;
}

/** Splits an Accept header into media ranges, best first (q=0 dropped). Quoted parameter values may hold commas. */
export function parseAccept(header: string | undefined): MediaRange[] {
  if (!header || header.trim() === '') return [];
  const ranges: MediaRange[] = [];
  for (const item of header.match(/(?:[^,"]|"[^"]*")+/g) ?? []) {
    const [typePart, ...paramParts] = item.match(/(?:[^;"]|"[^"]*")+/g) ?? [];
    const type = (typePart ?? '').trim().toLowerCase();
    if (!type) continue;
    const params: Record<string, string> = {};
    for (const p of paramParts) {
      const eq = p.indexOf('=');
      if (eq < 0) continue;
      params[p.slice(0, eq).trim().toLowerCase()] = p
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1');
    }
    const q = params.q === undefined ? 1 : Number(params.q);
    if (!(q > 0)) continue;
    ranges.push({ type: ALIASES[type] ?? type, params, q });
  }
  return ranges
    .map((r, i) => ({ r, i }))
    .sort((a, b) => b.r.q - a.r.q || a.i - b.i)
    .map(({ r }) => r);
}

/** How frames (or encapsulated bulk data) go out. */
export type FrameForm =
  | { kind: 'decoded'; mediaType: typeof OCTET_STREAM; transferSyntax: typeof EXPLICIT_VR_LITTLE_ENDIAN }
  | { kind: 'deflated'; mediaType: typeof OCTET_STREAM; transferSyntax: typeof DEFLATED_IMAGE_FRAME }
  | { kind: 'stored'; mediaType: string; transferSyntax: string };

export interface StoredForm {
  transferSyntaxUid: string;
  /** Pixel Data is encapsulated (compressed frames). */
  encapsulated: boolean;
  /** We have a decoder for it. */
  decodable: boolean;
}

const DECODED = { kind: 'decoded', mediaType: OCTET_STREAM, transferSyntax: EXPLICIT_VR_LITTLE_ENDIAN } as const;
const DEFLATED = { kind: 'deflated', mediaType: OCTET_STREAM, transferSyntax: DEFLATED_IMAGE_FRAME } as const;

/** The media type inside multipart/related (its `type` parameter), or the range itself when not multipart. */
function partType(r: MediaRange): string {
  if (r.type === 'multipart/related') return (r.params.type ?? OCTET_STREAM).toLowerCase();
  if (r.type === '*/*' || r.type === 'multipart/*') return '*/*';
  return r.type;
}

/** What a resource can send besides the stored and the decoded form. */
export interface FrameOffers {
  /** Frames of an uncompressed instance deflated (the frames and Pixel Data resources; not bulk data, one native value). */
  deflate?: boolean;
}

function formFor(r: MediaRange, s: StoredForm, offers: FrameOffers): FrameForm | undefined {
  const type = ALIASES[partType(r)] ?? partType(r);
  const ts = r.params['transfer-syntax'];
  const asStored = (): FrameForm =>
    s.encapsulated ? { kind: 'stored', mediaType: mediaTypeOf(s.transferSyntaxUid), transferSyntax: s.transferSyntaxUid } : DECODED;
  if (type === '*/*') return ts === '*' ? asStored() : !s.encapsulated || s.decodable ? DECODED : asStored();
  if (type === OCTET_STREAM) {
    if (ts === '*') return asStored();
    if (ts === undefined || ts === EXPLICIT_VR_LITTLE_ENDIAN) return !s.encapsulated || s.decodable ? DECODED : undefined;
    // Offered for frames stored uncompressed only: a compressed one is better sent as stored
    // (the client's next choice) than decoded and deflated.
    if (ts === DEFLATED_IMAGE_FRAME) return offers.deflate && !s.encapsulated ? DEFLATED : undefined;
    return s.encapsulated && ts === s.transferSyntaxUid ? asStored() : undefined;
  }
  const allowed = MEDIA_TRANSFER_SYNTAXES[type];
  if (!allowed || !s.encapsulated || !allowed.includes(s.transferSyntaxUid)) return undefined;
  if (ts !== undefined && ts !== '*' && ts !== s.transferSyntaxUid) return undefined;
  return { kind: 'stored', mediaType: type, transferSyntax: s.transferSyntaxUid };
}

/** The first acceptable form, or 406 naming what the instance can be sent as. */
export function negotiateFrames(accept: string | undefined, s: StoredForm, offers: FrameOffers = {}): FrameForm {
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return formFor({ type: '*/*', params: {}, q: 1 }, s, offers)!;
  for (const r of ranges) {
    const f = formFor(r, s, offers);
    if (f) return f;
  }
  const forms = [
    ...(!s.encapsulated || s.decodable ? [`multipart/related; type="${OCTET_STREAM}"`] : []),
    ...(offers.deflate && !s.encapsulated ? [`multipart/related; type="${OCTET_STREAM}"; transfer-syntax=${DEFLATED_IMAGE_FRAME}`] : []),
    ...(s.encapsulated ? [`multipart/related; type="${mediaTypeOf(s.transferSyntaxUid)}"; transfer-syntax=${s.transferSyntaxUid}`] : []),
  ];
  throw new PixelRequestError(
    406,
    `none of the accepted media types fits: the instance is stored as ${s.transferSyntaxUid}${s.encapsulated && !s.decodable ? ' (no decoder here)' : ''}; it can be sent as ${forms.join(' or ')}`,
    'accept',
  );
}

export type RenderedType = 'image/jpeg' | 'image/png';

/** Rendered media type (default image/jpeg) and whether the client asked for multipart/related. */
export function negotiateRendered(accept: string | undefined): { type: RenderedType; multipart: boolean } {
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return { type: 'image/jpeg', multipart: false };
  for (const r of ranges) {
    const multipart = r.type === 'multipart/related';
    const t = multipart ? (r.params.type ?? 'image/jpeg').toLowerCase() : r.type;
    if (t === 'image/jpeg' || t === 'image/png') return { type: t, multipart };
    if (t === 'image/*' || t === '*/*') return { type: 'image/jpeg', multipart };
  }
  throw new PixelRequestError(406, `rendered images are available as image/jpeg or image/png, not ${accept}`, 'accept');
}
