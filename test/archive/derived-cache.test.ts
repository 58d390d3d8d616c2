/**
 * The archive's thumbnail cache (src/archive/derived-cache.ts) on a real Archive: least
 * recently used out at the byte cap, the order kept across a restart (rebuilt from the
 * directory), and the variants of a file removed on every deletion path: deleteInstance,
 * a duplicate replaced at ingest, a row gone while the archive was closed (a crash between
 * row and thumbnails), the layout of earlier versions.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Archive, type ArchiveOptions } from '../../src/archive/archive.js';
import { SqliteIndex } from '../../src/archive/sqlite-index.js';
import { datasetBytes, storeRequest } from './helpers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

let dataDir: string;
let archive: Archive;

async function open(over: Partial<ArchiveOptions> = {}): Promise<Archive> {
  return Archive.open({ dataDir, ...over });
}

async function store(a: Archive, uid: string): Promise<string> {
  const sink = a.beginStore(storeRequest({ sopInstanceUid: uid }));
  await sink.write(datasetBytes({ sopInstanceUid: uid }));
  await sink.end();
  return (await a.index.getInstance(uid))!.fileKey;
}

/** The .bin files of the cache, as paths relative to thumbnails/. */
function cached(): string[] {
  const root = join(dataDir, 'thumbnails');
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.bin'))
    .sort();
}

const bytes = (n: number, fill: number) => Buffer.alloc(n, fill);
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
/** The documented layout: thumbnails/<h[0..2]>/<h>/<sha256(variant)>.bin, h = sha256(blob key). */
const dirOf = (fileKey: string) => join(dataDir, 'thumbnails', sha256(fileKey).slice(0, 2), sha256(fileKey));
const variantFile = (fileKey: string, variant: string) => join(dirOf(fileKey), `${sha256(variant)}.bin`);

beforeEach(async () => {
  dataDir = await makeTempDir('pacs-derived-');
  archive = await open({ thumbnailCacheBytes: 3000 });
});

afterEach(async () => {
  await archive?.close();
  await removeTempDirs();
});

describe('the thumbnail cache', () => {
  it('drops the least recently used variants at its cap', async () => {
    const key = await store(archive, '1.2.3.1');
    const t = archive.thumbnails;
    await t.put(key, 'a', bytes(1000, 1));
    await t.put(key, 'b', bytes(1000, 2));
    await t.put(key, 'c', bytes(1000, 3));
    expect((await t.get(key, 'a'))?.[0]).toBe(1); // a used: b is now the least recent
    await t.put(key, 'd', bytes(1000, 4));
    expect(t.totalBytes).toBe(3000);
    expect(await t.get(key, 'b')).toBeUndefined();
    for (const [v, fill] of [
      ['a', 1],
      ['c', 3],
      ['d', 4],
    ] as const)
      expect((await t.get(key, v))?.[0]).toBe(fill);
    expect(cached()).toHaveLength(3);
    // A variant larger than the whole cap is not kept.
    await t.put(key, 'huge', bytes(4000, 5));
    expect(await t.get(key, 'huge')).toBeUndefined();
  });

  it('rebuilds its bookkeeping from the directory at start, in last-use order (mtime)', async () => {
    const key = await store(archive, '1.2.3.2');
    for (const v of ['a', 'b', 'c']) await archive.thumbnails.put(key, v, bytes(1000, 7));
    await archive.close();
    // Last use is the file's mtime (a hit sets it): b used longest ago, then c, then a.
    const at = (s: number) => new Date(Date.UTC(2024, 0, 1, 0, 0, s));
    utimesSync(variantFile(key, 'b'), at(1), at(1));
    utimesSync(variantFile(key, 'c'), at(2), at(2));
    utimesSync(variantFile(key, 'a'), at(3), at(3));
    archive = await open({ thumbnailCacheBytes: 2000 });
    expect(archive.thumbnails.count).toBe(2);
    expect(existsSync(variantFile(key, 'b'))).toBe(false);
    expect(await archive.thumbnails.get(key, 'b')).toBeUndefined();
    expect(await archive.thumbnails.get(key, 'c')).toBeDefined();
    expect(await archive.thumbnails.get(key, 'a')).toBeDefined();
  });

  it('goes with its instance: deleteInstance, a replaced duplicate, a row gone while closed; the old layout is dropped', async () => {
    const deleted = await store(archive, '1.2.3.3');
    await archive.thumbnails.put(deleted, 'v', bytes(10, 1));
    expect(existsSync(variantFile(deleted, 'v'))).toBe(true);
    expect(await archive.deleteInstance('1.2.3.3')).toBe(true);
    expect(existsSync(dirOf(deleted))).toBe(false);

    await archive.close();
    archive = await open({ duplicatePolicy: 'replace' });
    const first = await store(archive, '1.2.3.4');
    await archive.thumbnails.put(first, 'v', bytes(10, 1));
    const second = await store(archive, '1.2.3.4');
    expect(second).not.toBe(first);
    await archive.idle();
    expect(existsSync(dirOf(first)), "the replaced version's thumbnails").toBe(false);

    // Row deleted behind the archive's back (as if it crashed after the index commit), and a file of the old layout.
    await archive.thumbnails.put(second, 'v', bytes(10, 1));
    await archive.close();
    const index = await SqliteIndex.open(join(dataDir, 'index.sqlite'));
    await index.deleteInstance('1.2.3.4');
    await index.close();
    mkdirSync(join(dataDir, 'thumbnails', 'ab'), { recursive: true });
    writeFileSync(join(dataDir, 'thumbnails', 'ab', `${'ab'.repeat(32)}.bin`), 'old');
    archive = await open();
    expect(existsSync(dirOf(second))).toBe(false);
    expect(cached()).toEqual([]);
    expect(archive.thumbnails.count).toBe(0);
  });

  it('does not keep a thumbnail put after its instance was deleted', async () => {
    const key = await store(archive, '1.2.3.5');
    expect(await archive.deleteInstance('1.2.3.5')).toBe(true);
    await archive.thumbnails.put(key, 'late', bytes(10, 1)); // rendered from the file before it went
    expect(existsSync(dirOf(key))).toBe(false);
    expect(archive.thumbnails.count).toBe(0);
  });
});
