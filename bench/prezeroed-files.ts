// Would files written with zeros ahead of time make a store's durable write cheaper? Each
// instance is written with direct I/O (as the blob store writes) and fdatasync'ed, by
// --writers loops at once, each into its own file, two ways:
//   new        a new file: the write allocates blocks and grows the file, so the fdatasync
//              commits the file system's journal as well as flushing the data
//   prezeroed  a file of --capacity bytes written with zeros and made durable beforehand
//              (untimed, then a pause for the journal's own commit): the write only overwrites
//              blocks, and the fdatasync has no metadata to commit; then the file is cut
//              back to the instance's size (ftruncate: timed apart, readers must not see the
//              zeros), as a store using such files would have to before its row is visible.
// Prints the median of each step in ms and files per second per way (issue 16, thirteenth
// round: the answer on these machines was no, docs/design-as-built.md).
//
//   npx tsx bench/prezeroed-files.ts [--dir /tmp] [--files 100] [--bytes 526336] [--capacity 1048576] [--writers 1] [--rounds 2]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { DIRECT_IO_ALIGN, SlabPool } from '../src/archive/slab-queue.js';

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: '/tmp' },
    files: { type: 'string', default: '100' },
    bytes: { type: 'string', default: '526336' },
    capacity: { type: 'string', default: String(1 << 20) },
    writers: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '2' },
  },
});
const files = Number(values.files);
const bytes = Number(values.bytes);
const capacity = Number(values.capacity);
const writers = Number(values.writers);
const padded = Math.ceil(bytes / DIRECT_IO_ALIGN) * DIRECT_IO_ALIGN;
if (padded > capacity) throw new Error(`--bytes ${bytes} does not fit --capacity ${capacity}`);

const DIRECT = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_DIRECT;
// Direct I/O reads from aligned memory: the slab pool's.
const zeros = new SlabPool(capacity, 0, true).take().fill(0);
const data = new SlabPool(capacity, 0, true).take();
for (let i = 0; i < padded; i++) data[i] = (i * 31) & 255;

const write = (fd: number, buf: Buffer, n: number): Promise<void> =>
  new Promise((resolve, reject) => fs.write(fd, buf, 0, n, 0, (e) => (e ? reject(e) : resolve())));
const datasync = (fd: number): Promise<void> => new Promise((resolve, reject) => fs.fdatasync(fd, (e) => (e ? reject(e) : resolve())));
const truncate = (fd: number): Promise<void> => new Promise((resolve, reject) => fs.ftruncate(fd, bytes, (e) => (e ? reject(e) : resolve())));
const median = (a: number[]): string => [...a].sort((x, y) => x - y)[a.length >> 1].toFixed(3);

/** Runs `step(i)` for every file by `writers` loops at once; returns files per second. */
async function timed(step: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const loop = async (): Promise<void> => {
    for (let i = next++; i < files; i = next++) await step(i);
  };
  const t = performance.now();
  await Promise.all(Array.from({ length: writers }, loop));
  return (files * 1000) / (performance.now() - t);
}

const work = fs.mkdtempSync(path.join(values.dir, 'prezeroed-'));
try {
  for (let round = 1; round <= Number(values.rounds); round++) {
    const fds: number[] = [];
    for (let i = 0; i < files; i++) {
      const fd = fs.openSync(path.join(work, `z${round}-${i}`), DIRECT, 0o600);
      await write(fd, zeros, capacity);
      await datasync(fd);
      fds.push(fd);
    }
    await new Promise((resolve) => setTimeout(resolve, 6000)); // the journal's periodic commit (5 s)
    const zw: number[] = [];
    const zs: number[] = [];
    const zt: number[] = [];
    const zRate = await timed(async (i) => {
      const a = performance.now();
      await write(fds[i], data, padded);
      const b = performance.now();
      await datasync(fds[i]);
      const c = performance.now();
      await truncate(fds[i]);
      zt.push(performance.now() - c);
      zs.push(c - b);
      zw.push(b - a);
      fs.closeSync(fds[i]);
    });
    const nw: number[] = [];
    const ns: number[] = [];
    // Created ahead, as the store's pool creates its files.
    const nfds = Array.from({ length: files }, (_, i) => fs.openSync(path.join(work, `n${round}-${i}`), DIRECT, 0o600));
    const nRate = await timed(async (i) => {
      const fd = nfds[i];
      const a = performance.now();
      await write(fd, data, padded);
      const b = performance.now();
      await datasync(fd);
      ns.push(performance.now() - b);
      nw.push(b - a);
      fs.closeSync(fd);
    });
    console.log(`round ${round}, ${writers} writer(s), ${bytes} bytes:`);
    console.log(`  new        write ${median(nw)}  fdatasync ${median(ns)}                  ${nRate.toFixed(0)} files/s`);
    console.log(`  prezeroed  write ${median(zw)}  fdatasync ${median(zs)}  ftruncate ${median(zt)}  ${zRate.toFixed(0)} files/s`);
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
