/**
 * Serializes writes into a dataset sink that may ask to wait (returns a promise),
 * and reports whether the producer should pause. Chunks that arrive while the sink
 * is busy are copied and queued (at most what the socket already delivered: one read).
 */
export interface DatasetSink<R = unknown> {
  /**
   * The next bytes of the data set, valid only during the call (a view of a receive buffer
   * that is reused: copy what is kept); a returned promise means "wait before sending more".
   */
  write(chunk: Buffer): void | Promise<void>;
  end(): Promise<R>;
  abort(reason?: Error): Promise<void>;
}

export class SinkWriter<R> {
  private queue: Buffer[] = [];
  private busy: Promise<void> | undefined;
  private failed: Error | undefined;
  private settled = false;
  /** The sink's outcome: resolves after finish(), rejects on a write failure or abort(). */
  readonly result: Promise<R>;
  private resolveResult!: (r: R) => void;
  private rejectResult!: (err: Error) => void;

  constructor(
    private readonly sink: DatasetSink<R>,
    private readonly onPause: () => void,
    private readonly onResume: () => void,
  ) {
    this.result = new Promise<R>((resolve, reject) => {
      this.resolveResult = resolve;
      this.rejectResult = reject;
    });
    this.result.catch(() => undefined); // observed by whoever awaits it; never an unhandled rejection
  }

  write(chunk: Buffer): void {
    if (this.failed) return; // keep draining the peer's bytes; the failure is reported at end()
    if (this.busy) {
      this.queue.push(Buffer.from(chunk)); // the chunk is valid only during this call
      return;
    }
    this.writeNow(chunk);
  }

  private writeNow(chunk: Buffer): void {
    let r: void | Promise<void>;
    try {
      r = this.sink.write(chunk);
    } catch (err) {
      this.failed = err as Error;
      return;
    }
    if (r) this.wait(r);
  }

  private wait(p: Promise<void>): void {
    this.onPause();
    this.busy = p.then(
      () => this.drain(),
      (err: Error) => {
        this.failed = err;
        this.queue = [];
        this.busy = undefined;
        this.onResume();
      },
    );
  }

  private drain(): void {
    this.busy = undefined;
    while (this.queue.length && !this.busy && !this.failed) this.writeNow(this.queue.shift()!);
    if (!this.busy) this.onResume();
  }

  /** Completes the sink once every queued chunk is written; settles `result`. */
  finish(): void {
    void this.complete();
  }

  private async complete(): Promise<void> {
    while (this.busy) await this.busy;
    if (this.settled) return;
    if (this.failed) {
      await this.abort(this.failed);
      return;
    }
    this.settled = true;
    try {
      this.resolveResult(await this.sink.end());
    } catch (err) {
      this.rejectResult(err as Error);
    }
  }

  /** Drops the data set: the sink discards what it has; `result` rejects with the reason. */
  async abort(reason: Error): Promise<void> {
    this.failed ??= reason;
    this.queue = [];
    if (this.settled) return;
    this.settled = true;
    this.rejectResult(this.failed);
    await this.sink.abort(this.failed).catch(() => undefined);
  }
}
