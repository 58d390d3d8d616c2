/**
 * FileBlobStore: the received Part 10 files on the local file system.
 *
 * Layout (under the store's root):
 *   s/<yyyymmdd>/<batch>/<rand>.dcm   the files; the key is this path. <batch> (12 hex) and
 *                                     <rand> (16 hex) are random, <yyyymmdd> the UTC day the
 *                                     batch was opened: nothing comes from attribute text.
 *   open/<yyyymmdd>.<batch>           one marker per OPEN batch: the start-up sweep looks at
 *                                     open batches only, never at the whole archive.
 *   open-by-node/<node>/<yyyymmdd>.<batch>
 *                                     the same, when several nodes share the store (`node`):
 *                                     each node's markers apart, so that a node's sweep takes
 *                                     its own open batches and, of another node, only those
 *                                     of a node whose lease in the database has expired (a
 *                                     live node's open batches hold its in-flight writes).
 *   ab/cd/<sha256(uid)>.<rand>.dcm,   the layout before batches: still read and deleted;
 *   tmp/, pool/                       leftovers of an interrupted store swept at start
 *                                     (blob-recovery.ts).
 *
 * DURABILITY PROTOCOL (a success response means: the file's data and name are durable
 * and the facts to find it are on stable storage: in the index, or in the file's own
 * sealed preamble, from which the start-up sweep re-makes a lost row; after a crash at any
 * moment, once the archive is reopened, every row has its complete file and no file
 * without a row is left in an open batch).
 * The file is written under its final name; the index commit is the commit point, and the
 * file's seal (blob-seal.ts: size and CRC-32 of the bytes after the preamble) is its
 * durable record: one fsync per instance on the response path, the file's.
 *   batch   (every batchFiles files) create open/<day>.<batch>, fsync(open/);
 *           mkdir s/<day>/<batch> (and s/<day>, fsync(s/) if new), fsync(s/<day>)
 *                                      -> the marker is durable before the directory exists
 *   pool    (background, poolSize at a time) create files <rand>.dcm in the batch (direct
 *           I/O: each opened a second time without O_DIRECT, for the writer's page-cache
 *           writes), one fsync(batch) for all -> each name durable before a store takes it
 *   store   take a pool file (or, pool empty: create one, fsync(batch) coalesced while
 *           the data arrives); write the chunks as they arrive (CRC-32 on the way);
 *           fdatasync behind every syncEveryBytes for large ones
 *   end  1. flush the last writes, write the seal into the preamble, start fdatasync(file)
 *        2. index commit of the row, with the file's size and CRC-32, WHILE 1 RUNS, and
 *           WITHOUT waiting for the index's own fsync (SQLite: the WAL fdatasync is left
 *           to the next durable commit or the seal barrier); only once the name is
 *           durable; with duplicatePolicy 'replace', after 1 and durably (the old file
 *           goes after it)
 *        3. the success response, only once 1 and 2 are done
 *        4. background: close the file
 *        Deferred rows (SQLite, ingest.ts): 2 comes after 3, the row committed with those of
 *        the stores that follow (within 20 ms); 3 waits for 1 only. The file is settled
 *        (4) after 2, so its batch stays open until its row is committed: a crash between
 *        3 and 2 is the case "1, not 2" below, acknowledged this time.
 *   seal    once a batch is full (no longer taken from) and every file taken from it is
 *           settled (committed and closed, or unlinked): the index's commits made durable
 *           (setSealBarrier: the WAL fdatasync), fsync(batch), unlink its marker. So a row
 *           that may still be lost always has its file in an open batch.
 * So per instance: one open (pooled, off the critical path), the writes, a 128-byte seal
 * write into a cached page, one fdatasync, one close; no link, rename, mkdir or directory
 * fsync, and no index fsync: the critical path after the last byte holds
 * max(fdatasync(file), COMMIT).
 * Start-up sweep (blob-recovery.ts), for every marker, assuming no store of its batch runs
 * (its own batches: it has not started storing; another node's: that node's lease expired):
 *   file with a row whose CRC-32 and size match (or an old row without CRC-32) -> kept
 *   file with a row that does not match       -> the data never became durable (power cut
 *                                                during 1 after 2): row deleted, then file
 *   file without a row, its seal intact and matching its size and bytes -> indexed again
 *                                                from the file (meta header + data set);
 *                                                kept unless the index refuses it (a
 *                                                duplicate: then deleted)
 *   file without a row otherwise (interrupted store, unused pool file, aborted store whose
 *   unlink was not durable)                    -> deleted
 *   then fsync(batch) and the marker unlinked; a crash during the sweep leaves the marker,
 *   and the next start does it again (each step is idempotent).
 * Crash cases:
 *   before 1's seal   no seal, no row: the file (partial or whole) is deleted. Never
 *                     acknowledged.
 *   1, not 2          (sealed, no row) whole: indexed at the next start; torn by a power
 *                     cut: the seal does not match, deleted (never acknowledged then: 3
 *                     waits for 1).
 *   2 done, 1 not     (power loss) row durable, data not: CRC-32 or size differs -> row and
 *                     file deleted. Never acknowledged.
 *   1 and 2 done      file durable; its row durable, or lost with the index's unsynced
 *                     tail (power loss) and re-made from the sealed file: kept, whether 3
 *                     was sent or not (a retry is then a duplicate).
 *   during 2          committed or not (WAL atomicity): one of the cases around it.
 *   1 fails (EIO), 2 committed: no success response; ingest deletes the row, then the file
 *                     (if that fails, the file stays, its batch is not sealed, and the sweep
 *                     judges it by CRC-32 at the next start).
 *   2 fails, not a refusal (a lost connection: the COMMIT's fate unknown; this node fenced
 *                     by another's sweep: node-table.ts): no success response; the file is
 *                     closed and left, its batch not sealed; the sweep keeps it (a row),
 *                     indexes it again (sealed, no row) or deletes it.
 *   replace           the new file is durable before the commit (persist()), the commit
 *                     durable; the old file is deleted after it. A crash in between leaves
 *                     the old file unreferenced: swept if its batch is still open, otherwise
 *                     it stays as invisible dead space (no row names it).
 *   re-indexing       a crash while the sweep re-makes rows: the batch is still open, the
 *                     next start finds the row (kept) or not (re-made again).
 * Why: each async file operation costs a thread-pool round trip and its completion on
 * the event loop, and each directory fsync a metadata write; the per-instance
 * link/unlink/mkdir and two directory fsyncs of the temp-name protocol this replaces
 * were half of the store's file operations (issue 16).
 */
import { randomBytes, randomFillSync } from 'node:crypto';
import { closeSync, constants, createReadStream, open as openCb, write as writeCb, type ReadStream } from 'node:fs';
import { mkdir, open, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlobStore, BlobWriter, SweepCheck, SweepReport } from './blob-store.js';
import { BATCH_KEY_RE, LEGACY_KEY_RE, NODE_ID_RE, NODE_MARKERS_DIR } from './blob-keys.js';
import { readdirIfAny, sweepLegacy, sweepOpenBatches } from './blob-recovery.js';
import { closeQuietly, FileBlobWriter } from './blob-writer.js';
import type { WriteFence } from './index-types.js';
import { CoalescedFsync, fsyncPath } from './fsync.js';
import { RetainedCopies, type BorrowedCopy } from './retained-copies.js';
import { DIRECT_IO_ALIGN, SlabPool } from './slab-queue.js';

const DEFAULT_FLUSH_BYTES = 64 << 10;
const DIRECT_IO_PROBE = 'direct-io-probe-';

function checkKey(key: string): void {
  if (!BATCH_KEY_RE.test(key) && !LEGACY_KEY_RE.test(key)) throw new Error(`not a blob key: '${key}'`);
}

export interface FileBlobStoreOptions {
  /** Write to disk once this many bytes are queued (default 64 KiB: the write overlaps the receive). */
  flushBytes?: number;
  /** write() asks the caller to wait beyond this many queued bytes (default 4 MiB). */
  highWaterBytes?: number;
  /** Files created ahead in the open batch, their names made durable by one directory fsync (default 16; 0 disables). */
  poolSize?: number;
  /**
   * Files per batch directory (default 1024): bounds what the start-up sweep reads after a
   * crash (it checks the CRC-32 of every committed file of an open batch).
   */
  batchFiles?: number;
  /**
   * While a file is being received, fdatasync it in the background each time this many
   * bytes were written since the last one started (one at a time), so the final
   * fdatasync has only the tail left. Default 4 MiB (it bounds the tail of large
   * instances); 0 disables.
   */
  syncEveryBytes?: number;
  /**
   * Write the files with direct I/O (O_DIRECT: blob-writer.ts says why): true requires it,
   * false never, 'auto' (the default) when the file system takes it (tried at open) and
   * flushBytes is a multiple of 4 KiB.
   */
  directIo?: boolean | 'auto';
  /**
   * Keep the bytes of the files just written in memory, up to this many bytes in all, for
   * borrowCopy() (retained-copies.ts): the Router's store, whose sender reads every file
   * soon after it is written. Default 0: none kept.
   */
  keepCopiesBytes?: number;
  /**
   * Several nodes share this store (PostgreSQL): this node's id, under which its open
   * batches are marked, and whether another node's lease has expired (its open batches
   * are swept only then).
   */
  node?: SharingNode;
}

export interface SharingNode {
  id: string;
  leaseExpired(nodeId: string): Promise<boolean>;
  /**
   * Under the sweep lock, before another node's open batches are touched: ends its lease
   * if it expired, so that it can no longer commit (node-table.ts, "Fencing"); true when
   * it holds none. Absent: leaseExpired is asked again instead.
   */
  fenceIfExpired?(nodeId: string): Promise<boolean>;
  /** What every index write of this node runs first, so that a fenced node writes nothing. */
  writeFence?: WriteFence;
  /**
   * Runs `fn` holding the lock on `nodeId`'s open batches, one sweeper at a time across
   * the nodes (two sweeping one batch would each take the other's re-indexed file for an
   * orphan). `wait` false: undefined at once when another node holds it. Without it the
   * sweeps are not serialized (one node, or a test).
   */
  withSweepLock?<T>(nodeId: string, wait: boolean, fn: () => Promise<T>): Promise<T | undefined>;
  /** How often a live node sweeps the open batches of nodes whose lease expired (ms; absent or 0: at start only). */
  sweepEveryMs?: number;
}

/** One batch directory and what is still outstanding in it. */
class Batch {
  readonly key: string;
  readonly dir: string;
  readonly marker: string;
  readonly dirSync: CoalescedFsync;
  /** Files created in it (pool and direct). */
  created = 0;
  /** Files created and not yet settled (committed and closed, or unlinked). */
  outstanding = 0;
  /** No more files are created in it. */
  retired = false;
  sealing: Promise<void> | undefined;
  /** Marker durable, directory created and its entry durable. */
  ready!: Promise<void>;

  constructor(
    root: string,
    markerDir: string,
    readonly day: string,
    readonly id: string,
  ) {
    this.key = `s/${day}/${id}`;
    this.dir = join(root, 's', day, id);
    this.marker = join(root, markerDir, `${day}.${id}`);
    this.dirSync = new CoalescedFsync(this.dir, { keepOpen: true });
  }
}

interface PoolFile {
  batch: Batch;
  key: string;
  path: string;
  fd: number;
  /** Direct I/O: the file's descriptor without O_DIRECT, for the writer's page-cache writes (blob-writer.ts). */
  pageCacheFd?: number;
}

export class FileBlobStore implements BlobStore {
  readonly root: string;
  readonly flushBytes: number;
  readonly highWaterBytes: number;
  readonly syncEveryBytes: number;
  /** Whether files are written with direct I/O (FileBlobStoreOptions.directIo). */
  readonly directIo: boolean;
  readonly slabs: SlabPool;
  /** Direct writes in flight, all writers together (blob-writer.ts). */
  readonly directWrites = { inFlight: 0 };
  /** Copies of the files just written (FileBlobStoreOptions.keepCopiesBytes), if kept. */
  readonly copies: RetainedCopies | undefined;
  readonly poolSize: number;
  readonly batchFiles: number;
  /** Where this store's open-batch markers go: `open`, or `open-by-node/<id>` when nodes share it. */
  private readonly markerDir: string;
  private readonly node: SharingNode | undefined;
  private readonly openDirSync: CoalescedFsync;
  private readonly filesDirSync: CoalescedFsync;
  /** Batches not sealed yet, whose directory handle (dirSync) may be open: close() closes those it leaves unsealed. */
  private readonly unsealed = new Set<Batch>();
  private readonly knownDays = new Set<string>();
  private current: Batch | undefined;
  private pool: PoolFile[] = [];
  private refilling: Promise<void> | undefined;
  private closed = false;
  /** Before a batch is sealed: the rows of its files made durable (setSealBarrier). */
  private sealBarrier: () => Promise<void> = () => Promise.resolve();
  /** Background steps (closes, seals): idle() waits for them. */
  private readonly background = new Set<Promise<unknown>>();

  private constructor(root: string, opts: FileBlobStoreOptions, direct: boolean) {
    this.root = root;
    this.flushBytes = opts.flushBytes ?? DEFAULT_FLUSH_BYTES;
    this.highWaterBytes = opts.highWaterBytes ?? 4 << 20;
    this.syncEveryBytes = opts.syncEveryBytes ?? 4 << 20;
    // Enough written slabs kept for a few associations' data in flight (4 MiB by default).
    this.slabs = new SlabPool(this.flushBytes, 64, direct);
    // Kept by every writer of a store that keeps copies (blob-writer.ts), direct or buffered.
    this.copies = opts.keepCopiesBytes ? new RetainedCopies(this.slabs, opts.keepCopiesBytes) : undefined;
    this.directIo = direct;
    this.poolSize = opts.poolSize ?? 16;
    this.batchFiles = Math.max(1, opts.batchFiles ?? 1024);
    this.node = opts.node;
    this.markerDir = opts.node ? join(NODE_MARKERS_DIR, opts.node.id) : 'open';
    this.openDirSync = new CoalescedFsync(join(root, this.markerDir), { keepOpen: true });
    this.filesDirSync = new CoalescedFsync(join(root, 's'), { keepOpen: true });
  }

  static async open(root: string, opts: FileBlobStoreOptions = {}): Promise<FileBlobStore> {
    if (opts.node && !NODE_ID_RE.test(opts.node.id)) throw new Error(`not a node id: '${opts.node.id}'`);
    await mkdir(join(root, 'open'), { recursive: true, mode: 0o700 });
    await mkdir(join(root, 's'), { recursive: true, mode: 0o700 });
    if (opts.node) {
      // Durable before a marker goes in: the marker's own fsync covers only its directory's entries.
      await mkdir(join(root, NODE_MARKERS_DIR, opts.node.id), { recursive: true, mode: 0o700 });
      await fsyncPath(join(root, NODE_MARKERS_DIR));
    }
    await fsyncPath(root);
    return new FileBlobStore(root, opts, await directIoWanted(root, opts));
  }

  setSealBarrier(barrier: () => Promise<void>): void {
    this.sealBarrier = barrier;
  }

  path(key: string): string {
    checkKey(key);
    return join(this.root, key);
  }

  begin(): BlobWriter {
    const p = this.pool.shift();
    this.refill();
    if (p) {
      return new FileBlobWriter(this, {
        key: p.key,
        path: p.path,
        fd: Promise.resolve(p.fd),
        pageCacheFd: p.pageCacheFd,
        nameDurable: Promise.resolve(),
        settled: () => this.settle(p.batch),
      });
    }
    // The pool is empty: a file of its own, its name made durable while the data arrives.
    const batch = this.takeFile();
    const { key, path } = this.newName(batch);
    const fd = batch.ready.then(() => openFd(path, this.directIo));
    const nameDurable = fd.then(() => batch.dirSync.sync());
    return new FileBlobWriter(this, { key, path, fd, nameDurable, settled: () => this.settle(batch) });
  }

  private newName(batch: Batch): { key: string; path: string } {
    const name = `${randomHex(8)}.dcm`;
    return { key: `${batch.key}/${name}`, path: join(batch.dir, name) };
  }

  /** The batch the next new file goes into (a new one when the current one is full), counted as outstanding. */
  private takeFile(): Batch {
    if (!this.current || this.current.created >= this.batchFiles) {
      if (this.current) this.retire(this.current);
      this.current = this.newBatch();
    }
    this.current.created++;
    this.current.outstanding++;
    return this.current;
  }

  private newBatch(): Batch {
    const day = new Date().toISOString().slice(0, 10).replace(/-/g, '');
    const b = new Batch(this.root, this.markerDir, day, randomBytes(6).toString('hex'));
    this.unsealed.add(b);
    b.ready = (async () => {
      // The marker first: a batch directory must never exist unseen by the sweep.
      await (await open(b.marker, 'wx', 0o600)).close();
      await this.openDirSync.sync();
      const dayDir = join(this.root, 's', day);
      if (!this.knownDays.has(day)) {
        if ((await mkdir(dayDir, { recursive: true, mode: 0o700 })) !== undefined) await this.filesDirSync.sync();
        this.knownDays.add(day);
      }
      await mkdir(b.dir, { mode: 0o700 });
      await fsyncPath(dayDir);
    })();
    b.ready.catch(() => undefined); // observed by the writers and the pool
    return b;
  }

  private retire(b: Batch): void {
    b.retired = true;
    this.maybeSeal(b);
  }

  /** A file of `b` is settled (committed and closed, or unlinked). */
  private settle(b: Batch): void {
    b.outstanding--;
    this.maybeSeal(b);
  }

  /** Every file of a full batch settled: its deletions made durable, then its marker goes. Never rejects. */
  private maybeSeal(b: Batch): void {
    if (!b.retired || b.outstanding > 0 || b.sealing) return;
    b.sealing = this.track(
      (async () => {
        try {
          await b.ready;
          await this.sealBarrier();
          await b.dirSync.sync();
          await unlink(b.marker);
        } catch {
          // The marker stays: the next start sweeps the batch.
        } finally {
          await b.dirSync.close();
          this.unsealed.delete(b);
        }
      })(),
    );
  }

  /** Background: tops the pool up, a few files then one fsync of their directory. Never rejects. */
  private refill(): void {
    if (this.refilling || this.closed || this.poolSize <= 0 || this.pool.length > this.poolSize / 2) return;
    this.refilling = (async () => {
      const made: PoolFile[] = [];
      let failed = false;
      try {
        while (this.pool.length + made.length < this.poolSize) {
          const batch = this.takeFile();
          const { key, path } = this.newName(batch);
          let f: PoolFile;
          try {
            await batch.ready;
            f = { batch, key, path, fd: await openFd(path, this.directIo) };
          } catch (e) {
            this.settle(batch);
            throw e;
          }
          made.push(f);
          // A failure here drops it with the others below (closed, unlinked, settled).
          if (this.directIo) f.pageCacheFd = await openPageCacheFd(path);
        }
        for (const b of new Set(made.map((f) => f.batch))) await b.dirSync.sync();
      } catch {
        failed = true; // a file whose name may not be durable is not used
      }
      if (failed || this.closed) {
        for (const f of made) await this.dropPoolFile(f);
        return;
      }
      this.pool.push(...made);
    })().finally(() => {
      this.refilling = undefined;
    });
  }

  private async dropPoolFile(f: PoolFile): Promise<void> {
    closeQuietly(f.fd);
    if (f.pageCacheFd !== undefined) closeQuietly(f.pageCacheFd);
    try {
      await unlink(f.path);
      this.settle(f.batch);
    } catch {
      // Left for the sweep (its batch stays open).
    }
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

  borrowCopy(key: string): BorrowedCopy | undefined {
    return this.copies?.borrow(key);
  }

  async delete(key: string): Promise<void> {
    this.copies?.drop(key);
    try {
      await unlink(this.path(key));
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  /** Registers a background step, for idle(). */
  track<T>(p: Promise<T>): Promise<T> {
    this.background.add(p);
    const done = (): void => void this.background.delete(p);
    p.then(done, done);
    return p;
  }

  async idle(): Promise<void> {
    while (this.refilling || this.background.size > 0) {
      await this.refilling;
      await Promise.allSettled([...this.background]);
    }
  }

  /** Unused pool files removed, the current batch sealed once its files are settled. */
  async close(): Promise<void> {
    this.closed = true;
    this.copies?.clear();
    await this.refilling;
    for (const f of this.pool.splice(0)) await this.dropPoolFile(f);
    if (this.current) this.retire(this.current);
    this.current = undefined;
    await this.idle();
    // Batches left open (a file left to the sweep, or not settled): their markers stay for the next start's sweep.
    for (const b of this.unsealed) await b.dirSync.close();
    this.unsealed.clear();
    await this.openDirSync.close();
    await this.filesDirSync.close();
  }

  /**
   * Open batches: those marked in `open/` (a single node's), this node's own, and those
   * of every other node whose lease has expired (without `node`, every node's: a single
   * node serves the directory alone). A live node's are left alone and named in the report.
   */
  async sweep(isReferenced: (key: string) => Promise<boolean>, check?: SweepCheck): Promise<SweepReport> {
    const report: SweepReport = { tempFiles: 0, removedFinalFiles: 0 };
    await sweepOpenBatches(this.root, 'open', isReferenced, check, report);
    for (const id of await nodeMarkerDirs(this.root)) {
      await this.sweepNode(id, id === this.node?.id, isReferenced, check, report);
    }
    await sweepLegacy(this.root, isReferenced, check, report);
    return report;
  }

  /**
   * While this node stores: the open batches of the other nodes whose lease has expired
   * (a node that died and was not restarted). Never this node's own, nor `open/` or the
   * old layout, which only the start-up sweep may touch.
   */
  async sweepExpiredNodes(isReferenced: (key: string) => Promise<boolean>, check?: SweepCheck): Promise<SweepReport> {
    const report: SweepReport = { tempFiles: 0, removedFinalFiles: 0 };
    if (!this.node || this.closed) return report;
    for (const id of await nodeMarkerDirs(this.root)) {
      if (id === this.node.id || (await readdirIfAny(join(this.root, NODE_MARKERS_DIR, id))).length === 0) continue;
      await this.sweepNode(id, false, isReferenced, check, report);
    }
    return report;
  }

  /**
   * One node's open batches, under its sweep lock: this node's own (waiting for the lock:
   * another node may be finishing them) or another's once its lease expired (checked again
   * under the lock: it may have come back meanwhile).
   */
  private async sweepNode(
    id: string,
    own: boolean,
    isReferenced: (key: string) => Promise<boolean>,
    check: SweepCheck | undefined,
    report: SweepReport,
  ): Promise<void> {
    const node = this.node;
    const expired = async () => own || !node || (await node.leaseExpired(id));
    if (!(await expired())) {
      (report.liveNodesLeft ??= []).push(id);
      return;
    }
    const sweep = async () => {
      // Again under the lock (it may have come back meanwhile), and fenced from here on.
      if (!own && node?.fenceIfExpired ? !(await node.fenceIfExpired(id)) : !(await expired())) return;
      const before = report.tempFiles;
      const swept = await sweepOpenBatches(this.root, join(NODE_MARKERS_DIR, id), isReferenced, check, report);
      if (!own && swept > 0) (report.nodesSwept ??= []).push({ nodeId: id, batches: swept, tempFiles: report.tempFiles - before });
    };
    if (node?.withSweepLock) await node.withSweepLock(id, own, sweep);
    else await sweep();
  }
}

/** The node ids that have a directory of open-batch markers. */
async function nodeMarkerDirs(root: string): Promise<string[]> {
  try {
    return (await readdir(join(root, NODE_MARKERS_DIR), { withFileTypes: true })).filter((e) => e.isDirectory() && NODE_ID_RE.test(e.name)).map((e) => e.name);
  } catch (e) {
    if (isNotFound(e)) return [];
    throw e;
  }
}

/** Whether the store writes with direct I/O (FileBlobStoreOptions.directIo); throws if required and refused. */
async function directIoWanted(root: string, opts: FileBlobStoreOptions): Promise<boolean> {
  const wanted = opts.directIo ?? 'auto';
  if (wanted === false) return false;
  const flushBytes = opts.flushBytes ?? DEFAULT_FLUSH_BYTES;
  const refused = flushBytes % DIRECT_IO_ALIGN !== 0 ? `flushBytes ${flushBytes} is not a multiple of ${DIRECT_IO_ALIGN}` : await directIoRefused(root);
  if (refused !== undefined && wanted === true) throw new Error(`direct I/O in ${root}: ${refused}`);
  return refused === undefined;
}

/** Why a file under `root` cannot be written with O_DIRECT (some file systems refuse the flag), or undefined if it can. */
async function directIoRefused(root: string): Promise<string | undefined> {
  // A probe left by a crash in the middle of this goes first.
  for (const name of await readdir(root)) if (name.startsWith(DIRECT_IO_PROBE)) await unlink(join(root, name)).catch(() => undefined);
  const path = join(root, `${DIRECT_IO_PROBE}${randomBytes(6).toString('hex')}`);
  let fd: number | undefined;
  try {
    fd = await openFd(path, true);
    const block = new SlabPool(DIRECT_IO_ALIGN, 0, true).take().fill(0);
    const written = await new Promise<number>((resolve, reject) => writeCb(fd!, block, 0, block.length, 0, (e, n) => (e ? reject(e) : resolve(n))));
    return written === block.length ? undefined : `short write (${written} bytes)`;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  } finally {
    if (fd !== undefined) closeSync(fd);
    await unlink(path).catch(() => undefined);
  }
}

/** A new file, owner-only (patient data), as a raw fd: blob-writer.ts says why. */
function openFd(path: string, direct: boolean): Promise<number> {
  return openRaw(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (direct ? constants.O_DIRECT : 0));
}

/** A second descriptor of a pool file, without O_DIRECT: the writer's page-cache writes at persist() go through it. */
function openPageCacheFd(path: string): Promise<number> {
  return openRaw(path, constants.O_WRONLY);
}

function openRaw(path: string, flags: number): Promise<number> {
  return new Promise((resolve, reject) => openCb(path, flags, 0o600, (e, fd) => (e ? reject(e) : resolve(fd))));
}

function isNotFound(e: unknown): boolean {
  return (e as NodeJS.ErrnoException)?.code === 'ENOENT';
}

/**
 * `n` random bytes as hex, cut from a block drawn from the CSPRNG 4 KiB at a time: a call
 * of randomBytes per file cost ~5.5 us, OpenSSL's per-call overhead (0.1 us this way; issue 16).
 */
function randomHex(n: number): string {
  if (randomAt + n > randomBlock.length) {
    randomFillSync(randomBlock);
    randomAt = 0;
  }
  const hex = randomBlock.toString('hex', randomAt, randomAt + n);
  randomAt += n;
  return hex;
}
const randomBlock = Buffer.alloc(4096);
let randomAt = randomBlock.length;
