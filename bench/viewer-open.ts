// Viewer load time: a --count slice CT (512x512, default 300) stored in `pacs serve`, then
// opened in headless chromium (software WebGL) at /viewer?StudyInstanceUIDs=...; the times
// from the start of the navigation to the first image displayed and to the whole stack in
// Cornerstone's cache (the viewer's own timings, performance.now() of the page), --repeat
// times (a fresh page each time: browser cache warm for the script, not for the images).
//
//   npx tsx bench/viewer-open.ts [--count 300] [--repeat 3]
// Results: a table on stdout and JSON in bench/results/viewer-open-<timestamp>.json.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'vite';
import { writeCtSeries } from '../scripts/gen-test-data.js';
import { launchChromiumWithWebGL } from '../test/e2e/browser.js';
import { REPO_ROOT, startPacsServe, storescu } from '../test/support/peers.js';
import { makeTempDir } from '../test/support/tmp.js';
import { runBench } from './run-bench.js';

const { values } = parseArgs({ options: { count: { type: 'string', default: '300' }, repeat: { type: 'string', default: '3' } } });
const COUNT = Number(values.count);
const REPEAT = Number(values.repeat);

interface Hook {
  ready: boolean;
  viewer: { timings: { scriptsLoaded?: number; loggedIn?: number; cornerstoneReady?: number; open?: number; seriesListed?: number; metadata?: number; firstImage?: number; stackCached?: Record<string, number> } };
}
declare const window: { __viewer?: Hook };

async function main(): Promise<void> {
  const dir = await makeTempDir('pacs-bench-viewer-');
  await build({ root: path.join(REPO_ROOT, 'ui'), logLevel: 'warn' });
  const ct = await writeCtSeries({ dir: path.join(dir, 'ct'), count: COUNT, rows: 512, cols: 512 });
  const { pacs, base } = await startPacsServe(path.join(dir, 'pacs'), 'bench-password');
  const stored = await storescu({ port: pacs.port, calledAet: pacs.aet, files: ct.files });
  if (stored.code !== 0) throw new Error(`storescu failed: ${stored.stderr}`);
  const browser = await launchChromiumWithWebGL();
  const runs: Array<{ scriptsMs: number; loggedInMs: number; cornerstoneMs: number; openMs: number; seriesMs: number; metadataMs: number; firstImageMs: number; stackCachedMs: number }> = [];
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const login = await context.request.post(`${base}/api/login`, { data: { user: 'admin', password: 'bench-password' } });
    if (!login.ok()) throw new Error(`login failed: ${login.status()}`);
    for (let r = 0; r < REPEAT; r++) {
      const page = await context.newPage();
      // The times are the page's own (from navigation start): wait for nothing but the response here,
      // the page's load event can take longer than playwright's 30 s on a loaded machine.
      await page.goto(`${base}/viewer?StudyInstanceUIDs=${ct.studyUid}`, { waitUntil: 'commit', timeout: 120_000 });
      await page.waitForFunction((uid) => window.__viewer?.viewer.timings.stackCached?.[uid] !== undefined, ct.seriesUid, { timeout: 600_000, polling: 50 });
      const t = await page.evaluate((uid) => {
        const v = window.__viewer!.viewer.timings;
        return { scripts: v.scriptsLoaded!, loggedIn: v.loggedIn!, cornerstone: v.cornerstoneReady!, open: v.open!, series: v.seriesListed!, metadata: v.metadata!, first: v.firstImage!, cached: v.stackCached![uid] };
      }, ct.seriesUid);
      const run = { scriptsMs: t.scripts, loggedInMs: t.loggedIn, cornerstoneMs: t.cornerstone, openMs: t.open, seriesMs: t.series, metadataMs: t.metadata, firstImageMs: t.first, stackCachedMs: t.cached };
      for (const k of Object.keys(run) as (keyof typeof run)[]) run[k] = Math.round(run[k]);
      runs.push(run);
      console.log(`run ${r + 1}: first image ${run.firstImageMs} ms, ${COUNT} slices cached ${run.stackCachedMs} ms`);
      if (r === 0) await page.screenshot({ path: path.join(dir, 'viewer.png') });
      await page.close();
    }
  } finally {
    await browser.close();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const result = {
    date: new Date().toISOString(),
    loadAverage: (await import('node:os')).loadavg(),
    slices: COUNT,
    matrix: '512x512',
    runs,
    medianFirstImageMs: median(runs.map((r) => r.firstImageMs)),
    medianStackCachedMs: median(runs.map((r) => r.stackCachedMs)),
  };
  console.table(runs);
  console.log(`median: first image ${result.medianFirstImageMs} ms, whole stack cached ${result.medianStackCachedMs} ms (from navigation start)`);
  const out = path.join(REPO_ROOT, 'bench/results');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, `viewer-open-${Date.now()}.json`), JSON.stringify(result, null, 2));
}

runBench(main);
