/**
 * Files derived from stored files (rendered thumbnails), kept on disk to be answered again
 * without decoding. Layout under `root` (the archive's `thumbnails/`):
 *
 *   <h[0..2]>/<h>/key          the blob key, so that the start-up check can ask the index
 *   <h[0..2]>/<h>/<v>.bin      one variant
 *
 * h = SHA-256 of the blob key, v = SHA-256 of the variant text (normalized parameters
 * built by the caller, never raw request text): no attribute or request text in a path,
 * and one directory per stored file, so that all variants of a file go together. The
 * archive removes that directory on every deletion path (deleteInstance, a replaced
 * duplicate, the start-up sweep). A put checks after its rename that the file is still
 * stored (the index row goes before the directory), so a thumbnail rendered while its
 * instance was being deleted does not stay behind; at start every directory whose key is
 * no longer stored is removed (a crash between the two).
 *
 * Bounded by total bytes (`maxBytes`, read at every put: a changed setting applies at
 * once), least recently used first out. The bookkeeping (size, last use) lives in memory
 * and is rebuilt from the directory at start; last use is the file's mtime, set on every
 * hit, so the order survives a restart.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, rmdir, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';

export const DEFAULT_DERIVED_CACHE_BYTES = 256 * 1024 * 1024;

export interface DerivedCacheOptions {
  maxBytes: () => number;
  /** Whether a blob key is still stored (the index). */
  stillStored: (fileKey: string) => Promise<boolean>;
  logger?: Logger;
  /** What the start-up check's log line says it removed (default 'thumbnails of instances no longer stored'). */
  what?: string;
}

interface Entry {
  dir: string;
  size: number;
}

const HEX64 = /^[0-9a-f]{64}$/;
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

export class DerivedCache {
  /** Variant file path -> entry, in last-use order (least recent first). */
  private readonly entries = new Map<string, Entry>();
  /** Directory (per stored file) -> its variant file paths. */
  private readonly dirs = new Map<string, Set<string>>();
  private bytes = 0;

  private constructor(
    readonly root: string,
    private readonly o: DerivedCacheOptions,
  ) {}

  /** Opens the cache: rebuilds the bookkeeping from the directory, drops what is no longer stored, evicts down to the cap. */
  static async open(root: string, o: DerivedCacheOptions): Promise<DerivedCache> {
    const cache = new DerivedCache(root, o);
    await mkdir(root, { recursive: true, mode: 0o700 });
    await cache.rebuild();
    await cache.evict();
    return cache;
  }

  get totalBytes(): number {
    return this.bytes;
  }

  get count(): number {
    return this.entries.size;
  }

  private dirOf(fileKey: string): string {
    const h = sha256(fileKey);
    return join(this.root, h.slice(0, 2), h);
  }

  private pathOf(fileKey: string, variant: string): { dir: string; path: string } {
    const dir = this.dirOf(fileKey);
    return { dir, path: join(dir, `${sha256(variant)}.bin`) };
  }

  async get(fileKey: string, variant: string): Promise<Buffer | undefined> {
    const { path } = this.pathOf(fileKey, variant);
    const e = this.entries.get(path);
    if (!e) return undefined;
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch {
      this.forget(path);
      return undefined;
    }
    // Most recently used: last in the map, and on disk (mtime) for the next start.
    if (this.entries.delete(path)) this.entries.set(path, e);
    const now = new Date();
    void utimes(path, now, now).catch(() => undefined);
    return bytes;
  }

  async put(fileKey: string, variant: string, bytes: Uint8Array): Promise<void> {
    if (bytes.length > this.o.maxBytes()) return;
    const { dir, path } = this.pathOf(fileKey, variant);
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      if (!this.dirs.has(dir)) await writeFile(join(dir, 'key'), fileKey, { mode: 0o600 });
      await writeFile(tmp, bytes, { mode: 0o600 });
      await rename(tmp, path);
    } catch {
      await unlink(tmp).catch(() => undefined); // a cache that cannot be written is only slower
      return;
    }
    this.forget(path);
    this.entries.set(path, { dir, size: bytes.length });
    let set = this.dirs.get(dir);
    if (!set) this.dirs.set(dir, (set = new Set()));
    set.add(path);
    this.bytes += bytes.length;
    // Deleted while it was rendered: the deletion may have removed the directory before this rename.
    if (!(await this.o.stillStored(fileKey).catch(() => true))) {
      await this.remove(fileKey);
      return;
    }
    await this.evict();
  }

  /** Removes every variant of one stored file. */
  async remove(fileKey: string): Promise<void> {
    const dir = this.dirOf(fileKey);
    for (const p of this.dirs.get(dir) ?? []) this.forget(p);
    this.dirs.delete(dir);
    await rm(dir, { recursive: true, force: true });
    await rmdir(join(dir, '..')).catch(() => undefined); // only when empty
  }

  private forget(path: string): void {
    const e = this.entries.get(path);
    if (!e) return;
    this.entries.delete(path);
    this.bytes -= e.size;
    const set = this.dirs.get(e.dir);
    set?.delete(path);
    if (set?.size === 0) this.dirs.delete(e.dir);
  }

  /** Least recently used out until the total fits the cap. */
  private async evict(): Promise<void> {
    const max = this.o.maxBytes();
    while (this.bytes > max) {
      const [path, e] = this.entries.entries().next().value!;
      this.forget(path);
      await unlink(path).catch(() => undefined);
      // The directory goes with its last variant (its key file too).
      if (!this.dirs.has(e.dir)) await rm(e.dir, { recursive: true, force: true });
    }
  }

  private async rebuild(): Promise<void> {
    const found: { path: string; dir: string; size: number; used: number }[] = [];
    let removed = 0;
    for (const top of await readdir(this.root).catch(() => [] as string[])) {
      const topDir = join(this.root, top);
      for (const name of await readdir(topDir).catch(() => [] as string[])) {
        const p = join(topDir, name);
        // The layout before per-file directories (one file per variant, not deletable by instance): dropped.
        if (name.endsWith('.bin') || name.endsWith('.tmp')) {
          await unlink(p).catch(() => undefined);
          continue;
        }
        if (!HEX64.test(name)) continue;
        const key = await readFile(join(p, 'key'), 'utf8').catch(() => undefined);
        if (key === undefined || !(await this.o.stillStored(key))) {
          await rm(p, { recursive: true, force: true });
          removed++;
          continue;
        }
        for (const f of await readdir(p).catch(() => [] as string[])) {
          const fp = join(p, f);
          if (f.endsWith('.tmp')) {
            await unlink(fp).catch(() => undefined);
            continue;
          }
          if (!f.endsWith('.bin')) continue;
          const st = await stat(fp).catch(() => undefined);
          if (st?.isFile()) found.push({ path: fp, dir: p, size: st.size, used: st.mtimeMs });
        }
      }
      await rmdir(topDir).catch(() => undefined); // only when empty
    }
    found.sort((a, b) => a.used - b.used);
    for (const f of found) {
      this.entries.set(f.path, { dir: f.dir, size: f.size });
      let set = this.dirs.get(f.dir);
      if (!set) this.dirs.set(f.dir, (set = new Set()));
      set.add(f.path);
      this.bytes += f.size;
    }
    if (removed > 0) this.o.logger?.info({ removed }, `${this.o.what ?? 'thumbnails of instances no longer stored'} removed`);
  }
}
