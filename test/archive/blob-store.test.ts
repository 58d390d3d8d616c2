import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileBlobStore, uidHash } from '../../src/archive/blob-store.js';
import { buildMetaHeader } from '../../src/dicom/part10.js';
import { listFiles, tempDir } from './helpers.js';

async function readStream(s: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('FileBlobStore', () => {
  let root: string;
  let store: FileBlobStore;
  beforeEach(async () => {
    root = tempDir('pacs-blobs-');
    store = await FileBlobStore.open(root, { flushBytes: 1024, highWaterBytes: 4096 });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('derives keys from the UID hash only: no attribute text, no traversal', () => {
    const uid = '../../etc/passwd';
    const key = store.newKey(uid);
    const h = uidHash(uid);
    expect(key).toMatch(new RegExp(`^${h.slice(0, 2)}/${h.slice(2, 4)}/${h}\\.[0-9a-f]{16}\\.dcm$`));
    expect(store.newKey(uid)).not.toBe(key); // every version its own file
    expect(() => store.path('../x.dcm')).toThrow(/not a blob key/);
    expect(() => store.open('/etc/passwd')).toThrow(/not a blob key/);
  });

  it('writes through the temp dir, persists, releases, reads back', async () => {
    const key = store.newKey('1.2.3');
    const w = store.begin(key);
    const data = Buffer.alloc(10_000, 7);
    for (let o = 0; o < data.length; o += 999) await w.write(data.subarray(o, o + 999));
    expect(existsSync(store.path(key))).toBe(false);
    await w.persist();
    expect(listFiles(root)).toEqual([key, `tmp/${key.slice(6)}`]);
    await w.release();
    expect(listFiles(root)).toEqual([key]);
    expect(await store.size(key)).toBe(10_000);
    expect((await readStream(store.open(key))).equals(data)).toBe(true);
    await store.delete(key);
    expect(await store.exists(key)).toBe(false);
    await store.delete(key); // idempotent
  });

  it('asks for backpressure beyond the high-water mark and drains', async () => {
    const w = store.begin(store.newKey('1.2.4'));
    const p = w.write(Buffer.alloc(10_000));
    expect(p).toBeInstanceOf(Promise);
    await p;
    expect(w.write(Buffer.alloc(10))).toBeUndefined();
    await w.persist();
    await w.release();
  });

  it('abort before and after persist leaves nothing', async () => {
    const a = store.begin(store.newKey('1.2.5'));
    await a.write(Buffer.alloc(5000));
    await a.abort();
    const b = store.begin(store.newKey('1.2.6'));
    await b.write(Buffer.alloc(50));
    await b.persist();
    await b.abort();
    expect(listFiles(root)).toEqual([]);
  });

  it('beginPart10: writes into a pre-created pool file (name durable before the store), dropped once released', async () => {
    const part10 = (uid: string) => Buffer.concat([
      buildMetaHeader({ sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: uid, transferSyntaxUid: '1.2.840.10008.1.2.1' }),
      Buffer.alloc(5000, 3),
    ]);
    const first = store.beginPart10('1.2.3.1'); // the pool is empty at first: a temp name of its own
    await first.write(part10('1.2.3.1'));
    await first.persist();
    await first.release();
    await store.idle(); // the pool is filled in the background meanwhile
    expect(listFiles(join(root, 'pool')).length).toBeGreaterThan(0);
    const w = store.beginPart10('1.2.3.2');
    const rand = /\.([0-9a-f]{16})\.dcm$/.exec(w.key)![1];
    expect(w.key.startsWith(`${uidHash('1.2.3.2').slice(0, 2)}/`)).toBe(true);
    await w.write(part10('1.2.3.2'));
    const { durable } = await w.persistEarly();
    await durable;
    expect(readFileSync(join(root, 'pool', `pool.${rand}.dcm`)).equals(part10('1.2.3.2'))).toBe(true);
    await w.release();
    await store.idle();
    expect(existsSync(join(root, 'pool', `pool.${rand}.dcm`))).toBe(false);
    expect(readFileSync(store.path(w.key)).equals(part10('1.2.3.2'))).toBe(true);
    expect(listFiles(join(root, 'tmp'))).toEqual([]);

    // An interrupted pooled store (final name linked, no row): the sweep finds the key from the meta header.
    const cut = store.beginPart10('1.2.3.3');
    await cut.write(part10('1.2.3.3'));
    await store.idle();
    expect(existsSync(store.path(cut.key))).toBe(true);
    const report = await store.sweep(async (k) => k === w.key || k === first.key);
    expect(report.removedFinalFiles).toBe(1);
    expect(existsSync(store.path(cut.key))).toBe(false);
    expect(listFiles(root)).toEqual([first.key, w.key].sort()); // unused pool files are gone too
  });

  it('sweep: removes stray temps and unreferenced finals, keeps referenced ones', async () => {
    // committed but temp not yet released
    const kept = store.newKey('1.1');
    const w1 = store.begin(kept);
    await w1.write(Buffer.from('kept'));
    await w1.persist();
    // linked but never committed (crash between link and index commit)
    const orphan = store.newKey('2.2');
    const w2 = store.begin(orphan);
    await w2.write(Buffer.from('orphan'));
    await w2.persist();
    // a replaced version left behind next to a committed new one of the same UID
    const oldVersion = store.newKey('1.1');
    mkdirSync(join(root, oldVersion.slice(0, 5)), { recursive: true });
    writeFileSync(join(root, oldVersion), 'old');
    // temp files of unfinished writes, and junk
    const w3 = store.begin(store.newKey('3.3'));
    await w3.write(Buffer.alloc(2000));
    writeFileSync(join(root, 'tmp', 'junk'), 'x');
    await store.idle(); // w3's final name is linked while it receives (begin()): the sweep removes it too
    const report = await store.sweep(async (k) => k === kept);
    expect(report).toEqual({ tempFiles: 4, removedFinalFiles: 3 });
    expect(listFiles(root)).toEqual([kept]);
    expect(readFileSync(store.path(kept), 'utf8')).toBe('kept');
  });
});
