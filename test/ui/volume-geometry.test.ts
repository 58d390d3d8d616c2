// The 3D viewer's volume check: which series can form a volume, and what the user is told
// when one cannot (missing slices, gantry tilt, mixed orientation, uneven spacing).
import { describe, expect, it } from 'vitest';
import type { DicomJson } from '../../ui/src/dicom-json.js';
import { downsampleFactors } from '../../ui/src/viewer3d/downsample.js';
import { checkVolume, VolumeGeometryError } from '../../ui/src/viewer3d/volume-geometry.js';

function slice(n: number, position: number[], orientation: number[] = [1, 0, 0, 0, 1, 0], size = 64): DicomJson {
  return {
    '00200013': { vr: 'IS', Value: [n] },
    '00200032': { vr: 'DS', Value: position },
    '00200037': { vr: 'DS', Value: orientation },
    '00280010': { vr: 'US', Value: [size] },
    '00280011': { vr: 'US', Value: [size] },
    '00180050': { vr: 'DS', Value: [2] },
  };
}
const series = (zs: number[]) => zs.map((z, k) => slice(k + 1, [0, 0, z]));
const numbers = (xs: DicomJson[]) => xs.map((x) => x['00200013'].Value![0]);

describe('checkVolume', () => {
  it('orders the slices along the normal and finds the spacing', () => {
    const r = checkVolume([slice(1, [0, 0, 4]), slice(2, [0, 0, 0]), slice(3, [0, 0, 2]), slice(4, [0, 0, 6])]);
    expect(numbers(r.ordered)).toEqual([2, 3, 1, 4]);
    expect(r.spacing).toBeCloseTo(2, 6);
    expect(r.tiltDegrees).toBeCloseTo(0, 6);
    expect(r.warnings).toEqual([]);
  });

  it('orders sagittal slices along their own normal (row x column = -x here)', () => {
    const sag = [0, 1, 0, 0, 0, -1];
    const r = checkVolume([slice(1, [-3, 0, 0], sag), slice(2, [3, 0, 0], sag), slice(3, [0, 0, 0], sag)]);
    expect(numbers(r.ordered)).toEqual([2, 3, 1]);
    expect(r.spacing).toBeCloseTo(3, 6);
  });

  it('names the missing slices', () => {
    expect(() => checkVolume(series([0, 2, 4, 10, 12, 14]))).toThrow(/2 slices are missing \(2 missing between 4\.00 and 10\.00 mm\)/);
    expect(() => checkVolume(series([0, 2, 4, 10, 12, 14]))).toThrow(VolumeGeometryError);
  });

  it('refuses uneven spacing that is not a gap', () => {
    expect(() => checkVolume(series([0, 2, 4, 5, 7, 9]))).toThrow(/slice spacing is not uniform: 1\.000 mm between 4\.00 and 5\.00 mm, 2\.000 mm elsewhere/);
  });

  it("measures gantry tilt and each slice's in-plane shift for the correction", () => {
    // Slices advance along z by 2 mm while shifting y by 2*tan(15°): a 15° tilt.
    const dy = 2 * Math.tan((15 * Math.PI) / 180);
    const tilted = [0, 1, 2, 3].map((k) => ({ ...slice(k + 1, [0, k * dy, k * 2]), '00280030': { vr: 'DS', Value: [0.5, 0.25] } }));
    const r = checkVolume([tilted[2], tilted[0], tilted[3], tilted[1]]);
    expect(numbers(r.ordered)).toEqual([1, 2, 3, 4]);
    expect(r.tiltDegrees).toBeCloseTo(15, 6);
    expect(r.spacing).toBeCloseTo(2, 6);
    // Along y = the column direction, in rows of 0.5 mm; nothing along the rows.
    r.shear!.offsets.forEach(([du, dv], k) => {
      expect(du).toBeCloseTo(0, 9);
      expect(dv).toBeCloseTo((k * dy) / 0.5, 9);
    });
    expect(r.warnings).toContain('gantry tilt of 15.0° corrected (slices shifted onto an orthogonal volume)');
    // Tilted image planes (orientation with the tilt, positions along z): the same shear.
    const c = Math.cos((20 * Math.PI) / 180);
    const s = Math.sin((20 * Math.PI) / 180);
    const planes = [0, 1, 2].map((k) => ({ ...slice(k + 1, [0, 0, k * 3], [1, 0, 0, 0, c, -s]), '00280030': { vr: 'DS', Value: [1, 1] } }));
    const p = checkVolume(planes);
    expect(p.tiltDegrees).toBeCloseTo(20, 6);
    expect(p.spacing).toBeCloseTo(3 * c, 6);
    expect(p.shear!.offsets[2][1]).toBeCloseTo(-6 * s, 9);
    // Without a pixel spacing it cannot be corrected; beyond 45° it is not a tilt.
    expect(() => checkVolume([0, 1, 2].map((k) => slice(k + 1, [0, k * dy, k * 2])))).toThrow(/gantry tilt of 15\.0° and no Pixel Spacing/);
    expect(() => checkVolume([0, 1, 2].map((k) => slice(k + 1, [0, k * 3, k])))).toThrow(/advance at 71\.6° to their normal/);
    // Untilted: no shear.
    expect(checkVolume(series([0, 2, 4])).shear).toBeUndefined();
  });

  it('refuses mixed orientations, sizes, duplicates and too few slices', () => {
    expect(() => checkVolume([slice(1, [0, 0, 0]), slice(2, [0, 0, 1], [0, 1, 0, 0, 0, -1]), slice(3, [0, 0, 2])])).toThrow(
      /slice #2 has a different orientation/,
    );
    expect(() => checkVolume([slice(1, [0, 0, 0]), slice(2, [0, 0, 1], undefined, 32), slice(3, [0, 0, 2])])).toThrow(/slice #2 is 32x32, the first 64x64/);
    expect(() => checkVolume(series([0, 1, 1, 2]))).toThrow(/are at the same position/);
    expect(() => checkVolume(series([0, 1]))).toThrow(/at least 3 slices; the series has 2/);
  });

  it('warns about slices much thicker than their spacing', () => {
    expect(checkVolume(series([0, 1, 2, 3])).warnings).toEqual(['slices 2 mm thick at 1.00 mm spacing']);
  });
});

describe('downsampleFactors', () => {
  it('keeps a volume under the budget as it is', () => {
    expect(downsampleFactors([256, 256, 161], 64 * 1024 * 1024)).toEqual([1, 1, 1]);
  });
  it('halves the slices and then rows and columns together of a 1,000-slice 512 x 512 CT', () => {
    expect(downsampleFactors([512, 512, 1000], 64 * 1024 * 1024)).toEqual([2, 2, 2]);
    expect(downsampleFactors([512, 512, 300], 64 * 1024 * 1024)).toEqual([2, 2, 1]);
  });
});
