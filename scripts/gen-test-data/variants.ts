// Every transfer syntax DCMTK can write, made from three small originals with dcmconv,
// dcmcjpeg, dcmcjpls and dcmcrle; the ones no installed tool writes are reported as such.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeCtSeries } from './ct-series.js';
import { readMeta, shortId } from './part10.js';
import { writeSecondaryCapture } from './secondary-capture.js';
import { TS } from './uids.js';

function run(tool: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(tool, args, { env: { ...process.env, TCP_NODELAY: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', (e) => resolve({ code: -1, stdout, stderr: stderr + String(e) }));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export type VariantSource = 'ct16' | 'mono8' | 'rgb';

interface VariantRecipe {
  name: string;
  transferSyntaxUid: string;
  lossy: boolean;
  /** false for private (non-standard) transfer syntaxes */
  standard: boolean;
  tool?: string;
  args?: string[];
  /** why no installed tool can produce it */
  unavailable?: string;
}

/** Every transfer syntax the installed DCMTK can write, plus the ones it cannot (reported as such). */
export const VARIANT_RECIPES: VariantRecipe[] = [
  { name: 'implicit-le', transferSyntaxUid: TS.implicitLE, lossy: false, standard: true, tool: 'dcmconv', args: ['+ti'] },
  { name: 'explicit-le', transferSyntaxUid: TS.explicitLE, lossy: false, standard: true, tool: 'dcmconv', args: ['+te'] },
  { name: 'explicit-be', transferSyntaxUid: TS.explicitBE, lossy: false, standard: true, tool: 'dcmconv', args: ['+tb'] },
  { name: 'deflated-le', transferSyntaxUid: TS.deflatedLE, lossy: false, standard: true, tool: 'dcmconv', args: ['+td'] },
  {
    name: 'ge-private-implicit-le-be-pixels',
    transferSyntaxUid: TS.gePrivateImplicitLEBigEndianPixels,
    lossy: false,
    standard: false,
    tool: 'dcmconv',
    args: ['+tg'],
  },
  { name: 'jpeg-baseline', transferSyntaxUid: TS.jpegBaseline, lossy: true, standard: true, tool: 'dcmcjpeg', args: ['+eb'] },
  { name: 'jpeg-extended', transferSyntaxUid: TS.jpegExtended, lossy: true, standard: true, tool: 'dcmcjpeg', args: ['+ee'] },
  { name: 'jpeg-spectral', transferSyntaxUid: TS.jpegSpectral, lossy: true, standard: true, tool: 'dcmcjpeg', args: ['+es'] },
  { name: 'jpeg-progressive', transferSyntaxUid: TS.jpegProgressive, lossy: true, standard: true, tool: 'dcmcjpeg', args: ['+ep'] },
  { name: 'jpeg-lossless', transferSyntaxUid: TS.jpegLossless, lossy: false, standard: true, tool: 'dcmcjpeg', args: ['+el'] },
  { name: 'jpeg-lossless-sv1', transferSyntaxUid: TS.jpegLosslessSV1, lossy: false, standard: true, tool: 'dcmcjpeg', args: ['+e1'] },
  { name: 'jpegls-lossless', transferSyntaxUid: TS.jpegLsLossless, lossy: false, standard: true, tool: 'dcmcjpls', args: ['+el'] },
  { name: 'jpegls-near-lossless', transferSyntaxUid: TS.jpegLsNearLossless, lossy: true, standard: true, tool: 'dcmcjpls', args: ['+en'] },
  { name: 'rle', transferSyntaxUid: TS.rle, lossy: false, standard: true, tool: 'dcmcrle', args: [] },
  {
    name: 'jpeg2000-lossless',
    transferSyntaxUid: TS.jpeg2000Lossless,
    lossy: false,
    standard: true,
    unavailable: 'DCMTK (free edition) has no JPEG 2000 encoder; no installed tool writes it',
  },
  {
    name: 'jpeg2000',
    transferSyntaxUid: TS.jpeg2000,
    lossy: true,
    standard: true,
    unavailable: 'DCMTK (free edition) has no JPEG 2000 encoder; no installed tool writes it',
  },
];

export type TransferSyntaxVariant = {
  name: string;
  source: VariantSource;
  transferSyntaxUid: string;
  lossy: boolean;
  standard: boolean;
  /** the uncompressed explicit VR LE original this variant was made from */
  sourceFile: string;
} & ({ ok: true; file: string } | { ok: false; file?: undefined; error: string });

/**
 * Writes three small originals (CT 128x128 16-bit signed with Bits Stored 12, 8-bit
 * MONOCHROME2 256x256, RGB 256x256) and converts each into every transfer syntax in
 * VARIANT_RECIPES. One entry per (source, syntax); entries DCMTK could not produce
 * have ok: false and the tool's error (e.g. JPEG baseline of 16-bit data).
 */
export async function writeTransferSyntaxVariants(o: { dir: string }): Promise<TransferSyntaxVariant[]> {
  fs.mkdirSync(o.dir, { recursive: true });
  const id = shortId();
  const ct = await writeCtSeries({ dir: o.dir, count: 1, rows: 128, cols: 128, bitsStored: 12, prefix: `src-ct16-${id}-` });
  const sources: Array<[VariantSource, string]> = [
    ['ct16', ct.files[0]],
    ['mono8', await writeSecondaryCapture({ dir: o.dir, kind: 'mono8', file: path.join(o.dir, `src-mono8-${id}.dcm`) })],
    ['rgb', await writeSecondaryCapture({ dir: o.dir, kind: 'rgb', file: path.join(o.dir, `src-rgb-${id}.dcm`) })],
  ];
  const jobs: Array<() => Promise<TransferSyntaxVariant>> = [];
  for (const [source, sourceFile] of sources) {
    for (const r of VARIANT_RECIPES) {
      const base = { name: r.name, source, transferSyntaxUid: r.transferSyntaxUid, lossy: r.lossy, standard: r.standard, sourceFile };
      jobs.push(async () => {
        if (!r.tool) return { ...base, ok: false, error: r.unavailable ?? 'no tool' };
        const file = path.join(o.dir, `${source}-${r.name}-${id}.dcm`);
        const res = await run(r.tool, [...(r.args ?? []), sourceFile, file]);
        if (res.code !== 0) {
          fs.rmSync(file, { force: true });
          return { ...base, ok: false, error: `${r.tool} ${(r.args ?? []).join(' ')} exited ${res.code}: ${(res.stderr || res.stdout).trim()}` };
        }
        // Lossless conversions keep the source's SOP Instance UID: give every variant its
        // own, so that a receiver keeps each one rather than treating it as a duplicate.
        const uid = await run('dcmodify', ['-nb', '-gin', file]);
        if (uid.code !== 0) return { ...base, ok: false, error: `dcmodify -gin exited ${uid.code}: ${uid.stderr.trim()}` };
        const got = readMeta(file).transferSyntaxUid;
        if (got !== r.transferSyntaxUid) {
          return { ...base, ok: false, error: `${r.tool} wrote transfer syntax ${got}, expected ${r.transferSyntaxUid}` };
        }
        return { ...base, ok: true, file };
      });
    }
  }
  // Two at a time (2 cores here).
  const results: TransferSyntaxVariant[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    [0, 1].map(async () => {
      while (next < jobs.length) {
        const i = next++;
        results[i] = await jobs[i]();
      }
    }),
  );
  return results;
}
