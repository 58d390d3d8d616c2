import {
  constants,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeSeal } from '../../src/archive/blob-seal.js';
import { FileBlobStore } from '../../src/archive/file-blob-store.js';
import { listFiles, tempDir } from './helpers.js';
import { until } from '../support/until.js';

async function readStream(s: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

const KEY = /^s\/[0-9]{8}\/[0-9a-f]{12}\/[0-9a-f]{16}\.dcm$/;

/** The file at `path` holds `file`'s bytes after the preamble, sealed with its size and CRC-32. */
function expectSealed(path: string, file: Buffer): void {
  const stored = readFileSync(path);
  expect(stored.length).toBe(file.length);
  expect(stored.subarray(128).equals(file.subarray(128))).toBe(true);
  expect(decodeSeal(stored)).toMatchObject({ size: file.length, bodyCrc32: crc32(file.subarray(128)) });
}

/** Non-empty files under `s/` (unused pool files are empty). */
function written(root: string): string[] {
  return listFiles(join(root, 's'))
    .filter((f) => statSync(join(root, 's', f)).size > 0)
    .map((f) => `s/${f}`);
}

describe('FileBlobStore', () => {
  let root: string;
  let store: FileBlobStore;
  beforeEach(async () => {
    root = tempDir('pacs-blobs-');
    store = await FileBlobStore.open(root, { flushBytes: 1024, highWaterBytes: 4096, poolSize: 4, batchFiles: 6 });
  });
  afterEach(async () => {
    await store.close(); // again where a test closed it: a no-op; its kept directory handles closed, not left to GC
    rmSync(root, { recursive: true, force: true });
  });

  it('chooses keys itself (batch directory, random name): no attribute text, no traversal', () => {
    const a = store.begin();
    const b = store.begin();
    expect(a.key).toMatch(KEY);
    expect(b.key).not.toBe(a.key);
    expect(() => store.path('../x.dcm')).toThrow(/not a blob key/);
    expect(() => store.path('s/20260101/000000000000/../../x.dcm')).toThrow(/not a blob key/);
    expect(() => store.open('/etc/passwd')).toThrow(/not a blob key/);
    // The layout before batches is still read.
    expect(store.path(`ab/cd/${'e'.repeat(64)}.${'0'.repeat(16)}.dcm`)).toBe(join(root, 'ab', 'cd', `${'e'.repeat(64)}.${'0'.repeat(16)}.dcm`));
    return Promise.all([a.abort(), b.abort()]);
  });

  it('writes under the final name, persists, releases, reads back', async () => {
    const w = store.begin();
    const data = Buffer.alloc(10_000, 7);
    for (let o = 0; o < data.length; o += 999) await w.write(data.subarray(o, o + 999));
    await w.persist();
    await w.release();
    expect(written(root)).toEqual([w.key]);
    expect(await store.size(w.key)).toBe(10_000);
    expect((await readStream(store.open(w.key))).equals(data)).toBe(true);
    await store.delete(w.key);
    expect(await store.exists(w.key)).toBe(false);
    await store.delete(w.key); // idempotent
  });

  it('asks for backpressure beyond the high-water mark and drains', async () => {
    const w = store.begin();
    const p = w.write(Buffer.alloc(10_000));
    expect(p).toBeInstanceOf(Promise);
    await p;
    expect(w.write(Buffer.alloc(10))).toBeUndefined();
    await w.persist();
    await w.release();
  });

  it('abort before and after persist leaves nothing', async () => {
    const a = store.begin();
    await a.write(Buffer.alloc(5000));
    await a.abort();
    const b = store.begin();
    await b.write(Buffer.alloc(50));
    await b.persist();
    await b.abort();
    expect(written(root)).toEqual([]);
    await store.close();
    expect(listFiles(root)).toEqual([]); // unused pool files and batch markers gone too
  });

  it('closes every file it opened: stored, aborted and unused pool files', async () => {
    // Open descriptors of this store's instance files (directories stay open for fsync).
    const openFiles = (): number =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return /\.dcm$/.test(readlinkSync(`/proc/self/fd/${fd}`)) && readlinkSync(`/proc/self/fd/${fd}`).startsWith(root);
        } catch {
          return false;
        }
      }).length;
    for (let i = 0; i < 20; i++) {
      const w = store.begin();
      await w.write(Buffer.alloc(3000, i));
      if (i % 3 === 0) {
        await w.abort();
      } else {
        await w.persist();
        await w.release();
      }
    }
    await store.idle();
    expect(openFiles()).toBeLessThanOrEqual(4); // the pool only
    await store.close();
    expect(openFiles()).toBe(0);
  });

  it('pool files are created ahead in the open batch; a full batch is sealed once its files are settled', async () => {
    const first = store.begin(); // the pool is empty at first: a file of its own
    await first.write(Buffer.from('one'));
    await first.persist();
    await first.release();
    await store.idle(); // the pool is filled in the background meanwhile
    const batchDir = join(root, first.key.slice(0, first.key.lastIndexOf('/')));
    expect(readdirSync(batchDir).length).toBe(5); // the first file and 4 pool files
    expect(readdirSync(join(root, 'open'))).toHaveLength(1);
    // Use up the batch (6 files) and more: a second batch opens, the first is sealed.
    const keys = [first.key];
    for (let i = 0; i < 6; i++) {
      await store.idle(); // the pool refilled: every store takes a pool file, in creation order
      const w = store.begin();
      await w.write(Buffer.from(`n${i}`));
      const { durable } = await w.persistEarly();
      await durable;
      await w.release();
      keys.push(w.key);
    }
    await store.idle();
    expect(new Set(keys.map((k) => k.slice(0, k.lastIndexOf('/')))).size).toBe(2);
    expect(readdirSync(join(root, 'open'))).toHaveLength(1); // only the current batch is open
    await store.close();
    expect(readdirSync(join(root, 'open'))).toEqual([]);
    expect(written(root).sort()).toEqual([...keys].sort());
    expect(listFiles(join(root, 's'))).toHaveLength(keys.length);
  });

  it('sweep: in open batches, files without a row or not matching their row go; rows that do not match are dropped', async () => {
    const kept = store.begin();
    await kept.write(Buffer.from('kept'));
    await kept.persist();
    await kept.release();
    const orphan = store.begin(); // written, never committed
    await orphan.write(Buffer.from('orphan'));
    await orphan.persist();
    const cut = store.begin(); // committed while its data was on its way, then a power cut halved it
    await cut.write(Buffer.alloc(4000, 9));
    await cut.persist();
    const cutCheck = { size: cut.bytes, crc32: cut.crc32 };
    truncateSync(store.path(cut.key), 2000);
    await store.idle();
    const rows = new Set([kept.key, cut.key]);
    const dropped: string[] = [];
    const report = await store.sweep(async (k) => rows.has(k), {
      expected: async (k) => (k === cut.key ? cutCheck : k === kept.key ? { size: 4, crc32: kept.crc32 } : undefined),
      keysEndingWith: async () => [],
      dropRow: async (k) => {
        rows.delete(k);
        dropped.push(k);
      },
    });
    expect(dropped).toEqual([cut.key]);
    expect(report).toEqual({ tempFiles: 2, removedFinalFiles: 0, droppedRows: 1 });
    expect(listFiles(join(root, 's'))).toEqual([kept.key.slice(2)]); // unused pool files gone too
    expect(readdirSync(join(root, 'open'))).toEqual([]);
    expect(readFileSync(store.path(kept.key), 'utf8')).toBe('kept');
  });

  it('sweep: a sealed, whole Part 10 file without a row is handed back to the index; a damaged one is deleted', async () => {
    const part10 = (fill: number) => Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), Buffer.alloc(3000, fill)]);
    const whole = store.begin();
    await whole.write(part10(1));
    await whole.persist();
    const torn = store.begin();
    await torn.write(part10(2));
    await torn.persist();
    const refused = store.begin();
    await refused.write(part10(3));
    await refused.persist();
    await store.idle();
    // The seal: size and the CRC-32 of the bytes after the preamble (the row's CRC-32 as well).
    expect(decodeSeal(readFileSync(store.path(whole.key)))).toEqual({ size: 3132, bodyCrc32: whole.crc32 });
    expect(whole.crc32).toBe(crc32(part10(1).subarray(128)));
    // A block of data lost in a power cut: the seal no longer matches the bytes.
    const fd = openSync(store.path(torn.key), 'r+');
    writeSync(fd, Buffer.alloc(512), 0, 512, 1024);
    closeSync(fd);
    const asked: string[] = [];
    const report = await store.sweep(async () => false, {
      expected: async () => undefined,
      keysEndingWith: async () => [],
      dropRow: async () => undefined,
      recover: async (k) => {
        asked.push(k);
        return k === whole.key; // the index refuses `refused` (a duplicate, say)
      },
    });
    expect(asked.sort()).toEqual([whole.key, refused.key].sort());
    expect(report).toEqual({ tempFiles: 2, removedFinalFiles: 0, reindexed: 1 });
    expect(listFiles(join(root, 's'))).toEqual([whole.key.slice(2)]);
    expect(readdirSync(join(root, 'open'))).toEqual([]);
  });

  it('seals only Part 10 files, after every byte is written, and not before', async () => {
    const w = store.begin();
    await w.write(Buffer.concat([Buffer.alloc(128), Buffer.from('DICM')]));
    await w.write(Buffer.alloc(5000, 4));
    const before = Buffer.alloc(128);
    await store.idle();
    expect(decodeSeal(before)).toBeUndefined();
    await w.persist();
    expect(decodeSeal(readFileSync(store.path(w.key)))?.size).toBe(5132);
    await w.release();
    const other = store.begin();
    await other.write(Buffer.alloc(300, 5));
    await other.persist();
    await other.release();
    expect(readFileSync(store.path(other.key)).equals(Buffer.alloc(300, 5))).toBe(true); // kept as written
  });

  it('writes what is queued at persist (on the event loop) after the bytes written in the pool, in order, then seals', async () => {
    const w = store.begin();
    const body = Buffer.alloc(3001);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 0xff;
    const file = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), body]);
    // Of the first 2632 bytes, two whole slabs (2 x flushBytes) are written in the pool; the
    // rest of them and the last 501 bytes stay queued until persist() writes them.
    await w.write(file.subarray(0, 2632));
    while (!existsSync(store.path(w.key)) || statSync(store.path(w.key)).size < 2048) await new Promise((r) => setImmediate(r));
    expect(statSync(store.path(w.key)).size).toBe(2048);
    await w.write(file.subarray(2632));
    await w.persist();
    await w.release();
    expectSealed(store.path(w.key), file);

    // persist() while a pool write is in flight and more than flushBytes are queued behind it
    // (a socket delivers faster than the pool writes): the flush stops after its write, and
    // persist() writes the rest after it.
    const v = store.begin();
    void v.write(file.subarray(0, 1500));
    void v.write(file.subarray(1500));
    await v.persist();
    await v.release();
    const second = readFileSync(store.path(v.key));
    expect(second.subarray(128).equals(file.subarray(128))).toBe(true);
    expect(decodeSeal(second)).toMatchObject({ size: file.length, bodyCrc32: crc32(file.subarray(128)) });
  });

  it('sweep of the layout before batches: a committed temp is linked back, stray temps and unreferenced finals go', async () => {
    const h = 'a'.repeat(64);
    const kept = `aa/aa/${h}.${'1'.repeat(16)}.dcm`;
    const old = `aa/aa/${h}.${'2'.repeat(16)}.dcm`;
    mkdirSync(join(root, 'tmp'), { recursive: true });
    mkdirSync(join(root, 'aa', 'aa'), { recursive: true });
    writeFileSync(join(root, 'tmp', `${h}.${'1'.repeat(16)}.dcm`), 'kept'); // committed, final name lost
    writeFileSync(join(root, old), 'old'); // an unreferenced older version of the same UID
    writeFileSync(join(root, 'tmp', 'junk'), 'x');
    const report = await store.sweep(async (k) => k === kept);
    expect(report).toEqual({ tempFiles: 2, removedFinalFiles: 1, restoredFiles: 1 });
    expect(existsSync(join(root, old))).toBe(false);
    expect(readFileSync(store.path(kept), 'utf8')).toBe('kept');
    expect(listFiles(join(root, 'tmp'))).toEqual([]);
  });
});

describe('FileBlobStore with direct I/O', () => {
  let root: string;
  let store: FileBlobStore;
  beforeEach(async () => {
    root = tempDir('pacs-blobs-direct-');
    store = await FileBlobStore.open(root, { directIo: true, poolSize: 2 });
  });
  afterEach(async () => {
    await store.close();
    rmSync(root, { recursive: true, force: true });
  });

  /** The open descriptors of this process on `path`, with their open flags (octal, /proc/self/fdinfo). */
  function flagsOf(path: string): number[] {
    return readdirSync('/proc/self/fd')
      .filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === path;
        } catch {
          return false;
        }
      })
      .map((fd) => parseInt(/^flags:\s+([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'))![1], 8));
  }

  function part10(bodyBytes: number, seed: number): Buffer {
    const body = Buffer.alloc(bodyBytes);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31 + seed) & 0xff;
    return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), body]);
  }

  it('writes through O_DIRECT, and every size comes back byte for byte, Part 10 files sealed', async () => {
    const cases = [
      part10(3000, 1),
      part10(4096 - 132, 2),
      part10(5000, 3),
      part10(64 * 1024 - 132, 4),
      part10(600_001, 5),
      Buffer.alloc(300, 9),
      Buffer.alloc(70_000, 8),
    ];
    for (const file of cases) {
      const w = store.begin();
      // Chunks of an odd size, as a socket delivers them.
      for (let at = 0; at < file.length; at += 7001) await w.write(file.subarray(at, at + 7001));
      const path = store.path(w.key);
      if (file.length > 70_000) {
        expect(flagsOf(path).some((f) => (f & constants.O_DIRECT) !== 0)).toBe(true);
        // Written while the data arrives, the first block unsealed: persist() writes it again, sealed.
        await until('the writes while the data arrives', async () => statSync(path).size >= 512 * 1024);
        const early = readFileSync(path);
        expect(early.subarray(128, 64 * 1024).equals(file.subarray(128, 64 * 1024))).toBe(true);
        expect(decodeSeal(early)).toBeUndefined();
      }
      await w.persist();
      await w.release();
      const stored = readFileSync(path);
      expect(stored.length).toBe(file.length);
      const isPart10 = file.toString('latin1', 128, 132) === 'DICM';
      if (isPart10) {
        expect(stored.subarray(128).equals(file.subarray(128))).toBe(true);
        expect(decodeSeal(stored)).toMatchObject({ size: file.length, bodyCrc32: crc32(file.subarray(128)) });
      } else {
        expect(stored.equals(file)).toBe(true);
      }
    }
    await store.idle();
    // A pool file is open twice, with O_DIRECT and without (persist()'s page-cache writes);
    // the stored ones are closed.
    const w = store.begin();
    expect(
      flagsOf(store.path(w.key))
        .map((f) => (f & constants.O_DIRECT) !== 0)
        .sort(),
    ).toEqual([false, true]);
    await w.abort();
  });

  it('closes both descriptors of every file (stored, aborted, left to the sweep, unused pool files) and, at close, every directory it kept open', async () => {
    const fdsUnderRoot = (): string[] =>
      readdirSync('/proc/self/fd').flatMap((fd) => {
        try {
          const target = readlinkSync(`/proc/self/fd/${fd}`);
          return target.startsWith(root) ? [target] : [];
        } catch {
          return [];
        }
      });
    const dcmFds = (): number => fdsUnderRoot().filter((t) => t.endsWith('.dcm')).length;
    for (let i = 0; i < 12; i++) {
      const w = store.begin();
      await w.write(part10(70_000 + i * 1001, i));
      if (i % 4 === 0) {
        await w.abort();
      } else if (i % 4 === 1) {
        await w.persist();
        await w.leave();
      } else {
        await w.persist();
        await w.release();
      }
    }
    await store.idle();
    expect(dcmFds()).toBeLessThanOrEqual(4); // the pool only (2 files, 2 descriptors each)
    await store.close();
    // The batch of the files left to the sweep stays open (unsealed): its directory's handle is closed all the same.
    expect(fdsUnderRoot()).toEqual([]);
  });

  it('several direct writes in flight at once each land at their own offset', async () => {
    const file = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), randomBytes(5 * 1024 * 1024 + 4321)]);
    const w = store.begin();
    // Large chunks, not waited for unless asked to: several slabs fill before any write ends.
    for (let at = 0; at < file.length; at += 300_007) await w.write(file.subarray(at, at + 300_007));
    await w.persist();
    await w.release();
    expectSealed(store.path(w.key), file);
  });

  it('an abort leaves nothing; a store that cannot write directly says why', async () => {
    const w = store.begin();
    await w.write(part10(200_000, 7));
    await w.abort();
    await store.idle();
    expect(written(root)).toEqual([]);
    await expect(FileBlobStore.open(tempDir('pacs-blobs-direct-'), { directIo: true, flushBytes: 1000 })).rejects.toThrow(
      /flushBytes 1000 is not a multiple of 4096/,
    );
  });
});
