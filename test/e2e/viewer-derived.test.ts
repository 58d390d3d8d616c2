/**
 * Segmentations, structure sets and structured reports in the 2D viewer (issue 20), made by
 * tools no one here wrote, in headless chromium against `pacs serve`:
 *  - a DICOM SEG written by dcmjs's Segmentation derivation over a CT: the "Rod" segment
 *    (RecommendedDisplayCIELabValue pure green) filled at half opacity over the bone rod,
 *    the "Box" segment (no colour: the viewer's second colour) over water, unsegmented
 *    water left grey; switching "Rod" off gives the rod's white back;
 *  - an RTSTRUCT made by plastimatch from a mask: its "Square" ROI outlined in its ROI
 *    Display Color where plastimatch put the contour, nothing inside it; switched off, gone;
 *  - Basic Text, Enhanced and Comprehensive SR made by DCMTK's xml2dsr (checked valid by
 *    dsrdump) shown as text: concept names, codes, values with units;
 *  - a SEG whose frame count disagrees with its frames: named over the study's image,
 *    the image still shown.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCtSeries, type CtSeriesResult } from '../../scripts/gen-test-data.js';
import { writeRtStructWithPlastimatch, writeSegWithDcmjs } from '../../scripts/gen-test-data/seg-rtstruct.js';
import { writeSrWithXml2dsr, type SrCode, type SrKind } from '../../scripts/gen-test-data/sr-dcmtk.js';
import { runDcmtk } from '../support/peers.js';
import { makeTempDir } from '../support/tmp.js';
import { startViewer, stopViewer, type ViewerPage } from './viewer-fixture.js';

// The parts of the page read here (the tests' tsconfig has no DOM library).
interface Canvas2d {
  width: number;
  height: number;
  clientWidth: number;
  getContext(t: '2d'): {
    drawImage(c: unknown, x: number, y: number): void;
    getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
  };
}
interface PageWindow {
  __viewer?: {
    ready: boolean;
    viewer: {
      grid: {
        cells: Array<{
          root: { querySelector(s: string): Canvas2d | null };
          element: { querySelector(s: string): Canvas2d | null };
          viewport?: { worldToCanvas(w: World): [number, number]; getCamera(): { focalPoint: World } };
        }>;
      };
    };
  };
}
declare const window: PageWindow;
declare const document: { createElement(t: 'canvas'): Canvas2d };

type World = [number, number, number];
type Rgb = [number, number, number];

let v: ViewerPage;
let page: Page;
let ct: CtSeriesResult;
let broken: CtSeriesResult;
/** The edges of plastimatch's "Square" contour on the first slice (mm): top and bottom (y), left (x). */
let squareTop: number;
let squareBottom: number;
let squareLeft: number;

const ROD = { x: 52.5, y: -35, r: 10 };
const BOX = { x0: -60, x1: -30, y0: 20, y1: 50 };
const SQUARE = { x0: -40, x1: 40, y0: -90, y1: -70 };
/** Pure green (sRGB 0, 255, 0) as DICOM CIELab: L* 87.735, a* -86.183, b* 83.179 scaled to 0-65535. */
const GREEN_LAB: [number, number, number] = [57497, 10747, 54273];

const code = (value: string, meaning: string, scheme = 'DCM'): SrCode => ({ value, scheme, meaning });
const REPORTS: Array<{ kind: SrKind; description: string; file?: string }> = [
  { kind: 'Basic Text SR', description: 'Basic report' },
  { kind: 'Enhanced SR', description: 'Enhanced report' },
  { kind: 'Comprehensive SR', description: 'Comprehensive report' },
];

beforeAll(async () => {
  const dir = await makeTempDir('pacs-viewer-derived-e2e-');
  ct = await writeCtSeries({ dir: join(dir, 'ct'), count: 6, rows: 128, cols: 128 });
  const seg = await writeSegWithDcmjs(ct, join(dir, 'seg.dcm'), [
    { label: 'Rod', cielab: GREEN_LAB, inside: (x, y) => (x - ROD.x) ** 2 + (y - ROD.y) ** 2 <= ROD.r ** 2 },
    { label: 'Box', inside: (x, y) => x >= BOX.x0 && x <= BOX.x1 && y >= BOX.y0 && y <= BOX.y1 },
  ]);
  const rt = await writeRtStructWithPlastimatch(ct, join(dir, 'rt'), {
    Square: (x, y) => x >= SQUARE.x0 && x <= SQUARE.x1 && y >= SQUARE.y0 && y <= SQUARE.y1,
  });
  // Where plastimatch put the first slice's contour (DCMTK reads it, not the viewer's parser).
  const dump = await runDcmtk('dcmdump', ['+L', '+P', '3006,0050', rt]);
  const values = /\[([^\]]+)\]/.exec(dump.stdout.split('\n')[0])![1].split('\\').map(Number);
  const ys = values.filter((_, i) => i % 3 === 1);
  squareTop = Math.max(...ys);
  squareBottom = Math.min(...ys);
  squareLeft = Math.min(...values.filter((_, i) => i % 3 === 0));
  const contents: Record<SrKind, Parameters<typeof writeSrWithXml2dsr>[0]['content']> = {
    'Basic Text SR': [
      { type: 'text', rel: 'CONTAINS', concept: code('121071', 'Finding'), value: 'No fracture.' },
      { type: 'code', rel: 'CONTAINS', concept: code('G-C0E3', 'Finding Site', 'SRT'), value: code('T-11500', 'Femur', 'SRT') },
    ],
    'Enhanced SR': [
      { type: 'num', rel: 'CONTAINS', concept: code('G-D7FE', 'Length', 'SRT'), value: '42.5', unit: code('mm', 'millimeter', 'UCUM') },
      { type: 'text', rel: 'CONTAINS', concept: code('121073', 'Impression'), value: 'Stable.' },
    ],
    'Comprehensive SR': [
      {
        type: 'container',
        rel: 'CONTAINS',
        concept: code('121070', 'Findings'),
        children: [
          { type: 'num', rel: 'CONTAINS', concept: code('G-D785', 'Diameter', 'SRT'), value: '14', unit: code('mm', 'millimeter', 'UCUM') },
          {
            type: 'num',
            rel: 'CONTAINS',
            concept: code('112031', 'Attenuation Coefficient'),
            value: '1000',
            unit: code("[hnsf'U]", 'Hounsfield unit', 'UCUM'),
          },
        ],
      },
    ],
  };
  for (const [i, r] of REPORTS.entries()) {
    const made = await writeSrWithXml2dsr({
      file: join(dir, `sr-${i}.dcm`),
      kind: r.kind,
      studyUid: ct.studyUid,
      patientId: ct.patientId,
      patientName: { last: 'PHANTOM', first: 'CT' },
      seriesNumber: 900 + i,
      seriesDescription: r.description,
      title: code('18748-4', `${r.kind} of the phantom`, 'LN'),
      content: contents[r.kind],
    });
    r.file = made.file;
  }
  // A second study with a SEG whose Number of Frames (40) disagrees with its 4 frames.
  broken = await writeCtSeries({ dir: join(dir, 'broken'), count: 2, rows: 64, cols: 64, patientId: 'PHANTOM-BROKEN' });
  const badSeg = await writeSegWithDcmjs(
    broken,
    join(dir, 'bad-seg.dcm'),
    [
      { label: 'A', inside: () => true },
      { label: 'B', inside: () => false },
    ],
    'Broken',
  );
  const modified = await runDcmtk('dcmodify', ['-nb', '-m', '(0028,0008)=40', badSeg]);
  expect(modified.code, modified.stderr).toBe(0);
  v = await startViewer({ dir, files: [...ct.files, ...broken.files] });
  page = v.page;
  await page.goto(`${v.base}/viewer?StudyInstanceUIDs=${ct.studyUid}`);
  await page.waitForSelector('#login-password', { timeout: 120_000 });
  await v.login();
  await waitReady();
  // storescu proposes no SEG by default: these go in by STOW-RS, as the files are.
  await stow([seg, rt, ...REPORTS.map((r) => r.file!), badSeg]);
  await page.reload();
  await waitReady();
}, 400_000);

afterAll(() => stopViewer(v));

/** Stores the files with STOW-RS in the page's session. */
async function stow(files: string[]): Promise<void> {
  const boundary = 'derived-test-boundary';
  const parts: Buffer[] = [];
  for (const f of files) parts.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), await readFile(f), Buffer.from('\r\n'));
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  const res = await fetch(`${v.base}/dicomweb/studies`, {
    method: 'POST',
    headers: {
      cookie: await v.sessionCookie(),
      'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
      accept: 'application/dicom+json',
    },
    body: Buffer.concat(parts),
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

const waitReady = () => page.waitForFunction(() => window.__viewer?.ready === true, null, { timeout: 180_000 });

/**
 * What a person sees around a point (mm, in the shown slice's plane) of viewport 0: the
 * image's canvas with the overlay canvas drawn on it, as the page composites them; the
 * pixels of a square of 2r+1 device pixels centred on it.
 */
function seen(x: number, y: number, r = 0): Promise<Rgb[]> {
  return page.evaluate(
    ({ x, y, r }) => {
      const cell = window.__viewer!.viewer.grid.cells[0];
      const vp = cell.viewport!;
      const z = vp.getCamera().focalPoint[2];
      const [cx, cy] = vp.worldToCanvas([x, y, z]);
      const image = cell.element.querySelector('canvas')!;
      const overlay = cell.root.querySelector('canvas.derived-overlay');
      const ratio = image.width / image.clientWidth;
      const out = document.createElement('canvas');
      out.width = image.width;
      out.height = image.height;
      const ctx = out.getContext('2d');
      ctx.drawImage(image, 0, 0);
      if (overlay && overlay.width) ctx.drawImage(overlay, 0, 0);
      const px = Math.round(cx * ratio);
      const py = Math.round(cy * ratio);
      const { data } = ctx.getImageData(px - r, py - r, 2 * r + 1, 2 * r + 1);
      const pixels: Array<[number, number, number]> = [];
      for (let i = 0; i < data.length; i += 4) pixels.push([data[i], data[i + 1], data[i + 2]]);
      return pixels;
    },
    { x, y, r },
  );
}

const near = (a: Rgb, b: Rgb, tolerance: number) => a.every((c, i) => Math.abs(c - b[i]) <= tolerance);
/** Half-opacity fill (128/255) of `colour` over `under`. */
const blend = (colour: Rgb, under: Rgb): Rgb => colour.map((c, i) => Math.round((c * 128 + under[i] * 127) / 255)) as Rgb;
const WATER: Rgb = [102, 102, 102]; // 0 HU at 40/400
const WHITE: Rgb = [255, 255, 255]; // bone, 1000 HU
const isRed = (p: Rgb) => p[0] > 200 && p[1] < 70 && p[2] < 70;
const toggle = (label: string) => page.click(`.derived-toggle[data-label="${label}"] input[type=checkbox]`);

describe('DICOM SEG (dcmjs) over its CT', { timeout: 300_000 }, () => {
  it('is listed with its segments, named and coloured, and the series panel shows it over the CT', async () => {
    const labels = await page.$$eval('.derived-seg .derived-toggle', (els) => els.map((e) => (e as unknown as { textContent: string }).textContent.trim()));
    expect(labels).toEqual(['Rod', 'Box']);
    const swatches = await page.$$eval('.derived-seg .swatch', (els) =>
      els.map((e) => (e as unknown as { getAttribute(n: string): string }).getAttribute('style')),
    );
    expect(swatches).toEqual(['background: rgb(0,255,0)', 'background: rgb(77,228,121)']);
    expect(await page.textContent('.derived-seg .derived-state')).toBe('SEG - over series 1');
  });

  it('fills the Rod segment green at half opacity over the white rod, the Box over water, and leaves unsegmented water grey', async () => {
    await expect.poll(async () => (await seen(ROD.x, ROD.y))[0], { timeout: 30_000 }).toSatisfy((p: Rgb) => near(p, blend([0, 255, 0], WHITE), 6));
    expect(near((await seen((BOX.x0 + BOX.x1) / 2, (BOX.y0 + BOX.y1) / 2))[0], blend([77, 228, 121], WATER), 6)).toBe(true);
    expect(near((await seen(0, 0))[0], WATER, 4)).toBe(true);
  });

  it('switching Rod off gives the rod its white back, the Box keeps its colour; on again, green again', async () => {
    await toggle('Rod');
    await expect.poll(async () => (await seen(ROD.x, ROD.y))[0], { timeout: 10_000 }).toSatisfy((p: Rgb) => near(p, WHITE, 4));
    expect(near((await seen((BOX.x0 + BOX.x1) / 2, (BOX.y0 + BOX.y1) / 2))[0], blend([77, 228, 121], WATER), 6)).toBe(true);
    await toggle('Rod');
    await expect.poll(async () => (await seen(ROD.x, ROD.y))[0], { timeout: 10_000 }).toSatisfy((p: Rgb) => near(p, blend([0, 255, 0], WHITE), 6));
  });
});

describe('RTSTRUCT (plastimatch) over its CT', { timeout: 300_000 }, () => {
  it('plastimatch put the contour on the mask’s edge', () => {
    // The mask holds pixel centres from y -88.86 to -72.46 (2.734 mm pixels): the outline is within a pixel of them.
    expect(squareTop).toBeGreaterThan(-72.5);
    expect(squareTop).toBeLessThan(-69.7);
    expect(squareBottom).toBeLessThan(-88.8);
    expect(squareBottom).toBeGreaterThan(-91.6);
    expect(squareLeft).toBeLessThan(-39.6);
    expect(squareLeft).toBeGreaterThan(-42.4);
  });

  it('outlines "Square" in its ROI Display Color (red) where the contour is, and nothing inside', async () => {
    const labels = await page.$$eval('.derived-rtstruct .derived-toggle', (els) =>
      els.map((e) => (e as unknown as { textContent: string }).textContent.trim()),
    );
    expect(labels).toEqual(['Square']);
    // plastimatch writes no Series Description: the item is titled by the Structure Set Label.
    expect(await page.textContent('.derived-rtstruct .series-title')).toBe('1 AutoSS');
    await expect.poll(async () => (await seen(0, squareTop, 2)).some(isRed), { timeout: 30_000 }).toBe(true);
    expect((await seen(0, squareBottom, 2)).some(isRed)).toBe(true);
    expect((await seen(squareLeft, (squareTop + squareBottom) / 2, 2)).some(isRed)).toBe(true);
    // Inside, 5 mm from the edges: water, not red.
    expect(near((await seen(0, (squareTop + squareBottom) / 2))[0], WATER, 4)).toBe(true);
    expect((await seen(0, squareTop + 5, 2)).some(isRed)).toBe(false);
  });

  it('switching Square off removes the outline', async () => {
    await toggle('Square');
    await expect.poll(async () => (await seen(0, squareTop, 2)).some(isRed), { timeout: 10_000 }).toBe(false);
    await toggle('Square');
    await expect.poll(async () => (await seen(0, squareTop, 2)).some(isRed), { timeout: 10_000 }).toBe(true);
  });
});

describe('structured reports (DCMTK xml2dsr) as text', { timeout: 300_000 }, () => {
  it('the files are valid SR documents by DCMTK’s own reader', async () => {
    for (const r of REPORTS) {
      const d = await runDcmtk('dsrdump', [r.file!]);
      expect(d.code, d.stderr).toBe(0);
      expect(d.stdout).toContain(`${r.kind} Document`);
    }
  });

  /** The report's lines as shown: title, flags, then "relationship type concept code value" per item, nested items indented by two spaces. */
  async function reportText(description: string): Promise<string[]> {
    await page.click(`.derived-sr .series-title:text-is("${REPORTS.findIndex((r) => r.description === description) + 900} ${description}")`);
    await page.waitForSelector('#sr-panel:not([hidden]) .sr-document');
    return page.$eval('#sr-panel', (panel) => {
      type El = {
        textContent: string;
        querySelector(s: string): El | null;
        querySelectorAll(s: string): ArrayLike<El>;
        closest(s: string): El | null;
        parentElement: El | null;
      };
      const p = panel as unknown as El;
      const lines = [p.querySelector('.sr-title')!.textContent, p.querySelector('.sr-flags')!.textContent];
      for (const line of Array.from(p.querySelectorAll('.sr-line'))) {
        let depth = 0;
        for (let e = line.parentElement; e; e = e.parentElement)
          if ((e as unknown as { classList: { contains(c: string): boolean } }).classList.contains('sr-children')) depth++;
        const parts = Array.from(line.querySelectorAll('span')).map((s) => s.textContent);
        lines.push('  '.repeat(depth) + parts.join(' | '));
      }
      return lines;
    });
  }

  it('Basic Text SR: title, flags, text and code items', async () => {
    expect(await reportText('Basic report')).toEqual([
      'Basic Text SR of the phantom',
      'Basic Text SR - COMPLETE - UNVERIFIED',
      'CONTAINS | TEXT | Finding | (121071, DCM) | No fracture.',
      'CONTAINS | CODE | Finding Site | (G-C0E3, SRT) | Femur (T-11500, SRT)',
    ]);
  });

  it('Enhanced SR: a number with its unit', async () => {
    expect(await reportText('Enhanced report')).toEqual([
      'Enhanced SR of the phantom',
      'Enhanced SR - COMPLETE - UNVERIFIED',
      'CONTAINS | NUM | Length | (G-D7FE, SRT) | 42.5 mm',
      'CONTAINS | TEXT | Impression | (121073, DCM) | Stable.',
    ]);
  });

  it('Comprehensive SR: a container with numbers and units nested under it', async () => {
    expect(await reportText('Comprehensive report')).toEqual([
      'Comprehensive SR of the phantom',
      'Comprehensive SR - COMPLETE - UNVERIFIED',
      'CONTAINS | CONTAINER | Findings | (121070, DCM)',
      '  CONTAINS | NUM | Diameter | (G-D785, SRT) | 14 mm',
      "  CONTAINS | NUM | Attenuation Coefficient | (112031, DCM) | 1000 [hnsf'U]",
    ]);
    await page.click('#sr-panel .sr-close');
    expect(await page.isHidden('#sr-panel')).toBe(true);
  });
});

describe('a malformed SEG', { timeout: 300_000 }, () => {
  it('is named over the study’s image and in the panel, and the image is still shown', async () => {
    await page.goto(`${v.base}/viewer?StudyInstanceUIDs=${broken.studyUid}`);
    await waitReady();
    const message = 'Cannot show segmentation "Broken": 4 per-frame functional group items for 40 frames';
    await expect.poll(() => page.textContent('.viewport-cell[data-index="0"] .derived-problem'), { timeout: 30_000 }).toBe(message);
    expect(await page.textContent('.derived-seg .derived-error')).toBe(message);
    await expect.poll(async () => (await v.canvasStats(0)).nonBlack, { timeout: 30_000 }).toBeGreaterThan(0.05);
  });
});
