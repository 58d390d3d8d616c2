// Curved MPR timings on a 512 x 512 x 300 Int16 volume (0.7 x 0.7 x 1 mm, 157 MB): a curve
// of 10 clicked points winding through it (about 330 mm), the straightened reformat 100 mm
// wide at 0.5 mm (columns and rows) and one cross-section 100 x 100 mm at 0.5 mm.
// Median of --repeat runs (default 20) after 3 warm-up runs.
//
//   npx tsx bench/curved-mpr.ts [--repeat 20]
import { parseArgs } from 'node:util';
import { crossSection, curveFrames, straightenedImage, type Point3, type VolumeGrid } from '../ui/src/viewer3d/curved-mpr.js';

const { values } = parseArgs({ options: { repeat: { type: 'string', default: '20' } } });
const repeat = Number(values.repeat);
const [nx, ny, nz] = [512, 512, 300];
const slices = Array.from({ length: nz }, (_, k) => {
  const s = new Int16Array(nx * ny);
  for (let p = 0; p < s.length; p++) s[p] = ((p * 7 + k * 13) % 2000) - 1000;
  return s;
});
const volume: VolumeGrid = {
  dimensions: [nx, ny, nz],
  spacing: [0.7, 0.7, 1],
  origin: [-179, -179, 0],
  direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
  slice: (k) => slices[k],
};
const clicks = Array.from({ length: 10 }, (_, k) => [60 * Math.cos(k * 0.6), 60 * Math.sin(k * 0.6), 10 + k * 30] as Point3);

function median(fn: () => unknown): number {
  for (let i = 0; i < 3; i++) fn();
  const t: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const s = performance.now();
    fn();
    t.push(performance.now() - s);
  }
  return t.sort((a, b) => a - b)[Math.floor(t.length / 2)];
}

const frames = curveFrames(clicks, { step: 0.5 });
const straight = straightenedImage(volume, frames, { width: 100, pixelSpacing: 0.5 });
const section = crossSection(volume, frames, frames.length / 2, { width: 100, pixelSpacing: 0.5 });
console.log(
  `curve ${frames.length.toFixed(1)} mm, ${frames.points.length} samples; straightened ${straight.columns} x ${straight.rows}; cross-section ${section.columns} x ${section.rows}`,
);
console.log(`curveFrames          ${median(() => curveFrames(clicks, { step: 0.5 })).toFixed(2)} ms`);
console.log(`straightenedImage    ${median(() => straightenedImage(volume, frames, { width: 100, pixelSpacing: 0.5 })).toFixed(2)} ms`);
console.log(`crossSection         ${median(() => crossSection(volume, frames, frames.length / 2, { width: 100, pixelSpacing: 0.5 })).toFixed(2)} ms`);
