// Synthetic DICOM test data: CT series with real geometry and a phantom of known
// structure, every transfer syntax DCMTK can produce, multi-frame and 1 GB+ instances.
// Every call writes NEW UIDs. Files are hand-encoded explicit VR little endian Part 10
// (header built once per series, pixel data reused/patched), so 300 CT slices of
// 512x512 take about a second.
//
// CLI:
//   npx tsx scripts/gen-test-data.ts ct         --dir test-data/ct [--count 300] [--rows 512] [--cols 512]
//   npx tsx scripts/gen-test-data.ts variants   --dir test-data/ts
//   npx tsx scripts/gen-test-data.ts multiframe --dir test-data/mf [--frames 10] [--rows 256] [--cols 256]
//   npx tsx scripts/gen-test-data.ts large      --dir test-data/large [--bytes 1.1e9]
//
// The generators live in scripts/gen-test-data/, one module per kind of data; this
// entry point keeps the CLI and the API tests and benches import.
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { writeCtSeries } from './gen-test-data/ct-series.js';
import { writeLargeInstance, writeMultiFrame } from './gen-test-data/multiframe.js';
import { writeTransferSyntaxVariants } from './gen-test-data/variants.js';

export { newUid, SOP_CLASS, TS } from './gen-test-data/uids.js';
export { ds, readMeta } from './gen-test-data/part10.js';
export {
  CT_PADDING_VALUE,
  CT_RESCALE_INTERCEPT,
  CT_RESCALE_SLOPE,
  ctBoneRadius,
  ctPhantom,
  ctPixelPosition,
  ctRegion,
  ctRegionAt,
  ctSlicePixels,
  ctSliceZ,
  ctStoredValue,
  HU,
  type CtPhantom,
  type CtRegion,
} from './gen-test-data/ct-phantom.js';
export { ctSagittalX, tiltShiftY, writeCtSeries, type CtSeriesOptions, type CtSeriesResult } from './gen-test-data/ct-series.js';
export * from './gen-test-data/pet-series.js';
export { mono8Pixel, rgbPixel } from './gen-test-data/secondary-capture.js';
export { VARIANT_RECIPES, writeTransferSyntaxVariants, type TransferSyntaxVariant, type VariantSource } from './gen-test-data/variants.js';
export { multiFramePixel, writeLargeInstance, writeMultiFrame, type MultiFrameResult } from './gen-test-data/multiframe.js';

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      dir: { type: 'string' },
      count: { type: 'string' },
      rows: { type: 'string' },
      cols: { type: 'string' },
      frames: { type: 'string' },
      bytes: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const cmd = positionals[0];
  const usage = 'usage: gen-test-data.ts <ct|variants|multiframe|large> --dir DIR [--count N] [--rows N] [--cols N] [--frames N] [--bytes N]';
  if (values.help || !cmd || !values.dir) {
    console.log(usage);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const n = (s: string | undefined): number | undefined => (s === undefined ? undefined : Number(s));
  const dir = values.dir;
  const started = performance.now();
  if (cmd === 'ct') {
    const r = await writeCtSeries({ dir, count: n(values.count), rows: n(values.rows), cols: n(values.cols) });
    console.log(`${r.files.length} CT files in ${dir}; study ${r.studyUid}; series ${r.seriesUid}`);
  } else if (cmd === 'variants') {
    const r = await writeTransferSyntaxVariants({ dir });
    for (const v of r)
      console.log(`${v.ok ? 'ok  ' : 'FAIL'} ${v.source.padEnd(6)} ${v.name.padEnd(34)} ${v.transferSyntaxUid.padEnd(24)} ${v.ok ? v.file : v.error}`);
  } else if (cmd === 'multiframe') {
    const r = await writeMultiFrame({ dir, frames: n(values.frames), rows: n(values.rows), cols: n(values.cols) });
    console.log(`${r.file}: ${r.frames} frames ${r.rows}x${r.cols}, ${r.fileBytes} bytes`);
  } else if (cmd === 'large') {
    const r = await writeLargeInstance({ dir, bytes: n(values.bytes), rows: n(values.rows), cols: n(values.cols) });
    console.log(`${r.file}: ${r.frames} frames ${r.rows}x${r.cols}, ${r.fileBytes} bytes`);
  } else {
    console.log(usage);
    process.exitCode = 2;
    return;
  }
  console.log(`done in ${((performance.now() - started) / 1000).toFixed(2)} s`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
