// Orientation markers: the patient direction (PS3.3 C.7.6.2.1.1: L/R, A/P, H/F from the
// LPS axes) of each screen edge, from the viewport's current camera (so flips and
// rotations are followed).
export type Vec3 = [number, number, number];

const AXES: [string, string][] = [
  ['R', 'L'], // -x, +x
  ['A', 'P'], // -y, +y
  ['F', 'H'], // -z, +z
];

/** Up to two letters, strongest axis first; components under 0.25 of the length are left out. */
export function directionLabel(v: Vec3): string {
  const len = Math.hypot(...v) || 1;
  return [0, 1, 2]
    .map((axis) => ({ axis, c: v[axis] / len }))
    .filter((a) => Math.abs(a.c) >= 0.25)
    .sort((a, b) => Math.abs(b.c) - Math.abs(a.c))
    .slice(0, 2)
    .map((a) => AXES[a.axis][a.c > 0 ? 1 : 0])
    .join('');
}

export interface EdgeLabels {
  left: string;
  right: string;
  top: string;
  bottom: string;
}

/** Labels of the four edges given the world directions of screen right and screen down. */
export function edgeLabels(right: Vec3, down: Vec3): EdgeLabels {
  const neg = (v: Vec3): Vec3 => [-v[0], -v[1], -v[2]];
  return { left: directionLabel(neg(right)), right: directionLabel(right), top: directionLabel(neg(down)), bottom: directionLabel(down) };
}
