// The 3D viewer's figures: for a CT of each --counts slices (512 x 512) stored in
// `pacs serve`, the MPR / 3D layout opened in headless chromium (software WebGL) twice, each
// time in a fresh browser on one profile directory: cold, then with the browser's HTTP cache
// warm. (A second page in the same browser waited behind the first one's software-WebGL
// work in the shared GPU process and did not get ready at 1,000 slices.) The page's
// own timings (performance.now() from its start): volume created (metadata read and
// checked), every slice in the volume, 3D view ready; then the median frame time of
// scrolling the axial plane one slice and of rotating the 3D view (VRT) by 10°.
//
//   npx tsx bench/volume-build.ts [--counts 300,1000]
// Results: a table on stdout and JSON in bench/results/volume-build-<timestamp>.json.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'vite';
import { writeCtSeries } from '../scripts/gen-test-data.js';
import type { BrowserContext } from 'playwright-core';
import { launchPersistentChromiumWithWebGL } from '../test/e2e/browser.js';
import { frameTime } from '../test/e2e/viewer3d-frames.js';
import { REPO_ROOT, startPacsServe, stopAllPeers, storescu } from '../test/support/peers.js';
import { makeTempDir, removeTempDirs } from '../test/support/tmp.js';

const { values } = parseArgs({ options: { counts: { type: 'string', default: '300,1000' } } });
const COUNTS = values.counts.split(',').map(Number);
if (COUNTS.some((n) => !Number.isInteger(n) || n < 3)) throw new Error(`--counts: slice counts of 3 or more, comma-separated (got ${values.counts})`);

interface Hook {
  ready: boolean;
  error?: string;
  page: { timings: { start: number; volumeCreated?: number; volumeLoaded?: number; threeDReady?: number }; downsample: number[] };
}
declare const window: { __viewer3d?: Hook };

async function main(): Promise<void> {
  const dir = await makeTempDir('pacs-bench-volume-');
  await build({ root: path.join(REPO_ROOT, 'ui'), logLevel: 'warn' });
  const { pacs, base } = await startPacsServe(path.join(dir, 'pacs'), 'bench-password');
  const rows: Array<Record<string, number | string>> = [];
  /** A fresh browser on `profile`, logged in. */
  const open = async (profile: string): Promise<BrowserContext> => {
    const context = await launchPersistentChromiumWithWebGL(profile, { width: 1400, height: 1000 });
    // tsx (esbuild keepNames) wraps named functions in __name(); functions serialized into
    // page.evaluate would throw "__name is not defined" in the page without this.
    await context.addInitScript({ content: 'globalThis.__name = (f) => f;' });
    const login = await context.request.post(`${base}/api/login`, { data: { user: 'admin', password: 'bench-password' } });
    if (!login.ok()) throw new Error(`login failed: ${login.status()}`);
    return context;
  };
  try {
    for (const count of COUNTS) {
      const ct = await writeCtSeries({ dir: path.join(dir, `ct-${count}`), count, rows: 512, cols: 512 });
      const stored = await storescu({ port: pacs.port, calledAet: pacs.aet, files: ct.files });
      if (stored.code !== 0) throw new Error(`storescu failed: ${stored.stderr}`);
      const profile = path.join(dir, `profile-${count}`);
      for (const run of ['cold', 'warm']) {
        const context = await open(profile);
        try {
          const page = await context.newPage();
          await page.goto(`${base}/viewer?StudyInstanceUIDs=${ct.studyUid}&mode=mpr`, { timeout: 600_000 });
          await page.waitForFunction(() => window.__viewer3d?.ready === true, null, { timeout: 3_600_000, polling: 500 });
          const s = await page.evaluate(() => ({
            error: window.__viewer3d!.error,
            t: window.__viewer3d!.page.timings,
            downsample: window.__viewer3d!.page.downsample.join('x'),
          }));
          if (s.error) throw new Error(`${count} slices: ${s.error}`);
          const ms = (t?: number) => Math.round((t ?? NaN) - s.t.start);
          const row = {
            slices: count,
            run,
            volumeCreatedMs: ms(s.t.volumeCreated),
            volumeLoadedMs: ms(s.t.volumeLoaded),
            threeDReadyMs: ms(s.t.threeDReady),
            downsample3d: s.downsample,
            mprScrollFrameMs: Math.round(await frameTime(page, 'axial', 'scroll', 7)),
            vrtRotateFrameMs: Math.round(await frameTime(page, 'volume3d', 'rotate', 3)),
          };
          rows.push(row);
          console.log(JSON.stringify(row));
        } finally {
          await context.close();
        }
      }
    }
  } finally {
    await stopAllPeers();
  }
  console.table(rows);
  const out = path.join(REPO_ROOT, 'bench/results');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(
    path.join(out, `volume-build-${Date.now()}.json`),
    JSON.stringify({ date: new Date().toISOString(), loadAverage: os.loadavg(), cpus: os.cpus().length, rows }, null, 2),
  );
  await removeTempDirs();
}

await main();
