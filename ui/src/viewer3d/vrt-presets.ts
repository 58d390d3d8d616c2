// The volume rendering presets of the 3D view, written from what each must show rather
// than taken from vtk's list. vtk's CT presets (as Cornerstone lists them) give water and
// soft tissue 2-6 % opacity per millimetre: through a body that sums to an opaque haze in
// front of everything, lit only by the ambient term (a uniform region has no gradient,
// hence no normal for the diffuse light), so "CT bone" showed a dark red box and no bone.
//
// Here every CT preset is in HU with the tissues it is not about at zero opacity, and what
// it is about (bone, contrast, lung) opaque within a millimetre or two, so that what is
// seen is its lit boundary. Opacity is per millimetre (the property's unit distance is set
// to 1 mm). MR and PET have no absolute scale: their points are fractions between two
// levels of the volume's own histogram (`relative`), resolved when the volume is known.
// No DOM, no vtk: unit-tested under Node.

/** [value, opacity per mm]. */
export type OpacityPoint = [number, number];
/** [value, r, g, b], 0..1. */
export type ColorPoint = [number, number, number, number];

export interface VrtPreset {
  /** Key in the toolbar's select (kept from vtk's names: URLs and tests use them). */
  name: string;
  label: string;
  /**
   * Values are HU when absent; otherwise fractions: 0 at the volume's `from` percentile,
   * 1 at its `to` percentile.
   */
  relative?: { from: number; to: number };
  opacity: OpacityPoint[];
  colors: ColorPoint[];
  shade: boolean;
  ambient: number;
  diffuse: number;
  specular: number;
  specularPower: number;
}

const lit = { shade: true, ambient: 0.25, diffuse: 0.75, specular: 0.2, specularPower: 12 };

export const VRT_PRESETS: readonly VrtPreset[] = [
  {
    // Bone and iodinated contrast (both above ~150 HU) as ivory surfaces; fat, water,
    // muscle and unenhanced blood (below 120 HU) not drawn at all.
    name: 'CT-Bone',
    label: 'CT bone',
    opacity: [
      [-1024, 0],
      [120, 0],
      [300, 1],
      [3071, 1],
    ],
    colors: [
      [-1024, 0, 0, 0],
      [120, 0.7, 0.45, 0.3],
      [250, 0.92, 0.82, 0.68],
      [500, 1, 0.96, 0.88],
      [1000, 1, 1, 0.97],
      [3071, 1, 1, 1],
    ],
    ...lit,
  },
  {
    // The body's surface: skin and muscle (from about 0 HU) opaque and lit, fat faint, air
    // clear. Opaque within a millimetre so that what shows is the lit surface, not the
    // unlit inside of the tissue (a flat grey).
    name: 'CT-Soft-Tissue',
    label: 'CT soft tissue',
    opacity: [
      [-1024, 0],
      [-200, 0],
      [-100, 0.1],
      [0, 0.8],
      [60, 1],
      [3071, 1],
    ],
    colors: [
      [-1024, 0, 0, 0],
      [-200, 0.6, 0.35, 0.25],
      [-100, 0.8, 0.55, 0.45],
      [40, 0.95, 0.75, 0.65],
      [200, 1, 0.9, 0.8],
      [500, 1, 0.97, 0.9],
      [3071, 1, 1, 1],
    ],
    ...lit,
  },
  {
    // Lung parenchyma (about -890..-680 HU): translucent, 3.5 % per mm, so a lung (10 cm and
    // more) is nearly opaque while the thin shell where air meets skin (which passes through
    // the same values) stays faint. Air outside the body and in the airways (below -930)
    // and everything from -620 HU up (fat, tissue, bone) not drawn. Mostly ambient light:
    // a lung's inside has no gradient to light.
    name: 'CT-Lung',
    label: 'CT lung',
    opacity: [
      [-1024, 0],
      [-930, 0],
      [-890, 0.035],
      [-680, 0.035],
      [-620, 0],
      [3071, 0],
    ],
    colors: [
      [-1024, 0.9, 0.75, 0.7],
      [-900, 0.95, 0.8, 0.75],
      [-700, 1, 0.85, 0.8],
      [-400, 1, 0.9, 0.85],
      [3071, 1, 1, 1],
    ],
    shade: true,
    ambient: 0.65,
    diffuse: 0.4,
    specular: 0,
    specularPower: 1,
  },
  {
    // Contrast-enhanced vessels (150..500 HU) bright red, bone (above ~700) white; soft
    // tissue and unenhanced blood not drawn.
    name: 'CT-Chest-Contrast-Enhanced',
    label: 'CT angio',
    opacity: [
      [-1024, 0],
      [130, 0],
      [200, 0.6],
      [300, 1],
      [3071, 1],
    ],
    colors: [
      [-1024, 0, 0, 0],
      [130, 0.7, 0.15, 0.1],
      [250, 1, 0.35, 0.25],
      [450, 1, 0.55, 0.45],
      [800, 1, 0.95, 0.88],
      [3071, 1, 1, 1],
    ],
    ...lit,
  },
  {
    // Time-of-flight / contrast MR angiography: vessels are the brightest few per cent of
    // the voxels; stationary tissue (about the median) is clear.
    name: 'MR-Angio',
    label: 'MR angio',
    relative: { from: 0.5, to: 0.999 },
    opacity: [
      [0, 0],
      [0.35, 0],
      [0.55, 0.6],
      [0.7, 1],
      [1, 1],
    ],
    colors: [
      [0, 0.6, 0.2, 0.15],
      [0.4, 0.8, 0.3, 0.2],
      [0.6, 1, 0.75, 0.6],
      [0.85, 1, 0.95, 0.9],
      [1, 1, 1, 1],
    ],
    ...lit,
  },
  {
    // PET: hot iron over the uptake, background clear; no shading (uptake has no surface).
    name: 'PET',
    label: 'PET',
    relative: { from: 0, to: 0.999 },
    opacity: [
      [0, 0],
      [0.15, 0],
      [0.4, 0.03],
      [1, 0.3],
    ],
    colors: [
      [0, 0, 0, 0],
      [0.25, 0.6, 0, 0],
      [0.5, 1, 0.5, 0],
      [0.8, 1, 1, 0.3],
      [1, 1, 1, 1],
    ],
    shade: false,
    ambient: 1,
    diffuse: 0,
    specular: 0,
    specularPower: 1,
  },
];

/** A preset with its values in the volume's units. */
export interface ResolvedPreset extends Omit<VrtPreset, 'relative'> {
  relative?: undefined;
}

/**
 * The voxel values' percentiles: `level(f)` is the value below which the fraction `f`
 * (0..1) of them lie, from at most `maxSamples` evenly strided samples over all parts.
 */
export function levelsOf(parts: readonly ArrayLike<number>[], maxSamples = 200_000): (fraction: number) => number {
  const total = parts.reduce((n, p) => n + p.length, 0);
  if (total === 0) return () => 0;
  const stride = Math.max(1, Math.floor(total / maxSamples));
  const samples = new Float64Array(Math.ceil(total / stride));
  let n = 0;
  let offset = 0; // index of the next sample, counted over all parts
  for (const part of parts) {
    let i = offset;
    for (; i < part.length; i += stride) {
      const v = part[i];
      if (Number.isFinite(v)) samples[n++] = v;
    }
    offset = i - part.length; // where the next part's first sample falls
  }
  if (n === 0) return () => 0;
  const sorted = samples.subarray(0, n).sort();
  return (f) => sorted[Math.min(n - 1, Math.max(0, Math.round(f * (n - 1))))];
}

/** The preset's points in the volume's values; `level(f)` gives the volume's `f` percentile. */
export function resolvePreset(preset: VrtPreset, level: (fraction: number) => number): ResolvedPreset {
  const { relative, ...rest } = preset;
  if (!relative) return rest;
  const lo = level(relative.from);
  let hi = level(relative.to);
  if (!(hi > lo)) hi = lo + 1;
  const at = (f: number) => lo + f * (hi - lo);
  return {
    ...rest,
    opacity: preset.opacity.map(([x, y]): OpacityPoint => [at(x), y]),
    colors: preset.colors.map(([x, r, g, b]): ColorPoint => [at(x), r, g, b]),
  };
}

export function vrtPreset(name: string): VrtPreset {
  const p = VRT_PRESETS.find((q) => q.name === name);
  if (!p) throw new Error(`unknown rendering preset ${name}`);
  return p;
}
