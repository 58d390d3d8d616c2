/**
 * Blob storage: received Part 10 files, addressed by keys derived from the SOP
 * Instance UID by hashing (never from attribute text, so no path traversal).
 *
 * Key: `ab/cd/<sha256(uid)>.<16 hex random>.dcm`. The random part makes every stored
 * version a distinct file, so a duplicate that is kept never touches the stored
 * file and a replacement is switched over by the index commit alone.
 *
 * Write protocol (FileBlobStore; the full durability argument and crash cases are
 * at the top of ingest.ts):
 *   begin():   create `tmp/<hash>.<rand>.dcm` at once and fsync `tmp/` (coalesced,
 *              background), mkdir the final directory (no fsync); chunks are written
 *              (and CRC-32'd) as they arrive, fdatasynced behind every syncEveryBytes.
 *              Once the temp name is durable, link(2) it to its final name (background).
 *   beginPart10(): the same in a pre-created `pool/pool.<rand>.dcm` whose name is durable
 *              already (pools are filled in batches, one fsync of `pool/` each); its meta
 *              header is written at once and the sweep maps it back to its key by the UID.
 *   persist(): fdatasync the temp file, fsync `tmp/` (coalesced), wait for the link.
 *              The final entry is NOT yet durable: the durable temp name stands in for it.
 *   persistEarly(): wait for the link only, the final fdatasync still running
 *              (`durable`); the caller commits meanwhile, the row holding size and
 *              CRC-32, which sweep() checks the temp file against.
 *   the caller commits the index row and answers, then
 *   release(): background, batched: close, fsync the final directory (and parents
 *              created for it), then unlink the temp name. Never rejects; on failure
 *              the temp name stays and the next sweep() repairs.
 * The temp name is the intent journal: while it exists, the final file may lack an
 * index row, or the index row may lack a durable final directory entry. sweep() (at
 * start) checks every temp name against the index: referenced and matching the row's
 * size and CRC-32 -> (re)link the final name and fsync its directories; referenced but
 * not matching -> the row is dropped, as unreferenced; unreferenced -> delete the
 * final file(s); then the temp name goes. A crash at any point leaves every index row with its file and
 * no final file without its index row once the archive is reopened.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { link, mkdir, open, readdir, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { readMetaHeader } from './dicom-deps.js';
import { CoalescedFsync, fsyncPath } from './fsync.js';

export { fsyncPath } from './fsync.js';

export interface BlobWriter {
  readonly key: string;
  /** Bytes accepted so far. */
  readonly bytes: number;
  /** Queue bytes; a returned promise means "wait before writing more". Keeps a reference to `chunk` until written. */
  write(chunk: Buffer): void | Promise<void>;
  /** CRC-32 (zlib) of the bytes accepted so far: with `bytes`, what the sweep checks a committed temp file against. */
  readonly crc32: number;
  /** Flush, make durable and visible at the final key. */
  persist(): Promise<void>;
  /**
   * Flush, then make the file visible at the final key as soon as its temp name is
   * durable (fsynced at begin()), WITHOUT waiting for its data: `durable` settles when
   * the final fdatasync does. The caller may commit the index row (with `bytes` and
   * `crc32`) meanwhile, and must not answer before `durable` resolved.
   */
  persistEarly(): Promise<{ durable: Promise<void> }>;
  /** After the index commit: drop the intent journal entry. */
  release(): Promise<void>;
  /** Drop everything written (temp and, if persisted, the final file). Never throws. */
  abort(): Promise<void>;
}

export interface SweepReport {
  tempFiles: number;
  removedFinalFiles: number;
  /** Committed rows whose file data had not become durable (crash during the final fdatasync): row and files removed. Present when > 0. */
  droppedRows?: number;
  /** Committed files whose final name was lost (crash before its directory fsync) and was linked again. Present when > 0. */
  restoredFiles?: number;
}

export interface BlobStore {
  /** A fresh key for a new version of this instance. */
  newKey(sopInstanceUid: string): string;
  begin(key: string): BlobWriter;
  /**
   * Like begin(newKey(uid)), for a DICOM Part 10 file whose meta header (with this SOP
   * Instance UID) is the first write: the store may write it into a pre-created temp
   * file whose name is already durable (see FileBlobStore), so no directory fsync
   * waits on this store's critical path.
   */
  beginPart10(sopInstanceUid: string): BlobWriter;
  open(key: string): ReadStream;
  /** Local file path (for sendfile-style readers). */
  path(key: string): string;
  size(key: string): Promise<number | undefined>;
  exists(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Resolves once background work started so far (release(): directory fsyncs, temp unlinks) is done. */
  idle(): Promise<void>;
  /** idle(), then releases kept handles. */
  close(): Promise<void>;
  /**
   * Recovery at start: resolve every interrupted store. Assumes no store is running.
   * `check`, when given, tells for a referenced key what its row recorded (size and
   * CRC-32) and removes the row: a temp file that does not match is not durable data,
   * so its row goes and the file is treated as unreferenced.
   */
  sweep(isReferenced: (key: string) => Promise<boolean>, check?: SweepCheck): Promise<SweepReport>;
}

export interface SweepCheck {
  /** Size and CRC-32 recorded with the row of `key` (crc32 null: not recorded, nothing to verify). */
  expected(key: string): Promise<{ size: number; crc32: number | null } | undefined>;
  /** Keys of rows ending with this suffix (a pooled temp file whose meta header was lost: its key is unknown). */
  keysEndingWith(suffix: string): Promise<string[]>;
  /** Removes the row of `key` (its data never became durable). */
  dropRow(key: string): Promise<void>;
}

const KEY_RE = /^([0-9a-f]{2})\/([0-9a-f]{2})\/([0-9a-f]{64})\.([0-9a-f]{16})\.dcm$/;
const TEMP_RE = /^([0-9a-f]{64})\.([0-9a-f]{16})\.dcm$/;
/** A pre-created temp file (beginPart10()); the key it serves is `<uid hash>.<its random part>.dcm`. */
const POOL_RE = /^pool\.([0-9a-f]{16})\.dcm$/;

export function uidHash(sopInstanceUid: string): string {
  return createHash('sha256').update(sopInstanceUid, 'latin1').digest('hex');
}

function checkKey(key: string): RegExpExecArray {
  const m = KEY_RE.exec(key);
  if (!m) throw new Error(`not a blob key: '${key}'`);
  return m;
}

export interface FileBlobStoreOptions {
  /** Write to disk once this many bytes are queued (default 64 KiB: the write overlaps the receive). */
  flushBytes?: number;
  /** write() asks the caller to wait beyond this many queued bytes (default 4 MiB). */
  highWaterBytes?: number;
  /**
   * Pre-created temp files kept ready for beginPart10() (default 16; 0 disables): created
   * in batches with one fsync of `tmp/` per batch, so a store's temp name is durable
   * before it begins instead of costing a directory fsync (a journal commit) per store.
   */
  poolSize?: number;
  /**
   * While a file is being received, fdatasync it in the background each time this many
   * bytes were written since the last one started (one at a time), so the final
   * fdatasync has only the tail left; the first one also makes the temp name durable.
   * Default 4 MiB (for a 512 KB image it measured no gain: the final fdatasync's cost is
   * the journal commit, not the data; it bounds the tail of large instances); 0 disables.
   */
  syncEveryBytes?: number;
}

export class FileBlobStore implements BlobStore {
  readonly root: string;
  readonly tmpDir: string;
  /** Pre-created temp files (see poolSize): `pool/pool.<random>.dcm`. */
  readonly poolDir: string;
  readonly flushBytes: number;
  readonly highWaterBytes: number;
  readonly syncEveryBytes: number;
  private readonly knownDirs = new Set<string>();
  /** Directories created by ensureDir() whose own entry (in their parent) is not yet known durable. */
  private readonly unsyncedDirs = new Set<string>();
  private readonly tmpDirSync: CoalescedFsync;
  private readonly poolDirSync: CoalescedFsync;
  readonly poolSize: number;
  /** Ready pool files (durable names, open handles); see poolSize. */
  private pool: PoolFile[] = [];
  private refilling: Promise<void> | undefined;
  private closed = false;
  private readonly rootSync: CoalescedFsync;
  private releases: Array<{ key: string; tempPath: string; done: () => void }> = [];
  /** Background steps of writers (early links) still running: idle() waits for them. */
  private readonly background = new Set<Promise<unknown>>();
  private releasing: Promise<void> | undefined;

  private constructor(root: string, opts: FileBlobStoreOptions) {
    this.root = root;
    this.tmpDir = join(root, 'tmp');
    this.poolDir = join(root, 'pool');
    this.flushBytes = opts.flushBytes ?? 64 << 10;
    this.highWaterBytes = opts.highWaterBytes ?? 4 << 20;
    this.syncEveryBytes = opts.syncEveryBytes ?? 4 << 20;
    this.poolSize = opts.poolSize ?? 16;
    this.tmpDirSync = new CoalescedFsync(this.tmpDir, { keepOpen: true });
    this.poolDirSync = new CoalescedFsync(this.poolDir, { keepOpen: true });
    this.rootSync = new CoalescedFsync(root, { keepOpen: true });
  }

  static async open(root: string, opts: FileBlobStoreOptions = {}): Promise<FileBlobStore> {
    await mkdir(join(root, 'tmp'), { recursive: true, mode: 0o700 });
    await mkdir(join(root, 'pool'), { recursive: true, mode: 0o700 });
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

  beginPart10(sopInstanceUid: string): BlobWriter {
    const p = this.pool.shift();
    this.refill();
    if (!p) return this.begin(this.newKey(sopInstanceUid));
    const h = uidHash(sopInstanceUid);
    return new FileBlobWriter(this, `${h.slice(0, 2)}/${h.slice(2, 4)}/${h}.${p.rand}.dcm`, p);
  }

  /** Background: tops the pool up, a batch of files then one fsync of `tmp/`. Never rejects. */
  private refill(): void {
    if (this.refilling || this.closed || this.poolSize <= 0 || this.pool.length > this.poolSize / 2) return;
    this.refilling = (async () => {
      const batch: PoolFile[] = [];
      try {
        while (this.pool.length + batch.length < this.poolSize) {
          const rand = randomBytes(8).toString('hex');
          const path = join(this.poolDir, `pool.${rand}.dcm`);
          // Owner-only (patient data): the final name is a hard link to this inode.
          batch.push({ rand, path, fh: await open(path, 'wx', 0o600) });
        }
        await this.poolDirSync.sync();
      } catch {
        // A pool file whose name may not be durable is not used (the sweep removes it).
        for (const f of batch) await f.fh.close().catch(() => undefined);
        return;
      }
      if (this.closed) {
        for (const f of batch) await f.fh.close().catch(() => undefined);
        return;
      }
      this.pool.push(...batch);
    })().finally(() => {
      this.refilling = undefined;
    });
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

  /**
   * Creates the final directory of `key`; cached. No fsync here: syncDirsOf() makes the
   * new entries durable later, and until then the temp name covers them.
   */
  async ensureDir(key: string): Promise<string> {
    const dir = key.slice(0, 5);
    const abs = join(this.root, dir);
    if (this.knownDirs.has(dir)) return abs;
    const created = await mkdir(abs, { recursive: true, mode: 0o700 });
    if (created !== undefined) {
      // mkdir -p reports the first directory it created: `ab` (then `ab/cd` too) or `ab/cd`.
      this.unsyncedDirs.add(dir);
      if (created === join(this.root, key.slice(0, 2))) this.unsyncedDirs.add(key.slice(0, 2));
    }
    this.knownDirs.add(dir);
    return abs;
  }

  /**
   * Background step of release(): the temp file closed, the final directory entry of `key` (and the entries
   * of parents created for it) made durable, then the temp name unlinked. Releases
   * queue up and one loop serves them in batches, one fsync per distinct directory and
   * one at a time, so background work holds at most one thread-pool thread. Never rejects.
   */
  release(key: string, tempPath: string, fh?: Promise<FileHandle>): Promise<void> {
    return new Promise<void>((resolve) => {
      this.releases.push({ key, tempPath, done: resolve });
      if (fh) void fh.then((h) => h.close()).catch(() => undefined); // closed off the critical path
      this.releasing ??= this.releaseLoop().finally(() => {
        this.releasing = undefined;
      });
    });
  }

  private async releaseLoop(): Promise<void> {
    while (this.releases.length > 0) {
      const batch = this.releases.splice(0);
      const failed = new Set<string>();
      const dirsOf = (key: string): string[] => {
        const leaf = key.slice(0, 5);
        const top = key.slice(0, 2);
        return [leaf, ...(this.unsyncedDirs.has(leaf) ? [top] : []), ...(this.unsyncedDirs.has(top) ? [''] : [])];
      };
      const dirs = new Set<string>();
      for (const r of batch) for (const d of dirsOf(r.key)) dirs.add(d);
      for (const d of dirs) {
        try {
          await (d === '' ? this.rootSync.sync() : fsyncPath(join(this.root, d)));
        } catch {
          failed.add(d);
        }
      }
      for (const r of batch) {
        const leaf = r.key.slice(0, 5);
        const top = r.key.slice(0, 2);
        if (dirsOf(r.key).some((d) => failed.has(d))) {
          r.done(); // the temp name stays: sweep() repairs at the next start
          continue;
        }
        // Entries of `leaf` (in `top`) and of `top` (in the root) are durable now.
        if (!failed.has(top)) this.unsyncedDirs.delete(leaf);
        if (!failed.has('')) this.unsyncedDirs.delete(top);
        await unlink(r.tempPath).catch(() => undefined);
        r.done();
      }
    }
  }

  /** Registers a writer's background step, for idle(). */
  track<T>(p: Promise<T>): Promise<T> {
    this.background.add(p);
    const done = (): void => void this.background.delete(p);
    p.then(done, done);
    return p;
  }

  async idle(): Promise<void> {
    await this.refilling;
    await Promise.allSettled([...this.background]);
    while (this.releasing) await this.releasing;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.refilling;
    for (const f of this.pool.splice(0)) {
      await f.fh.close().catch(() => undefined);
      await unlink(f.path).catch(() => undefined);
    }
    await this.idle();
    await this.tmpDirSync.close();
    await this.poolDirSync.close();
    await this.rootSync.close();
  }

  syncTmpDir(): Promise<void> {
    return this.tmpDirSync.sync();
  }

  async sweep(isReferenced: (key: string) => Promise<boolean>, check?: SweepCheck): Promise<SweepReport> {
    const report: SweepReport = { tempFiles: 0, removedFinalFiles: 0 };
    const counts = { restored: 0, dropped: 0 };
    const names = (await readdir(this.tmpDir)).map((n) => join(this.tmpDir, n));
    const pooled = (await readdir(this.poolDir)).map((n) => join(this.poolDir, n));
    for (const path of [...names, ...pooled]) {
      const name = basename(path);
      const temp = path.startsWith(this.tmpDir) ? TEMP_RE.exec(name) : null;
      const pool = path.startsWith(this.poolDir) ? POOL_RE.exec(name) : null;
      if (temp) {
        report.tempFiles++;
        await this.resolveTemp(path, temp[1], name, isReferenced, check, report, counts);
      } else if (pool) {
        const { uid, empty } = await part10Uid(path);
        if (!empty || uid !== undefined) report.tempFiles++; // else: a pool file never used
        if (uid !== undefined) {
          const h = uidHash(uid);
          await this.resolveTemp(path, h, `${h}.${pool[1]}.dcm`, isReferenced, check, report, counts);
        } else if (check) {
          // Its meta header was lost (power cut before its fdatasync ended), so the key it
          // served is unknown: a row may have been committed meanwhile; its data is not durable.
          const keys = await check.keysEndingWith(`.${pool[1]}.dcm`);
          if (empty && keys.length > 0) report.tempFiles++; // it served a store after all
          for (const key of keys) {
            await check.dropRow(key);
            counts.dropped++;
            await this.delete(key);
            report.removedFinalFiles++;
          }
        }
      } else {
        report.tempFiles++;
      }
      await rm(path, { force: true, recursive: true });
    }
    if (names.length > 0) await fsyncPath(this.tmpDir);
    if (pooled.length > 0) await fsyncPath(this.poolDir);
    if (counts.restored > 0) report.restoredFiles = counts.restored;
    if (counts.dropped > 0) report.droppedRows = counts.dropped;
    return report;
  }

  /** sweep() of one temp file (`tempPath`) that served the key `<h>/<finalName>` (see the top of the file). */
  private async resolveTemp(
    tempPath: string, h: string, finalName: string, isReferenced: (key: string) => Promise<boolean>, check: SweepCheck | undefined,
    report: SweepReport, counts: { restored: number; dropped: number },
  ): Promise<void> {
    const own = `${h.slice(0, 2)}/${h.slice(2, 4)}/${finalName}`; // the final key this temp name was for
    const dir = join(this.root, h.slice(0, 2), h.slice(2, 4));
    let referenced = await isReferenced(own);
    if (referenced && check) {
      // The row may have been committed while the final fdatasync was still running
      // (ingest.ts): only a temp file with the recorded size and CRC-32 holds durable data.
      const want = await check.expected(own);
      if (want && want.crc32 !== null && !(await fileMatches(tempPath, want.size, want.crc32))) {
        await check.dropRow(own);
        referenced = false;
        counts.dropped++;
      }
    }
    if (referenced) {
      // Committed: the data is durable under the temp name (fdatasync before the
      // commit); the final entry may not be. Link again if lost, then make it durable
      // before the temp name goes.
      await mkdir(dir, { recursive: true, mode: 0o700 });
      try {
        await link(tempPath, join(this.root, own));
        counts.restored++;
      } catch (e) {
        if ((e as NodeJS.ErrnoException)?.code !== 'EEXIST') throw e;
      }
      await fsyncPath(dir);
      await fsyncPath(join(this.root, h.slice(0, 2)));
      await fsyncPath(this.root);
    }
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
}

/** The SOP Instance UID in the meta header of a Part 10 file (undefined if unreadable), and whether the file is empty. */
async function part10Uid(path: string): Promise<{ uid?: string; empty: boolean }> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    if (isNotFound(e)) return { empty: true };
    throw e;
  }
  try {
    const buf = Buffer.alloc(16 << 10);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    if (bytesRead === 0) return { empty: true };
    try {
      const uid = readMetaHeader(buf.subarray(0, bytesRead)).meta.mediaStorageSopInstanceUid;
      return { uid: uid || undefined, empty: false };
    } catch {
      return { empty: false };
    }
  } finally {
    await fh.close();
  }
}

/** True when the file has exactly `size` bytes with this CRC-32. */
async function fileMatches(path: string, size: number, crc: number): Promise<boolean> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    if (isNotFound(e)) return false;
    throw e;
  }
  try {
    if ((await fh.stat()).size !== size) return false;
    const buf = Buffer.allocUnsafe(1 << 20);
    let c = 0;
    for (let pos = 0; pos < size;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) return false;
      c = crc32(buf.subarray(0, bytesRead), c);
      pos += bytesRead;
    }
    return c === crc;
  } finally {
    await fh.close();
  }
}

type WriterState = 'open' | 'persisting' | 'persisted' | 'released' | 'aborted';

interface PoolFile {
  rand: string;
  path: string;
  fh: FileHandle;
}

/**
 * One file being written: a queue of chunks flushed with writev, one write in flight
 * at a time (chunks arriving meanwhile go together in the next one); no promise per
 * chunk. The temp file is created as soon as the writer exists, so that work overlaps
 * the receive instead of sitting on the critical path. While the data arrives, the
 * file is fdatasynced in the background every `syncEveryBytes` (one at a time): the
 * final fdatasync then has only the tail left, and the first one, followed by an
 * fsync of `tmp/`, makes the temp name durable early (see persistEarly()).
 */
class FileBlobWriter implements BlobWriter {
  readonly key: string;
  bytes = 0;
  crc32 = 0;
  private readonly store: FileBlobStore;
  private readonly tempPath: string;
  private state: WriterState = 'open';
  private fh: Promise<FileHandle> | undefined;
  /** The final directory exists (made at begin(), overlapping the receive). */
  private readonly prepared: Promise<void>;
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private position = 0;
  private flushing: Promise<void> | undefined;
  /** The first failure; persist() throws it. */
  private error: Error | undefined;
  private drainWaiters: Array<() => void> = [];
  private aborting: Promise<void> | undefined;
  /** Background fdatasync in flight (at most one) and the position the last one started at. */
  private syncing: Promise<void> | undefined;
  private syncedFrom = 0;
  /** Settles once the temp name is durable (fsync(tmp/) started after the create). */
  private readonly nameDurable: Promise<void>;
  /** The final fdatasync, once started. */
  private finalSync: Promise<void> | undefined;
  /** The link of the final name, started at once (see the constructor). */
  private readonly linked: Promise<void>;
  private isLinked = false;
  /** Writing into a pool file (FileBlobStore.beginPart10()): the first write goes out at once. */
  private readonly pooled: boolean;
  private firstWritten: (() => void) | undefined;
  private firstFailed: ((e: unknown) => void) | undefined;

  constructor(store: FileBlobStore, key: string, pooled?: PoolFile) {
    this.store = store;
    this.key = key;
    this.pooled = pooled !== undefined;
    let headerWritten: Promise<void> = Promise.resolve();
    if (pooled) {
      // A pool file: its name is durable already; the sweep finds the key it serves from
      // the SOP Instance UID in the meta header, which is therefore written at once.
      this.tempPath = pooled.path;
      this.fh = Promise.resolve(pooled.fh);
      this.nameDurable = Promise.resolve();
      headerWritten = new Promise<void>((resolve, reject) => {
        this.firstWritten = resolve;
        this.firstFailed = reject;
      });
    } else {
      this.tempPath = store.tempPath(key);
      this.fh = open(this.tempPath, 'wx', 0o600);
      // The temp name made durable at once, overlapping the receive (coalesced between
      // concurrent stores): persistEarly() may link and let the row be committed only then.
      this.nameDurable = this.fh.then(() => store.syncTmpDir());
    }
    this.nameDurable.catch(() => undefined); // observed by persistEarly()
    this.prepared = store.ensureDir(key).then(() => undefined);
    this.prepared.catch((e: unknown) => void (this.error ??= asError(e))); // reported by persist()
    // The final name is linked while the data is still arriving (off the critical path),
    // but only once the temp name is durable and names the key (a pool file: its meta
    // header written): a final name must never outlive its temp name unseen, and another
    // store's fsync of the final directory may make it durable at any time. Until the row
    // is committed the sweep deletes it.
    this.linked = store.track(Promise.all([this.nameDurable, this.prepared, headerWritten])
      .then(() => link(this.tempPath, join(store.root, key)))
      .then(() => void (this.isLinked = true)));
    this.linked.catch(() => undefined); // observed by persist() and abort()
  }

  private handle(): Promise<FileHandle> {
    if (!this.fh) throw new Error('blob writer has no open file');
    return this.fh;
  }

  write(chunk: Buffer): void | Promise<void> {
    if (this.state !== 'open') throw new Error(`blob writer is ${this.state}`);
    if (this.error !== undefined) return; // reported by persist()
    if (chunk.length === 0) return;
    this.queue.push(chunk);
    this.queuedBytes += chunk.length;
    this.bytes += chunk.length;
    this.crc32 = crc32(chunk, this.crc32);
    // Not awaited: write() returns at once; flushLoop catches every failure into this.error,
    // which persist() throws.
    if (this.flushing === undefined && this.flushDue()) void this.startFlush(false);
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
      while (this.queue.length > 0 && (final || this.flushDue())) {
        const batch = this.queue;
        let n = this.queuedBytes;
        this.queue = [];
        this.queuedBytes = 0;
        this.wakeWaiters();
        let bufs = batch;
        while (n > 0) {
          const { bytesWritten } = bufs.length === 1
            ? await fh.write(bufs[0], 0, bufs[0].length, this.position)
            : await fh.writev(bufs, this.position);
          this.position += bytesWritten;
          n -= bytesWritten;
          if (n > 0) bufs = dropBytes(bufs, bytesWritten);
        }
        this.firstWritten?.();
        if (!final) this.maybeSyncBehind(fh);
      }
    } catch (e) {
      this.error ??= asError(e);
      this.queue = [];
      this.queuedBytes = 0;
      this.firstFailed?.(e);
    }
  }

  private flushDue(): boolean {
    return this.queuedBytes >= this.store.flushBytes || (this.pooled && this.position === 0);
  }

  /** Background fdatasync of what is written so far, one at a time, while more data arrives. */
  private maybeSyncBehind(fh: FileHandle): void {
    const every = this.store.syncEveryBytes;
    if (every <= 0 || this.syncing || this.state !== 'open' || this.position - this.syncedFrom < every) return;
    this.syncedFrom = this.position;
    this.syncing = fh.datasync().then(() => {
      this.syncing = undefined;
      if (this.state === 'open') this.maybeSyncBehind(fh);
    }, (e: unknown) => {
      this.error ??= asError(e); // never trust this handle again: persist() fails
    });
  }

  /** Writes everything queued; throws the first write error. */
  private async flushAll(): Promise<FileHandle> {
    if (this.flushing) await this.flushing;
    await this.startFlush(true);
    if (this.error !== undefined) throw this.error;
    return this.handle();
  }

  async persist(): Promise<void> {
    if (this.state !== 'open') throw new Error(`blob writer is ${this.state}`);
    this.state = 'persisting';
    const fh = await this.flushAll();
    // Data and size durable; then the temp name. The tmp/ fsync comes after the
    // fdatasync on purpose: on ext4 the fdatasync of a new file commits the journal
    // transaction holding its directory entry, so the fsync that follows finds nothing
    // left to commit (~0.15 ms), whereas one started earlier forces a journal commit of
    // its own that stalls the writes still in flight (measured: 3.7 -> 5.8 ms).
    this.finalSync = fh.datasync();
    await this.finalSync;
    await Promise.all([this.store.syncTmpDir(), this.prepared]);
    if (this.error !== undefined) throw this.error;
    await this.linked;
    this.state = 'persisted';
  }

  async persistEarly(): Promise<{ durable: Promise<void> }> {
    if (this.state !== 'open') throw new Error(`blob writer is ${this.state}`);
    this.state = 'persisting';
    const fh = await this.flushAll();
    const durable = this.finalSync = fh.datasync();
    durable.catch(() => undefined); // the caller awaits it
    await Promise.all([this.nameDurable, this.prepared]);
    if (this.error !== undefined) throw this.error;
    // The temp name is durable before the final name exists: while the data may still be
    // on its way, the temp name (and the CRC-32 in the row) let the sweep judge the file.
    await this.linked;
    this.state = 'persisted';
    return { durable };
  }

  /** Background: final directory entry durable, then the temp name goes. Never rejects. */
  release(): Promise<void> {
    if (this.state !== 'persisted') return Promise.reject(new Error(`blob writer is ${this.state}`));
    this.state = 'released';
    const fh = this.fh;
    this.fh = undefined;
    return this.store.release(this.key, this.tempPath, fh);
  }

  abort(): Promise<void> {
    this.aborting ??= this.doAbort();
    return this.aborting;
  }

  private async doAbort(): Promise<void> {
    this.state = 'aborted';
    this.firstFailed?.(new Error('blob writer aborted'));
    this.queue = [];
    this.queuedBytes = 0;
    this.wakeWaiters();
    try {
      if (this.flushing) await this.flushing;
      await this.syncing?.catch(() => undefined);
      await this.finalSync?.catch(() => undefined);
      if (this.fh) await (await this.fh).close();
    } catch {
      /* closing a failed handle */
    }
    this.fh = undefined;
    await this.linked.catch(() => undefined);
    // Final name first: while the temp name exists, sweep() can still clean up.
    if (this.isLinked) await this.store.delete(this.key).catch(() => undefined);
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

function isNotFound(e: unknown): boolean {
  return (e as NodeJS.ErrnoException)?.code === 'ENOENT';
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
