// The CT phantom: a water cylinder in air with a bone rod whose radius grows along the
// series, as a model (region of any point) and as stored pixels. Tests compute what a
// viewer should show from the same functions.

/** Hounsfield values of the phantom's materials. */
export const HU = { air: -1000, water: 0, bone: 1000 } as const;
/** Stored value outside the reconstruction circle (Pixel Padding Value). */
export const CT_PADDING_VALUE = -2000;
export const CT_RESCALE_INTERCEPT = -1024;
export const CT_RESCALE_SLOPE = 1;

export type CtRegion = 'padding' | 'air' | 'water' | 'bone';

/**
 * Geometry of the CT phantom, all in patient coordinates (LPS, mm), image plane axial
 * (orientation 1\0\0\0\1\0), image centre at x = y = 0:
 *  - outside the inscribed reconstruction circle (radius fovRadius): padding (stored -2000)
 *  - a water cylinder (0 HU) of radius waterRadius centred at (0, 0), in air (-1000 HU)
 *  - a bone rod (1000 HU) centred at (boneX, boneY) (patient's left, anterior: breaks
 *    every flip and rotation), radius growing linearly from boneRadiusFirst on the first
 *    slice (instance 1) to boneRadiusLast on the last (catches slice-order errors).
 * A pixel (row r, col c) belongs to a circle when its centre is inside or on it.
 */
export interface CtPhantom {
  rows: number;
  cols: number;
  count: number;
  pixelSpacing: number; // mm, same for rows and columns
  sliceThickness: number; // mm, also the spacing between slices
  firstZ: number; // z of slice 0
  fovRadius: number;
  waterRadius: number;
  boneX: number;
  boneY: number;
  boneRadiusFirst: number;
  boneRadiusLast: number;
}

export function ctPhantom(o: { rows?: number; cols?: number; count?: number; fovMm?: number; sliceThickness?: number } = {}): CtPhantom {
  const rows = o.rows ?? 512;
  const cols = o.cols ?? 512;
  const fov = o.fovMm ?? 350;
  const pixelSpacing = Number((fov / Math.max(rows, cols)).toFixed(6));
  const minExtent = Math.min(rows, cols) * pixelSpacing;
  return {
    rows,
    cols,
    count: o.count ?? 300,
    pixelSpacing,
    sliceThickness: o.sliceThickness ?? 1.25,
    firstZ: 0,
    fovRadius: minExtent / 2,
    waterRadius: 0.35 * minExtent,
    boneX: 0.15 * minExtent,
    boneY: -0.1 * minExtent,
    boneRadiusFirst: 0.02 * minExtent,
    boneRadiusLast: 0.08 * minExtent,
  };
}

/** x, y (mm) of a pixel centre; the image centre is (0, 0). */
export function ctPixelPosition(p: CtPhantom, row: number, col: number): { x: number; y: number } {
  return { x: (col - (p.cols - 1) / 2) * p.pixelSpacing, y: (row - (p.rows - 1) / 2) * p.pixelSpacing };
}
export function ctSliceZ(p: CtPhantom, slice: number): number {
  return p.firstZ + slice * p.sliceThickness;
}
export function ctBoneRadius(p: CtPhantom, slice: number): number {
  const f = p.count > 1 ? slice / (p.count - 1) : 0.5;
  return p.boneRadiusFirst + (p.boneRadiusLast - p.boneRadiusFirst) * f;
}
/** Region of the pixel (row, col) on slice `slice` (0-based; instance number = slice + 1). */
export function ctRegion(p: CtPhantom, slice: number, row: number, col: number): CtRegion {
  const { x, y } = ctPixelPosition(p, row, col);
  return ctRegionAt(p, slice, x, y);
}
/** Region at (x, y) mm on slice `slice`. */
export function ctRegionAt(p: CtPhantom, slice: number, x: number, y: number): CtRegion {
  const r2 = x * x + y * y;
  if (r2 > p.fovRadius * p.fovRadius) return 'padding';
  if (r2 > p.waterRadius * p.waterRadius) return 'air';
  const br = ctBoneRadius(p, slice);
  const dx = x - p.boneX;
  const dy = y - p.boneY;
  return dx * dx + dy * dy <= br * br ? 'bone' : 'water';
}
/** Stored (raw) pixel value; HU = stored * slope + intercept except for padding. */
export function ctStoredValue(region: CtRegion): number {
  return region === 'padding' ? CT_PADDING_VALUE : HU[region] - CT_RESCALE_INTERCEPT;
}

export function ctBasePixels(p: CtPhantom): Buffer {
  const buf = Buffer.alloc(p.rows * p.cols * 2);
  const vPad = ctStoredValue('padding');
  const vAir = ctStoredValue('air');
  const vWater = ctStoredValue('water');
  const fov2 = p.fovRadius * p.fovRadius;
  const w2 = p.waterRadius * p.waterRadius;
  for (let r = 0; r < p.rows; r++) {
    const y = (r - (p.rows - 1) / 2) * p.pixelSpacing;
    for (let c = 0; c < p.cols; c++) {
      const x = (c - (p.cols - 1) / 2) * p.pixelSpacing;
      const d2 = x * x + y * y;
      buf.writeInt16LE(d2 > fov2 ? vPad : d2 > w2 ? vAir : vWater, (r * p.cols + c) * 2);
    }
  }
  return buf;
}

export function paintBone(p: CtPhantom, slice: number, buf: Buffer): void {
  const br = ctBoneRadius(p, slice);
  const vBone = ctStoredValue('bone');
  const c0 = Math.max(0, Math.floor((p.boneX - br) / p.pixelSpacing + (p.cols - 1) / 2));
  const c1 = Math.min(p.cols - 1, Math.ceil((p.boneX + br) / p.pixelSpacing + (p.cols - 1) / 2));
  const r0 = Math.max(0, Math.floor((p.boneY - br) / p.pixelSpacing + (p.rows - 1) / 2));
  const r1 = Math.min(p.rows - 1, Math.ceil((p.boneY + br) / p.pixelSpacing + (p.rows - 1) / 2));
  for (let r = r0; r <= r1; r++) {
    for (let c = c0; c <= c1; c++) {
      if (ctRegion(p, slice, r, c) === 'bone') buf.writeInt16LE(vBone, (r * p.cols + c) * 2);
    }
  }
}

/** The stored pixel data (Int16 LE) of one phantom slice. */
export function ctSlicePixels(p: CtPhantom, slice: number): Buffer {
  const buf = ctBasePixels(p);
  paintBone(p, slice, buf);
  return buf;
}
