// A stack's frames over HTTP, the two ways the viewer can ask for them, interleaved in one
// run against one `pacs serve`: one request per frame (six at once, as a browser's
// connections to a host allow; what the dicom-image-loader does) and the series'
// pixeldata resource in batches of 25 instances (three at once), as stored and deflated
// (Deflated Image Frame Compression: what the viewer's batches ask for now).
// A --count slice 512x512 CT stored by storescu; each round reads every frame both ways
// (transfer-syntax=*, keep-alive connections), checks the bytes received, and takes the wall
// time and the server's CPU time (/proc/<pid>/stat: less sensitive to other load).
//
//   npx tsx bench/frames-fetch.ts [--count 300] [--rounds 5]
// Results: a table on stdout and JSON in bench/results/frames-fetch-<timestamp>.json.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { writeCtSeries } from '../scripts/gen-test-data.js';
import { REPO_ROOT, startPacsServe, storescu } from '../test/support/peers.js';
import { makeTempDir } from '../test/support/tmp.js';
import { cpuMs } from './cpu.js';
import { runBench } from './run-bench.js';

const { values } = parseArgs({ options: { count: { type: 'string', default: '300' }, rounds: { type: 'string', default: '5' } } });
const COUNT = Number(values.count);
const ROUNDS = Number(values.rounds);
const PASSWORD = 'bench-password';
const ACCEPT = 'multipart/related; type=application/octet-stream; transfer-syntax=*';
/** What the viewer's batches ask for: frames stored uncompressed deflated (Deflated Image Frame Compression). */
const DEFLATED = `multipart/related; type=application/octet-stream; transfer-syntax=1.2.840.10008.1.2.8.1, ${ACCEPT}`;

/** GET with the session cookie on a keep-alive agent; resolves with the body's length. */
function get(agent: http.Agent, url: string, cookie: string, accept = ACCEPT): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers: { accept, cookie } }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => (n += c.length));
      res.on('end', () => (res.statusCode === 200 ? resolve(n) : reject(new Error(`${url}: HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** Runs `jobs` with at most `width` at once. */
async function pool<T>(jobs: (() => Promise<T>)[], width: number): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) {
        const i = next++;
        out[i] = await jobs[i]();
      }
    }),
  );
  return out;
}

async function main(): Promise<void> {
  const dir = await makeTempDir('pacs-bench-frames-');
  const { pacs, base } = await startPacsServe(path.join(dir, 'pacs'), PASSWORD);
  const ct = await writeCtSeries({ dir: path.join(dir, 'ct'), count: COUNT, rows: 512, cols: 512 });
  const stored = await storescu({ port: pacs.port, calledAet: pacs.aet, files: ct.files });
  if (stored.code !== 0) throw new Error(`storescu failed: ${stored.stderr}`);
  const login = await fetch(`${base}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user: 'admin', password: PASSWORD }),
  });
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
  if (!login.ok || !cookie) throw new Error(`login failed: ${login.status}`);
  const series = `${base}/dicomweb/studies/${ct.studyUid}/series/${ct.seriesUid}`;
  const sops = ct.sopInstanceUids;

  const ways = {
    'per frame (6 at once)': (agent: http.Agent) =>
      pool(
        sops.map((s) => () => get(agent, `${series}/instances/${s}/frames/1`, cookie)),
        6,
      ),
    'pixeldata x25 (3 at once)': (agent: http.Agent) => {
      const batches: string[][] = [];
      for (let i = 0; i < sops.length; i += 25) batches.push(sops.slice(i, i + 25));
      return pool(
        batches.map((b) => () => get(agent, `${series}/pixeldata?instances=${b.join(',')}`, cookie)),
        3,
      );
    },
    'pixeldata x25 deflated (3 at once)': (agent: http.Agent) => {
      const batches: string[][] = [];
      for (let i = 0; i < sops.length; i += 25) batches.push(sops.slice(i, i + 25));
      return pool(
        batches.map((b) => () => get(agent, `${series}/pixeldata?instances=${b.join(',')}`, cookie, DEFLATED)),
        3,
      );
    },
  };
  const runs: { way: string; round: number; wallMs: number; serverCpuMs: number; requests: number; bytes: number; load: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const [way, run] of Object.entries(ways)) {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 6 });
      const cpu0 = cpuMs(pacs.pid);
      const t0 = performance.now();
      const sizes = await run(agent);
      const wallMs = performance.now() - t0;
      const serverCpuMs = cpuMs(pacs.pid) - cpu0;
      agent.destroy();
      const bytes = sizes.reduce((a, b) => a + b, 0);
      if (!way.includes('deflated') && bytes < COUNT * 512 * 512 * 2) throw new Error(`${way}: ${bytes} bytes, fewer than the frames hold`);
      runs.push({ way, round, wallMs: Math.round(wallMs), serverCpuMs: Math.round(serverCpuMs), requests: sizes.length, bytes, load: os.loadavg()[0] });
      console.log(`${way}: ${Math.round(wallMs)} ms, server CPU ${Math.round(serverCpuMs)} ms, ${sizes.length} requests, load ${os.loadavg()[0].toFixed(1)}`);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const table = Object.keys(ways).map((way) => {
    const rs = runs.filter((r) => r.way === way);
    return {
      way,
      requests: rs[0].requests,
      'wall ms (median)': median(rs.map((r) => r.wallMs)),
      'server CPU ms (median)': median(rs.map((r) => r.serverCpuMs)),
    };
  });
  console.table(table);
  const out = path.join(REPO_ROOT, 'bench/results');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(
    path.join(out, `frames-fetch-${Date.now()}.json`),
    JSON.stringify({ date: new Date().toISOString(), loadAverage: os.loadavg(), slices: COUNT, table, runs }, null, 2),
  );
}

runBench(main);
