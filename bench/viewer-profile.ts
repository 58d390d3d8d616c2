// Where the page's CPU time goes while our viewer loads a --count slice CT stack: a CDP
// CPU profile of the page (main thread) from the navigation to the stack cached, self time
// by function, with the viewer's stack timeline. The server and its data are kept in
// --data (made and filled on the first run) so that runs before and after a change see the
// same study; the web app is built from the working tree at each run.
//
//   npx tsx bench/viewer-profile.ts [--data /tmp/viewer-profile] [--count 300] [--top 25] [--stack-only]
// --stack-only counts the samples of the stack's loading alone: the profile's last
// (stack cached - stack start) ms, the profile being stopped when the stack is cached.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'vite';
import { writeCtSeries } from '../scripts/gen-test-data.js';
import { launchPersistentChromiumWithWebGL } from '../test/e2e/browser.js';
import { REPO_ROOT, startPacsServe, storescu } from '../test/support/peers.js';
import { cpuMs } from './cpu.js';
import { runBench } from './run-bench.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: path.join(os.tmpdir(), 'viewer-profile') },
    count: { type: 'string', default: '300' },
    top: { type: 'string', default: '25' },
    // Only the samples of the stack's loading: from its start (timings.stack.start) to the stack cached.
    'stack-only': { type: 'boolean', default: false },
  },
});
const PASSWORD = 'bench-password';

/** The viewer's test hook (ui/src/viewer/main.ts) as this script reads it. */
declare const window: { __viewer?: { viewer: { timings: { stackCached?: Record<string, number> } & Record<string, unknown> } } };

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

async function main(): Promise<void> {
  const dir = values.data;
  const fresh = !fs.existsSync(path.join(dir, 'study.json'));
  fs.mkdirSync(dir, { recursive: true });
  await build({ root: path.join(REPO_ROOT, 'ui'), logLevel: 'error' });
  const { pacs, base } = await startPacsServe(path.join(dir, 'pacs'), PASSWORD);
  if (fresh) {
    const ct = await writeCtSeries({ dir: path.join(dir, 'ct'), count: Number(values.count), rows: 512, cols: 512 });
    const stored = await storescu({ port: pacs.port, calledAet: pacs.aet, files: ct.files });
    if (stored.code !== 0) throw new Error(`storescu failed: ${stored.stderr}`);
    await fs.promises.rm(path.join(dir, 'ct'), { recursive: true, force: true });
    fs.writeFileSync(path.join(dir, 'study.json'), JSON.stringify({ studyUid: ct.studyUid, seriesUid: ct.seriesUid }));
  }
  const { studyUid, seriesUid } = JSON.parse(fs.readFileSync(path.join(dir, 'study.json'), 'utf8')) as { studyUid: string; seriesUid: string };
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'viewer-profile-browser-'));
  const context = await launchPersistentChromiumWithWebGL(profileDir, { width: 1280, height: 900 });
  try {
    const login = await context.request.post(`${base}/api/login`, { data: { user: 'admin', password: PASSWORD } });
    if (!login.ok()) throw new Error(`login failed: ${login.status()}`);
    const page = context.pages()[0] ?? (await context.newPage());
    const cdp = await context.newCDPSession(page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
    await cdp.send('Profiler.start');
    const load0 = os.loadavg()[0];
    const cpu0 = cpuMs(pacs.pid);
    await page.goto(`${base}/viewer?StudyInstanceUIDs=${studyUid}`, { waitUntil: 'commit' });
    await page.waitForFunction((se) => window.__viewer?.viewer.timings.stackCached?.[se] !== undefined, seriesUid, { timeout: 600_000, polling: 100 });
    const { profile } = (await cdp.send('Profiler.stop')) as { profile: Profile };
    const serverCpu = cpuMs(pacs.pid) - cpu0;
    const timings = await page.evaluate(() => JSON.parse(JSON.stringify(window.__viewer!.viewer.timings)) as Record<string, unknown>);
    const self = new Map<string, number>();
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    let total = 0;
    let first = 0;
    if (values['stack-only']) {
      const t = timings as { stack?: { start?: number }; stackCached?: Record<string, number> };
      const span = (t.stackCached?.[seriesUid] ?? 0) - (t.stack?.start ?? 0);
      // The samples' times from the end back: those within the stack's span of the profile's end.
      let back = 0;
      first = profile.samples.length;
      while (first > 0 && back < span * 1000) back += profile.timeDeltas[--first];
    }
    for (let i = first; i < profile.samples.length; i++) {
      const n = byId.get(profile.samples[i])!;
      const dt = profile.timeDeltas[i] / 1000;
      total += dt;
      const f = n.callFrame;
      const key = `${f.functionName || '(anonymous)'} ${f.url ? `${path.basename(f.url)}:${f.lineNumber + 1}` : ''}`.trim();
      self.set(key, (self.get(key) ?? 0) + dt);
    }
    const idle = self.get('(idle)') ?? 0;
    console.log(
      `load ${load0.toFixed(1)} -> ${os.loadavg()[0].toFixed(1)}; profile ${Math.round(total)} ms, of which idle ${Math.round(idle)} ms; server CPU ${Math.round(serverCpu)} ms`,
    );
    console.log(`timings: ${JSON.stringify(timings, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v) : v))}`);
    for (const [k, ms] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) console.log(`${ms.toFixed(0).padStart(7)} ms  ${k}`);
  } finally {
    await context.close();
    await pacs.stop?.();
    fs.rmSync(profileDir, { recursive: true, force: true });
  }
}

runBench(main);
