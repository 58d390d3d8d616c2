/**
 * Group commit: concurrent callers submit one item each and await its result; a single
 * writer commits everything pending in one transaction. While a commit is in flight,
 * new submissions accumulate and go together in the next one, so under load the
 * number of transactions (and of WAL fsyncs) is far below the number of items.
 *
 * Callers may reserve() a place before the slow part of their work (the file fsync);
 * a commit about to start then waits (at most maxDelayMs) for the reserved items, so
 * stores finishing together share one transaction even when the commit itself is
 * quick and synchronous (SQLite), like PostgreSQL's commit_delay.
 *
 * A failed batch of several items is retried one item at a time, so one bad record
 * fails alone; a failed single-item commit fails that caller with the error.
 *
 * Lingering items (submit(item, { linger: true })) are for callers that do not wait for
 * the commit before answering (Archive's deferred rows): they wait up to lingerMs for
 * more, or until lingerBatch of them are pending, or until someone calls drain() or
 * settled() or submits an item that does not linger, so that one transaction takes the
 * rows of several consecutive stores of one association.
 */
export type BatchCommit<I, R> = (items: readonly I[]) => Promise<R[]>;

export interface GroupCommitOptions {
  /** Largest batch (default 1000). */
  maxBatch?: number;
  /** Retry a failed batch item by item (default true). */
  isolateFailures?: boolean;
  /** Longest wait for reserved items before a commit (default 3 ms; 0 disables). */
  maxDelayMs?: number;
  /** Longest wait of a lingering item before its commit starts (default 20 ms). */
  lingerMs?: number;
  /** Lingering items pending that start a commit at once (default 32). */
  lingerBatch?: number;
}

/** A place in an upcoming batch: submit exactly once, or cancel. */
export interface Reservation<I, R> {
  submit(item: I): Promise<R>;
  cancel(): void;
}

interface Pending<I, R> {
  item: I;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

export class GroupCommitter<I, R> {
  private readonly commit: BatchCommit<I, R>;
  private readonly maxBatch: number;
  private readonly isolateFailures: boolean;
  private pending: Pending<I, R>[] = [];
  private running: Promise<void> | undefined;
  private readonly maxDelayMs: number;
  private reserved = 0;
  private wake: (() => void) | undefined;
  private readonly lingerMs: number;
  private readonly lingerBatch: number;
  private lingerTimer: NodeJS.Timeout | undefined;
  /** Number of commit calls made and items committed (observability, tests). */
  readonly stats = { batches: 0, items: 0, retriedBatches: 0 };

  constructor(commit: BatchCommit<I, R>, options: GroupCommitOptions = {}) {
    this.commit = commit;
    this.maxBatch = options.maxBatch ?? 1000;
    this.isolateFailures = options.isolateFailures ?? true;
    this.maxDelayMs = options.maxDelayMs ?? 3;
    this.lingerMs = options.lingerMs ?? 20;
    this.lingerBatch = options.lingerBatch ?? 32;
  }

  reserve(): Reservation<I, R> {
    this.reserved++;
    let used = false;
    const release = (): void => {
      if (used) throw new Error('reservation already used');
      used = true;
      this.reserved--;
    };
    return {
      submit: (item) => {
        release();
        const p = this.submit(item);
        this.maybeWake();
        return p;
      },
      cancel: () => {
        release();
        this.maybeWake();
      },
    };
  }

  private maybeWake(): void {
    if (this.wake && (this.reserved === 0 || this.pending.length >= this.maxBatch)) this.wake();
  }

  private waitForReserved(): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.maxDelayMs);
      this.wake = done;
    });
  }

  submit(item: I, opts?: { linger?: boolean }): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.running || !opts?.linger || this.pending.length >= this.lingerBatch) this.start();
      else this.lingerTimer ??= setTimeout(() => this.start(), this.lingerMs);
    });
  }

  private start(): void {
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    this.running ??= this.loop();
  }

  /**
   * Undefined when nothing is pending or being committed (no wait: the common case of a
   * read); else resolves once all of it is committed (or failed), lingering items included.
   */
  settled(): Promise<void> | undefined {
    return this.pending.length === 0 && !this.running ? undefined : this.drain();
  }

  /** Resolves once everything submitted so far is committed (or failed), lingering items included. */
  async drain(): Promise<void> {
    if (this.pending.length > 0) this.start();
    while (this.running) await this.running;
  }

  private async loop(): Promise<void> {
    // Start on the next microtask, so submissions made in the same tick share the batch.
    await Promise.resolve();
    try {
      while (this.pending.length > 0) {
        if (this.reserved > 0 && this.maxDelayMs > 0 && this.pending.length < this.maxBatch) await this.waitForReserved();
        const batch = this.pending.splice(0, this.maxBatch);
        await this.commitBatch(batch);
      }
    } finally {
      this.running = undefined;
    }
  }

  private async commitBatch(batch: Pending<I, R>[]): Promise<void> {
    let results: R[];
    try {
      this.stats.batches++;
      results = await this.commit(batch.map((p) => p.item));
      if (results.length !== batch.length) throw new Error(`commit returned ${results.length} results for ${batch.length} items`);
    } catch (e) {
      if (batch.length > 1 && this.isolateFailures) {
        this.stats.retriedBatches++;
        for (const p of batch) await this.commitBatch([p]);
      } else {
        for (const p of batch) p.reject(e);
      }
      return;
    }
    this.stats.items += batch.length;
    batch.forEach((p, i) => p.resolve(results[i]));
  }
}
