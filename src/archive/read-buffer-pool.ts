/**
 * Reusable buffers for stored files read whole before they are sent (retrieve
 * sub-operations). A fresh buffer per file is a malloc, fresh pages the kernel must
 * fault in and zero on first touch, and external memory that makes V8 collect garbage
 * more often; a C-GET of 300 CT images did that 300 times for ~150 MB.
 *
 * A buffer may go back only once nothing can read it any more: the caller decides that
 * (the transport has written every byte handed to it) and a buffer given back twice is
 * kept once, so two readers never share one buffer (one instance's bytes would go out
 * under another's UID).
 */
export class ReadBufferPool {
  private readonly free: Buffer[] = [];

  /** `bufferSize`: every buffer's length; `keep`: most idle buffers held (memory held for good). */
  constructor(
    readonly bufferSize: number,
    private readonly keep: number,
  ) {}

  /** Idle buffers held now. */
  get idle(): number {
    return this.free.length;
  }

  /** A buffer of `bufferSize` bytes, contents undefined. */
  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.bufferSize);
  }

  /** Gives a buffer from take() back; others (another size, a view) and a second give of the same one are ignored. */
  give(buf: Buffer): void {
    if (buf.length !== this.bufferSize || buf.byteOffset !== 0 || buf.buffer.byteLength !== this.bufferSize) return;
    if (this.free.length >= this.keep || this.free.some((b) => b.buffer === buf.buffer)) return;
    this.free.push(buf);
  }
}
