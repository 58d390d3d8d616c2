// In-process A/B of the archive's store path (no network): N stores of a 512 KB instance
// through Archive.beginStore, one at a time (--concurrency 1) or several at once, for this
// checkout and another (--base), alternating rounds; prints wall ms and process CPU ms per
// instance for each.
//   npx tsx bench/ingest-inproc.ts --base /work/main [--n 200] [--rounds 3] [--concurrency 1]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    n: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '1' },
  },
});
const N = Number(values.n);
const conc = Number(values.concurrency);
type Helpers = typeof import('../test/archive/helpers.js');
type ArchiveMod = typeof import('../src/archive/archive.js');
async function load(root: string): Promise<{ h: Helpers; a: ArchiveMod }> {
  const u = (p: string) => new URL(`file://${path.resolve(root, p)}`).href;
  return { h: (await import(u('test/archive/helpers.ts'))) as Helpers, a: (await import(u('src/archive/archive.ts'))) as ArchiveMod };
}
const builds = { this: await load('.'), ...(values.base ? { base: await load(values.base) } : {}) };
let seq = 0;
async function round(name: string, b: { h: Helpers; a: ArchiveMod }): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pacs-inproc-'));
  const archive = await b.a.Archive.open({ dataDir: dir });
  try {
    const items = Array.from({ length: N }, () => ({ sopInstanceUid: `1.2.3.99.${++seq}`, instanceNumber: seq, pixelBytes: 512 * 1024 }));
    const bytes = items.map((t) => b.h.chunked(b.h.datasetBytes(t), [65536]));
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: conc }, async () => {
        while (next < N) {
          const i = next++;
          const sink = archive.beginStore(b.h.storeRequest(items[i]));
          for (const c of bytes[i]) await sink.write(c);
          await sink.end();
        }
      }),
    );
    const wall = (performance.now() - t0) / N;
    const c = process.cpuUsage(c0);
    const stats = (archive as unknown as { committer: { stats: { batches: number; items: number } } }).committer.stats;
    console.log(
      `${name.padEnd(5)} wall ${wall.toFixed(3)} ms/inst  CPU ${((c.user + c.system) / 1000 / N).toFixed(3)} ms/inst  ${(stats.items / stats.batches).toFixed(2)} rows/commit  load ${os.loadavg()[0].toFixed(1)}`,
    );
  } finally {
    await archive.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
for (let r = 0; r < Number(values.rounds); r++) for (const [name, b] of Object.entries(builds)) await round(name, b);
