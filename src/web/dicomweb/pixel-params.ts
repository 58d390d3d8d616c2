/**
 * Parameters of the pixel resources (PS3.18 8.3.5.1 rendered query parameters, 10.4.1
 * frame lists, WADO-URI 9.1): parsed here into typed values, or a PixelRequestError
 * saying which parameter is wrong and why.
 */
import type { SourceRegion, VoiFunction, Window } from '../../dicom/render/index.js';
import { quoteValue, uidProblem } from '../../dicom/uids.js';
import { HttpError } from '../problem.js';

/** A request the pixel routes refuse: 400 bad parameter, 404 no such resource, 406 unacceptable media type. */
export class PixelRequestError extends HttpError {
  override readonly name = 'PixelRequestError';
  constructor(status: 400 | 404 | 406, message: string, field?: string) {
    super(status, message, { field });
  }
}

/** A UID (PS3.5 9.1): digits and dots, at most 64 characters. Leading zeros are tolerated (seen in the field). */
export function checkUid(value: string | undefined, field: string): string {
  if (value === undefined || value === '') throw new PixelRequestError(400, `${field} is missing`, field);
  const problem = uidProblem(value);
  if (problem) throw new PixelRequestError(400, `${field} ${quoteValue(value, 64)} is not a UID: it ${problem}`, field);
  return value;
}

/** "1,3,5" -> [1, 3, 5] (1-based frame numbers, in request order). */
export function parseFrameList(value: string): number[] {
  const parts = value.split(',');
  if (parts.length > 10000) throw new PixelRequestError(400, 'more than 10000 frame numbers', 'frames');
  return parts.map((p) => {
    const t = p.trim();
    if (!/^[0-9]{1,9}$/.test(t) || Number(t) < 1) throw new PixelRequestError(400, `frame number '${t.slice(0, 20)}' is not a positive integer`, 'frames');
    return Number(t);
  });
}

function decimal(value: string, field: string): number {
  const t = value.trim();
  if (!/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(t)) throw new PixelRequestError(400, `${field}: '${t.slice(0, 20)}' is not a number`, field);
  return Number(t);
}

function positiveInt(value: string, label: string, max = 65535, field = label): number {
  const t = value.trim();
  if (!/^[0-9]{1,6}$/.test(t) || Number(t) < 1 || Number(t) > max)
    throw new PixelRequestError(400, `${label} must be an integer 1..${max}, not '${t.slice(0, 20)}'`, field);
  return Number(t);
}

const VOI_FUNCTIONS: Record<string, VoiFunction> = { linear: 'linear', 'linear-exact': 'linear-exact', sigmoid: 'sigmoid' };

/** window=center,width[,function] (PS3.18 8.3.5.1.4). */
export function parseWindow(value: string | undefined): Window | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(',');
  if (parts.length < 2 || parts.length > 3) throw new PixelRequestError(400, 'window must be center,width[,function]', 'window');
  const center = decimal(parts[0], 'window');
  const width = decimal(parts[1], 'window');
  if (!(width > 0)) throw new PixelRequestError(400, 'window width must be greater than 0', 'window');
  const fnName = (parts[2] ?? 'linear').trim().toLowerCase();
  const fn = VOI_FUNCTIONS[fnName];
  if (!fn) throw new PixelRequestError(400, `window function '${fnName.slice(0, 20)}' is not one of linear, linear-exact, sigmoid`, 'window');
  if (fn === 'linear' && width < 1) throw new PixelRequestError(400, 'a linear window needs a width of at least 1', 'window');
  return { center, width, fn };
}

export interface ViewportParam {
  width: number;
  height: number;
  region?: SourceRegion;
}

/** viewport=vw,vh[,sx,sy,sw,sh] (PS3.18 8.3.5.1.3); sw, sh may be negative (flip) or empty. */
export function parseViewport(value: string | undefined): ViewportParam | undefined {
  if (value === undefined) return undefined;
  const p = value.split(',');
  if (p.length !== 2 && p.length !== 6) throw new PixelRequestError(400, 'viewport must be vw,vh or vw,vh,sx,sy,sw,sh', 'viewport');
  const width = positiveInt(p[0], 'viewport width', 8192, 'viewport');
  const height = positiveInt(p[1], 'viewport height', 8192, 'viewport');
  if (p.length === 2) return { width, height };
  const [sx, sy] = [p[2], p[3]].map((v) => (v.trim() === '' ? 0 : decimal(v, 'viewport')));
  const sw = p[4].trim() === '' ? undefined : decimal(p[4], 'viewport');
  const sh = p[5].trim() === '' ? undefined : decimal(p[5], 'viewport');
  if (sx < 0 || sy < 0 || sw === 0 || sh === 0)
    throw new PixelRequestError(400, 'viewport source region must start at or after 0,0 and have a non-zero size', 'viewport');
  return { width, height, region: { x: sx, y: sy, width: sw ?? Number.NaN, height: sh ?? Number.NaN } };
}

/** The region with empty sizes filled in: to the image's edge (PS3.18: "the remainder of the image"). */
export function resolveRegion(r: SourceRegion | undefined, columns: number, rows: number): SourceRegion | undefined {
  if (!r) return undefined;
  if (r.x >= columns || r.y >= rows) throw new PixelRequestError(400, `viewport source region starts outside the ${columns}x${rows} image`, 'viewport');
  return {
    x: r.x,
    y: r.y,
    width: Number.isNaN(r.width) ? columns - r.x : r.width,
    height: Number.isNaN(r.height) ? rows - r.y : r.height,
  };
}

export function parseQuality(value: string | undefined, field = 'quality'): number | undefined {
  if (value === undefined) return undefined;
  return positiveInt(value, field, 100);
}

/** bulkdata/{tag}: 8 hex digits, top-level attributes only. */
export function parseTag(value: string): number {
  if (!/^[0-9A-Fa-f]{8}$/.test(value)) throw new PixelRequestError(400, `'${value.slice(0, 40)}' is not a tag (8 hex digits, e.g. 7FE00010)`, 'tag');
  return Number.parseInt(value, 16) >>> 0;
}

/** WADO-URI region=xmin,ymin,xmax,ymax as fractions of the image (PS3.18 9.1.2.1.8 / 8.1.2.1.8). */
export function parseRegion(value: string | undefined): [number, number, number, number] | undefined {
  if (value === undefined) return undefined;
  const p = value.split(',');
  if (p.length !== 4) throw new PixelRequestError(400, 'region must be xmin,ymin,xmax,ymax (fractions 0.0..1.0)', 'region');
  const [x0, y0, x1, y1] = p.map((v) => decimal(v, 'region'));
  if ([x0, y0, x1, y1].some((v) => v < 0 || v > 1) || x0 >= x1 || y0 >= y1) {
    throw new PixelRequestError(400, 'region values must be fractions 0.0..1.0 with xmin < xmax and ymin < ymax', 'region');
  }
  return [x0, y0, x1, y1];
}

export function parsePositive(value: string | undefined, field: string, max = 65535): number | undefined {
  return value === undefined ? undefined : positiveInt(value, field, max);
}

export function parseDecimal(value: string | undefined, field: string): number | undefined {
  return value === undefined ? undefined : decimal(value, field);
}
