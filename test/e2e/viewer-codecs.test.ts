/**
 * The viewer decodes every transfer syntax and photometric interpretation (issue #8, item 7).
 * Small originals (codec-fixtures.ts: 8-bit, signed and unsigned 16-bit, 12-bit, 12-bit CT
 * with Rescale Intercept, RGB interleaved and planar, YBR_FULL, PALETTE COLOR, MONOCHROME1,
 * multi-frame) are written
 * uncompressed, each case encoded into its transfer syntax by DCMTK or dcmjs-codecs, all
 * stored (STOW-RS, bytes as they are) as one study with a series per case in `pacs serve`.
 * The viewer (chromium, one page) shows each series in a 1x1 layout; the test reads the
 * DECODED pixel values of every frame from Cornerstone's cache (the image the viewport
 * displays: cache.getImage(imageId).getPixelData(), through the page's window.__viewer hook)
 * (modality values: rescaled) and compares them with the pixels computed in Node: equal for
 * lossless syntaxes, within a maximum error (JPEG-LS near-lossless: its NEAR) or above a PSNR
 * for lossy ones, which must also match a second decoder (the server's) closely. Colour is
 * compared as RGB after the viewer's conversion, PALETTE COLOR as the palette lookup, and a
 * MONOCHROME1 image must render inverted relative to the same data as MONOCHROME2.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newUid, TS } from '../../scripts/gen-test-data.js';
import { mediaTypeOf } from '../../src/web/dicomweb/pixel-accept.js';
import { REPO_ROOT, startPacsServe, stopAllPeers } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { launchChromiumWithWebGL } from './browser.js';
import {
  COLS,
  encodeVariant,
  expectedFrame,
  originals,
  referenceDecode,
  ROWS,
  writeOriginal,
  type Encoder,
  type Original,
  type OriginalName,
} from './codec-fixtures.js';

/**
 * How close the decoded pixels must be: equal, or within a maximum absolute error and/or
 * above a PSNR (dB, peak = the original's range) of the original; compressed ones also
 * within `ofReference` of the same file decoded by the server's decoders (referenceDecode).
 */
type Bound = { exact: true } | { maxError?: number; psnr?: number; ofReference?: number };

interface Case {
  name: string;
  original: OriginalName;
  encoder: Encoder;
  transferSyntax: string;
  bound: Bound;
}

const EXACT: Bound = { exact: true };
const dcmconv = (...args: string[]): Encoder => ({ kind: 'dcmtk', tool: 'dcmconv', args });
const jpeg = (...args: string[]): Encoder => ({ kind: 'dcmtk', tool: 'dcmcjpeg', args });
const jpls = (...args: string[]): Encoder => ({ kind: 'dcmtk', tool: 'dcmcjpls', args });
const rle: Encoder = { kind: 'dcmtk', tool: 'dcmcrle', args: [] };
const j2k = (codec: 'jpeg2000' | 'htj2k', lossy: boolean): Encoder => ({ kind: 'j2k', codec, lossy });
const ORIGINAL: Encoder = { kind: 'original' };
const HTJ2K = '1.2.840.10008.1.2.4.201';
const HTJ2K_LOSSY = '1.2.840.10008.1.2.4.203';

const CASES: Case[] = [
  // Uncompressed
  { name: 'explicit VR LE, MONOCHROME2 8-bit', original: 'mono8', encoder: ORIGINAL, transferSyntax: TS.explicitLE, bound: EXACT },
  { name: 'explicit VR LE, MONOCHROME1 8-bit', original: 'mono1', encoder: ORIGINAL, transferSyntax: TS.explicitLE, bound: EXACT },
  { name: 'explicit VR LE, signed 16-bit', original: 'signed16', encoder: ORIGINAL, transferSyntax: TS.explicitLE, bound: EXACT },
  { name: 'explicit VR LE, unsigned 16-bit', original: 'unsigned16', encoder: ORIGINAL, transferSyntax: TS.explicitLE, bound: EXACT },
  { name: 'explicit VR LE, CT 12-bit with Rescale Intercept', original: 'ct12', encoder: ORIGINAL, transferSyntax: TS.explicitLE, bound: EXACT },
  { name: 'implicit VR LE, signed 16-bit', original: 'signed16', encoder: dcmconv('+ti'), transferSyntax: TS.implicitLE, bound: EXACT },
  { name: 'explicit VR BE, signed 16-bit', original: 'signed16', encoder: dcmconv('+tb'), transferSyntax: TS.explicitBE, bound: EXACT },
  { name: 'explicit VR BE, unsigned 16-bit', original: 'unsigned16', encoder: dcmconv('+tb'), transferSyntax: TS.explicitBE, bound: EXACT },
  { name: 'explicit VR BE, RGB', original: 'rgb', encoder: dcmconv('+tb'), transferSyntax: TS.explicitBE, bound: EXACT },
  { name: 'deflated explicit VR LE, signed 16-bit', original: 'signed16', encoder: dcmconv('+td'), transferSyntax: TS.deflatedLE, bound: EXACT },
  { name: 'explicit VR LE, RGB interleaved', original: 'rgb', encoder: ORIGINAL, transferSyntax: TS.explicitLE, bound: EXACT },
  { name: 'explicit VR LE, RGB planar', original: 'rgbPlanar', encoder: ORIGINAL, transferSyntax: TS.explicitLE, bound: EXACT },
  // YBR_FULL of 8-bit RGB rounds: converted back, within 2 of the RGB it was made from.
  { name: 'explicit VR LE, YBR_FULL', original: 'ybrFull', encoder: ORIGINAL, transferSyntax: TS.explicitLE, bound: { maxError: 2 } },
  { name: 'explicit VR LE, PALETTE COLOR', original: 'palette', encoder: ORIGINAL, transferSyntax: TS.explicitLE, bound: EXACT },
  { name: 'explicit VR LE, multi-frame 12-bit', original: 'multiFrame', encoder: ORIGINAL, transferSyntax: TS.explicitLE, bound: EXACT },
  // JPEG baseline (8-bit) and extended (12-bit). The PSNR bounds are those of these encodes
  // (DCMTK quality 90) less a margin; the viewer's libjpeg-turbo and the reference's IJG
  // libjpeg round their inverse DCTs (and 4:2:2 upsampling) differently by a few levels.
  { name: 'JPEG baseline, MONOCHROME2 8-bit', original: 'mono8', encoder: jpeg('+eb'), transferSyntax: TS.jpegBaseline, bound: { psnr: 40, ofReference: 2 } },
  { name: 'JPEG baseline, RGB as YBR_FULL_422', original: 'rgb', encoder: jpeg('+eb'), transferSyntax: TS.jpegBaseline, bound: { psnr: 25, ofReference: 2 } },
  {
    name: 'JPEG baseline, RGB as YBR_FULL (4:4:4)',
    original: 'rgb',
    encoder: jpeg('+eb', '+s4'),
    transferSyntax: TS.jpegBaseline,
    bound: { psnr: 38, ofReference: 2 },
  },
  { name: 'JPEG extended, 12-bit', original: 'unsigned12', encoder: jpeg('+ee'), transferSyntax: TS.jpegExtended, bound: { psnr: 42, ofReference: 32 } },
  // JPEG lossless
  { name: 'JPEG lossless process 14, signed 16-bit', original: 'signed16', encoder: jpeg('+el'), transferSyntax: TS.jpegLossless, bound: EXACT },
  { name: 'JPEG lossless SV1, signed 16-bit', original: 'signed16', encoder: jpeg('+e1'), transferSyntax: TS.jpegLosslessSV1, bound: EXACT },
  { name: 'JPEG lossless SV1, CT 12-bit with Rescale Intercept', original: 'ct12', encoder: jpeg('+e1'), transferSyntax: TS.jpegLosslessSV1, bound: EXACT },
  { name: 'JPEG lossless SV1, unsigned 16-bit', original: 'unsigned16', encoder: jpeg('+e1'), transferSyntax: TS.jpegLosslessSV1, bound: EXACT },
  { name: 'JPEG lossless SV1, MONOCHROME2 8-bit', original: 'mono8', encoder: jpeg('+e1'), transferSyntax: TS.jpegLosslessSV1, bound: EXACT },
  { name: 'JPEG lossless SV1, RGB', original: 'rgb', encoder: jpeg('+e1'), transferSyntax: TS.jpegLosslessSV1, bound: EXACT },
  { name: 'JPEG lossless SV1, multi-frame 12-bit', original: 'multiFrame', encoder: jpeg('+e1'), transferSyntax: TS.jpegLosslessSV1, bound: EXACT },
  // JPEG-LS
  { name: 'JPEG-LS lossless, signed 16-bit', original: 'signed16', encoder: jpls('+el'), transferSyntax: TS.jpegLsLossless, bound: EXACT },
  { name: 'JPEG-LS lossless, unsigned 16-bit', original: 'unsigned16', encoder: jpls('+el'), transferSyntax: TS.jpegLsLossless, bound: EXACT },
  { name: 'JPEG-LS lossless, RGB', original: 'rgb', encoder: jpls('+el'), transferSyntax: TS.jpegLsLossless, bound: EXACT },
  {
    name: 'JPEG-LS near-lossless (NEAR 2), unsigned 16-bit',
    original: 'unsigned16',
    encoder: jpls('+en', '+md', '2'),
    transferSyntax: TS.jpegLsNearLossless,
    bound: { maxError: 2, ofReference: 0 },
  },
  {
    name: 'JPEG-LS near-lossless (NEAR 2), MONOCHROME2 8-bit',
    original: 'mono8',
    encoder: jpls('+en', '+md', '2'),
    transferSyntax: TS.jpegLsNearLossless,
    bound: { maxError: 2, ofReference: 0 },
  },
  {
    name: 'JPEG-LS near-lossless (NEAR 2), RGB',
    original: 'rgb',
    encoder: jpls('+en', '+md', '2'),
    transferSyntax: TS.jpegLsNearLossless,
    bound: { maxError: 2, ofReference: 0 },
  },
  // JPEG 2000 and HTJ2K (lossy: JPEG 2000 at 8:1, HTJ2K at the encoder's default quantization)
  { name: 'JPEG 2000 lossless, signed 16-bit', original: 'signed16', encoder: j2k('jpeg2000', false), transferSyntax: TS.jpeg2000Lossless, bound: EXACT },
  { name: 'JPEG 2000 lossless, unsigned 16-bit', original: 'unsigned16', encoder: j2k('jpeg2000', false), transferSyntax: TS.jpeg2000Lossless, bound: EXACT },
  { name: 'JPEG 2000 lossless, RGB', original: 'rgb', encoder: j2k('jpeg2000', false), transferSyntax: TS.jpeg2000Lossless, bound: EXACT },
  {
    name: 'JPEG 2000 lossy, signed 16-bit',
    original: 'signed16',
    encoder: j2k('jpeg2000', true),
    transferSyntax: TS.jpeg2000,
    bound: { psnr: 60, ofReference: 1 },
  },
  {
    name: 'JPEG 2000 lossy, MONOCHROME2 8-bit',
    original: 'mono8',
    encoder: j2k('jpeg2000', true),
    transferSyntax: TS.jpeg2000,
    bound: { psnr: 40, ofReference: 1 },
  },
  { name: 'HTJ2K lossless, signed 16-bit', original: 'signed16', encoder: j2k('htj2k', false), transferSyntax: HTJ2K, bound: EXACT },
  { name: 'HTJ2K lossless, RGB', original: 'rgb', encoder: j2k('htj2k', false), transferSyntax: HTJ2K, bound: EXACT },
  { name: 'HTJ2K lossy, signed 16-bit', original: 'signed16', encoder: j2k('htj2k', true), transferSyntax: HTJ2K_LOSSY, bound: { psnr: 60, ofReference: 1 } },
  // RLE
  { name: 'RLE, signed 16-bit', original: 'signed16', encoder: rle, transferSyntax: TS.rle, bound: EXACT },
  { name: 'RLE, unsigned 16-bit', original: 'unsigned16', encoder: rle, transferSyntax: TS.rle, bound: EXACT },
  { name: 'RLE, MONOCHROME2 8-bit', original: 'mono8', encoder: rle, transferSyntax: TS.rle, bound: EXACT },
  { name: 'RLE, MONOCHROME1 8-bit', original: 'mono1', encoder: rle, transferSyntax: TS.rle, bound: EXACT },
  { name: 'RLE, RGB', original: 'rgb', encoder: rle, transferSyntax: TS.rle, bound: EXACT },
  { name: 'RLE, PALETTE COLOR', original: 'palette', encoder: rle, transferSyntax: TS.rle, bound: EXACT },
  { name: 'RLE, multi-frame 12-bit', original: 'multiFrame', encoder: rle, transferSyntax: TS.rle, bound: EXACT },
];

// The page's test hook (window.__viewer), typed as far as this test uses it (no DOM lib here).
interface ImageLike {
  getPixelData(): ArrayLike<number>;
  color: boolean;
  numberOfComponents?: number;
  rows: number;
  columns: number;
  preScale?: { scaled?: boolean };
  slope: number;
  intercept: number;
}
interface ViewerHook {
  ready: boolean;
  viewer: { grid: { cells: Array<{ viewport?: { getImageIds(): string[]; worldToCanvas(w: number[]): [number, number] } }> } };
  core: { cache: { getImage(id: string): ImageLike | undefined }; utilities: { imageToWorldCoords(id: string, p: [number, number]): number[] } };
}
interface CanvasLike {
  width: number;
  height: number;
  getContext(type: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
}
declare const window: { __viewer?: ViewerHook };
declare const document: { querySelector(s: string): CanvasLike | null };

let browser: Browser;
let page: Page;
let base: string;
let studyUid: string;
/** The part media types of the frame responses the page received, by series UID. */
const frameTypes = new Map<string, Set<string>>();
/** Each case's series, or why its file could not be made (that case then fails, the others run). */
const seriesOf = new Map<string, { seriesUid: string; original: Original; reference?: number[]; error?: string }>();

beforeAll(async () => {
  const started = Date.now();
  const dir = await makeTempDir('pacs-viewer-codecs-');
  const build_ = build({ root: join(REPO_ROOT, 'ui'), logLevel: 'warn' });
  studyUid = newUid();
  const byName = new Map(originals().map((o) => [o.name, o]));
  const files: string[] = [];
  // Two encoders at a time (2 cores).
  let next = 0;
  const work = async () => {
    while (next < CASES.length) {
      const i = next++;
      const c = CASES[i];
      const original = byName.get(c.original)!;
      const seriesUid = newUid();
      const source = writeOriginal(original, join(dir, `src-${i}.dcm`), { studyUid, patientId: 'CODECS', seriesUid, seriesNumber: i + 1, description: c.name });
      const out = c.encoder.kind === 'original' ? source : join(dir, `case-${i}.dcm`);
      try {
        const ts = await encodeVariant(source, out, c.encoder);
        if (ts !== c.transferSyntax) throw new Error(`the encoder wrote ${ts}, expected ${c.transferSyntax}`);
        files.push(out);
        seriesOf.set(c.name, { seriesUid, original, reference: 'ofReference' in c.bound ? await referenceDecode(out) : undefined });
      } catch (e) {
        seriesOf.set(c.name, { seriesUid, original, error: (e as Error).message });
      }
    }
  };
  await Promise.all([work(), work()]);
  const encoded = Date.now();
  await build_;
  ({ base } = await startPacsServe(join(dir, 'pacs'), 'e2e-password'));
  browser = await launchChromiumWithWebGL();
  page = await browser.newPage({ viewport: { width: 900, height: 800 } });
  page.on('pageerror', (e) => console.error('page error:', e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') console.error('console:', m.text().slice(0, 300));
  });
  page.on('response', (r) => {
    const series = /\/series\/([^/]+)\/instances\/[^/]+\/frames\//.exec(r.url())?.[1];
    if (!series) return;
    const type = /type="([^"]+)"/.exec(r.headers()['content-type'] ?? '')?.[1] ?? `HTTP ${r.status()}`;
    frameTypes.set(series, (frameTypes.get(series) ?? new Set()).add(type));
  });
  page.setDefaultTimeout(120_000); // a loaded 2-core machine: generous, never a threshold
  await page.goto(`${base}/viewer?StudyInstanceUIDs=${studyUid}`);
  await page.fill('#login-password', 'e2e-password');
  const cookie = page.waitForResponse((r) => r.url().endsWith('/api/login'));
  await page.click('#login-form button[type=submit]');
  await cookie;
  // STOW-RS keeps each file's transfer syntax as it is (a C-STORE would be negotiated).
  const boundary = 'codecs-test-boundary';
  const parts: Buffer[] = [];
  for (const f of files) parts.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), await readFile(f), Buffer.from('\r\n'));
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  const cookies = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
  const res = await fetch(`${base}/dicomweb/studies`, {
    method: 'POST',
    headers: { cookie: cookies, 'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`, accept: 'application/dicom+json' },
    body: Buffer.concat(parts),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  await page.reload();
  await page.waitForFunction(() => window.__viewer?.ready === true, null, { timeout: 120_000 });
  await page.click('#toolbar button[data-layout="1x1"]');
  console.log(
    `set-up: ${CASES.length} files made in ${((encoded - started) / 1000).toFixed(0)} s, viewer open after ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await stopAllPeers();
  await removeTempDirs();
});

interface Decoded {
  frames: number[][];
  components: number;
  preScaled: boolean;
  error?: string;
}

/** Shows the case's series in the (single) viewport and reads the decoded pixels of each of its frames from Cornerstone's cache. */
async function showAndRead(seriesUid: string, frames: number): Promise<Decoded> {
  await page.click(`#series-panel .series-item[data-series="${seriesUid}"]`);
  await expect.poll(() => page.getAttribute('.viewport-cell[data-index="0"]', 'data-series'), { timeout: 30_000 }).toBe(seriesUid);
  // Every frame decoded into the cache, or the viewer says which one could not be.
  // (The viewport holds the previous series' stack until the new one is set: its image ids name the series.)
  const state = () =>
    page.evaluate(
      ({ n, series }) => {
        const vp = window.__viewer!.viewer.grid.cells[0].viewport!;
        const ids = vp.getImageIds();
        if (ids.length !== n || !ids.every((id) => id.includes(`/series/${series}/`))) return 'waiting';
        const message =
          (document.querySelector('.viewport-cell[data-index="0"] .viewport-message') as unknown as { textContent: string } | null)?.textContent ?? '';
        if (message) return message;
        return ids.every((id) => window.__viewer!.core.cache.getImage(id)) ? 'decoded' : 'waiting';
      },
      { n: frames, series: seriesUid },
    );
  await expect.poll(state, { timeout: 120_000 }).not.toBe('waiting');
  const s = await state();
  if (s !== 'decoded') return { frames: [], components: 0, preScaled: false, error: s };
  return page.evaluate(() => {
    const { viewer, core } = window.__viewer!;
    const images = viewer.grid.cells[0].viewport!.getImageIds().map((id) => core.cache.getImage(id)!);
    // Modality values: the loader rescales as it decodes (preScale), else the viewport does.
    const modality = (img: (typeof images)[number]) =>
      img.preScale?.scaled ? Array.from(img.getPixelData()) : Array.from(img.getPixelData(), (v) => v * img.slope + img.intercept);
    return {
      frames: images.map((img) => (img.color ? Array.from(img.getPixelData()) : modality(img))),
      components: images[0].numberOfComponents ?? (images[0].color ? images[0].getPixelData().length / (images[0].rows * images[0].columns) : 1),
      preScaled: images[0].preScale?.scaled === true,
    };
  });
}

/** The decoded samples as the expected layout: grey values, or RGB triplets (an alpha channel, where the loader adds one, dropped). */
function asExpected(values: number[], components: number, channels: number): number[] {
  if (components === channels) return values;
  if (components === 4 && channels === 3) return values.filter((_, i) => i % 4 !== 3);
  throw new Error(`the viewer decoded ${components} component(s) per pixel, expected ${channels}`);
}

interface Comparison {
  maxError: number;
  psnr: number;
  firstDifference?: { index: number; expected: number; decoded: number };
}

function compare(expected: number[], decoded: number[]): Comparison {
  let max = 0;
  let sse = 0;
  let first: Comparison['firstDifference'];
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(decoded[i] - expected[i]);
    if (d > 0 && !first) first = { index: i, expected: expected[i], decoded: decoded[i] };
    max = Math.max(max, d);
    sse += d * d;
    lo = Math.min(lo, expected[i]);
    hi = Math.max(hi, expected[i]);
  }
  const mse = sse / expected.length;
  return { maxError: max, psnr: mse === 0 ? Infinity : 10 * Math.log10((hi - lo) ** 2 / mse), firstDifference: first };
}

/** Canvas grey (mean of R, G, B) at image pixel (row, col) of the single viewport. */
function canvasGreyAt(row: number, col: number): Promise<number> {
  return page.evaluate(
    ({ r, c }) => {
      const { viewer, core } = window.__viewer!;
      const vp = viewer.grid.cells[0].viewport!;
      const [x, y] = vp.worldToCanvas(core.utilities.imageToWorldCoords(vp.getImageIds()[0], [c + 0.5, r + 0.5]));
      const canvas = document.querySelector('.viewport-cell[data-index="0"] canvas')!;
      const scale = canvas.width / (canvas as unknown as { clientWidth: number }).clientWidth;
      const d = canvas.getContext('2d')!.getImageData(Math.round(x * scale), Math.round(y * scale), 1, 1).data;
      return (d[0] + d[1] + d[2]) / 3;
    },
    { r: row, c: col },
  );
}

const results: string[] = [];

describe('viewer decodes every transfer syntax and photometric interpretation', () => {
  it.each(CASES)(
    '$name',
    async (c) => {
      const { seriesUid, original, reference, error } = seriesOf.get(c.name)!;
      expect(error, 'making the test file').toBeUndefined();
      const decoded = await showAndRead(seriesUid, original.frames);
      expect(decoded.error, 'the viewer could not display the image').toBeUndefined();
      expect(decoded.frames).toHaveLength(original.frames);
      // The frames came as stored (the loader asks for transfer-syntax=*): compressed ones were decoded in the browser.
      expect([...(frameTypes.get(seriesUid) ?? [])]).toEqual([mediaTypeOf(c.transferSyntax)]);
      const worst: Comparison = { maxError: 0, psnr: Infinity };
      let referenceError = 0;
      for (let f = 0; f < original.frames; f++) {
        const expected = expectedFrame(original, f);
        const got = asExpected(decoded.frames[f], decoded.components, original.channels);
        expect(got.length, `frame ${f + 1}: decoded sample count`).toBe(expected.length);
        const cmp = compare(expected, got);
        if ('exact' in c.bound) {
          expect(
            cmp.firstDifference,
            `frame ${f + 1}: first differing sample (row ${Math.floor((cmp.firstDifference?.index ?? 0) / original.channels / COLS)})`,
          ).toBeUndefined();
        } else {
          if (c.bound.maxError !== undefined) expect(cmp.maxError, `frame ${f + 1}: max abs error`).toBeLessThanOrEqual(c.bound.maxError);
          if (c.bound.psnr !== undefined) expect(cmp.psnr, `frame ${f + 1}: PSNR (dB)`).toBeGreaterThanOrEqual(c.bound.psnr);
          if (reference && c.bound.ofReference !== undefined) {
            const ref = compare(reference.slice(f * expected.length, (f + 1) * expected.length), got);
            referenceError = Math.max(referenceError, ref.maxError);
            expect(ref.maxError, `frame ${f + 1}: max abs difference from the reference decoder`).toBeLessThanOrEqual(c.bound.ofReference);
          }
        }
        worst.maxError = Math.max(worst.maxError, cmp.maxError);
        worst.psnr = Math.min(worst.psnr, cmp.psnr);
      }
      results.push(
        `${c.name}: ${original.frames} frame(s), max abs error ${worst.maxError}, PSNR ${worst.psnr === Infinity ? 'inf' : worst.psnr.toFixed(1)} dB${reference ? `, max abs difference from the reference decoder ${referenceError}` : ''}`,
      );
    },
    180_000,
  );

  it('renders MONOCHROME1 inverted relative to the same data as MONOCHROME2', async () => {
    // mono8: a white (255) disc at (ROWS/4, COLS/4), a black (0) square from (3 ROWS/4, 3 COLS/4).
    const disc = [ROWS / 4, COLS / 4] as const;
    const square = [Math.floor((3 * ROWS) / 4) + 2, Math.floor((3 * COLS) / 4) + 2] as const;
    const grey = async (name: string) => {
      await showAndRead(seriesOf.get(name)!.seriesUid, 1);
      await expect.poll(() => canvasGreyAt(...disc), { timeout: 30_000 }).not.toBe(await canvasGreyAt(...square));
      return { disc: await canvasGreyAt(...disc), square: await canvasGreyAt(...square) };
    };
    const m2 = await grey('explicit VR LE, MONOCHROME2 8-bit');
    const m1 = await grey('explicit VR LE, MONOCHROME1 8-bit');
    expect(m2.disc).toBeGreaterThan(200);
    expect(m2.square).toBeLessThan(55);
    expect(m1.disc).toBeLessThan(55);
    expect(m1.square).toBeGreaterThan(200);
  }, 180_000);

  afterAll(() => console.log(`decoded pixels against the originals:\n${results.join('\n')}`));
});
