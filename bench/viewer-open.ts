// Viewer load time, side by side with OHIF: a --count slice CT (512x512, default 300)
// stored in `pacs serve`, opened in headless chromium (software WebGL) by our viewer
// (/viewer?StudyInstanceUIDs=...) and by OHIF 3.13's prebuilt app (served from its own
// origin, its data source our /dicomweb: the set-up of test/e2e/ohif.test.ts), in the
// same run, against the same server and browser.
//
// Both are measured by the same harness in the page (an init script), from the start of
// the navigation: the first image is the first CORNERSTONE_IMAGE_RENDERED event whose
// canvas shows the phantom (over 5 % non-black pixels), or our viewer's preview when it
// comes first (the same image on a plain canvas before Cornerstone has loaded, its own
// event, the same test; both times are reported); the whole stack, two ways: (a) ARRIVED,
// the moment the last of the --count frames has arrived in the browser (resource timing:
// OHIF's frame requests; ours, once its stack is cached, the end of its last frame request
// or the last frame its Pixel Data batches delivered to the page, whose requests are
// counted too), and (b) CACHED, ours only: every frame decoded into Cornerstone's cache
// (the viewer's own timeline, stackCached). With the script bytes that had arrived by the
// first image. Our viewer's own timeline (scripts loaded, logged in, Cornerstone ready,
// metadata, early requests, stack cached) is reported too.
//
// cold: a new browser profile for each run (empty HTTP cache). warm: one profile per
// viewer, primed by opening another study, then relaunched (a fresh browser process) for
// each run: scripts in the HTTP cache (and V8's code cache), a study it has never shown.
//
//   npx tsx bench/viewer-open.ts [--count 300] [--repeat 3] [--no-ohif]
// Results: a table on stdout and JSON in bench/results/viewer-open-<timestamp>.json.
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance } from 'fastify';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import { writeCtSeries, type CtSeriesResult } from '../scripts/gen-test-data.js';
import { launchPersistentChromiumWithWebGL } from '../test/e2e/browser.js';
import { freePort, REPO_ROOT, startPacsServe, storescu } from '../test/support/peers.js';
import { makeTempDir } from '../test/support/tmp.js';
import { runBench } from './run-bench.js';
import { ohifDataSource } from '../test/support/ohif-config.js';
import { cpuMs } from './cpu.js';

const { values } = parseArgs({
  options: { count: { type: 'string', default: '300' }, repeat: { type: 'string', default: '3' }, 'no-ohif': { type: 'boolean', default: false } },
});
const COUNT = Number(values.count);
const REPEAT = Number(values.repeat);
const WITH_OHIF = !values['no-ohif'];
const PASSWORD = 'bench-password';
const OHIF_DIR = path.join(REPO_ROOT, '.cache/ohif-3.13.2');
const VIEWPORT = { width: 1280, height: 900 };

type ViewerName = 'open-pacs' | 'ohif';
type CacheState = 'cold' | 'warm';

interface Run {
  viewer: ViewerName;
  cache: CacheState;
  /** The first image seen: the preview or Cornerstone's render, the earlier. */
  firstImageMs: number;
  /** Our viewer's preview, before Cornerstone (none: not drawn). */
  previewMs?: number;
  /** Cornerstone's first render of the image. */
  cornerstoneMs: number;
  /** (a) The last frame arrived in the browser. */
  stackMs: number;
  /** (b) Every frame in Cornerstone's cache (our viewer's own timeline; none for OHIF). */
  stackCachedMs?: number;
  /** Requests for pixels (frames or Pixel Data batches). */
  pixelRequests: number;
  /** Script bytes (decoded) that had arrived by the first image: what the page could have parsed before it. */
  scriptBytes: number;
  /** Our viewer's own timeline (performance.now() of the page). */
  own?: Record<string, number>;
  /** The server's CPU time (ms) from the navigation to the stack cached. */
  serverCpuMs: number;
  /** Our viewer's stack loading: each Pixel Data batch's start, headers and end (ms after the stack's start), frames and MB. */
  stack?: {
    batches: { frames: number; start: number; headers?: number; end?: number; mb: number }[];
    lastArrived?: number;
    lastCached?: number;
  };
}

/** ui/src/viewer/loader.ts StackTimeline, as the page holds it. */
interface StackTimeline {
  start?: number;
  batches?: { frames: number; start: number; headers?: number; end?: number; bytes: number }[];
  lastArrived?: number;
  lastCached?: number;
}

/** The timeline in ms after the stack's start, bytes in MB. */
function relativeTimeline(st: StackTimeline): NonNullable<Run['stack']> {
  const rel = (t: number | undefined) => (t === undefined || st.start === undefined ? undefined : Math.round(t - st.start));
  return {
    batches: (st.batches ?? []).map((b) => ({
      frames: b.frames,
      start: rel(b.start)!,
      headers: rel(b.headers),
      end: rel(b.end),
      mb: Math.round(b.bytes / 1e5) / 10,
    })),
    lastArrived: rel(st.lastArrived),
    lastCached: rel(st.lastCached),
  };
}

interface BenchWindow {
  __bench: { firstImage?: number; preview?: number; cornerstone?: number };
  __viewer?: { viewer: { timings: Record<string, unknown> & { stack?: StackTimeline } } };
}
declare const window: BenchWindow;
declare const performance: {
  now(): number;
  setResourceTimingBufferSize(n: number): void;
  getEntriesByType(t: string): Array<{ name: string; responseEnd: number; decodedBodySize: number; initiatorType: string }>;
};

/**
 * The harness, run in every page before its scripts: the first rendered Cornerstone canvas
 * that shows more than 5 % non-black pixels (events in capture phase: Cornerstone's do not
 * bubble), and the same test of our viewer's preview (the first image on a plain canvas
 * before Cornerstone has loaded, ui/src/viewer/preview.ts). The first image is the earlier.
 */
const HARNESS = `(() => {
  performance.setResourceTimingBufferSize(100000);
  window.__bench = {};
  const lit = (el) => {
    const canvas = el && el.querySelector ? el.querySelector('canvas') : null;
    const ctx = canvas && canvas.width ? canvas.getContext('2d') : null;
    if (!ctx) return false;
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    let on = 0, n = 0;
    for (let p = 0; p < data.length; p += 4 * 7) { n++; if (data[p] + data[p + 1] + data[p + 2] > 30) on++; }
    return on / n > 0.05;
  };
  const seen = (key) => (e) => {
    if (window.__bench[key] !== undefined) return;
    const at = performance.now();
    if (!lit(e.target)) return;
    window.__bench[key] = at;
    if (window.__bench.firstImage === undefined) window.__bench.firstImage = at;
  };
  window.addEventListener('CORNERSTONE_IMAGE_RENDERED', seen('cornerstone'), true);
  window.addEventListener('viewer-preview-rendered', seen('preview'), true);
})();`;

/** OHIF's built app from its own origin with our app-config.js; index.html for its routes. */
async function serveOhif(appConfig: string, port: number): Promise<FastifyInstance> {
  const app = Fastify();
  app.get('/app-config.js', (_req, reply) => reply.type('text/javascript').send(appConfig));
  await app.register(fastifyStatic, { root: OHIF_DIR });
  app.setNotFoundHandler((req, reply) => (req.method === 'GET' ? reply.type('text/html').sendFile('index.html', OHIF_DIR) : reply.code(404).send()));
  await app.listen({ host: '127.0.0.1', port });
  return app;
}

function ohifConfig(dicomweb: string): string {
  const config = {
    routerBasename: '/',
    extensions: [],
    modes: [],
    showStudyList: true,
    maxNumberOfWebWorkers: 3,
    showWarningMessageForCrossOrigin: false,
    showCPUFallbackMessage: false,
    showLoadingIndicator: true,
    // Load the whole series after the first image, as our viewer does.
    studyPrefetcher: { enabled: true, displaySetsCount: 1, maxNumPrefetchRequests: 10, order: 'closest' },
    defaultDataSourceName: 'pacs',
    dataSources: [ohifDataSource('pacs', dicomweb)],
  };
  return `window.config = ${JSON.stringify(config, null, 2)};\n`;
}

async function main(): Promise<void> {
  if (WITH_OHIF && !fs.existsSync(path.join(OHIF_DIR, 'index.html')))
    throw new Error(`OHIF's built app is missing at ${OHIF_DIR}: run \`bash scripts/setup-test-deps.sh\``);
  const dir = await makeTempDir('pacs-bench-viewer-');
  await build({ root: path.join(REPO_ROOT, 'ui'), logLevel: 'warn' });
  const { pacs, base } = await startPacsServe(path.join(dir, 'pacs'), PASSWORD);
  // Study 0 for the cold runs and to prime the warm profiles; one more per warm run.
  const studies: CtSeriesResult[] = [];
  for (let i = 0; i <= REPEAT; i++) {
    const ct = await writeCtSeries({ dir: path.join(dir, `ct${i}`), count: COUNT, rows: 512, cols: 512 });
    const stored = await storescu({ port: pacs.port, calledAet: pacs.aet, files: ct.files });
    if (stored.code !== 0) throw new Error(`storescu failed: ${stored.stderr}`);
    await fs.promises.rm(path.join(dir, `ct${i}`), { recursive: true, force: true });
    studies.push(ct);
  }
  let ohif: FastifyInstance | undefined;
  let ohifUrl = '';
  if (WITH_OHIF) {
    const port = await freePort();
    ohifUrl = `http://127.0.0.1:${port}`;
    // As a deployment with OHIF on its own origin: CORS for it, DICOMweb reads without a login.
    const patch = await fetch(`${base}/api/config/web`, {
      method: 'PATCH',
      headers: { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ dicomweb: { openRead: true, corsOrigins: [ohifUrl] } }),
    });
    if (patch.status !== 200) throw new Error(`PATCH /api/config/web: ${patch.status} ${await patch.text()}`);
    ohif = await serveOhif(ohifConfig(`${base}/dicomweb`), port);
  }

  const urlOf = (viewer: ViewerName, ct: CtSeriesResult) =>
    viewer === 'ohif' ? `${ohifUrl}/viewer/pacs?StudyInstanceUIDs=${ct.studyUid}` : `${base}/viewer?StudyInstanceUIDs=${ct.studyUid}`;

  /** A browser on `profile` (launched afresh), logged in to our server. */
  const launch = async (profile: string): Promise<BrowserContext> => {
    const context = await launchPersistentChromiumWithWebGL(profile, VIEWPORT);
    await context.addInitScript(HARNESS);
    const login = await context.request.post(`${base}/api/login`, { data: { user: 'admin', password: PASSWORD } });
    if (!login.ok()) throw new Error(`login failed: ${login.status()}`);
    return context;
  };

  /** Opens a study and waits for the first image and the whole stack. */
  const measure = async (context: BrowserContext, viewer: ViewerName, cache: CacheState, ct: CtSeriesResult): Promise<Run> => {
    const page: Page = context.pages()[0] ?? (await context.newPage());
    const cpu0 = cpuMs(pacs.pid);
    await page.goto(urlOf(viewer, ct), { waitUntil: 'commit', timeout: 120_000 });
    await page.waitForFunction(() => window.__bench?.cornerstone !== undefined, null, { timeout: 600_000, polling: 100 });
    // OHIF asks for each frame; ours asks for batches (…/pixeldata) and says when its stack is cached.
    if (viewer === 'ohif')
      await page.waitForFunction(
        ({ study, count }) =>
          new Set(
            performance
              .getEntriesByType('resource')
              .filter((e) => e.name.includes(study) && e.name.includes('/frames/'))
              .map((e) => e.name),
          ).size >= count,
        { study: ct.studyUid, count: COUNT },
        { timeout: 600_000, polling: 200 },
      );
    // Our viewer also reports when the stack is decoded into Cornerstone's cache.
    await page.waitForFunction(() => !window.__viewer || Object.keys(window.__viewer.viewer.timings.stackCached ?? {}).length > 0, null, {
      timeout: 600_000,
      polling: 100,
    });
    const t = await page.evaluate((study) => {
      const pixels = performance.getEntriesByType('resource').filter((e) => e.name.includes(study) && /\/frames\/|\/pixeldata/.test(e.name));
      const own = window.__viewer?.viewer.timings;
      const scripts = performance
        .getEntriesByType('resource')
        .filter(
          (e) => (e.initiatorType === 'script' || e.initiatorType === 'link' || /\.m?js(\?|$)/.test(e.name)) && e.responseEnd <= window.__bench.firstImage!,
        );
      return {
        stack: own?.stack ? (JSON.parse(JSON.stringify(own.stack)) as StackTimeline) : undefined,
        scriptBytes: scripts.reduce((n, e) => n + e.decodedBodySize, 0),
        first: window.__bench.firstImage!,
        preview: window.__bench.preview,
        cornerstone: window.__bench.cornerstone!,
        // The batches are fetched by a worker (not in the page's resource timing): their end is the viewer's own last arrival.
        stackEnd: Math.max(...pixels.map((e) => e.responseEnd), own?.stack?.lastArrived ?? 0),
        stackCached: own?.stackCached ? Object.values(own.stackCached as Record<string, number>)[0] : undefined,
        requests: pixels.length + (pixels.some((e) => e.name.includes('/pixeldata')) ? 0 : (own?.stack?.batches?.length ?? 0)),
        own: own ? (JSON.parse(JSON.stringify(own)) as Record<string, unknown>) : undefined,
      };
    }, ct.studyUid);
    const run: Run = {
      viewer,
      cache,
      firstImageMs: Math.round(t.first),
      ...(t.preview !== undefined ? { previewMs: Math.round(t.preview) } : {}),
      cornerstoneMs: Math.round(t.cornerstone),
      stackMs: Math.round(t.stackEnd),
      ...(t.stackCached !== undefined ? { stackCachedMs: Math.round(t.stackCached) } : {}),
      pixelRequests: t.requests,
      serverCpuMs: Math.round(cpuMs(pacs.pid) - cpu0),
      scriptBytes: t.scriptBytes,
      ...(t.stack ? { stack: relativeTimeline(t.stack) } : {}),
    };
    if (t.own) {
      run.own = {};
      for (const [k, v] of Object.entries(t.own)) {
        if (typeof v === 'number') run.own[k] = Math.round(v);
        else if (k === 'stackCached' && v && typeof v === 'object') run.own.stackCached = Math.round(Object.values(v as Record<string, number>)[0] ?? NaN);
        else if (k === 'early' && v && typeof v === 'object')
          for (const [e, t] of Object.entries(v as Record<string, number>)) run.own[`early.${e}`] = Math.round(t);
      }
    }
    console.log(
      `${viewer} ${cache}: first image ${run.firstImageMs} ms (preview ${run.previewMs ?? '-'}, Cornerstone ${run.cornerstoneMs}; ${(run.scriptBytes / 1e6).toFixed(2)} MB of script by then), ${COUNT} frames arrived ${run.stackMs} ms in ${run.pixelRequests} requests, cached ${run.stackCachedMs ?? '-'} ms, server CPU ${run.serverCpuMs} ms, load ${os.loadavg()[0].toFixed(1)}${run.own ? ` (own: ${JSON.stringify(run.own)})` : ''}`,
    );
    if (run.stack) {
      const b = run.stack.batches;
      console.log(
        `  stack timeline (ms after its start): ${b.map((x) => `[${x.frames} fr ${x.mb} MB: ${x.start}/${x.headers ?? '-'}/${x.end ?? '-'}]`).join(' ')}; last frame arrived ${run.stack.lastArrived}, last cached ${run.stack.lastCached}`,
      );
    }
    return run;
  };

  const viewers: ViewerName[] = WITH_OHIF ? ['open-pacs', 'ohif'] : ['open-pacs'];
  const runs: Run[] = [];
  try {
    for (const viewer of viewers) {
      const warmProfile = path.join(dir, `profile-${viewer}-warm`);
      for (let r = 0; r < REPEAT; r++) {
        // Cold: a profile of its own (the first one becomes the warm profile).
        const profile = r === 0 ? warmProfile : path.join(dir, `profile-${viewer}-cold-${r}`);
        const context = await launch(profile);
        try {
          runs.push(await measure(context, viewer, 'cold', studies[0]));
        } finally {
          await context.close();
        }
      }
      for (let r = 0; r < REPEAT; r++) {
        const context = await launch(warmProfile);
        try {
          runs.push(await measure(context, viewer, 'warm', studies[1 + r]));
        } finally {
          await context.close();
        }
      }
    }
  } finally {
    await ohif?.close();
  }

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const table = viewers.flatMap((viewer) =>
    (['cold', 'warm'] as const).map((cache) => {
      const rs = runs.filter((r) => r.viewer === viewer && r.cache === cache);
      return {
        viewer,
        cache,
        'first image ms (median)': median(rs.map((r) => r.firstImageMs)),
        [`${COUNT} arrived ms (median)`]: median(rs.map((r) => r.stackMs)),
        [`${COUNT} cached ms (median)`]: rs.some((r) => r.stackCachedMs === undefined) ? '-' : median(rs.map((r) => r.stackCachedMs!)),
        'first image ms (runs)': rs.map((r) => r.firstImageMs).join(' '),
        'preview ms (runs)': rs.map((r) => r.previewMs ?? '-').join(' '),
        'Cornerstone ms (runs)': rs.map((r) => r.cornerstoneMs).join(' '),
        'script MB by first image': (median(rs.map((r) => r.scriptBytes)) / 1e6).toFixed(2),
        [`${COUNT} arrived ms (runs)`]: rs.map((r) => r.stackMs).join(' '),
        [`${COUNT} cached ms (runs)`]: rs.map((r) => r.stackCachedMs ?? '-').join(' '),
      };
    }),
  );
  console.table(table);
  const result = { date: new Date().toISOString(), loadAverage: os.loadavg(), slices: COUNT, matrix: '512x512', repeat: REPEAT, table, runs };
  const out = path.join(REPO_ROOT, 'bench/results');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, `viewer-open-${Date.now()}.json`), JSON.stringify(result, null, 2));
}

runBench(main);
