import { readFileSync, rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { FileBlobStore } from '../../src/archive/file-blob-store.js';
import { RetainedCopies } from '../../src/archive/retained-copies.js';
import { SlabPool } from '../../src/archive/slab-queue.js';
import { tempDir } from './helpers.js';

function part10(bodyBytes: number, seed: number): Buffer {
  const body = Buffer.alloc(bodyBytes);
  for (let i = 0; i < body.length; i++) body[i] = (i * 31 + seed) & 0xff;
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), body]);
}

const joined = (views: readonly Buffer[]): Buffer => Buffer.concat(views);

describe('RetainedCopies', () => {
  /** A pool that records what it is given back. */
  function recordingPool(): { pool: SlabPool; given: Buffer[] } {
    const pool = new SlabPool(16, 100);
    const given: Buffer[] = [];
    const give = pool.give.bind(pool);
    pool.give = (slabs) => {
      given.push(...slabs);
      give(slabs);
    };
    return { pool, given };
  }
  const copy = (bytes: number) => {
    const slab = Buffer.alloc(bytes, bytes & 0xff);
    return { views: [slab], slabs: [slab], bytes };
  };

  it('keeps the newest copies up to the cap, oldest dropped first, and none larger than its limit', () => {
    const { pool, given } = recordingPool();
    const copies = new RetainedCopies(pool, 100, 40);
    copies.add('a', copy(40));
    copies.add('b', copy(40));
    expect(copies.bytes).toBe(80);
    copies.add('c', copy(30)); // 110 > 100: a goes
    expect(copies.borrow('a')).toBeUndefined();
    expect(given).toHaveLength(1);
    expect(copies.bytes).toBe(70);
    copies.add('d', copy(41)); // over maxCopyBytes: not kept, its slab back at once
    expect(copies.borrow('d')).toBeUndefined();
    expect(given).toHaveLength(2);
    const b = copies.borrow('b')!;
    expect(b.bytes).toBe(40);
    expect(joined(b.views).equals(Buffer.alloc(40, 40))).toBe(true);
    b.giveBack(true);
  });

  it('a copy dropped while borrowed goes back to the pool only when given back, and only if its reader allows', () => {
    const { pool, given } = recordingPool();
    const copies = new RetainedCopies(pool, 100);
    copies.add('a', copy(10));
    copies.add('b', copy(12));
    const a = copies.borrow('a')!;
    const b = copies.borrow('b')!;
    copies.drop('a');
    copies.drop('b');
    expect(given).toHaveLength(0); // still being read
    a.giveBack(true);
    a.giveBack(true); // once only
    expect(given).toHaveLength(1);
    b.giveBack(false); // a socket may still read it: left to the garbage collector
    expect(given).toHaveLength(1);
    expect(copies.bytes).toBe(0);
  });
});

describe('FileBlobStore keeping copies', () => {
  let root: string | undefined;
  afterEach(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it.each([false, true])("keeps each file's bytes as written; not a file aborted, too large or deleted (direct I/O %s)", async (directIo) => {
    root = tempDir('pacs-blobs-copies-');
    const store = await FileBlobStore.open(root, { directIo, poolSize: 2, keepCopiesBytes: 4 << 20 });
    expect(store.directIo).toBe(directIo);
    try {
      const keys: string[] = [];
      for (const [i, file] of [part10(3000, 1), part10(600_001, 2), part10(64 * 1024 - 132, 3), Buffer.alloc(70_000, 8)].entries()) {
        const w = store.begin();
        for (let at = 0; at < file.length; at += 7001) await w.write(file.subarray(at, at + 7001));
        await w.persist();
        await w.release();
        keys.push(w.key);
        const c = store.borrowCopy(w.key)!;
        expect(c.bytes, `file ${i}`).toBe(file.length);
        const bytes = joined(c.views);
        // The preamble holds the bytes received (the file's, its seal).
        expect(bytes.subarray(128).equals(file.subarray(128)), `file ${i}`).toBe(true);
        expect(bytes.subarray(128).equals(readFileSync(store.path(w.key)).subarray(128)), `file ${i}`).toBe(true);
        c.giveBack(true);
      }
      const aborted = store.begin();
      await aborted.write(part10(100_000, 4));
      await aborted.persist();
      await aborted.abort();
      expect(store.borrowCopy(aborted.key)).toBeUndefined();

      const large = store.begin();
      await large.write(part10((1 << 20) + 1, 5)); // over a quarter of the cap
      await large.persist();
      await large.release();
      expect(store.borrowCopy(large.key)).toBeUndefined();

      await store.delete(keys[1]);
      expect(store.borrowCopy(keys[1])).toBeUndefined();
      expect(store.borrowCopy(keys[0])).toBeDefined();
    } finally {
      await store.close();
    }
  });

  it('keeps nothing by default', async () => {
    for (const opts of [{ directIo: false }, { directIo: true }]) {
      root = tempDir('pacs-blobs-copies-');
      const store = await FileBlobStore.open(root, { poolSize: 2, ...opts });
      try {
        const w = store.begin();
        await w.write(part10(100_000, 1));
        await w.persist();
        await w.release();
        expect(store.borrowCopy(w.key)).toBeUndefined();
      } finally {
        await store.close();
        rmSync(root, { recursive: true, force: true });
      }
    }
  });
});
