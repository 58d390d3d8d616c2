/**
 * Our decoded frames against DCMTK's decoding of the same compressed files: dcmdjpeg,
 * dcmdjpls and dcmdrle decompress each DCMTK-made variant to explicit VR little endian,
 * and the frames route's application/octet-stream part must hold the same pixels
 * (identical for lossless syntaxes; for the lossy ones two IJG-derived decoders may round
 * an IDCT differently, so within a small mean difference). Rendering is checked against
 * dcmj2pnm with the same window (its PGM/PPM output).
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode as decodePng } from 'fast-png';
import { writeTransferSyntaxVariants, type TransferSyntaxVariant } from '../../scripts/gen-test-data.js';
import { tempDir } from '../archive/helpers.js';
import { runDcmtk } from '../support/peers.js';
import { instancePath, nativePixels, parseMultipart, pixelApp, storedValues, storeFile, type PixelApp, type StoredRef } from '../web/pixel-fixtures.js';

const DECOMPRESSOR: Record<string, string> = {
  'jpeg-baseline': 'dcmdjpeg',
  'jpeg-extended': 'dcmdjpeg',
  'jpeg-spectral': 'dcmdjpeg',
  'jpeg-progressive': 'dcmdjpeg',
  'jpeg-lossless': 'dcmdjpeg',
  'jpeg-lossless-sv1': 'dcmdjpeg',
  'jpegls-lossless': 'dcmdjpls',
  'jpegls-near-lossless': 'dcmdjpls',
  rle: 'dcmdrle',
};

let px: PixelApp;
let dir: string;
const cases: { v: TransferSyntaxVariant & { file: string }; ref: StoredRef; dcmtkFile: string }[] = [];

beforeAll(async () => {
  px = await pixelApp();
  dir = tempDir('pacs-pixel-dcmtk-');
  for (const v of await writeTransferSyntaxVariants({ dir })) {
    const tool = DECOMPRESSOR[v.name];
    if (!v.ok || !tool) continue;
    const dcmtkFile = join(dir, `${v.source}-${v.name}-dcmtk.dcm`);
    const r = await runDcmtk(tool, [v.file, dcmtkFile]);
    if (r.code !== 0) throw new Error(`${tool} ${v.file}: ${r.stderr}`);
    cases.push({ v, ref: await storeFile(px.archive, v.file), dcmtkFile });
  }
}, 180_000);

afterAll(async () => {
  await px?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('decoded frames agree with DCMTK', () => {
  it('covers every DCMTK compressed syntax for the 16-bit CT, 8-bit and RGB sources', () => {
    const names = new Set(cases.map((c) => `${c.v.source}/${c.v.name}`));
    for (const n of [
      'ct16/jpeg-lossless',
      'ct16/jpegls-lossless',
      'ct16/rle',
      'mono8/jpegls-near-lossless',
      'ct16/jpeg-extended',
      'mono8/jpeg-baseline',
      'rgb/jpeg-baseline',
      'rgb/jpegls-lossless',
      'rgb/rle',
    ]) {
      expect(names.has(n), n).toBe(true);
    }
  });

  it("each variant: our octet-stream frame equals DCMTK's decompressed Pixel Data (lossless) or is within rounding (lossy)", async () => {
    const report: string[] = [];
    for (const { v, ref, dcmtkFile } of cases) {
      const res = await px.app.inject({
        method: 'GET',
        url: `${instancePath(ref)}/frames/1`,
        headers: { accept: 'multipart/related; type=application/octet-stream' },
      });
      expect(res.statusCode, `${v.source}/${v.name}: ${res.body}`).toBe(200);
      const [part] = parseMultipart(res.headers['content-type'], res.rawPayload);
      const theirs = nativePixels(dcmtkFile);
      const ours = storedValues(part.body, theirs.bits, theirs.stored, theirs.signed);
      const dcmtk = storedValues(theirs.pixels, theirs.bits, theirs.stored, theirs.signed);
      expect(ours.length, `${v.source}/${v.name}`).toBe(dcmtk.length);
      if (!v.lossy) {
        expect(ours, `${v.source}/${v.name}`).toEqual(dcmtk);
      } else {
        let sum = 0,
          max = 0;
        for (let i = 0; i < ours.length; i++) {
          const d = Math.abs(ours[i] - dcmtk[i]);
          sum += d;
          if (d > max) max = d;
        }
        report.push(`${v.source}/${v.name}: mean |diff| ${(sum / ours.length).toFixed(3)}, max ${max}`);
        expect(sum / ours.length, `${v.source}/${v.name}`).toBeLessThan(1);
        expect(max, `${v.source}/${v.name}`).toBeLessThanOrEqual(4);
      }
    }
    console.log(report.join('\n'));
  });
});

/** Binary PGM (P5) or PPM (P6) as written by dcmj2pnm. */
function readPnm(file: string): { width: number; height: number; channels: number; data: Buffer } {
  const b = readFileSync(file);
  const tokens: string[] = [];
  let pos = 0;
  while (tokens.length < 4) {
    while (/\s/.test(String.fromCharCode(b[pos]))) pos++;
    if (b[pos] === 0x23) {
      while (b[pos] !== 0x0a) pos++;
      continue;
    }
    let t = '';
    while (!/\s/.test(String.fromCharCode(b[pos]))) t += String.fromCharCode(b[pos++]);
    tokens.push(t);
  }
  pos++; // the single whitespace after maxval
  return { width: Number(tokens[1]), height: Number(tokens[2]), channels: tokens[0] === 'P6' ? 3 : 1, data: b.subarray(pos) };
}

describe('rendering agrees with dcmj2pnm', () => {
  it("a windowed CT frame and an RGB frame match DCMTK's rendering within one grey level", async () => {
    for (const [source, name, window] of [
      ['ct16', 'jpegls-lossless', '40,400'],
      ['ct16', 'rle', '300,1500'],
      ['rgb', 'rle', undefined],
    ] as const) {
      const c = cases.find((x) => x.v.source === source && x.v.name === name)!;
      const pnm = join(dir, `${source}-${name}.pnm`);
      // dcmj2pnm has no JPEG-LS decoder: it renders DCMTK's decompressed copy.
      const args = window ? ['+Ww', ...window.split(','), c.dcmtkFile, pnm] : [c.dcmtkFile, pnm];
      const r = await runDcmtk('dcmj2pnm', args);
      expect(r.code, r.stderr).toBe(0);
      const theirs = readPnm(pnm);
      const res = await px.app.inject({
        method: 'GET',
        url: `${instancePath(c.ref)}/rendered${window ? `?window=${window}` : ''}`,
        headers: { accept: 'image/png' },
      });
      const ours = decodePng(res.rawPayload);
      expect([ours.width, ours.height, ours.channels]).toEqual([theirs.width, theirs.height, theirs.channels]);
      let max = 0;
      for (let i = 0; i < theirs.data.length; i++) max = Math.max(max, Math.abs(ours.data[i] - theirs.data[i]));
      expect(max, `${source}/${name}`).toBeLessThanOrEqual(1);
    }
  });
});
