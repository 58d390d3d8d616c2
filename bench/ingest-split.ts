// Does a second receiving process pay on this machine? One CT series (new UIDs every run)
// split over 4 storescu associations, sent three ways, interleaved, best of --runs:
//   one    all 4 associations into one `pacs serve`
//   two    2 associations into each of two `pacs serve` processes (own data directories,
//          own SQLite index: an upper bound for Storage SCP processes sharing one index)
//   fork   DCMTK storescp --fork (no index, no fsync): the ceiling
// Printed per run: the rate and the servers' CPU per instance (all processes, /proc).
//
// First --warmup untimed runs of the same kind.
//
//   npx tsx bench/ingest-split.ts [--count 300] [--runs 4] [--warmup 4]
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { cpuMs } from './cpu.js';
import { sendCtSeries } from './ingest-series.js';
import { startPacs, startStorescp, stopAllPeers } from '../test/support/peers.js';
import { makeTempDir, removeTempDir } from '../test/support/tmp.js';

const { values } = parseArgs({
  options: { count: { type: 'string', default: '300' }, runs: { type: 'string', default: '4' }, warmup: { type: 'string', default: '4' } },
});
const count = Number(values.count);
const runs = Number(values.runs);
const warmups = Number(values.warmup);

const root = await makeTempDir('pacs-ingest-split-');
try {
  const one = await startPacs({ dir: path.join(root, 'one') });
  const a = await startPacs({ dir: path.join(root, 'a') });
  const b = await startPacs({ dir: path.join(root, 'b') });
  const fork = await startStorescp({ aet: 'STORESCP', dir: path.join(root, 'scp'), fork: true, acceptAll: false, promiscuous: false });
  const modes = {
    one: { ports: [one.port, one.port, one.port, one.port], aet: one.aet, pids: [one.pid] },
    two: { ports: [a.port, b.port, a.port, b.port], aet: a.aet, pids: [a.pid, b.pid] },
    fork: { ports: [fork.port, fork.port, fork.port, fork.port], aet: 'STORESCP', pids: [] as Array<number | undefined> },
  };
  const best: Record<string, number> = {};
  // Runs from -warmups+1 to 0 are untimed: each server process warms its JIT on the same
  // number of instances as it will take in a timed run.
  for (let run = 1 - warmups; run <= runs; run++) {
    for (const [name, m] of Object.entries(modes)) {
      const cpu = (): number => m.pids.reduce<number>((sum, p) => sum + (p === undefined ? Number.NaN : cpuMs(p)), 0);
      const { seconds, before, after } = await sendCtSeries({
        dir: path.join(root, `series-${name}-${run}`),
        count,
        description: `split ${name} ${run}`,
        to: m.ports.map((port) => ({ port, aet: m.aet })),
        sample: cpu,
      });
      const rate = count / seconds;
      const cpuPerInstance = (after - before) / count;
      if (run < 1) continue;
      best[name] = Math.max(best[name] ?? 0, rate);
      console.log(`run ${run} ${name.padEnd(4)} ${rate.toFixed(0)}/s${m.pids.length ? `  server CPU ${cpuPerInstance.toFixed(2)} ms/inst` : ''}`);
    }
  }
  console.log(
    `best: ${Object.entries(best)
      .map(([k, v]) => `${k} ${v.toFixed(0)}/s`)
      .join(', ')}; two/one ${(best.two / best.one).toFixed(2)}x`,
  );
} finally {
  await stopAllPeers();
  await removeTempDir(root);
}
