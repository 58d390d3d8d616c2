/**
 * Thumbnails kept once made: on disk under `dir` (one file per stored file version, named
 * by the SHA-256 of its blob key, never by attribute text), or in memory, bounded, when no
 * directory is given. A write goes to a temp name, then is renamed (no torn files).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export class ThumbnailCache {
  private readonly memory = new Map<string, Buffer>();
  constructor(private readonly dir: string | undefined, private readonly maxEntries = 512) {}

  private static key(fileKey: string, variant: string): string {
    return createHash('sha256').update(`${fileKey}\n${variant}`).digest('hex');
  }

  private path(key: string): string {
    return join(this.dir!, key.slice(0, 2), `${key}.bin`);
  }

  async get(fileKey: string, variant: string): Promise<Buffer | undefined> {
    const key = ThumbnailCache.key(fileKey, variant);
    if (!this.dir) {
      const hit = this.memory.get(key);
      if (hit) { this.memory.delete(key); this.memory.set(key, hit); } // most recently used last
      return hit;
    }
    try {
      return await readFile(this.path(key));
    } catch {
      return undefined;
    }
  }

  async put(fileKey: string, variant: string, bytes: Buffer): Promise<void> {
    const key = ThumbnailCache.key(fileKey, variant);
    if (!this.dir) {
      this.memory.set(key, bytes);
      while (this.memory.size > this.maxEntries) this.memory.delete(this.memory.keys().next().value!);
      return;
    }
    const path = this.path(key);
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await mkdir(join(this.dir, key.slice(0, 2)), { recursive: true });
      await writeFile(tmp, bytes);
      await rename(tmp, path);
    } catch {
      await unlink(tmp).catch(() => {}); // a cache that cannot be written is only slower
    }
  }
}
