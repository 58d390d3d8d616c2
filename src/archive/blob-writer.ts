/**
 * One file being written under its final name (the durability protocol is at the top of
 * file-blob-store.ts): the bytes accepted are copied into pooled slabs (slab-queue.ts: the
 * chunks are views of a reused receive buffer) and flushed with writev, one write in flight
 * at a time (slabs filled meanwhile go together in the next one); no promise per chunk.
 * While the data arrives, the file is fdatasynced in the background every
 * `syncEveryBytes` (one at a time), so the final fdatasync has only the tail left.
 *
 * A raw file descriptor and fs's callback API, not a FileHandle: the close is a
 * synchronous close(2) on the event loop (microseconds for a file that is neither
 * truncated nor renamed over), which saves a thread-pool round trip per instance (its
 * futex wake, eventfd write, epoll wake and completion); a FileHandle cannot be closed
 * synchronously. Every fd is closed exactly once, by release() or abort().
 *
 * Buffered: the tail still queued when persist() starts, up to SYNC_TAIL_MAX, is written by a
 * synchronous pwritev on the event loop, after the write in flight in the pool (if any; a
 * flush loop stops once persist() has begun). A socket delivers a 512 KB instance faster
 * than the pool writes it: at the last byte, typically one write of ~130 KB is in flight
 * and ~390 KB are queued (measured here), which was a second pool write on the critical
 * path between the last byte and the fdatasync. A pool round trip costs about 35 us of CPU
 * here (a pool thread's wake-up, its completion, an epoll wake; a loop of 16 KiB writes:
 * 35-55 us async against 4-7 us with writevSync); the copy into the page cache (~0.1 ms for
 * 390 KB) is the same on either thread. Writes while the data arrives stay in the pool, and
 * a tail over SYNC_TAIL_MAX (a large instance's last part, under highWaterBytes) too (issue 16).
 *
 * Direct I/O (WriterHost.directIo, the default where the file system takes it): the file is
 * open with O_DIRECT, so its data goes from the slabs to the device and never into the page
 * cache. A buffered write costs the memcpy into the page cache, and each page it adds is
 * memory the kernel must find: on this project's test VMs, which hand freed memory back to
 * their host, a page first touched costs a host fault, and a buffered 512 KB instance cost
 * ~1.7 ms of CPU once the page cache grew (~0.15 ms while it reused freed pages); direct
 * writes cost ~0.3 ms either way. A direct write must start and end on 4 KiB boundaries and
 * read from an aligned buffer: the slabs are aligned (slab-queue.ts) and flushBytes long, so
 * every write while the data arrives is. persist() writes the whole blocks of what is left
 * directly, and through the page cache (a second descriptor without O_DIRECT, opened ahead with a
 * pool file: a synchronous open on the event loop cost ~0.08 ms per instance) the last part
 * block and the first block again, now with the seal in its preamble (a copy of it is kept:
 * 4 KiB), once every direct write has ended; the final fdatasync writes those two pages
 * back. Holding the first slab back until persist(), to write each byte once, cost
 * a direct write of 64 KiB between the last byte and the fdatasync. Direct writes wait for
 * the device, so all of them run in the pool, the tail too (no synchronous tail, see below),
 * several at once, each at its own offset. While the data arrives, a write waits until
 * DIRECT_WRITE_MIN_BYTES are queued: each direct write costs ~0.1 ms of CPU here (the pool
 * round trip, the request to the device, its completion), a 512 KiB one little more than a
 * 64 KiB one (new 512 KiB files made durable in a loop: 1.05-1.50 ms of CPU per file in
 * 64 KiB writes, 0.27-0.69 ms in one). A 512 KB instance is then written in two: its whole
 * slabs just before its last byte, the rest beside that write. (ext4 holds the inode's
 * lock through a direct write that extends the file, so they reach the device one after
 * the other; the gain is in not waiting between them. The buffered writes at persist()
 * would wait for that lock on the event loop, with every other association: they start
 * once the direct writes have ended (paired A/B, four associations: faster in 7 of 8
 * rounds, 0.07 ms less CPU per instance). Moving them to the pool was slower, paired A/B.)
 *
 * Kept copies (WriterHost.copies, the Router's store): the slabs of each write are not given
 * back to the pool once it has ended but kept, by file offset (direct writes end in any
 * order), and handed to the store's RetainedCopies in file order once the file is persisted
 * (retained-copies.ts), unless the file grew past what a copy may hold.
 *
 * The CRC-32 covers the bytes after the 128-byte preamble; once every byte of a Part 10 file
 * ('DICM' after the preamble, as ingest writes) is written, the preamble gets the seal (blob-seal.ts: size and that
 * CRC-32), one small synchronous write into a page already cached (direct: in the first
 * slab, written last), before the final fdatasync, so the file proves its own completeness
 * after a crash.
 */
import { closeSync, constants, fdatasync, openSync, writeSync, writev, writevSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { crc32 } from './crc32.js';
import type { BlobWriter } from './blob-store.js';
import { encodeSeal, PREAMBLE_BYTES } from './blob-seal.js';
import type { RetainedCopies } from './retained-copies.js';
import { DIRECT_IO_ALIGN, type SlabPool, SlabQueue } from './slab-queue.js';

/** What a writer needs of its store. */
export interface WriterHost {
  readonly flushBytes: number;
  readonly highWaterBytes: number;
  readonly syncEveryBytes: number;
  /** Where accepted bytes are copied to until written; slabs of flushBytes. */
  readonly slabs: SlabPool;
  /** The files are open with O_DIRECT (see the top), and the slabs are aligned. */
  readonly directIo?: boolean;
  /** Registers a background step (for the store's idle()). */
  track<T>(p: Promise<T>): Promise<T>;
  /** Direct writes in flight, all of the store's writers together (see pumpDirect). */
  readonly directWrites?: { inFlight: number };
  /** Where written files' bytes are kept for a reader soon after (retained-copies.ts), if they are. */
  readonly copies?: RetainedCopies;
}

/** The file a writer writes: its key and path, its handle, and when its name is durable. */
export interface WriterFile {
  key: string;
  path: string;
  /** The open file descriptor; the writer closes it. */
  fd: Promise<number>;
  /**
   * Direct I/O: a second descriptor of the file without O_DIRECT, opened ahead (a pool file),
   * for persist()'s page-cache writes; the writer closes it. Absent: opened at persist().
   */
  pageCacheFd?: number;
  /** Settles once the file's directory entry is durable. */
  nameDurable: Promise<void>;
  /** Called once the file is settled: committed and closed, or unlinked. */
  settled: () => void;
}

type WriterState = 'open' | 'persisting' | 'persisted' | 'released' | 'aborted';

export class FileBlobWriter implements BlobWriter {
  readonly key: string;
  bytes = 0;
  crc32 = 0;
  private readonly host: WriterHost;
  private readonly file: WriterFile;
  private state: WriterState = 'open';
  private fd: Promise<number> | undefined;
  /** Accepted bytes not yet written, copied (the chunks are views of a reused buffer). */
  private readonly queue: SlabQueue;
  private position = 0;
  private flushing: Promise<void> | undefined;
  /** The first failure; persist() throws it. */
  private error: Error | undefined;
  private drainWaiters: Array<() => void> = [];
  private aborting: Promise<void> | undefined;
  /** Background fdatasync in flight (at most one) and the position the last one started at. */
  private syncing: Promise<void> | undefined;
  private syncedFrom = 0;
  /** The final fdatasync, once started. */
  private finalSync: Promise<void> | undefined;
  /** The file's first bytes: preamble and 'DICM'. */
  private readonly prefix = Buffer.alloc(PART10_PREFIX);
  /** Direct I/O: a copy of the file's first block, which persist() writes again with the seal (see the top). */
  private head: Buffer | undefined;
  /** The written bytes, kept for host.copies: the views of each write by its file offset (direct writes end in any order), their slabs. */
  private kept: { parts: Array<{ at: number; views: Buffer[] }>; slabs: Buffer[]; bytes: number } | undefined;
  /** Direct I/O: the descriptor once open, the writes in flight and their bytes, who waits for none to be. */
  private fdNow: number | undefined;
  private directWrites = 0;
  private directBytes = 0;
  private directIdle: Array<() => void> = [];
  /** WriterFile.pageCacheFd, until closed. */
  private pageCacheFd: number | undefined;

  constructor(host: WriterHost, file: WriterFile) {
    this.host = host;
    this.file = file;
    this.key = file.key;
    this.pageCacheFd = file.pageCacheFd;
    this.queue = new SlabQueue(host.slabs);
    if (host.copies) this.kept = { parts: [], slabs: [], bytes: 0 };
    this.fd = file.fd;
    this.fd.then(
      (fd) => {
        this.fdNow = fd;
        if (host.directIo) this.pumpDirect();
      },
      (e: unknown) => this.failed(e), // reported by persist()
    );
    file.nameDurable.catch(() => undefined); // observed by persist()
  }

  /** A Part 10 file ('DICM' after the preamble) is sealed; other blobs are kept as written. */
  private isPart10(): boolean {
    return this.bytes >= PART10_PREFIX && this.prefix.toString('latin1', PREAMBLE_BYTES, PART10_PREFIX) === 'DICM';
  }

  private handle(): Promise<number> {
    if (!this.fd) throw new Error('blob writer has no open file');
    return this.fd;
  }

  write(chunk: Buffer): void | Promise<void> {
    if (this.state !== 'open') throw new Error(`blob writer is ${this.state}`);
    if (this.error !== undefined) return; // reported by persist()
    if (chunk.length === 0) return;
    this.queue.append(chunk);
    // The CRC-32 of the body: the preamble (the first chunk's start) is left out, the seal goes there.
    const skip = this.bytes < PREAMBLE_BYTES ? PREAMBLE_BYTES - this.bytes : 0;
    if (this.bytes < PART10_PREFIX) chunk.copy(this.prefix, this.bytes, 0, Math.min(chunk.length, PART10_PREFIX - this.bytes));
    if (this.host.directIo && this.bytes < DIRECT_IO_ALIGN) {
      chunk.copy((this.head ??= Buffer.alloc(DIRECT_IO_ALIGN)), this.bytes, 0, Math.min(chunk.length, DIRECT_IO_ALIGN - this.bytes));
    }
    this.bytes += chunk.length;
    if (skip < chunk.length) this.crc32 = crc32(skip > 0 ? chunk.subarray(skip) : chunk, this.crc32);
    // Not awaited: write() returns at once; the flush catches every failure into this.error,
    // which persist() throws.
    if (this.host.directIo) this.pumpDirect();
    else if (this.flushing === undefined && this.queue.fullBytes >= this.host.flushBytes) void this.startFlush(false);
    if (this.queue.bytes + this.directBytes > this.host.highWaterBytes) {
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
    if (this.queue.bytes + this.directBytes > this.host.highWaterBytes && this.error === undefined) return;
    const ws = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of ws) w();
  }

  private async flushLoop(final: boolean): Promise<void> {
    try {
      const fd = await this.handle();
      // A flush started while the data arrived stops once persist() has begun: what is left
      // is persist()'s tail (see the top).
      while (final ? this.queue.bytes > 0 : this.state === 'open' && this.queue.fullBytes >= this.host.flushBytes) {
        const batch = this.queue.take(final);
        const at = this.position;
        this.wakeWaiters();
        try {
          // The tail at persist() (final): on the event loop up to SYNC_TAIL_MAX (see the top).
          await this.writeOut(fd, batch.views, batch.bytes, final ? SYNC_TAIL_MAX : 0);
        } finally {
          this.written(batch.views, batch.slabs, at); // written, or never to be
        }
        if (!final) this.maybeSyncBehind(fd);
      }
    } catch (e) {
      this.failed(e);
    }
  }

  /** The first failure is kept (persist() throws it); nothing queued will be written. */
  private failed(e: unknown): void {
    this.error ??= asError(e);
    this.queue.clear();
    this.wakeWaiters();
  }

  /**
   * Direct I/O, while the data arrives: each time DIRECT_WRITE_MIN_BYTES of whole slabs are
   * queued, a write of them in the pool, each at its own offset: one at a time always, more
   * while the store's writers have fewer than DIRECT_WRITES_AT_ONCE in flight in all (with
   * four associations, four each made more, smaller writes and fewer instances per second).
   * persist() writes the rest, and the first block again, sealed (see the top).
   */
  private pumpDirect(): void {
    const fd = this.fdNow;
    if (fd === undefined) return;
    const store = this.host.directWrites ?? { inFlight: 0 };
    while (
      this.state === 'open' &&
      this.error === undefined &&
      this.queue.fullBytes >= Math.max(DIRECT_WRITE_MIN_BYTES, this.host.flushBytes) &&
      (this.directWrites === 0 || store.inFlight < DIRECT_WRITES_AT_ONCE)
    ) {
      const { views, slabs, bytes } = this.queue.take(false);
      const at = this.position;
      this.issueDirect(fd, views, bytes, at, () => this.written(views, slabs, at));
      this.position += bytes;
    }
  }

  /** One direct write in the pool; `settled` runs once it has (its slabs may then be used again). */
  private issueDirect(fd: number, bufs: Buffer[], n: number, at: number, settled: () => void): void {
    const store = this.host.directWrites;
    if (store) store.inFlight++;
    this.directWrites++;
    this.directBytes += n;
    void writeFully(fd, bufs, n, at)
      .catch((e: unknown) => this.failed(e))
      .finally(() => {
        if (store) store.inFlight--;
        this.directWrites--;
        this.directBytes -= n;
        settled();
        if (this.directWrites === 0) for (const w of this.directIdle.splice(0)) w();
        this.wakeWaiters();
        if (this.error === undefined && this.state === 'open') {
          this.maybeSyncBehind(fd);
          this.pumpDirect();
        }
      });
  }

  /** Resolves once no direct write is in flight. */
  private directSettled(): Promise<void> {
    return this.directWrites === 0 ? Promise.resolve() : new Promise((resolve) => this.directIdle.push(resolve));
  }

  /**
   * Direct I/O, at persist(): the whole blocks of what is queued, by a direct write in the
   * pool beside the writes still in flight; then, once they have all ended, the last part
   * block and the sealed first block through the page cache, by a second descriptor without
   * O_DIRECT (a direct write must cover whole blocks; padding and truncating would read the
   * block back).
   */
  private async finishDirect(fd: number): Promise<void> {
    const batch = this.queue.take(true);
    this.wakeWaiters();
    // Nothing written yet: the file's start is in this batch, and the seal goes with it.
    const sealHead = this.position > 0 && this.isPart10();
    if (this.position === 0 && batch.views.length > 0) this.sealInto(batch.views[0]);
    const aligned = batch.bytes - (batch.bytes % DIRECT_IO_ALIGN);
    const rest = batch.bytes - aligned;
    const restAt = this.position + aligned;
    let restWritten = false;
    const at = this.position;
    // The batch's slabs are written once both its direct part and its page-cache part are.
    const partWritten = (): void => {
      if (restWritten) this.written(batch.views, batch.slabs, at);
      else restWritten = true;
    };
    if (aligned > 0) this.issueDirect(fd, takeBytes(batch.views, aligned), aligned, at, partWritten);
    else restWritten = true;
    try {
      // After every direct write has ended: the first block again, sealed, over the one written
      // directly (a direct write that ended later would put the unsealed block back), and the
      // last part block, which extends the file: ext4 holds the inode's lock through a direct
      // write that extends it, and a buffered write issued before they end waits for that
      // lock on the event loop, where every other association waits with it.
      if (rest > 0 || sealHead) await this.directSettled();
      if (this.error === undefined && (rest > 0 || sealHead)) {
        this.throughPageCache((bfd) => {
          if (rest > 0) {
            const written = writevSync(bfd, dropBytes(batch.views, aligned), restAt);
            if (written !== rest) throw new Error(`short write of the last ${rest} bytes (${written} written)`);
          }
          if (sealHead) {
            const head = this.head!;
            this.sealInto(head);
            if (writeSync(bfd, head, 0, head.length, 0) !== head.length) throw new Error('short write of the first block');
          }
        });
      }
    } catch (e) {
      this.failed(e);
    } finally {
      partWritten();
    }
    this.position = restAt + rest;
    await this.directSettled();
  }

  /** Slabs written (or never to be): kept for host.copies while the file may still be kept whole, else given back. */
  private written(views: Buffer[], slabs: Buffer[], at: number): void {
    const kept = this.kept;
    if (!kept) return this.host.slabs.give(slabs);
    for (const v of views) kept.bytes += v.length;
    kept.parts.push({ at, views });
    kept.slabs.push(...slabs);
    if (kept.bytes > this.host.copies!.maxCopyBytes) this.giveBackKept(); // too large to keep: nobody reads it from memory
  }

  /** The kept slabs back to the pool; nothing more is kept. */
  private giveBackKept(): void {
    if (this.kept) this.host.slabs.give(this.kept.slabs);
    this.kept = undefined;
  }

  /** The whole file's bytes to host.copies, once written. */
  private keepCopy(): void {
    const kept = this.kept;
    const copies = this.host.copies;
    if (!kept || !copies || this.error !== undefined) return;
    this.kept = undefined;
    const views = kept.parts.sort((a, b) => a.at - b.at).flatMap((p) => p.views);
    copies.add(this.key, { views, slabs: kept.slabs, bytes: kept.bytes });
  }

  /**
   * Writes the `n` bytes of `bufs` at the file's position, which it advances; a write of at
   * most `syncUpTo` bytes goes on the event loop, larger ones to the pool.
   */
  private async writeOut(fd: number, bufs: Buffer[], n: number, syncUpTo: number): Promise<void> {
    while (n > 0) {
      const written = n <= syncUpTo ? writevSync(fd, bufs, this.position) : await writeAt(fd, bufs, this.position);
      this.position += written;
      n -= written;
      if (n > 0) bufs = dropBytes(bufs, written);
    }
  }

  /** The seal of a Part 10 file (blob-seal.ts), once every byte is accepted. */
  private seal(): Buffer {
    return encodeSeal({ size: this.bytes, bodyCrc32: this.crc32 });
  }

  /** A Part 10 file's seal into the preamble at the start of `start`. */
  private sealInto(start: Buffer): void {
    if (this.isPart10()) this.seal().copy(start, 0, 0, PREAMBLE_BYTES);
  }

  /**
   * Runs `write` on a second descriptor of the file, without O_DIRECT (see finishDirect): the
   * one opened ahead with a pool file (a synchronous open and close on the event loop less
   * per instance), else one opened for it.
   */
  private throughPageCache<T>(write: (fd: number) => T): T {
    const ahead = this.pageCacheFd;
    if (ahead !== undefined) return write(ahead);
    const bfd = openSync(this.file.path, constants.O_WRONLY);
    try {
      return write(bfd);
    } finally {
      closeSync(bfd);
    }
  }

  /** Background fdatasync of what is written so far, one at a time, while more data arrives. */
  private maybeSyncBehind(fd: number): void {
    const every = this.host.syncEveryBytes;
    if (every <= 0 || this.syncing || this.state !== 'open' || this.position - this.syncedFrom < every) return;
    this.syncedFrom = this.position;
    this.syncing = datasync(fd).then(
      () => {
        this.syncing = undefined;
        if (this.state === 'open') this.maybeSyncBehind(fd);
      },
      (e: unknown) => {
        this.error ??= asError(e); // never trust this handle again: persist() fails
      },
    );
  }

  /** Writes everything queued; throws the first write error. */
  private async flushAll(): Promise<number> {
    if (this.host.directIo) {
      const fd = await this.handle();
      await this.finishDirect(fd);
      if (this.error !== undefined) throw this.error;
      return fd;
    }
    if (this.flushing) await this.flushing;
    await this.startFlush(true);
    if (this.error !== undefined) throw this.error;
    return this.handle();
  }

  async persist(): Promise<void> {
    const { durable } = await this.persistEarly();
    await durable;
  }

  async persistEarly(): Promise<{ durable: Promise<void> }> {
    if (this.state !== 'open') throw new Error(`blob writer is ${this.state}`);
    this.state = 'persisting';
    const fd = await this.flushAll();
    // Direct I/O: the seal went with the first slab (writeDirectTail).
    if (this.isPart10() && !this.host.directIo) {
      try {
        writeSync(fd, this.seal(), 0, PREAMBLE_BYTES, 0);
      } catch (e) {
        this.error ??= asError(e);
        throw this.error;
      }
    }
    const durable = (this.finalSync = datasync(fd));
    durable.catch(() => undefined); // the caller awaits it
    // The row may name this file only once its name survives a crash.
    await this.file.nameDurable;
    if (this.error !== undefined) throw this.error;
    this.state = 'persisted';
    this.keepCopy();
    return { durable };
  }

  /** Background: the file closed, then it is settled in its batch. Never rejects. */
  release(): Promise<void> {
    if (this.state !== 'persisted') return Promise.reject(new Error(`blob writer is ${this.state}`));
    this.state = 'released';
    return this.host.track(
      (async () => {
        await this.closeFd();
        this.file.settled();
      })(),
    );
  }

  /** Background: the file closed and not settled, so that its batch stays open for the sweep. Never rejects. */
  leave(): Promise<void> {
    this.state = 'aborted';
    this.host.copies?.drop(this.key);
    return this.host.track(this.closeFd());
  }

  abort(): Promise<void> {
    this.aborting ??= this.host.track(this.doAbort());
    return this.aborting;
  }

  private async doAbort(): Promise<void> {
    this.state = 'aborted';
    this.host.copies?.drop(this.key);
    this.queue.clear();
    this.wakeWaiters();
    try {
      if (this.flushing) await this.flushing;
      await this.directSettled();
      await this.syncing?.catch(() => undefined);
      await this.finalSync?.catch(() => undefined);
    } catch {
      /* a failed flush: its error is this.error */
    }
    await this.closeFd();
    await this.file.nameDurable.catch(() => undefined); // the file exists (or never will) by now
    try {
      await unlink(this.file.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException)?.code !== 'ENOENT') return; // left for the sweep: its batch stays open
    }
    this.file.settled();
  }

  /** Closes the fd (and the page-cache one opened ahead) once (synchronously: see the top); never rejects. */
  private async closeFd(): Promise<void> {
    this.giveBackKept();
    const ahead = this.pageCacheFd;
    this.pageCacheFd = undefined;
    if (ahead !== undefined) closeQuietly(ahead);
    const fd = this.fd;
    this.fd = undefined;
    if (fd === undefined) return;
    try {
      closeSync(await fd);
    } catch {
      /* never opened, or close failed: nothing left to release */
    }
  }
}

/** close(2) on the event loop, its failure ignored (the descriptor is released either way). */
export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    /* nothing left to release */
  }
}

/** The first `n` bytes of `bufs` (n at most their length). */
function takeBytes(bufs: Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  for (const b of bufs) {
    if (n <= 0) break;
    out.push(n >= b.length ? b : b.subarray(0, n));
    n -= b.length;
  }
  return out;
}

/**
 * The least a direct write takes while the data arrives (see the top). Paired A/B
 * (bench/ingest-ab.ts, 10 rounds each) against writes of one slab, then two or more:
 * 512 KiB used 0.30 ms (one association, lower in 9 of 10) and 0.13 ms (four, 8 of 10)
 * less CPU per instance, and made more instances per second with four associations in 8
 * of 10 (a later A/B: four associations no different); 256 KiB 0.10 ms (8 and 10 of 10);
 * 1 MiB, all of a 512 KB instance in one write at persist(), waited for it after the last
 * byte: fewer instances per second with one association.
 */
const DIRECT_WRITE_MIN_BYTES = 512 << 10;

/** Direct writes in flight at once, a store's writers together, beyond one each (see pumpDirect). */
const DIRECT_WRITES_AT_ONCE = 4;

/** The largest tail persist() writes on the event loop (see the top): about 0.25 ms of copying. */
const SYNC_TAIL_MAX = 1 << 20;

/** Preamble + 'DICM'. */
const PART10_PREFIX = PREAMBLE_BYTES + 4;

function writeAt(fd: number, bufs: Buffer[], position: number): Promise<number> {
  return new Promise((resolve, reject) => writev(fd, bufs, position, (e, n) => (e ? reject(e) : resolve(n))));
}

/** Writes all `n` bytes of `bufs` at `at`, in the pool (again after a short write). */
async function writeFully(fd: number, bufs: Buffer[], n: number, at: number): Promise<void> {
  while (n > 0) {
    const written = await writeAt(fd, bufs, at);
    if (written <= 0) throw new Error(`write of ${n} bytes at ${at} wrote nothing`);
    at += written;
    n -= written;
    if (n > 0) bufs = dropBytes(bufs, written);
  }
}

function datasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (e) => (e ? reject(e) : resolve())));
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

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
