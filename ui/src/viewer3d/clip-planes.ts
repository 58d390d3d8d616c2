// Where the 3D view's clipping planes go: a box cropping the volume along its own axes and
// free cut planes, each of any orientation. No DOM, no vtk: unit-tested under Node. A
// plane keeps the side its normal points to (vtk.js clips where dot(p - origin, normal) < 0).

export type Vec3 = [number, number, number];

type Numbers = ArrayLike<number>;
export interface VolumeGeometry {
  origin: Numbers;
  /** Row-major: the i, j and k axes' unit vectors. */
  direction: Numbers;
  spacing: Numbers;
  dimensions: Numbers;
}

export interface ClipSettings {
  /** The part kept along the volume's i, j and k axes, as fractions (0..1) of its extent. */
  box: { lo: Vec3; hi: Vec3 };
  /** Free cut planes: each a normal (towards the side kept) and its distance (mm) from the volume's centre along it. */
  planes?: CutPlane[];
}

export interface CutPlane {
  normal: Vec3;
  offset: number;
}

export interface PlaneSpec {
  origin: Vec3;
  normal: Vec3;
}

/** What vtk.js's volume mapper takes at most. */
export const MAX_CLIPPING_PLANES = 6;

export const FULL_BOX: ClipSettings['box'] = { lo: [0, 0, 0], hi: [1, 1, 1] };

const axis = (g: VolumeGeometry, a: number): Vec3 => [g.direction[3 * a], g.direction[3 * a + 1], g.direction[3 * a + 2]];
const along = (p: Numbers, u: Numbers, t: number): Vec3 => [p[0] + t * u[0], p[1] + t * u[1], p[2] + t * u[2]];

/** The volume's first corner (voxel edges, half a voxel before the first centre) and its extent (mm) along each axis. */
function extent(g: VolumeGeometry): { corner: Vec3; size: Vec3 } {
  let corner: Vec3 = [g.origin[0], g.origin[1], g.origin[2]];
  for (let a = 0; a < 3; a++) corner = along(corner, axis(g, a), -g.spacing[a] / 2);
  return { corner, size: [0, 1, 2].map((a) => g.dimensions[a] * g.spacing[a]) as Vec3 };
}

/** The volume's centre (mm). */
export function volumeCentre(g: VolumeGeometry): Vec3 {
  const { corner, size } = extent(g);
  let c = corner;
  for (let a = 0; a < 3; a++) c = along(c, axis(g, a), size[a] / 2);
  return c;
}

/** The planes for `s`: a box side only where it cuts something. Throws past vtk's six. */
export function clipPlanes(g: VolumeGeometry, s: ClipSettings): PlaneSpec[] {
  const { corner, size } = extent(g);
  const planes: PlaneSpec[] = [];
  for (let a = 0; a < 3; a++) {
    const u = axis(g, a);
    const [lo, hi] = [Math.max(0, s.box.lo[a]), Math.min(1, s.box.hi[a])];
    if (lo >= hi) throw new RangeError(`the box is empty along axis ${'ijk'[a]}: from ${lo} to ${hi}`);
    if (lo > 0) planes.push({ origin: along(corner, u, lo * size[a]), normal: u });
    if (hi < 1) planes.push({ origin: along(corner, u, hi * size[a]), normal: [-u[0], -u[1], -u[2]] });
  }
  for (const [k, cut] of (s.planes ?? []).entries()) {
    const n = cut.normal;
    const len = Math.hypot(n[0], n[1], n[2]);
    if (!(len > 0)) throw new RangeError(`cut plane ${k + 1} has no normal`);
    const unit: Vec3 = [n[0] / len, n[1] / len, n[2] / len];
    planes.push({ origin: along(volumeCentre(g), unit, cut.offset), normal: unit });
  }
  if (planes.length > MAX_CLIPPING_PLANES)
    throw new RangeError(
      `at most ${MAX_CLIPPING_PLANES} clipping planes: the box cuts ${planes.length - (s.planes?.length ?? 0)} sides and ${s.planes?.length ?? 0} cut plane(s) are on`,
    );
  return planes;
}

const DEG = Math.PI / 180;
/** Components this close to 0 are 0 (cos 90° is 6e-17): axial stays exactly axial. */
const snap = (x: number) => (Math.abs(x) < 1e-12 ? 0 : x);

/**
 * A unit normal (patient LPS) from two angles in degrees: the azimuth turns it in the
 * axial plane from patient left (+x, 0°) towards posterior (+y, 90°); the elevation lifts
 * it towards superior (+z, 90°). Sagittal is (0, 0), coronal (90, 0), axial (any, 90).
 */
export function normalFromAngles(azimuth: number, elevation: number): Vec3 {
  const a = azimuth * DEG;
  const e = elevation * DEG;
  return [snap(Math.cos(e) * Math.cos(a)), snap(Math.cos(e) * Math.sin(a)), snap(Math.sin(e))];
}

/** The angles of normalFromAngles for a normal (need not be unit), in degrees. */
export function anglesOfNormal(n: Numbers): { azimuth: number; elevation: number } {
  const len = Math.hypot(n[0], n[1], n[2]);
  if (!(len > 0)) throw new RangeError('a normal of length 0 has no direction');
  const elevation = Math.asin(Math.max(-1, Math.min(1, n[2] / len))) / DEG;
  const azimuth = Math.hypot(n[0], n[1]) / len < 1e-12 ? 0 : Math.atan2(n[1], n[0]) / DEG;
  return { azimuth, elevation };
}
