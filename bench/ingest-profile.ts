// Profiling driver for the C-STORE receive path: one `pacs serve` (or any command with
// {data} {port} {aet}), a warm-up series, then --runs series of --count CT images sent by
// storescu over --assoc associations; prints the server's CPU per instance (all threads,
// main thread) for each run and writes the CLOCK_MONOTONIC windows of the measured runs
// (JSON, --windows) so that a `node --cpu-prof` profile of the server can be cut to them
// (bench/cpu-profile-summary.ts --windows).
//
//   npx tsx bench/ingest-profile.ts [--count 300] [--runs 3] [--assoc 1]
//        [--cmd "node --cpu-prof --cpu-prof-dir=/tmp/prof bin/pacs.js serve --data {data} --port {port} --aet {aet}"]
//        [--windows /tmp/prof/windows.json] [--perf /tmp/prof/perf.data] [--heap] [--warmup 1] [--pause 0]
// --warmup: how many untimed series of --count go first. --pause: seconds the server stays
// idle before each measured run (in bench/ingest it idles while the other targets run).
// --perf: `perf record -g` of the server's threads during the measured runs only (start the
// server with `node --perf-basic-prof` to name its JIT code).
// --heap: SIGUSR2 to the server before and after the measured runs, for bench/heap-sampler.ts
// (start it with `node --import tsx --import ./bench/heap-sampler.ts`, HEAP_PROFILE_OUT set);
// then bench/heap-profile-summary.ts.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { SERVER_V8_FLAGS } from '../src/cli/v8-flags.js';
import { cpuMsByThread, cpuMsSplit, machineCpuMs } from './cpu.js';
import { commandOf, sendCtSeries } from './ingest-series.js';
import { startPacs, stopAllPeers } from '../test/support/peers.js';
import { makeTempDir, removeTempDir } from '../test/support/tmp.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '300' },
    runs: { type: 'string', default: '3' },
    assoc: { type: 'string', default: '1' },
    cmd: { type: 'string', default: `node ${SERVER_V8_FLAGS.join(' ')} bin/pacs.js serve --data {data} --port {port} --aet {aet}` },
    windows: { type: 'string' },
    perf: { type: 'string' },
    heap: { type: 'boolean', default: false },
    warmup: { type: 'string', default: '1' },
    pause: { type: 'string', default: '0' },
  },
});
const count = Number(values.count);
const assoc = Number(values.assoc);
const root = await makeTempDir('pacs-ingest-prof-');
const windows: Array<[number, number]> = [];
try {
  const pacs = await startPacs({ dir: root, ...commandOf(values.cmd) });
  const send = async (run: number): Promise<{ cpu: number; main: number; seconds: number; busy: number }> => {
    const { seconds, window, before, after } = await sendCtSeries({
      dir: path.join(root, `series-${run}`),
      count,
      description: `prof ${run}`,
      to: Array.from({ length: assoc }, () => pacs),
      sample: () => ({ ...cpuMsSplit(pacs.pid), machine: machineCpuMs() }),
    });
    if (run > 0) windows.push(window);
    return {
      cpu: (after.main + after.others - before.main - before.others) / count,
      main: (after.main - before.main) / count,
      seconds,
      // The share of all CPUs busy while the series was sent (server, storescu and the rest).
      busy: (after.machine.busy - before.machine.busy) / (after.machine.total - before.machine.total),
    };
  };
  // Warm-up: JIT (TurboFan keeps compiling the per-instance code for the first ~3,000
  // instances here), SQLite pages, the batch pool.
  for (let w = 0; w < Number(values.warmup); w++) await send(-1 - w);
  const perf = values.perf ? spawn('perf', ['record', '-F', '999', '-g', '-o', values.perf, '-p', String(pacs.pid)], { stdio: 'ignore' }) : undefined;
  if (perf) await new Promise((r) => setTimeout(r, 1000));
  if (values.heap) process.kill(pacs.pid, 'SIGUSR2'); // starts the sampler
  const cpus: number[] = [];
  const threadsBefore = cpuMsByThread(pacs.pid);
  for (let run = 1; run <= Number(values.runs); run++) {
    if (Number(values.pause) > 0) await new Promise((r) => setTimeout(r, Number(values.pause) * 1000));
    const r = await send(run);
    cpus.push(r.cpu);
    console.log(
      `run ${run}: ${r.seconds.toFixed(3)} s ${(count / r.seconds).toFixed(0)}/s  CPU ${r.cpu.toFixed(2)} ms/inst (main ${r.main.toFixed(2)})  machine ${(r.busy * 100).toFixed(0)}% busy  load ${os.loadavg()[0].toFixed(1)}`,
    );
  }
  if (perf) {
    perf.kill('SIGINT');
    await new Promise((r) => perf.once('exit', r));
  }
  if (values.heap) {
    process.kill(pacs.pid, 'SIGUSR2'); // writes the profile
    await new Promise((r) => setTimeout(r, 3000));
  }
  const threadsAfter = cpuMsByThread(pacs.pid);
  const perThread = [...threadsAfter]
    .map(([tid, ms]) => [tid, (ms - (threadsBefore.get(tid) ?? 0)) / (count * Number(values.runs))] as const)
    .filter(([, ms]) => ms >= 0.005)
    .sort((a, b) => b[1] - a[1]);
  console.log(`CPU ms/inst by thread over the measured runs: ${perThread.map(([tid, ms]) => `${tid} ${ms.toFixed(2)}`).join(', ')}`);
  cpus.sort((a, b) => a - b);
  console.log(`median CPU ${cpus[cpus.length >> 1].toFixed(2)} ms/inst over ${cpus.length} runs of ${count}, ${assoc} association(s)`);
  await pacs.stop(30_000);
  if (values.windows) fs.writeFileSync(values.windows, JSON.stringify({ count, windows }));
} finally {
  await stopAllPeers();
  await removeTempDir(root);
}
