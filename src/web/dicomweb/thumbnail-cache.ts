/**
 * Thumbnail requests (PS3.18 10.4.1.1.4 thumbnail resources): the query parameters parsed
 * into a render request whose size is capped, and the text that names its variant in the
 * archive's thumbnail cache (src/archive/derived-cache.ts). The variant is built from the
 * parsed numbers in one canonical form, never from the request text, so `128,128`,
 * `0128,128` and `128.0`-style spellings are one cache entry, and a caller cannot grow
 * the cache with spellings of the same image.
 */
import type { Window } from '../../dicom/render/index.js';
import type { RenderedType } from './pixel-accept.js';
import { parseQuality, parseViewport, parseWindow, type ViewportParam } from './pixel-params.js';
import type { RenderRequest } from './pixel-render.js';

/** The size when the request names none. */
export const THUMBNAIL_SIZE = 128;
/**
 * The largest thumbnail side. A larger viewport is clamped (both sides scaled, the aspect
 * ratio kept), not refused: PS3.18 leaves a thumbnail's size to the server, and viewers
 * ask for their panel's size. Larger images are the rendered resources' job (not cached).
 */
export const THUMBNAIL_MAX = 512;
export const THUMBNAIL_QUALITY = 85;

export interface ThumbnailRequest {
  params: RenderRequest;
  /** The cache variant: media type and normalized parameters. */
  variant: string;
}

function clamp(v: ViewportParam): ViewportParam {
  const longer = Math.max(v.width, v.height);
  if (longer <= THUMBNAIL_MAX) return v;
  const scale = THUMBNAIL_MAX / longer;
  return { ...v, width: Math.max(1, Math.round(v.width * scale)), height: Math.max(1, Math.round(v.height * scale)) };
}

/** A number in one canonical spelling (String(Number) is canonical; -0 is 0). */
const n = (x: number): string => String(x === 0 ? 0 : x);

function windowText(w: Window | undefined): string {
  return w ? `${n(w.center)},${n(w.width)},${w.fn}` : '';
}

/** Parses a thumbnail request's query (400 on bad values, as the rendered resources). */
export function thumbnailRequest(query: Record<string, string | undefined>, type: RenderedType): ThumbnailRequest {
  const viewport = clamp(parseViewport(query.viewport) ?? { width: THUMBNAIL_SIZE, height: THUMBNAIL_SIZE });
  const window = parseWindow(query.window);
  // Quality means nothing to PNG: not part of its variant.
  const quality = type === 'image/png' ? undefined : (parseQuality(query.quality) ?? THUMBNAIL_QUALITY);
  const r = viewport.region;
  const variant = [
    type,
    `${n(viewport.width)}x${n(viewport.height)}`,
    r ? [r.x, r.y, r.width, r.height].map((v) => (Number.isNaN(v) ? '' : n(v))).join(',') : '',
    windowText(window),
    quality === undefined ? '' : n(quality),
  ].join(';');
  return { params: { frame: 0, type, viewport, window, quality }, variant };
}
