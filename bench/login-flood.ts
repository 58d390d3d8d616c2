// Login-flood benchmark (issue 15, item 5): does a wrong-password flood against the web
// server slow the DICOM side of the same process? Before the login throttle every wrong
// password cost ~33 ms of scrypt on the server, and 300 of them from 16 clients slowed a
// concurrent storescu of 60 CT from 0.7 s to 10-18 s.
//
// One `pacs serve` (node bin/pacs.js serve); DCMTK storescu (TCP_NODELAY=1) sends one
// synthetic CT series (default 300 images 512x512, new UIDs every run) to the Main Server
// over one association:
//   alone   nothing else happening
//   flood   while 16 HTTP clients (keep-alive) post wrong passwords for "admin" to
//           /api/login, back to back, for the whole store
// Runs alternate (alone, flood, alone, ...); best of N each; the slowdown is flood / alone
// (target: at most 1.20). Every run checks that the archive holds every sent instance
// (QIDO-RS with a session opened before the flood: a logged-in user is not throttled).
// Also printed: the flood's answers (401 until the throttle's limit, then 429) and rate,
// and the server's CPU time per run (/proc).
//
//   npx tsx bench/login-flood.ts [--count 300] [--runs 3] [--clients 16] [--rows 512] [--cols 512]
// Results: a table on stdout and JSON in bench/results/login-flood-<timestamp>.json.
import * as fs from 'node:fs';
import { Agent, request } from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { SERVER_V8_FLAGS } from '../src/cli/v8-flags.js';
import { writeCtSeries } from '../scripts/gen-test-data.js';
import { freePort, REPO_ROOT, runDcmtk, startProcess, stopAllPeers, storescu, waitForPort, type Peer } from '../test/support/peers.js';
import { makeTempDir, removeTempDir, removeTempDirs } from '../test/support/tmp.js';
import { cpuMs } from './cpu.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '300' },
    runs: { type: 'string', default: '3' },
    clients: { type: 'string', default: '16' },
    rows: { type: 'string', default: '512' },
    cols: { type: 'string', default: '512' },
  },
});
const COUNT = Number(values.count);
const RUNS = Number(values.runs);
const CLIENTS = Number(values.clients);
const PASSWORD = 'bench-admin-password';

process.on('SIGINT', () => void stopAllPeers().finally(() => process.exit(130)));

type Mode = 'alone' | 'flood';

interface RunRecord {
  mode: Mode;
  run: number;
  seconds: number;
  serverCpuMs: number;
  flood?: { requests: number; byStatus: Record<string, number>; perSecond: number };
}

interface Server {
  peer: Peer;
  dicomPort: number;
  webPort: number;
}

async function startServer(root: string): Promise<Server> {
  const dir = path.join(root, 'pacs');
  const [dicomPort, wsPort, routerPort, webPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const peer = startProcess({
    name: 'pacs',
    command: process.execPath,
    cwd: REPO_ROOT,
    dir,
    args: [
      ...SERVER_V8_FLAGS,
      path.join(REPO_ROOT, 'bin/pacs.js'),
      'serve',
      '--data',
      path.join(dir, 'data'),
      '--port',
      String(dicomPort),
      '--workstation-port',
      String(wsPort),
      '--router-port',
      String(routerPort),
      '--web-port',
      String(webPort),
      '--web-host',
      '127.0.0.1',
      '--log-level',
      'error',
    ],
    env: { ...process.env, PACS_ADMIN_PASSWORD: PASSWORD },
  });
  await waitForPort(webPort, { peer, timeoutMs: 60_000 });
  await waitForPort(dicomPort, { peer, timeoutMs: 60_000 });
  return { peer, dicomPort, webPort };
}

function post(
  agent: Agent,
  port: number,
  pathName: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: pathName,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

function getJson(port: number, pathName: string, cookie: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: pathName, headers: { cookie, accept: 'application/dicom+json' } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** 16 clients posting wrong passwords back to back until stop() resolves. */
function startFlood(port: number): { stop(): Promise<{ requests: number; byStatus: Record<string, number>; seconds: number }> } {
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  const byStatus: Record<string, number> = {};
  let running = true;
  let n = 0;
  const t0 = performance.now();
  const client = async (c: number) => {
    while (running) {
      try {
        const r = await post(agent, port, '/api/login', { user: 'admin', password: `wrong-${c}-${n++}` });
        byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
      } catch (err) {
        byStatus[(err as NodeJS.ErrnoException).code ?? 'error'] = (byStatus[(err as NodeJS.ErrnoException).code ?? 'error'] ?? 0) + 1;
      }
    }
  };
  const clients = Array.from({ length: CLIENTS }, (_, c) => client(c));
  return {
    async stop() {
      running = false;
      await Promise.all(clients);
      agent.destroy();
      return { requests: Object.values(byStatus).reduce((a, b) => a + b, 0), byStatus, seconds: (performance.now() - t0) / 1000 };
    },
  };
}

async function timedRun(server: Server, cookie: string, mode: Mode, run: number): Promise<RunRecord> {
  const seriesDir = await makeTempDir('pacs-bench-flood-series-');
  try {
    const series = await writeCtSeries({ dir: seriesDir, count: COUNT, rows: Number(values.rows), cols: Number(values.cols) });
    await runDcmtk('sync', []);
    const flood = mode === 'flood' ? startFlood(server.webPort) : undefined;
    if (flood) await new Promise((r) => setTimeout(r, 300)); // the flood is under way before the store starts
    const cpu0 = cpuMs(server.peer.pid);
    const t0 = performance.now();
    const r = await storescu({ port: server.dicomPort, calledAet: 'PACS', files: series.files, timeoutMs: 600_000 });
    const seconds = (performance.now() - t0) / 1000;
    const serverCpuMs = cpuMs(server.peer.pid) - cpu0;
    const f = await flood?.stop();
    if (r.code !== 0) throw new Error(`storescu exit ${r.code}: ${r.stderr.slice(-1000)}`);
    const q = await getJson(server.webPort, `/dicomweb/studies/${series.studyUid}/instances?limit=${COUNT + 10}`, cookie);
    const held = q.status === 200 ? (JSON.parse(q.body) as unknown[]).length : 0;
    if (held !== COUNT) throw new Error(`the archive holds ${held} of ${COUNT} sent instances (QIDO ${q.status})`);
    const floodText = f
      ? `; flood ${f.requests} requests (${Object.entries(f.byStatus)
          .map(([k, v]) => `${v} x ${k}`)
          .join(', ')}), ${(f.requests / f.seconds).toFixed(0)}/s`
      : '';
    console.log(
      `${mode.padEnd(5)} run ${run}: ${seconds.toFixed(2)} s, ${(COUNT / seconds).toFixed(1)} instances/s, server CPU ${(serverCpuMs / 1000).toFixed(2)} s${floodText}`,
    );
    return { mode, run, seconds, serverCpuMs, ...(f ? { flood: { requests: f.requests, byStatus: f.byStatus, perSecond: f.requests / f.seconds } } : {}) };
  } finally {
    await removeTempDir(seriesDir);
  }
}

async function main(): Promise<void> {
  const root = await makeTempDir('pacs-bench-flood-');
  const server = await startServer(root);
  const agent = new Agent({ keepAlive: false });
  const login = await post(agent, server.webPort, '/api/login', { user: 'admin', password: PASSWORD });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${login.body}`);
  const cookie = String(login.headers['set-cookie']).split(';')[0];
  const runs: RunRecord[] = [];
  try {
    for (let run = 1; run <= RUNS; run++) {
      for (const mode of ['alone', 'flood'] as const) runs.push(await timedRun(server, cookie, mode, run));
    }
  } finally {
    await server.peer.stop();
  }
  const best = (mode: Mode) => Math.min(...runs.filter((r) => r.mode === mode).map((r) => r.seconds));
  const alone = best('alone');
  const flooded = best('flood');
  const ratio = flooded / alone;
  const total = (k: string) => runs.reduce((a, r) => a + (r.flood?.byStatus[k] ?? 0), 0);
  console.log(`\n${COUNT} CT ${values.rows}x${values.cols} by storescu into the Main Server, best of ${RUNS}:`);
  console.log(`  alone                        ${alone.toFixed(2)} s`);
  console.log(`  with ${CLIENTS} clients' wrong passwords ${flooded.toFixed(2)} s`);
  console.log(`  slowdown ${ratio.toFixed(2)}x (target: at most 1.20x); flood answers over all runs: ${total('401')} x 401, ${total('429')} x 429`);
  const outDir = path.join(REPO_ROOT, 'bench/results');
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `login-flood-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(
    file,
    JSON.stringify(
      {
        count: COUNT,
        rows: Number(values.rows),
        cols: Number(values.cols),
        runs: RUNS,
        clients: CLIENTS,
        host: { cpus: os.cpus().length, node: process.version, loadAverage: os.loadavg() },
        results: runs,
        bestAloneSeconds: alone,
        bestFloodSeconds: flooded,
        ratio,
      },
      null,
      2,
    ),
  );
  console.log(`results: ${path.relative(process.cwd(), file)}`);
  if (ratio > 1.2) process.exitCode = 1;
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => void stopAllPeers().then(() => removeTempDirs()));
