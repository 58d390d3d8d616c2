// The text of a 2D viewport's overlay corners, from the instance's metadata and what the
// viewport shows: shared by the viewport's overlay (overlay.ts) and the preview drawn
// before Cornerstone has loaded (preview.ts), so both say the same. No DOM, no Cornerstone.
import { formatDate, num, str, TAG, type DicomJson } from '../dicom-json.js';
import { locationOf } from './geometry.js';

export function round(x: number | undefined, digits = 1): string {
  return x === undefined ? '' : String(Number(x.toFixed(digits)));
}

/** "W: 400 L: 40" of a viewport's VOI range, '' when it has none (or a broken one: never "NaN"). */
export function windowReadout(voi: { lower: number; upper: number } | undefined): string {
  if (!voi || !Number.isFinite(voi.lower) || !Number.isFinite(voi.upper)) return '';
  // Back from the range to the window as PS3.3 C.11.2.1.2 defines it (the linear function
  // spans width - 1 between its end points), so a 400 wide window reads 400, not 399.
  // Cornerstone's utilities.windowLevel.toWindowLevel, without importing Cornerstone.
  const width = Math.abs(voi.upper - voi.lower) + 1;
  const center = (voi.lower + voi.upper + 1) / 2;
  return `W: ${round(width, 0)} L: ${round(center, 0)}`;
}

/** What the viewport shows of the instance. */
export interface OverlayView {
  /** 0-based position in the stack, and the stack's length. */
  index: number;
  total: number;
  /** The frame shown (1-based). */
  frame: number;
  voi: { lower: number; upper: number } | undefined;
  /** 1 when the image fits its viewport. */
  zoom: number;
  /** The image could not be loaded or decoded: no window to show. */
  failed?: boolean;
}

export type OverlayCorners = Record<'tl' | 'tr' | 'bl' | 'br', string[]>;

/** The lines of each corner (empty ones left out). */
export function overlayCorners(ds: DicomJson, v: OverlayView): OverlayCorners {
  const frames = num(ds, TAG.NumberOfFrames) ?? 1;
  // From the position, not Slice Location: that one goes stale when a series is edited or reformatted.
  const loc = locationOf(ds, v.frame);
  const thick = num(ds, TAG.SliceThickness);
  const lines = (...ls: string[]) => ls.filter(Boolean);
  return {
    tl: lines(str(ds, TAG.PatientName).replace(/\^/g, ' '), str(ds, TAG.PatientID), formatDate(str(ds, TAG.StudyDate)), str(ds, TAG.StudyDescription)),
    tr: lines(
      `Se: ${str(ds, TAG.SeriesNumber)} ${str(ds, TAG.SeriesDescription)}`.trim(),
      `Im: ${v.index + 1}/${v.total}`,
      `Instance: ${str(ds, TAG.InstanceNumber)}${frames > 1 ? ` frame ${v.frame}/${frames}` : ''}`,
    ),
    bl: lines(loc !== undefined ? `Loc: ${round(loc, 2)} mm` : '', thick !== undefined ? `Thick: ${round(thick, 2)} mm` : ''),
    br: lines(v.failed ? '' : windowReadout(v.voi), `Zoom: ${round(v.zoom * 100, 0)}%`),
  };
}
