// The 3D view's volume rendering presets, read as a radiologist would: what each draws
// (opacity at the HU of air, lung, fat, soft tissue, contrast and bone) and in what colour;
// MR and PET points placed on the volume's own histogram; percentiles over slices.
import { describe, expect, it } from 'vitest';
import { opacityAt } from '../../ui/src/viewer3d/tf-points.js';
import { levelsOf, resolvePreset, VRT_PRESETS, vrtPreset, type VrtPreset } from '../../ui/src/viewer3d/vrt-presets.js';

const HU = { air: -1000, lung: -850, fat: -100, tissue: 40, contrast: 300, bone: 1000 };
const opacity = (p: VrtPreset, x: number) =>
  opacityAt(
    p.opacity.map(([v, y]) => ({ x: v, y })),
    x,
  );
function colorAt(p: VrtPreset, x: number): number[] {
  const c = p.colors;
  if (x <= c[0][0]) return c[0].slice(1);
  for (let k = 1; k < c.length; k++) {
    if (x <= c[k][0]) {
      const f = (x - c[k - 1][0]) / (c[k][0] - c[k - 1][0]);
      return [1, 2, 3].map((i) => c[k - 1][i] + f * (c[k][i] - c[k - 1][i]));
    }
  }
  return c[c.length - 1].slice(1);
}

describe('VRT presets', () => {
  it('are well formed: values increasing, opacity and colours within 0..1', () => {
    for (const p of VRT_PRESETS) {
      for (const points of [p.opacity.map(([x]) => x), p.colors.map(([x]) => x)]) {
        for (let k = 1; k < points.length; k++) expect(points[k], p.name).toBeGreaterThan(points[k - 1]);
      }
      for (const [, y] of p.opacity) expect(y >= 0 && y <= 1, p.name).toBe(true);
      for (const [, ...rgb] of p.colors) for (const v of rgb) expect(v >= 0 && v <= 1, p.name).toBe(true);
    }
    expect(() => vrtPreset('CT-Nothing')).toThrow(/unknown rendering preset CT-Nothing/);
  });

  it('CT bone: bone and contrast opaque, near white and ivory; air, lung, fat and soft tissue not drawn', () => {
    const p = vrtPreset('CT-Bone');
    for (const x of [HU.air, HU.lung, HU.fat, HU.tissue]) expect(opacity(p, x), String(x)).toBe(0);
    expect(opacity(p, HU.contrast)).toBe(1);
    expect(opacity(p, HU.bone)).toBe(1);
    expect(Math.min(...colorAt(p, HU.bone))).toBeGreaterThan(0.95);
    expect(Math.min(...colorAt(p, HU.contrast))).toBeGreaterThan(0.7);
    expect(p.shade).toBe(true);
  });

  it('CT lung: the lung translucent; air outside, fat, soft tissue and bone not drawn', () => {
    const p = vrtPreset('CT-Lung');
    for (const x of [HU.air, HU.fat, HU.tissue, HU.contrast, HU.bone]) expect(opacity(p, x), String(x)).toBe(0);
    // 100 mm of lung is 97 % opaque at least; 1 mm of it under 5 %.
    expect(1 - (1 - opacity(p, HU.lung)) ** 100).toBeGreaterThan(0.97);
    expect(opacity(p, HU.lung)).toBeLessThan(0.05);
  });

  it('CT angio: contrast opaque and red, bone white; soft tissue not drawn', () => {
    const p = vrtPreset('CT-Chest-Contrast-Enhanced');
    for (const x of [HU.air, HU.lung, HU.fat, HU.tissue]) expect(opacity(p, x), String(x)).toBe(0);
    expect(opacity(p, HU.contrast)).toBe(1);
    const [r, g, b] = colorAt(p, HU.contrast);
    expect(r).toBeGreaterThan(0.9);
    expect(Math.max(g, b)).toBeLessThan(0.5);
    expect(Math.min(...colorAt(p, 1500))).toBeGreaterThan(0.9);
  });

  it('CT soft tissue: skin and muscle opaque, fat faint, air not drawn', () => {
    const p = vrtPreset('CT-Soft-Tissue');
    expect(opacity(p, HU.air)).toBe(0);
    expect(opacity(p, HU.lung)).toBe(0);
    expect(opacity(p, HU.fat)).toBeLessThan(0.2);
    expect(opacity(p, HU.tissue)).toBeGreaterThan(0.9);
    expect(opacity(p, HU.bone)).toBe(1);
  });

  it('MR angio and PET: points between two percentiles of the volume; CT presets unchanged', () => {
    const level = (f: number) => 100 + 900 * f; // 100 at the 0th percentile, 1000 at the 100th
    const mr = resolvePreset(vrtPreset('MR-Angio'), level);
    const { from, to } = vrtPreset('MR-Angio').relative!;
    const [lo, hi] = [level(from), level(to)];
    expect(mr.relative).toBeUndefined();
    expect(mr.opacity.map(([x]) => x)).toEqual(vrtPreset('MR-Angio').opacity.map(([f]) => lo + f * (hi - lo)));
    // The median (stationary tissue) clear, the brightest voxels (vessels) opaque.
    expect(opacity(mr as VrtPreset, level(0.5))).toBe(0);
    expect(opacity(mr as VrtPreset, level(0.999))).toBe(1);
    const ct = resolvePreset(vrtPreset('CT-Bone'), level);
    expect(ct.opacity).toEqual(vrtPreset('CT-Bone').opacity);
    // A flat volume (both percentiles equal) still gets increasing points.
    const flat = resolvePreset(vrtPreset('PET'), () => 7);
    for (let k = 1; k < flat.opacity.length; k++) expect(flat.opacity[k][0]).toBeGreaterThan(flat.opacity[k - 1][0]);
  });

  it('levels: percentiles over all slices, sampled evenly across them', () => {
    const slices = [0, 1, 2, 3].map((s) => Int16Array.from({ length: 250 }, (_, i) => s * 250 + i)); // 0..999
    const all = levelsOf(slices);
    expect(all(0)).toBe(0);
    expect(all(1)).toBe(999);
    expect(Math.abs(all(0.5) - 500)).toBeLessThanOrEqual(1);
    // Every 7th value over the slices (the stride runs on across slice ends).
    const sampled = levelsOf(slices, 150);
    expect(Math.abs(sampled(0.5) - 500)).toBeLessThan(8);
    expect(sampled(1)).toBeGreaterThan(990);
    expect(levelsOf([])(0.5)).toBe(0);
    expect(levelsOf([Float32Array.of(NaN, 5)])(0.9)).toBe(5);
  });
});
