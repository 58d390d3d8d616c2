// Slice order of a series: by position along the slice normal when every slice has
// geometry, else by Instance Number. No DOM, no Cornerstone.
import { num, nums, TAG, type DicomJson } from '../dicom-json.js';

/** An instance with pixels (an image), as opposed to a report or a presentation state in the series. */
export function holdsPixels(inst: DicomJson): boolean {
  return inst[TAG.PixelData] !== undefined || num(inst, TAG.Rows) !== undefined;
}

/** Sorts by position along the slice normal when every slice has geometry, else by Instance Number. */
export function orderSlices(instances: DicomJson[]): { ordered: DicomJson[]; geometry: boolean } {
  const byNumber = (a: DicomJson, b: DicomJson) => (num(a, TAG.InstanceNumber) ?? 0) - (num(b, TAG.InstanceNumber) ?? 0);
  const iop = nums(instances[0], TAG.ImageOrientationPatient);
  const positions = instances.map((i) => nums(i, TAG.ImagePositionPatient));
  if (!iop || iop.length !== 6 || positions.some((p) => !p || p.length !== 3)) {
    return { ordered: [...instances].sort(byNumber), geometry: false };
  }
  const n = [iop[1] * iop[5] - iop[2] * iop[4], iop[2] * iop[3] - iop[0] * iop[5], iop[0] * iop[4] - iop[1] * iop[3]];
  const dist = new Map(instances.map((inst, k) => [inst, positions[k]!.reduce((s, v, j) => s + v * n[j], 0)]));
  return { ordered: [...instances].sort((a, b) => dist.get(a)! - dist.get(b)! || byNumber(a, b)), geometry: true };
}
