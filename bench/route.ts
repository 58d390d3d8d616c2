// Routing benchmark: DCMTK storescu sends one synthetic CT series (default 300 images
// 512x512 16-bit, new UIDs for every run and every router) over one association into a
// router that forwards every instance to a DCMTK storescp (the destination, AE DEST):
//   pacs     this PACS's ROUTER role (node bin/pacs.js serve), one rule: everything to DEST
//   orthanc  Orthanc with a Lua script: OnStoredInstance -> SendToModality(instanceId, 'dest')
//   direct   no router: storescu straight into the destination, the ceiling of any router here
// Time = wall time from the start of storescu until the destination holds every instance
// (received files counted in its folder, cleared before each run). Best of N runs each,
// interleaved, the order turning every run (none always follows the same router); after
// every run the destination is checked to hold exactly the sent SOP instances, else the
// run fails. TCP_NODELAY=1 for DCMTK and Orthanc. The router
// process's CPU time per instance (user + system, all threads, read once it is idle after the
// run: its deferred work counts) is printed too, and the whole
// machine's (/proc/stat: storescu, router and storescp share its cores), with the rate the
// cores would allow at that cost. Nothing is deleted until the bench ends (bench/set-aside.ts).
//
//   npx tsx bench/route.ts [--count 300] [--runs 3] [--rows 512] [--cols 512] [--targets pacs,orthanc,direct]
//                          [--node-args "--cpu-prof --cpu-prof-dir=/tmp/prof"] [--pacs-base-root /other/checkout]
//                          [--perf /tmp/prof/route.perf.data]
// --perf: `perf record -g` of this PACS's router process (all its threads) from before the
// first run to after the last (idle while the other routers run; start node with
// --perf-basic-prof to name its JIT code); bench/perf-categories.ts then splits it per
// routed instance (--instances runs x count).
// --node-args go to node for this PACS (a V8 CPU profile of the router, written at exit);
// target pacs-base (with --pacs-base-root) runs another checkout's bin/pacs.js the same
// way, interleaved with pacs in every run: an A/B of two builds on a loaded machine.
// Results: a table on stdout and JSON in bench/results/route-<timestamp>.json.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { SERVER_V8_FLAGS } from '../src/cli/v8-flags.js';
import { writeCtSeries } from '../scripts/gen-test-data.js';
import { addAe, ConfigStore } from '../src/config/index.js';
import { RuleStore } from '../src/router/rule-store.js';
import {
  countDicomFiles,
  freePort,
  REPO_ROOT,
  runDcmtk,
  startOrthanc,
  startProcess,
  startStorescp,
  stopAllPeers,
  storescu,
  waitForPort,
  type Peer,
  type StorescpPeer,
} from '../test/support/peers.js';
import { makeTempDir, removeTempDirs } from '../test/support/tmp.js';
import { cpuMs, machineCpuMs, waitForIdleProcess, waitForQuietMachine } from './cpu.js';
import { runOrder } from './ingest-series.js';
import { fileCreationUs, setAside } from './set-aside.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '300' },
    runs: { type: 'string', default: '3' },
    rows: { type: 'string', default: '512' },
    cols: { type: 'string', default: '512' },
    targets: { type: 'string', default: 'pacs,orthanc,direct' },
    timeout: { type: 'string', default: '600' },
    'node-args': { type: 'string', default: '' },
    'pacs-base-root': { type: 'string' },
    perf: { type: 'string' },
  },
});
const COUNT = Number(values.count);
const RUNS = Number(values.runs);
const TIMEOUT_MS = Number(values.timeout) * 1000;

process.on('SIGINT', () => void stopAllPeers().finally(() => process.exit(130)));

interface Router {
  name: string;
  aet: string;
  port: number;
  peer: Peer;
}

interface RunRecord {
  run: number;
  ok: boolean;
  seconds?: number;
  instancesPerSecond?: number;
  /** When storescu had its last C-STORE response: the router's receive side alone. */
  storescuSeconds?: number;
  /** CPU time (user + system, all threads, /proc) of the router process per routed instance. */
  cpuMsPerInstance?: number;
  /** The whole machine's busy CPU time per routed instance (/proc/stat): storescu, router and storescp together. */
  machineCpuMsPerInstance?: number;
  error?: string;
}

/** This PACS: the registry knows DEST, the router's rules send everything there. */
async function startOurRouter(root: string, dest: StorescpPeer, name = 'pacs', checkout = REPO_ROOT): Promise<Router> {
  const dir = path.join(root, name);
  const data = path.join(dir, 'data');
  const config = await ConfigStore.open(data);
  await config.update((reg) => addAe(reg, { aeTitle: 'DEST', connection: { host: '127.0.0.1', port: dest.port }, permissions: ['echo'] }));
  config.close();
  const rules = await RuleStore.open(data, { registry: () => config.current });
  await rules.update(() => ({ rules: [{ name: 'everything to DEST', condition: 'true', destinations: ['DEST'] }] }));
  rules.close();
  const [port, wsPort, routerPort] = [await freePort(), await freePort(), await freePort()];
  const peer = startProcess({
    name: 'pacs',
    command: process.execPath,
    cwd: REPO_ROOT,
    dir,
    args: [
      ...SERVER_V8_FLAGS,
      ...values['node-args'].split(/\s+/).filter(Boolean),
      path.join(checkout, 'bin/pacs.js'),
      'serve',
      '--data',
      data,
      '--port',
      String(port),
      '--workstation-port',
      String(wsPort),
      '--router-port',
      String(routerPort),
      '--no-web',
      '--log-level',
      'warn',
    ],
  });
  await waitForPort(routerPort, { peer, timeoutMs: 60_000 });
  return { name, aet: 'ROUTER', port: routerPort, peer };
}

/** Orthanc forwarding each stored instance by a Lua script (its documented auto-routing). */
async function startOrthancRouter(root: string, dest: StorescpPeer): Promise<Router> {
  const dir = path.join(root, 'orthanc');
  fs.mkdirSync(dir, { recursive: true });
  const script = path.join(dir, 'route.lua');
  fs.writeFileSync(script, ['function OnStoredInstance(instanceId, tags, metadata, origin)', "  SendToModality(instanceId, 'dest')", 'end', ''].join('\n'));
  const orthanc = await startOrthanc({
    dir,
    aet: 'ORTHANC',
    config: { LuaScripts: [script], DicomModalities: { dest: [dest.aet, '127.0.0.1', dest.port] } },
  });
  return { name: 'orthanc', aet: orthanc.aet, port: orthanc.dicomPort, peer: orthanc };
}

/** Files in the destination's folder now (storescp writes each file before its C-STORE response). */
function receivedCount(dir: string): number {
  try {
    return fs.readdirSync(dir).length;
  } catch {
    return 0;
  }
}

async function timedRun(router: Router, dest: StorescpPeer, root: string, run: number): Promise<RunRecord> {
  const seriesDir = await makeTempDir('pacs-bench-route-series-');
  try {
    const series = await writeCtSeries({ dir: seriesDir, count: COUNT, rows: Number(values.rows), cols: Number(values.cols) });
    setAside(dest.storageDir);
    fs.mkdirSync(dest.storageDir, { recursive: true });
    await runDcmtk('sync', []);
    await waitForQuietMachine();
    const cpu0 = router.name === 'direct' ? Number.NaN : cpuMs(router.peer.pid);
    const machine0 = machineCpuMs().busy;
    const t0 = performance.now();
    const sent = storescu({ port: router.port, calledAet: router.aet, callingAet: 'MODALITY', files: series.files, timeoutMs: TIMEOUT_MS });
    let storescuDone = false;
    let ingestSeconds = 0;
    void sent.then(() => {
      storescuDone = true;
      ingestSeconds = (performance.now() - t0) / 1000;
    });
    const deadline = Date.now() + TIMEOUT_MS;
    while (receivedCount(dest.storageDir) < COUNT) {
      if (Date.now() > deadline)
        throw new Error(`only ${receivedCount(dest.storageDir)} of ${COUNT} arrived in ${TIMEOUT_MS / 1000} s\n${router.peer.logTail()}`);
      if (router.peer.exited) throw new Error(`${router.name} exited\n${router.peer.logTail()}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const seconds = (performance.now() - t0) / 1000;
    // The router's work after the last forward (deleting delivered queue entries, Orthanc's
    // housekeeping) counts in the run that caused it.
    if (router.name !== 'direct') await waitForIdleProcess(() => cpuMs(router.peer.pid));
    const cpuMsPerInstance = (cpuMs(router.peer.pid) - cpu0) / COUNT;
    const machineCpuMsPerInstance = (machineCpuMs().busy - machine0) / COUNT;
    const r = await sent;
    if (r.code !== 0) throw new Error(`storescu exit ${r.code}: ${r.stderr.slice(-1000)}`);
    if (!storescuDone) throw new Error('storescu still running after the destination had everything');
    const got = await countDicomFiles(dest.storageDir, new Set(series.sopInstanceUids));
    if (got !== COUNT) throw new Error(`the destination holds ${got} of the ${COUNT} sent instances`);
    const cpu = `${Number.isNaN(cpuMsPerInstance) ? '' : `, router CPU ${cpuMsPerInstance.toFixed(2)} ms/instance`}, machine CPU ${machineCpuMsPerInstance.toFixed(2)} ms/instance`;
    console.log(
      `${router.name} run ${run}: ${seconds.toFixed(2)} s, ${(COUNT / seconds).toFixed(1)} instances/s (storescu done after ${ingestSeconds.toFixed(2)} s${cpu})`,
    );
    return {
      run,
      ok: true,
      seconds,
      instancesPerSecond: COUNT / seconds,
      storescuSeconds: ingestSeconds,
      ...(Number.isNaN(cpuMsPerInstance) ? {} : { cpuMsPerInstance }),
      machineCpuMsPerInstance,
    };
  } catch (err) {
    console.log(`${router.name} run ${run}: FAILED ${(err as Error).message}`);
    return { run, ok: false, error: (err as Error).message };
  } finally {
    setAside(seriesDir);
    void root;
  }
}

async function main(): Promise<void> {
  const root = await makeTempDir('pacs-bench-route-');
  const creationStart = fileCreationUs(root);
  console.log(`file creation in the bench's directory: ${creationStart.toFixed(0)} us per empty file (median of 200; bench/set-aside.ts)`);
  // --fork: one process per association, so one router's open association never holds up the other's.
  const dest = await startStorescp({ dir: path.join(root, 'dest'), aet: 'DEST', fork: true, acceptAll: false, promiscuous: false });
  const names = values.targets.split(',').map((s) => s.trim());
  const routers: Router[] = [];
  for (const n of names) {
    if (n === 'pacs') routers.push(await startOurRouter(root, dest));
    else if (n === 'pacs-base') {
      if (!values['pacs-base-root']) throw new Error('pacs-base needs --pacs-base-root');
      routers.push(await startOurRouter(root, dest, 'pacs-base', path.resolve(values['pacs-base-root'])));
    } else if (n === 'orthanc') routers.push(await startOrthancRouter(root, dest));
    else if (n === 'direct') routers.push({ name: 'direct', aet: dest.aet, port: dest.port, peer: dest });
    else throw new Error(`unknown target ${n} (pacs, pacs-base, orthanc, direct)`);
  }
  let perf: ChildProcess | undefined;
  const ours = routers.find((r) => r.name === 'pacs');
  if (values.perf && ours) {
    perf = spawn('perf', ['record', '-F', '999', '-g', '-o', values.perf, '-p', String(ours.peer.pid)], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 1000));
  }
  const results = new Map<string, RunRecord[]>(routers.map((r) => [r.name, []]));
  for (let run = 1; run <= RUNS; run++) {
    for (const r of runOrder(routers, run)) results.get(r.name)!.push(await timedRun(r, dest, root, run));
  }
  const best = (name: string): number | undefined => {
    const ok = (results.get(name) ?? []).filter((r) => r.ok).map((r) => r.instancesPerSecond!);
    return ok.length ? Math.max(...ok) : undefined;
  };
  console.log(`\n${COUNT} CT images ${values.rows}x${values.cols} routed storescu -> router -> storescp, best of ${RUNS} (instances/s)`);
  for (const r of routers) {
    const runs = results.get(r.name)!;
    console.log(
      `${r.name.padEnd(8)} best ${best(r.name)?.toFixed(1) ?? '-'}  runs ${runs.map((x) => (x.ok ? x.instancesPerSecond!.toFixed(1) : 'failed')).join(', ')}`,
    );
  }
  // CPU is what limits a router on a small machine (2 cores shared with storescu and storescp).
  const median = (name: string, of: (r: RunRecord) => number | undefined): number | undefined => {
    const v = (results.get(name) ?? [])
      .filter((r) => r.ok && of(r) !== undefined)
      .map((r) => of(r)!)
      .sort((a, b) => a - b);
    return v.length ? v[v.length >> 1] : undefined;
  };
  const cpu = (name: string) => median(name, (r) => r.cpuMsPerInstance);
  for (const r of routers)
    if (cpu(r.name) !== undefined) console.log(`${r.name.padEnd(8)} router process CPU per instance (median): ${cpu(r.name)!.toFixed(2)} ms`);
  // What the machine's cores allow: every process's CPU per routed instance (the destination's
  // and the sender's included) against the cores there are.
  for (const r of routers) {
    const m = median(r.name, (x) => x.machineCpuMsPerInstance);
    if (m !== undefined)
      console.log(
        `${r.name.padEnd(8)} machine CPU per instance (median): ${m.toFixed(2)} ms: ${os.cpus().length} cores allow at most ${((os.cpus().length * 1000) / m).toFixed(0)} instances/s`,
      );
  }
  if (perf) {
    perf.kill('SIGINT');
    await new Promise((r) => perf.once('exit', r));
  }
  const ourBest = best('pacs');
  const theirs = best('orthanc');
  const ratio = ourBest && theirs ? ourBest / theirs : undefined;
  if (ratio) console.log(`this PACS / Orthanc: ${ratio.toFixed(2)}x (issue target: at least 3x)`);
  const direct = best('direct');
  if (direct && ourBest) console.log(`this PACS / direct (storescu -> storescp, no router): ${(ourBest / direct).toFixed(2)}x`);
  const outDir = path.join(REPO_ROOT, 'bench/results');
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `route-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(
    file,
    JSON.stringify(
      {
        count: COUNT,
        rows: Number(values.rows),
        cols: Number(values.cols),
        runs: RUNS,
        host: { cpus: os.cpus().length, node: process.version },
        fileCreationUs: creationStart,
        results: Object.fromEntries([...results].map(([k, v]) => [k, { runs: v, bestInstancesPerSecond: best(k) }])),
        ratio,
      },
      null,
      2,
    ),
  );
  console.log(`results: ${path.relative(process.cwd(), file)}`);
  if ([...results.values()].some((v) => v.some((r) => !r.ok))) process.exitCode = 1;
  for (const r of routers) if (r.name !== 'direct') await r.peer.stop();
}

main()
  .catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => void stopAllPeers().then(() => removeTempDirs()));
