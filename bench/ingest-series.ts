// What the ingest benches share: a `pacs serve` command line as a peer's command, a
// series' files split over associations, the order of targets in a run, and one new CT
// series sent and timed.
import * as path from 'node:path';
import { writeCtSeries } from '../scripts/gen-test-data.js';
import { runDcmtk, storescu } from '../test/support/peers.js';
import { setAside } from './set-aside.js';

/** A command line ("node bin/pacs.js serve --data {data} ...") as startPacs takes it; `node` is this Node. */
export function commandOf(cmd: string): { command: string; args: string[] } {
  const [first, ...args] = cmd.split(/\s+/).filter(Boolean);
  return { command: first === 'node' ? process.execPath : first, args };
}

/**
 * The order of the targets in run `run` (from 1): turned left by run - 1 places, and
 * backwards in even runs, so that none always comes first or always follows the same one
 * ([a, b, c], then [a, c, b], then [c, a, b]).
 */
export function runOrder<T>(items: readonly T[], run: number): T[] {
  const k = items.length === 0 ? 0 : (run - 1) % items.length;
  const turned = [...items.slice(k), ...items.slice(0, k)];
  return run % 2 === 0 ? turned.reverse() : turned;
}

/** `items` in `parts` contiguous runs (the last may be shorter). */
export function split<T>(items: T[], parts: number): T[][] {
  const out: T[][] = [];
  const size = Math.ceil(items.length / parts);
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export interface SentSeries<S> {
  seconds: number;
  /** CLOCK_MONOTONIC microseconds at the start and end (what a V8 CPU profile's clock reads). */
  window: [number, number];
  /** `sample()` right before the first storescu started and right after the last ended. */
  before: S;
  after: S;
}

/**
 * A CT series of `count` 512 x 512 images with new UIDs, written to `dir` and flushed to
 * disk, then sent by one storescu association per entry of `to` (the files split among
 * them) at once; throws if any storescu fails. The series is removed afterwards.
 */
export async function sendCtSeries<S>(o: {
  dir: string;
  count: number;
  description: string;
  to: ReadonlyArray<{ port: number; aet: string }>;
  sample: () => S;
}): Promise<SentSeries<S>> {
  const series = await writeCtSeries({ dir: o.dir, count: o.count, rows: 512, cols: 512, seriesDescription: o.description });
  // Flush the series' dirty pages (and the last run's received files) before the clock starts.
  await runDcmtk('sync', []);
  const parts = split(series.files, o.to.length);
  const before = o.sample();
  const t0 = process.hrtime.bigint();
  const results = await Promise.all(
    parts.map((files, i) => storescu({ port: o.to[i].port, calledAet: o.to[i].aet, callingAet: 'BENCH', files, timeoutMs: 600_000 })),
  );
  const t1 = process.hrtime.bigint();
  const after = o.sample();
  if (results.some((r) => r.code !== 0)) throw new Error(`storescu failed (${path.basename(o.dir)}): ${results.map((r) => r.stderr).join('\n')}`);
  setAside(o.dir);
  return { seconds: Number(t1 - t0) / 1e9, window: [Number(t0 / 1000n), Number(t1 / 1000n)], before, after };
}
