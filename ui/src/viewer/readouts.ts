// Readouts shared by the 2D viewer's overlay and the MPR planes (viewer3d): the window
// as PS3.3 defines it, and the patient direction of each edge of a viewport.
import type { Types } from '@cornerstonejs/core';
import { edgeLabels, type EdgeLabels, type Vec3 } from './orientation.js';

export { round, windowReadout } from './overlay-text.js';

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
