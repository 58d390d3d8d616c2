// Readouts shared by the 2D viewer's overlay and the MPR planes (viewer3d): the window
// as PS3.3 defines it, and the patient direction of each edge of a viewport.
import { utilities, type Types } from '@cornerstonejs/core';
import { edgeLabels, type EdgeLabels, type Vec3 } from './orientation.js';

export function round(x: number | undefined, digits = 1): string {
  return x === undefined ? '' : String(Number(x.toFixed(digits)));
}

/** "W: 400 L: 40" of a viewport's VOI range, '' when it has none (or a broken one: never "NaN"). */
export function windowReadout(voi: { lower: number; upper: number } | undefined): string {
  if (!voi || !Number.isFinite(voi.lower) || !Number.isFinite(voi.upper)) return '';
  // Back from the range to the window as PS3.3 C.11.2.1.2 defines it (the linear function
  // spans width - 1 between its end points), so a 400 wide window reads 400, not 399.
  const wl = utilities.windowLevel.toWindowLevel(voi.lower, voi.upper);
  return `W: ${round(wl.windowWidth, 0)} L: ${round(wl.windowCenter, 0)}`;
}

/** The patient directions of the four edges of a viewport as its camera shows it now (flips, rotations, obliques). */
export function viewportEdgeLabels(viewport: Pick<Types.IViewport, 'canvas' | 'canvasToWorld'>): EdgeLabels | undefined {
  const canvas = viewport.canvas;
  const cx = canvas.clientWidth / 2;
  const cy = canvas.clientHeight / 2;
  const c = viewport.canvasToWorld([cx, cy]);
  const r = viewport.canvasToWorld([cx + 10, cy]);
  const d = viewport.canvasToWorld([cx, cy + 10]);
  if (![...c, ...r, ...d].every(Number.isFinite)) return undefined;
  return edgeLabels([r[0] - c[0], r[1] - c[1], r[2] - c[2]] as Vec3, [d[0] - c[0], d[1] - c[1], d[2] - c[2]] as Vec3);
}
