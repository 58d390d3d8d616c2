/**
 * The archive: blob store + index behind one object, with durable streaming ingest.
 * Layout in dataDir: `blobs/` (FileBlobStore: `blobs/s/<day>/<batch>/`, `blobs/open/`),
 * `thumbnails/` (DerivedCache: rendered images of stored files, bounded), `metadata/`
 * (DerivedCache: WADO-RS metadata of studies, keyed by their change stamp, bounded) and,
 * for the embedded index, `index.sqlite`.
 *
 * Deletion: every path that takes a file out of the archive (deleteInstance, used by the
 * REST API and the router's retention; a duplicate replaced at ingest; the start-up sweep
 * dropping a row whose file is lost) removes the row first, then the file, then what was
 * derived from it.
 */
import { mkdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { DEFAULT_LIMITS, type DatasetLimits } from '../config/limits.js';
import type { BlobStore, SweepCheck, SweepReport } from './blob-store.js';
import { FileBlobStore, type FileBlobStoreOptions, type SharingNode } from './file-blob-store.js';
import { DEFAULT_DERIVED_CACHE_BYTES, DerivedCache } from './derived-cache.js';
import { GroupCommitter } from './group-commit.js';
import type { DuplicateAction, Index, IndexWriter, InsertResult, InstanceRecord, WriteOptions } from './index-types.js';
import { IngestSink, recordOfStoredFile, type DeferredRows, type DuplicatePolicy, type StoreRequest, type StoreSink } from './ingest.js';
import { openIndex, type IndexSpec } from './open-index.js';
import { studyChangeStamp } from './query.js';

export interface ArchiveOptions {
  dataDir: string;
  /** Embedded SQLite (default) or a PostgreSQL connection string and schema. */
  index?: IndexSpec;
  duplicatePolicy?: DuplicatePolicy;
  logger?: Logger;
  blobs?: FileBlobStoreOptions;
  /** Several nodes share the data directory (PostgreSQL): this node, for the blob store's open batches. */
  node?: SharingNode;
  /** Largest group-commit batch (default 1000). */
  maxBatch?: number;
  /** Deferred rows (ingest.ts): longest wait of an answered store's row for others to commit with (default 20 ms). */
  rowLingerMs?: number;
  /** The registry's limits.dataset, asked per store and per conversion (default: DEFAULT_LIMITS.dataset). */
  datasetLimits?: () => DatasetLimits;
  /** Cap of the thumbnail cache in bytes (default 256 MiB); a function is read at every put. */
  thumbnailCacheBytes?: number | (() => number);
  /** Cap of the metadata cache (`metadata/`), default DEFAULT_DERIVED_CACHE_BYTES. */
  metadataCacheBytes?: number;
  /**
   * Called inside the index transaction that inserts a batch of received instances, after
   * the insert, with each record and its result: rows it writes (an outbox, the router's
   * forward queue) commit atomically with the instances: before any C-STORE response, or
   * with deferred rows (ingest.ts) after it. Throwing fails the whole batch's stores
   * (nothing is acknowledged; with deferred rows, their files are left to the next start's
   * sweep, which indexes them again through this hook). A function it
   * returns runs once the transaction has committed (e.g. wake the router's senders:
   * before the commit they would not see the new rows).
   */
  afterInsert?: (tx: IndexWriter, records: readonly InstanceRecord[], results: readonly InsertResult[]) => Promise<void | (() => void)>;
}

type InsertFn = (records: readonly InstanceRecord[], onDuplicate: DuplicateAction, opts?: WriteOptions) => Promise<InsertResult[]>;

/** Inserts received instances, with the afterInsert hook's rows in the same transaction when there is one. */
function insertWith(index: Index, afterInsert: ArchiveOptions['afterInsert']): InsertFn {
  if (!afterInsert) return (records, onDuplicate, opts) => index.insertInstances(records, onDuplicate, opts);
  return async (records, onDuplicate, opts) => {
    const after: { committed?: () => void } = {};
    const results = await index.write(async (tx) => {
      const r = await tx.insertInstances(records, onDuplicate);
      after.committed = (await afterInsert(tx, records, r)) ?? undefined;
      return r;
    }, opts);
    after.committed?.();
    return results;
  };
}

/** A readiness check of the archive failed: which part (`database`, `storage`) and why. */
export class ArchiveProbeError extends Error {
  override readonly name = 'ArchiveProbeError';
  constructor(
    readonly check: 'archive' | 'database' | 'storage',
    detail: string,
  ) {
    super(`${check}: ${detail}`);
  }
}

/** Told of each instance once it is durable and committed (Archive.onStored). */
export type StoredListener = (record: InstanceRecord) => void;

export class Archive {
  readonly index: Index;
  readonly blobs: BlobStore;
  /** Rendered images of stored files (thumbnails), removed with their files. */
  readonly thumbnails: DerivedCache;
  /**
   * WADO-RS metadata of studies and series, keyed by study UID and a variant naming the
   * study's change stamp (web/dicomweb/metadata.ts): a changed study is asked under a new
   * key, and what the old stamp left goes least recently used first.
   */
  readonly metadata: DerivedCache;
  readonly duplicatePolicy: DuplicatePolicy;
  readonly logger: Logger;
  /** What the start-up sweep found. */
  readonly recovery: SweepReport;
  private readonly committer: GroupCommitter<InstanceRecord, InsertResult>;
  private readonly datasetLimits: () => DatasetLimits;
  private readonly dataDir: string;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly storedListeners = new Set<StoredListener>();
  /** Deferred rows (ingest.ts); undefined where rows commit before the answer. */
  private readonly deferredRows: DeferredRows | undefined;
  /** False after a failed index commit, until one succeeds: stores then commit before the answer, which tells of a failure. */
  private deferring = true;
  private closed = false;
  private expiredSweepTimer?: NodeJS.Timeout;
  private expiredSweep?: Promise<void>;

  private constructor(
    index: Index,
    blobs: BlobStore,
    caches: { thumbnails: DerivedCache; metadata: DerivedCache },
    recovery: SweepReport,
    insert: InsertFn,
    opts: ArchiveOptions,
    logger: Logger,
  ) {
    this.index = index;
    this.blobs = blobs;
    this.thumbnails = caches.thumbnails;
    this.metadata = caches.metadata;
    this.recovery = recovery;
    this.logger = logger;
    this.duplicatePolicy = opts.duplicatePolicy ?? 'keep';
    this.dataDir = opts.dataDir;
    this.datasetLimits = opts.datasetLimits ?? (() => DEFAULT_LIMITS.dataset);
    const onDuplicate = this.duplicatePolicy === 'replace' ? 'replace' : 'keep';
    // Received instances commit without waiting for the index's own fsync: each sealed file
    // re-makes its row at start if that commit is lost (file-blob-store.ts). Not a
    // replacement: the old version's file is deleted after the commit, which must hold.
    const deferSync = onDuplicate !== 'replace';
    this.committer = new GroupCommitter<InstanceRecord, InsertResult>(
      async (records) => {
        let results: InsertResult[];
        try {
          results = await insert(records, onDuplicate, { deferSync, ignorePending: true });
        } catch (e) {
          // Rows no longer deferred until a commit succeeds: stores answer the failure instead.
          this.deferring = false;
          throw e;
        }
        this.deferring = true;
        // A replaced duplicate: the old version's row is gone (ingest deletes its file); its thumbnails go too.
        for (const r of results) if (r.status === 'replaced') void this.track(this.removeDerived(r.previousFileKey));
        return results;
      },
      { maxBatch: opts.maxBatch, ...(opts.rowLingerMs !== undefined ? { lingerMs: opts.rowLingerMs } : {}) },
    );
    // Deferred rows (ingest.ts): where the index can make its readers wait for them (SQLite).
    if (deferSync && index.setPendingRows) {
      this.deferredRows = { rowsInFlight: new Set(), background: (work) => void this.track(work) };
      index.setPendingRows(() => this.committer.settled());
    }
  }

  static async open(opts: ArchiveOptions): Promise<Archive> {
    const logger = opts.logger ?? pino({ level: 'silent' });
    await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
    const blobs = await FileBlobStore.open(join(opts.dataDir, 'blobs'), { ...opts.blobs, ...(opts.node ? { node: opts.node } : {}) });
    const index = await openIndex(opts.dataDir, opts.index, { logger });
    if (opts.node?.writeFence) index.setWriteFence?.(opts.node.writeFence);
    // A batch is sealed (no longer swept) only once the rows of its files are durable.
    blobs.setSealBarrier(() => index.syncWrites());
    const insert = insertWith(index, opts.afterInsert);
    const isReferenced = (key: string) => index.hasFileKey(key);
    const check: SweepCheck = {
      expected: async (key) => {
        const row = await index.fileCheck(key);
        return row && { size: row.fileSize, crc32: row.fileCrc32 };
      },
      keysEndingWith: (suffix) => index.fileKeysEndingWith(suffix),
      dropRow: async (key) => {
        const row = await index.fileCheck(key);
        if (row) await index.deleteInstance(row.sopInstanceUid);
      },
      recover: async (key) => {
        const record = await recordOfStoredFile(blobs.path(key), key, (opts.datasetLimits?.() ?? DEFAULT_LIMITS.dataset).maxHeaderBytes);
        if (!record) return false;
        const [result] = await insert([record], 'keep'); // durable; a duplicate keeps the row there is
        return result.status === 'stored';
      },
    };
    let recovery: SweepReport;
    try {
      recovery = await blobs.sweep(isReferenced, check);
    } catch (e) {
      await index.close();
      throw e;
    }
    if (recovery.tempFiles > 0) logger.warn(recovery, 'recovered interrupted stores');
    for (const n of recovery.nodesSwept ?? []) logger.warn(n, `swept the open batches of node ${n.nodeId}, whose lease has expired`);
    if (recovery.liveNodesLeft) logger.info({ nodes: recovery.liveNodesLeft }, 'open batches of live nodes left alone');
    if (recovery.reindexed) logger.warn(recovery, 'stored instances indexed again from their files (their rows were lost in a crash)');
    // After the sweep: its start-up check drops the thumbnails of rows the sweep dropped.
    const cap = opts.thumbnailCacheBytes ?? DEFAULT_DERIVED_CACHE_BYTES;
    let thumbnails: DerivedCache;
    let metadata: DerivedCache;
    try {
      thumbnails = await DerivedCache.open(join(opts.dataDir, 'thumbnails'), {
        maxBytes: typeof cap === 'function' ? cap : () => cap,
        stillStored: (key) => index.hasFileKey(key),
        logger,
      });
      const metadataCap = opts.metadataCacheBytes ?? DEFAULT_DERIVED_CACHE_BYTES;
      metadata = await DerivedCache.open(join(opts.dataDir, 'metadata'), {
        maxBytes: () => metadataCap,
        stillStored: async (studyUid) => (await studyChangeStamp(index, studyUid)) !== undefined,
        logger,
        what: 'metadata of studies no longer stored',
      });
    } catch (e) {
      await index.close();
      throw e;
    }
    const archive = new Archive(index, blobs, { thumbnails, metadata }, recovery, insert, opts, logger);
    const every = opts.node?.sweepEveryMs ?? 0;
    if (every > 0) archive.sweepExpiredNodesEvery(every, () => blobs.sweepExpiredNodes(isReferenced, check));
    return archive;
  }

  /**
   * A node that died and is not restarted leaves its open batches (files of stores it never
   * acknowledged, rows whose data was not durable): a live node sweeps them once its lease
   * expired, without waiting for a restart of any node. One sweep at a time; failures logged.
   */
  private sweepExpiredNodesEvery(ms: number, sweep: () => Promise<SweepReport>): void {
    this.expiredSweepTimer = setInterval(() => {
      if (this.expiredSweep || this.closed) return;
      this.expiredSweep = sweep()
        .then((r) => {
          for (const n of r.nodesSwept ?? []) this.logger.warn(n, `swept the open batches of node ${n.nodeId}, whose lease has expired`);
          if (r.reindexed) this.logger.warn(r, 'stored instances of a node whose lease expired indexed again from their files');
        })
        .catch((err: Error) => this.logger.warn({ err: err.message }, 'open batches of expired nodes not swept'))
        .finally(() => {
          this.expiredSweep = undefined;
        });
    }, ms);
    this.expiredSweepTimer.unref();
  }

  /** The dataset limits in force (limits.dataset of the registry, read now). */
  get limits(): DatasetLimits {
    return this.datasetLimits();
  }

  /** Starts receiving one instance. */
  beginStore(req: StoreRequest): StoreSink {
    if (this.closed) throw new Error('archive is closed');
    const sink = new IngestSink(
      {
        blobs: this.blobs,
        index: this.index,
        committer: this.committer,
        duplicatePolicy: this.duplicatePolicy,
        logger: this.logger,
        maxHeaderBytes: this.limits.maxHeaderBytes,
        ...(this.storedListeners.size > 0 ? { onStored: (r: InstanceRecord) => this.notifyStored(r) } : {}),
        ...(this.deferredRows && this.deferring ? { deferred: this.deferredRows } : {}),
      },
      req,
    );
    const end = sink.end.bind(sink);
    sink.end = () => this.track(end());
    return sink;
  }

  /**
   * Calls `listener` with each instance stored or replaced, once it is durable and its row
   * committed (with deferred rows, ingest.ts, after the store's response went out; else
   * before). It must return at once (queue the work); what it throws is logged and never
   * fails the store. Returns the unsubscribe.
   */
  onStored(listener: StoredListener): () => void {
    this.storedListeners.add(listener);
    return () => void this.storedListeners.delete(listener);
  }

  private notifyStored(record: InstanceRecord): void {
    for (const l of this.storedListeners) {
      try {
        l(record);
      } catch (err) {
        this.logger.error({ err, sopInstanceUid: record.sopInstanceUid }, 'a stored-instance listener failed');
      }
    }
  }

  /** Removes an instance from the index, then its file, then its thumbnails. False when not stored. */
  async deleteInstance(sopInstanceUid: string): Promise<boolean> {
    const deleted = await this.index.deleteInstance(sopInstanceUid);
    if (!deleted) return false;
    await this.blobs.delete(deleted.fileKey);
    await this.removeDerived(deleted.fileKey);
    // In the background (idle() waits for it); many deletions in a row share one run.
    void this.track(this.index.reclaimSpace().catch((err: unknown) => this.logger.warn({ err }, 'index space not reclaimed')));
    return true;
  }

  private async removeDerived(fileKey: string): Promise<void> {
    await this.thumbnails.remove(fileKey).catch((err: unknown) => this.logger.warn({ err, fileKey }, 'thumbnails of a removed file not deleted'));
  }

  /** Group-commit counters: batches (index transactions) and items. */
  get groupCommitStats(): Readonly<{ batches: number; items: number; retriedBatches: number }> {
    return this.committer.stats;
  }

  /**
   * Readiness (GET /api/ready): the index answers a query and the data directory takes a
   * new file. Throws naming what failed. The probe file is tiny, not fsynced and removed.
   */
  async probe(): Promise<void> {
    if (this.closed) throw new ArchiveProbeError('archive', 'the archive is closed');
    try {
      await this.index.hasInstance('');
    } catch (err) {
      throw new ArchiveProbeError('database', (err as Error).message);
    }
    const file = join(this.dataDir, `.ready-probe-${process.pid}`);
    try {
      await writeFile(file, 'ready\n', { mode: 0o600 });
      await unlink(file);
    } catch (err) {
      throw new ArchiveProbeError('storage', (err as Error).message);
    }
  }

  /** Resolves once stores that are ending and their background work (files closed, full batches sealed) are done. */
  async idle(): Promise<void> {
    await this.storesSettled();
    await this.blobs.idle();
  }

  /** Stores ending now and their rows committed: twice, as a deferred row's store answers first and commits after. */
  private async storesSettled(): Promise<void> {
    for (let pass = 0; pass < 2; pass++) {
      await this.committer.drain();
      await Promise.allSettled([...this.inFlight]);
    }
  }

  /** Waits for stores that are ending, then closes the index. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.expiredSweepTimer);
    await this.expiredSweep;
    await this.storesSettled();
    await this.committer.drain();
    await this.blobs.close();
    await this.index.close();
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    const done = (): void => void this.inFlight.delete(p);
    p.then(done, done);
    return p;
  }
}
