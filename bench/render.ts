// Pixel pipeline timings: one 512x512 16-bit CT frame (explicit VR LE, and the same slice
// as JPEG-LS and RLE via DCMTK) through each stage: open the file and read the header
// (PixelFile.open), get the native frame (read / decode), render it to 8 bits with a window
// (renderFrame), shrink to a 128 px thumbnail (applyViewport), encode JPEG / PNG.
// Median of --repeat runs (default 50) after 5 warm-up runs.
//
//   npx tsx bench/render.ts [--repeat 50]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { applyViewport, encodeJpeg, encodePngImage, openFileSource, PixelFile, renderFrame } from '../src/dicom/render/index.js';
import { writeCtSeries } from '../scripts/gen-test-data.js';

const { values } = parseArgs({ options: { repeat: { type: 'string', default: '50' } } });
const repeat = Number(values.repeat);

async function median(fn: () => unknown): Promise<number> {
  for (let i = 0; i < 5; i++) await fn();
  const t: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const s = performance.now();
    await fn();
    t.push(performance.now() - s);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)];
}

const dir = mkdtempSync(join(tmpdir(), 'pacs-bench-render-'));
try {
  const ct = await writeCtSeries({ dir, count: 1, rows: 512, cols: 512, bitsStored: 12 });
  const files: Record<string, string> = { 'explicit-le': ct.files[0] };
  for (const [name, tool, args] of [
    ['jpeg-ls', 'dcmcjpls', []],
    ['rle', 'dcmcrle', []],
  ] as const) {
    const out = join(dir, `${name}.dcm`);
    if (spawnSync(tool, [...args, ct.files[0], out]).status !== 0) throw new Error(`${tool} failed`);
    files[name] = out;
  }
  const rows: Record<string, Record<string, string>> = {};
  for (const [name, file] of Object.entries(files)) {
    const f = await PixelFile.open(await openFileSource(file));
    const frame = await f.nativeFrame(0);
    const img = renderFrame(frame, f.image, { window: { center: 40, width: 400, fn: 'linear' } });
    const r: Record<string, number> = {
      'open (header)': await median(async () => (await PixelFile.open(await openFileSource(file))).close()),
      'native frame': await median(() => f.nativeFrame(0)),
      'render (window)': await median(() => renderFrame(frame, f.image, { window: { center: 40, width: 400, fn: 'linear' } })),
      'render (min/max)': await median(() => renderFrame(frame, f.image)),
      'thumbnail 128': await median(() => applyViewport(img, { width: 128, height: 128 })),
      'jpeg 512': await median(() => encodeJpeg(img, 90)),
      'png 512': await median(() => encodePngImage(img)),
    };
    await f.close();
    rows[name] = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, `${v.toFixed(2)} ms`]));
  }
  console.table(rows);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
