// CPU A/B of two builds on the C-STORE receive path: both servers run at once (idle but
// one), each gets --warmup untimed series, then --rounds rounds in which each receives one
// series of --count CT images over --assoc associations, taking turns (the order flips
// every round). Printed per round: each build's CPU per instance (all threads, from /proc)
// and the difference, which drift on a shared machine disturbs less than either figure;
// at the end the median of each and of the paired differences, and the rates.
//
//   npx tsx bench/ingest-ab.ts --base-cmd "node /other/checkout/bin/pacs.js serve --data {data} --port {port} --aet {aet}"
//        [--cmd "node bin/pacs.js serve ..."] [--count 300] [--rounds 8] [--warmup 5] [--assoc 1] [--pause 0]
// --pause: seconds both servers stay idle before each measured series (a server idles
// between studies, and in bench/ingest while the other targets run).
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { SERVER_V8_FLAGS } from '../src/cli/v8-flags.js';
import { cpuMsSplit } from './cpu.js';
import { commandOf, sendCtSeries } from './ingest-series.js';
import { startPacs, stopAllPeers, type PacsPeer } from '../test/support/peers.js';
import { makeTempDir, removeTempDir } from '../test/support/tmp.js';

const { values } = parseArgs({
  options: {
    cmd: { type: 'string', default: `node ${SERVER_V8_FLAGS.join(' ')} bin/pacs.js serve --data {data} --port {port} --aet {aet}` },
    'base-cmd': { type: 'string' },
    count: { type: 'string', default: '300' },
    rounds: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '5' },
    assoc: { type: 'string', default: '1' },
    pause: { type: 'string', default: '0' },
  },
});
if (!values['base-cmd']) throw new Error('--base-cmd is required (the build to compare with)');
const count = Number(values.count);
const assoc = Number(values.assoc);

interface Sample {
  cpu: number;
  main: number;
  rate: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];

const root = await makeTempDir('pacs-ingest-ab-');
try {
  const start = (name: string, cmd: string): Promise<PacsPeer> => startPacs({ dir: path.join(root, name), ...commandOf(cmd) });
  const builds = { a: await start('a', values.cmd), b: await start('b', values['base-cmd']) };
  let seq = 0;
  const send = async (pacs: PacsPeer, pause = 0): Promise<Sample> => {
    seq++;
    if (pause > 0) await new Promise((r) => setTimeout(r, pause * 1000));
    const { seconds, before, after } = await sendCtSeries({
      dir: path.join(root, `series-${seq}`),
      count,
      description: `ab ${seq}`,
      to: Array.from({ length: assoc }, () => pacs),
      sample: () => cpuMsSplit(pacs.pid),
    });
    return { cpu: (after.main + after.others - before.main - before.others) / count, main: (after.main - before.main) / count, rate: count / seconds };
  };
  for (let w = 0; w < Number(values.warmup); w++) {
    await send(builds.a);
    await send(builds.b);
  }
  const a: Sample[] = [];
  const b: Sample[] = [];
  for (let r = 0; r < Number(values.rounds); r++) {
    const first = r % 2 === 0 ? 'a' : 'b';
    const pause = Number(values.pause);
    const sa = first === 'a' ? await send(builds.a, pause) : undefined;
    const sb = await send(builds.b, pause);
    const sa2 = sa ?? (await send(builds.a, pause));
    a.push(sa2);
    b.push(sb);
    console.log(
      `round ${r + 1}: a ${sa2.cpu.toFixed(2)} (main ${sa2.main.toFixed(2)}) ${sa2.rate.toFixed(0)}/s   b ${sb.cpu.toFixed(2)} (main ${sb.main.toFixed(2)}) ${sb.rate.toFixed(0)}/s   a-b ${(sa2.cpu - sb.cpu).toFixed(2)} ms/inst  load ${os.loadavg()[0].toFixed(1)}`,
    );
  }
  const diff = a.map((x, i) => x.cpu - b[i].cpu);
  const diffMain = a.map((x, i) => x.main - b[i].main);
  console.log(
    `median CPU ms/inst: a ${median(a.map((x) => x.cpu)).toFixed(2)} (main ${median(a.map((x) => x.main)).toFixed(2)}), b ${median(b.map((x) => x.cpu)).toFixed(2)} (main ${median(
      b.map((x) => x.main),
    ).toFixed(
      2,
    )}); paired a-b ${median(diff).toFixed(2)} (main ${median(diffMain).toFixed(2)}), a lower in ${diff.filter((d) => d < 0).length} of ${diff.length} rounds`,
  );
  console.log(
    `best rate: a ${Math.max(...a.map((x) => x.rate)).toFixed(0)}/s, b ${Math.max(...b.map((x) => x.rate)).toFixed(0)}/s (${assoc} association(s), ${count} per series)`,
  );
} finally {
  await stopAllPeers();
  await removeTempDir(root);
}
