/**
 * Blob storage: received Part 10 files, addressed by keys derived from the SOP
 * Instance UID by hashing (never from attribute text, so no path traversal).
 *
 * Key: `ab/cd/<sha256(uid)>.<16 hex random>.dcm`. The random part makes every stored
 * version a distinct file, so a duplicate that is kept never touches the stored
 * file and a replacement is switched over by the index commit alone.
 *
 * Write protocol (FileBlobStore):
 *   1. write into `tmp/<hash>.<rand>.dcm` (same file system); large sequential writes
 *   2. persist(): fdatasync the file, fsync `tmp/` (so the temp name is durable),
 *      link(2) it to its final path, fsync the final directory
 *   3. the caller commits the index row
 *   4. release(): unlink the temp name
 * The temp name is the intent journal: while it exists, the final file may lack an
 * index row. sweep() (at start) checks every temp name against the index and
 * deletes final files nobody references, then the temp names. A crash at any point
 * leaves no final file without its index row once the archive is reopened.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { link, mkdir, open, readdir, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

export interface BlobWriter {
  readonly key: string;
  /** Bytes accepted so far. */
  readonly bytes: number;
  /** Queue bytes; a returned promise means "wait before writing more". Keeps a reference to `chunk` until written. */
  write(chunk: Buffer): void | Promise<void>;
  /** Flush, make durable and visible at the final key. */
  persist(): Promise<void>;
  /** After the index commit: drop the intent journal entry. */
  release(): Promise<void>;
  /** Drop everything written (temp and, if persisted, the final file). Never throws. */
  abort(): Promise<void>;
}

export interface SweepReport {
  tempFiles: number;
  removedFinalFiles: number;
}

export interface BlobStore {
  /** A fresh key for a new version of this instance. */
  newKey(sopInstanceUid: string): string;
  begin(key: string): BlobWriter;
  open(key: string): ReadStream;
  /** Local file path (for sendfile-style readers). */
  path(key: string): string;
  size(key: string): Promise<number | undefined>;
  exists(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Recovery at start: resolve every interrupted store. Assumes no store is running. */
  sweep(isReferenced: (key: string) => Promise<boolean>): Promise<SweepReport>;
}

const KEY_RE = /^([0-9a-f]{2})\/([0-9a-f]{2})\/([0-9a-f]{64})\.([0-9a-f]{16})\.dcm$/;
const TEMP_RE = /^([0-9a-f]{64})\.([0-9a-f]{16})\.dcm$/;

export function uidHash(sopInstanceUid: string): string {
  return createHash('sha256').update(sopInstanceUid, 'latin1').digest('hex');
}

function checkKey(key: string): RegExpExecArray {
  const m = KEY_RE.exec(key);
  if (!m) throw new Error(`not a blob key: '${key}'`);
  return m;
}

export interface FileBlobStoreOptions {
  /** Write to disk once this many bytes are queued (default 1 MiB). */
  flushBytes?: number;
  /** write() asks the caller to wait beyond this many queued bytes (default 4 MiB). */
  highWaterBytes?: number;
}

export class FileBlobStore implements BlobStore {
  readonly root: string;
  readonly tmpDir: string;
  readonly flushBytes: number;
  readonly highWaterBytes: number;
  private readonly knownDirs = new Set<string>();
  private readonly tmpDirSync: CoalescedFsync;

  private constructor(root: string, opts: FileBlobStoreOptions) {
    this.root = root;
    this.tmpDir = join(root, 'tmp');
    this.flushBytes = opts.flushBytes ?? 1 << 20;
    this.highWaterBytes = opts.highWaterBytes ?? 4 << 20;
    this.tmpDirSync = new CoalescedFsync(this.tmpDir);
  }

  static async open(root: string, opts: FileBlobStoreOptions = {}): Promise<FileBlobStore> {
    await mkdir(join(root, 'tmp'), { recursive: true });
    await fsyncPath(root);
    return new FileBlobStore(root, opts);
  }

  newKey(sopInstanceUid: string): string {
    const h = uidHash(sopInstanceUid);
    return `${h.slice(0, 2)}/${h.slice(2, 4)}/${h}.${randomBytes(8).toString('hex')}.dcm`;
  }

  path(key: string): string {
    checkKey(key);
    return join(this.root, key);
  }

  tempPath(key: string): string {
    const m = checkKey(key);
    return join(this.tmpDir, `${m[3]}.${m[4]}.dcm`);
  }

  begin(key: string): BlobWriter {
    return new FileBlobWriter(this, key);
  }

  open(key: string): ReadStream {
    return createReadStream(this.path(key), { highWaterMark: 1 << 20 });
  }

  async size(key: string): Promise<number | undefined> {
    try {
      return (await stat(this.path(key))).size;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.size(key)) !== undefined;
  }

  async delete(key: string): Promise<void> {
    try {
      await unlink(this.path(key));
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  /** Creates the final directory of `key` (fsyncing new parents); cached. */
  async ensureDir(key: string): Promise<string> {
    const dir = key.slice(0, 5);
    const abs = join(this.root, dir);
    if (this.knownDirs.has(dir)) return abs;
    const created = await mkdir(abs, { recursive: true });
    if (created !== undefined) {
      await fsyncPath(join(this.root, key.slice(0, 2)));
      await fsyncPath(this.root);
    }
    this.knownDirs.add(dir);
    return abs;
  }

  syncTmpDir(): Promise<void> {
    return this.tmpDirSync.sync();
  }

  async sweep(isReferenced: (key: string) => Promise<boolean>): Promise<SweepReport> {
    const report: SweepReport = { tempFiles: 0, removedFinalFiles: 0 };
    const names = await readdir(this.tmpDir);
    for (const name of names) {
      report.tempFiles++;
      const m = TEMP_RE.exec(name);
      if (m) {
        const h = m[1];
        const dir = join(this.root, h.slice(0, 2), h.slice(2, 4));
        let siblings: string[] = [];
        try {
          siblings = await readdir(dir);
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
        let removed = false;
        for (const s of siblings) {
          if (!s.startsWith(`${h}.`)) continue;
          const key = `${h.slice(0, 2)}/${h.slice(2, 4)}/${s}`;
          if (KEY_RE.test(key) && !(await isReferenced(key))) {
            await unlink(join(dir, s));
            report.removedFinalFiles++;
            removed = true;
          }
        }
        if (removed) await fsyncPath(dir);
      }
      await rm(join(this.tmpDir, name), { force: true, recursive: true });
    }
    if (names.length > 0) await fsyncPath(this.tmpDir);
    return report;
  }
}

type WriterState = 'open' | 'persisting' | 'persisted' | 'released' | 'aborted';

/**
 * One file being written: a queue of chunks flushed with writev in large batches,
 * one write in flight at a time; no promise per chunk.
 */
class FileBlobWriter implements BlobWriter {
  readonly key: string;
  bytes = 0;
  private readonly store: FileBlobStore;
  private readonly tempPath: string;
  private state: WriterState = 'open';
  private fh: Promise<FileHandle> | undefined;
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private position = 0;
  private flushing: Promise<void> | undefined;
  private error: unknown;
  private drainWaiters: Array<() => void> = [];
  private aborting: Promise<void> | undefined;

  constructor(store: FileBlobStore, key: string) {
    this.store = store;
    this.key = key;
    this.tempPath = store.tempPath(key);
  }

  private handle(): Promise<FileHandle> {
    this.fh ??= open(this.tempPath, 'wx', 0o644);
    return this.fh;
  }

  write(chunk: Buffer): void | Promise<void> {
    if (this.state !== 'open') throw new Error(`blob writer is ${this.state}`);
    if (this.error !== undefined) return; // reported by persist()
    if (chunk.length === 0) return;
    this.queue.push(chunk);
    this.queuedBytes += chunk.length;
    this.bytes += chunk.length;
    if (this.flushing === undefined && this.queuedBytes >= this.store.flushBytes) this.startFlush(false);
    if (this.queuedBytes > this.store.highWaterBytes) {
      return new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    }
  }

  private startFlush(final: boolean): Promise<void> {
    this.flushing = this.flushLoop(final).finally(() => {
      this.flushing = undefined;
      this.wakeWaiters();
    });
    return this.flushing;
  }

  private wakeWaiters(): void {
    if (this.drainWaiters.length === 0) return;
    if (this.queuedBytes > this.store.highWaterBytes && this.error === undefined) return;
    const ws = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of ws) w();
  }

  private async flushLoop(final: boolean): Promise<void> {
    try {
      const fh = await this.handle();
      while (this.queue.length > 0 && (final || this.queuedBytes >= this.store.flushBytes)) {
        const batch = this.queue;
        let n = this.queuedBytes;
        this.queue = [];
        this.queuedBytes = 0;
        this.wakeWaiters();
        let bufs = batch;
        while (n > 0) {
          const { bytesWritten } = await fh.writev(bufs, this.position);
          this.position += bytesWritten;
          n -= bytesWritten;
          if (n > 0) bufs = dropBytes(bufs, bytesWritten);
        }
      }
    } catch (e) {
      this.error ??= e;
      this.queue = [];
      this.queuedBytes = 0;
    }
  }

  async persist(): Promise<void> {
    if (this.state !== 'open') throw new Error(`blob writer is ${this.state}`);
    this.state = 'persisting';
    if (this.flushing) await this.flushing;
    await this.startFlush(true);
    if (this.error !== undefined) throw this.error;
    const fh = await this.handle();
    await fh.datasync();
    await fh.close();
    this.fh = undefined;
    const [dir] = await Promise.all([this.store.ensureDir(this.key), this.store.syncTmpDir()]);
    await link(this.tempPath, join(this.store.root, this.key));
    await fsyncPath(dir);
    this.state = 'persisted';
  }

  async release(): Promise<void> {
    if (this.state !== 'persisted') throw new Error(`blob writer is ${this.state}`);
    this.state = 'released';
    await unlink(this.tempPath).catch(() => undefined);
  }

  abort(): Promise<void> {
    this.aborting ??= this.doAbort();
    return this.aborting;
  }

  private async doAbort(): Promise<void> {
    const wasPersisted = this.state === 'persisted' || this.state === 'released' || this.state === 'persisting';
    this.state = 'aborted';
    this.queue = [];
    this.queuedBytes = 0;
    this.wakeWaiters();
    try {
      if (this.flushing) await this.flushing;
      if (this.fh) await (await this.fh).close();
    } catch {
      /* closing a failed handle */
    }
    this.fh = undefined;
    // Final name first: while the temp name exists, sweep() can still clean up.
    if (wasPersisted) await this.store.delete(this.key).catch(() => undefined);
    await unlink(this.tempPath).catch(() => undefined);
  }
}

function dropBytes(bufs: Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  for (const b of bufs) {
    if (n >= b.length) {
      n -= b.length;
      continue;
    }
    out.push(n > 0 ? b.subarray(n) : b);
    n = 0;
  }
  return out;
}

export async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync of one directory shared by concurrent callers: a request waits for the next fsync that starts after it. */
class CoalescedFsync {
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  constructor(private readonly path: string) {}

  sync(): Promise<void> {
    if (this.next) return this.next;
    if (!this.running) return this.start();
    this.next = this.running.catch(() => undefined).then(() => {
      this.next = undefined;
      return this.start();
    });
    return this.next;
  }

  private start(): Promise<void> {
    const p = fsyncPath(this.path).finally(() => {
      if (this.running === p) this.running = undefined;
    });
    this.running = p;
    return p;
  }
}

function isNotFound(e: unknown): boolean {
  return (e as NodeJS.ErrnoException)?.code === 'ENOENT';
}
