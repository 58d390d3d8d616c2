/**
 * OHIF v3 (the built @ohif/app, unchanged) against our /dicomweb, in headless chromium
 * with software WebGL: OHIF is served from its own origin by a small static server with
 * our own app-config.js, whose DICOMweb data sources point at `pacs serve` (set up as a
 * deployment would: CORS for OHIF's origin, reads without a login). The study list shows
 * a stored synthetic CT study with its patient, date, modality and instance count; the
 * viewer renders it (canvas pixels: water grey, bone white, air black at the file's
 * window) and lists its series with the instance count, three times: with our recommended
 * data source (WADO-RS, quoted Accept parameters), with the options of OHIF's packaged
 * app-config.js (staticWado, server thumbnails, unquoted Accept) and with WADO-URI images.
 * Every request OHIF makes to /dicomweb is recorded and logged once; any 4xx/5xx fails.
 *
 * OHIF's dist is unpacked by `bash scripts/setup-test-deps.sh` into .cache/ohif-<version>.
 */
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance } from 'fastify';
import { createReadStream, existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCtSeries, type CtSeriesResult } from '../../scripts/gen-test-data.js';
import { freePort, REPO_ROOT, runDcmtk, startPacsServe, stopAllPeers, storescu } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { launchChromiumWithWebGL } from './browser.js';
import { canvasStatsOf, type CanvasStats } from './canvas-stats.js';
import { ohifDataSource } from '../support/ohif-config.js';

const OHIF_VERSION = '3.13.2';
const OHIF_DIR = join(REPO_ROOT, `.cache/ohif-${OHIF_VERSION}`);
const PASSWORD = 'e2e-password';
const PATIENT = 'OHIF^PHANTOM';
const SLICES = 24;

// DOM shapes read in the page (the test's tsconfig has no DOM library).
interface CanvasLike {
  width: number;
  height: number;
  getContext(type: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
}
declare const document: { querySelectorAll(selector: string): ArrayLike<CanvasLike> };

/** The options of OHIF's packaged app-config.js (made for its static demo server), as a deployer who only changes the URLs gets them. */
const PACKAGED_OPTIONS = {
  omitQuotationForMultipartRequest: true,
  qidoSupportsIncludeField: false,
  thumbnailRendering: 'thumbnail',
  thumbnailRequestStrategy: 'fetch',
  staticWado: true,
  singlepart: 'bulkdata,video',
};

interface Seen {
  method: string;
  url: string;
  status: number; // 0: failed without a response
  accept?: string;
  error?: string;
}

let browser: Browser;
let page: Page;
let ohif: FastifyInstance;
let ohifUrl: string;
let dicomweb: string;
let ct: CtSeriesResult;
const requests: Seen[] = [];
const consoleErrors: string[] = [];

/** OHIF's built app from its own origin: our app-config.js, index.html for the SPA's routes. */
async function serveOhif(appConfigFile: string, port: number): Promise<FastifyInstance> {
  const app = Fastify();
  app.get('/app-config.js', (_req, reply) => reply.type('text/javascript').send(createReadStream(appConfigFile)));
  await app.register(fastifyStatic, { root: OHIF_DIR });
  app.setNotFoundHandler((req, reply) => {
    if (req.method !== 'GET') return reply.code(404).send();
    return reply.type('text/html').sendFile('index.html', OHIF_DIR);
  });
  await app.listen({ host: '127.0.0.1', port });
  return app;
}

beforeAll(async () => {
  if (!existsSync(join(OHIF_DIR, 'index.html'))) {
    throw new Error(`OHIF v3's built app is missing at ${OHIF_DIR}: run \`bash scripts/setup-test-deps.sh\` (it unpacks @ohif/app@${OHIF_VERSION})`);
  }
  const dir = await makeTempDir('pacs-ohif-e2e-');
  ct = await writeCtSeries({
    dir: join(dir, 'ct'),
    count: SLICES,
    rows: 256,
    cols: 256,
    patientName: PATIENT,
    patientId: 'OHIF-1',
    studyDescription: 'OHIF phantom',
    seriesDescription: 'OHIF axial',
  });
  const ohifPort = await freePort();
  const { pacs, base } = await startPacsServe(join(dir, 'pacs'), PASSWORD);
  const stored = await storescu({ port: pacs.port, calledAet: pacs.aet, files: ct.files });
  expect(stored.code, stored.stderr).toBe(0);
  ohifUrl = `http://127.0.0.1:${ohifPort}`;
  dicomweb = `${base}/dicomweb`;
  // What a deployment with OHIF on its own origin sets: CORS for OHIF's origin, reads without a login.
  const patch = await fetch(`${base}/api/config/web`, {
    method: 'PATCH',
    headers: { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ dicomweb: { openRead: true, corsOrigins: [ohifUrl] } }),
  });
  expect(patch.status, await patch.text()).toBe(200);

  const config = {
    routerBasename: '/',
    extensions: [],
    modes: [],
    showStudyList: true,
    maxNumberOfWebWorkers: 1,
    showWarningMessageForCrossOrigin: false,
    showCPUFallbackMessage: false,
    showLoadingIndicator: true,
    defaultDataSourceName: 'pacs',
    dataSources: [
      ohifDataSource('pacs', dicomweb),
      ohifDataSource('packaged', dicomweb, PACKAGED_OPTIONS),
      ohifDataSource('wadouri', dicomweb, { imageRendering: 'wadouri' }),
    ],
  };
  const appConfigFile = join(dir, 'app-config.js');
  await writeFile(appConfigFile, `window.config = ${JSON.stringify(config, null, 2)};\n`);
  ohif = await serveOhif(appConfigFile, ohifPort);

  browser = await launchChromiumWithWebGL();
}, 180_000);

/** A new tab (no state left from the previous test) whose console errors and /dicomweb traffic are recorded. */
async function newPage(): Promise<void> {
  await page?.close();
  page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  page.setDefaultNavigationTimeout(120_000);
  page.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('response', (r) => {
    const req = r.request();
    if (r.url().startsWith(dicomweb))
      requests.push({ method: req.method(), url: r.url().slice(dicomweb.length), status: r.status(), accept: req.headers().accept });
    else if (r.status() >= 400) consoleErrors.push(`HTTP ${r.status()} ${r.url()}`);
  });
  page.on('requestfailed', (r) => {
    if (r.url().startsWith(dicomweb))
      requests.push({ method: r.method(), url: r.url().slice(dicomweb.length), status: 0, accept: r.headers().accept, error: r.failure()?.errorText });
  });
}

afterAll(async () => {
  // Once, for later debugging: every /dicomweb request (UIDs shortened), with how often it was made.
  const counts = new Map<string, number>();
  for (const r of requests) {
    const url = r.url
      .replaceAll(ct.studyUid, '{study}')
      .replaceAll(ct.seriesUid, '{series}')
      .replace(/(\/instances\/|objectUID=)[0-9.]+/, '$1{sop}');
    const line = `${r.status} ${r.method} ${url}  [Accept: ${r.accept ?? '-'}]${r.error ? ` ${r.error}` : ''}`;
    counts.set(line, (counts.get(line) ?? 0) + 1);
  }
  console.log(`OHIF's requests to /dicomweb (${requests.length}):\n${[...counts].map(([line, n]) => `  ${n} x ${line}`).join('\n')}`);
  if (consoleErrors.length) console.log(`browser console errors:\n  ${consoleErrors.join('\n  ')}`);
  await browser?.close();
  await ohif?.close();
  await stopAllPeers();
  await removeTempDirs();
});

/** Pixel statistics of the largest canvas in the page (grey = mean of R, G, B), or undefined without one. */
async function canvasStats(): Promise<CanvasStats | undefined> {
  const largest = await page.evaluateHandle(() => {
    const canvases = Array.from(document.querySelectorAll('canvas.cornerstone-canvas'));
    return canvases.sort((a, b) => b.width * b.height - a.width * a.height)[0];
  });
  return canvasStatsOf(largest);
}

/** Grey levels (mean of R, G, B) of the viewport canvas at its centre, and its min/max/spread. */
function centreAndRange(): Promise<{ centre: number; min: number; max: number } | undefined> {
  return page.evaluate(() => {
    const canvas = Array.from(document.querySelectorAll('canvas.cornerstone-canvas'))[0];
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx) return undefined;
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    const grey = (p: number) => (data[p] + data[p + 1] + data[p + 2]) / 3;
    let min = 255;
    let max = 0;
    for (let p = 0; p < data.length; p += 4) {
      min = Math.min(min, grey(p));
      max = Math.max(max, grey(p));
    }
    const c = (Math.floor(canvas.height / 2) * canvas.width + Math.floor(canvas.width / 2)) * 4;
    return { centre: grey(c), min, max };
  });
}

/** A DICOM attribute of a file, as dcmdump prints its value. */
async function dumpValue(file: string, tag: string): Promise<string> {
  const r = await runDcmtk('dcmdump', ['+P', tag, file]);
  expect(r.code, r.stderr).toBe(0);
  return /\[([^\]]*)\]/.exec(r.stdout)![1];
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * Opens the study in OHIF's viewer (mode `viewer`, data source `source`) and waits for a rendered
 * image; returns the time from navigation to the first non-blank canvas.
 */
async function openInViewer(source: string): Promise<number> {
  await newPage();
  const started = performance.now();
  await page.goto(`${ohifUrl}/viewer/${source}?StudyInstanceUIDs=${ct.studyUid}`, { waitUntil: 'commit' });
  await expect.poll(async () => (await canvasStats())?.nonBlack ?? 0, { timeout: 150_000, interval: 250 }).toBeGreaterThan(0.1);
  return performance.now() - started;
}

/** What is wrong with the rendered CT slice (empty when it shows the phantom at the file's window, 40/400). */
async function phantomProblems(): Promise<string[]> {
  const stats = await canvasStats();
  const r = await centreAndRange();
  if (!stats || !r) return ['no viewport canvas'];
  const problems: string[] = [];
  if (stats.std <= 10) problems.push(`uniform canvas (std ${stats.std.toFixed(1)})`);
  // Water (0 HU) in a 40/400 window: ((0 - 39.5) / 399 + 0.5) * 255 = 102.
  if (r.centre <= 80 || r.centre >= 125) problems.push(`centre (water) grey ${r.centre.toFixed(0)}, expected about 102`);
  if (r.max <= 240) problems.push(`brightest ${r.max.toFixed(0)}: no bone rod (1000 HU) at white`);
  if (r.min >= 10) problems.push(`darkest ${r.min.toFixed(0)}: no air at black`);
  return problems;
}

/** The rendered CT slice shows the phantom (polled: OHIF may redraw the viewport after its first image). */
async function expectPhantomRendered(): Promise<void> {
  await expect.poll(phantomProblems, { timeout: 60_000, interval: 500 }).toEqual([]);
}

/** OHIF's series panel lists the one series with its description, number and instance count, with a thumbnail. */
async function expectSeriesPanel(): Promise<void> {
  const thumb = page.locator('[data-cy="study-browser-thumbnail"]');
  await expect.poll(() => thumb.count(), { timeout: 60_000 }).toBe(1);
  expect(await thumb.locator('[data-cy="series-description-label"]').textContent()).toBe('OHIF axial');
  expect(await thumb.locator('[data-cy="series-modality-label"]').textContent()).toBe('CT');
  const text = (await thumb.textContent()) ?? '';
  expect(text).toMatch(/S:\s*1(?!\d)/); // series number
  expect(text).toMatch(new RegExp(`(?<!\\d)${SLICES}$`)); // instance count
  const width = () => thumb.locator('img').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth);
  await expect.poll(width, { timeout: 60_000 }).toBeGreaterThan(0);
}

/** What every data source must give: the study opened, the phantom rendered, the series listed (the first-image time is logged). */
async function expectStudyShown(dataSource: string): Promise<void> {
  const ms = await openInViewer(dataSource);
  console.log(`OHIF (data source '${dataSource}'): first image ${Math.round(ms)} ms after navigation`);
  await expectPhantomRendered();
  await expectSeriesPanel();
}

describe('OHIF v3 against /dicomweb', () => {
  it('lists the stored study in the study list', async () => {
    await newPage();
    await page.goto(`${ohifUrl}/`, { waitUntil: 'commit' });
    const row = page.locator('tbody tr', { hasText: 'OHIF, PHANTOM' });
    await row.waitFor({ timeout: 90_000 });
    const cells = (await row.locator('td').allTextContents()).map((t) => t.trim());
    const date = await dumpValue(ct.files[0], '0008,0020');
    const shownDate = `${date.slice(6, 8)}-${MONTHS[Number(date.slice(4, 6)) - 1]}-${date.slice(0, 4)}`;
    expect(cells.slice(0, 7)).toEqual([
      'OHIF, PHANTOM',
      'OHIF-1',
      expect.stringMatching(new RegExp(`^${shownDate}`)),
      'CT',
      'OHIF phantom',
      await dumpValue(ct.files[0], '0008,0050'),
      String(SLICES),
    ]);
    expect(await row.count()).toBe(1);
  }, 120_000);

  it('renders the CT in a Cornerstone viewport and lists its series', async () => {
    await expectStudyShown('pacs');
    // The stack holds every instance, at the first image.
    expect(await page.locator('[data-cy="viewport-overlay-bottom-right"]').textContent()).toMatch(new RegExp(`\\(1/${SLICES}\\)`));
  }, 240_000);

  it("does the same with the options of OHIF's packaged app-config.js", async () => {
    await expectStudyShown('packaged');
  }, 240_000);

  it('does the same with WADO-URI images (imageRendering: wadouri)', async () => {
    await expectStudyShown('wadouri');
    expect(requests.some((r) => r.url.startsWith('/wado?'))).toBe(true);
  }, 240_000);

  it('got no error from /dicomweb', () => {
    const failed = requests.filter((r) => r.status >= 400 || (r.status === 0 && r.error !== 'net::ERR_ABORTED'));
    expect(failed).toEqual([]);
    expect(requests.some((r) => r.url.includes('/frames/'))).toBe(true);
  });
});
