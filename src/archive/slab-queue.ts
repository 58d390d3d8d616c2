/**
 * The bytes a file writer has accepted but not yet written, copied into fixed-size slabs
 * that are used again once written (issue 16). The chunks a writer is given are views of a
 * receive buffer that is reused for the next socket read (src/net/receive-buffer.ts), so
 * they must be copied; copying into slabs from a pool costs a memcpy, where a new buffer per
 * chunk costs an allocation, page faults on fresh memory and garbage collection.
 */
export class SlabPool {
  private readonly free: Buffer[] = [];
  /** Aligned slabs are cut from this chunk. */
  private chunk: Buffer | undefined;
  private cut = 0;

  /**
   * `keep`: how many written slabs are held for reuse; more are left to the garbage collector.
   * `aligned`: each slab starts on a 4 KiB boundary (direct I/O: blob-writer.ts); slabBytes
   * must then be a multiple of 4 KiB.
   */
  constructor(
    readonly slabBytes: number,
    private readonly keep: number,
    readonly aligned = false,
  ) {
    if (aligned && slabBytes % DIRECT_IO_ALIGN !== 0) throw new Error(`aligned slabs of ${slabBytes} bytes: not a multiple of ${DIRECT_IO_ALIGN}`);
  }

  take(): Buffer {
    return this.free.pop() ?? this.allocate();
  }

  private allocate(): Buffer {
    if (!this.aligned) return Buffer.allocUnsafeSlow(this.slabBytes);
    if (!this.chunk || this.cut + this.slabBytes > this.chunk.length) {
      // A WebAssembly memory is mapped pages of its own, so its first byte is page-aligned;
      // Node offers no other aligned allocation. One memory holds several slabs (each
      // reserves address space); it is freed once none of its slabs is referenced.
      const pages = Math.ceil((this.slabBytes * ALIGNED_CHUNK_SLABS) / WASM_PAGE);
      this.chunk = Buffer.from(new Wasm.Memory({ initial: pages, maximum: pages }).buffer);
      this.cut = 0;
    }
    const slab = this.chunk.subarray(this.cut, this.cut + this.slabBytes);
    this.cut += this.slabBytes;
    return slab;
  }

  /** Slabs whose bytes are written (or dropped): nobody may use them any more. */
  give(slabs: readonly Buffer[]): void {
    for (const s of slabs) if (this.free.length < this.keep && s.length === this.slabBytes) this.free.push(s);
  }
}

/** What direct I/O needs of a buffer's address, a write's length and its file offset. */
export const DIRECT_IO_ALIGN = 4096;
const WASM_PAGE = 64 << 10;
const ALIGNED_CHUNK_SLABS = 32;
/** The global WebAssembly (lib "dom" is not in this project's TypeScript libraries). */
const Wasm = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number; maximum: number }) => { buffer: ArrayBuffer } } }).WebAssembly;

/** A batch taken from a SlabQueue: the bytes to write and the slabs to give back afterwards. */
export interface SlabBatch {
  views: Buffer[];
  bytes: number;
  slabs: Buffer[];
}

export class SlabQueue {
  /** Whole slabs, oldest first. */
  private full: Buffer[] = [];
  private current: Buffer | undefined;
  private used = 0;
  /** Bytes queued (in whole slabs and the current one). */
  bytes = 0;

  constructor(private readonly pool: SlabPool) {}

  /** Bytes in whole slabs: what a batch without the current slab would hold. */
  get fullBytes(): number {
    return this.full.length * this.pool.slabBytes;
  }

  /** Copies `chunk` in. */
  append(chunk: Uint8Array): void {
    let from = 0;
    while (from < chunk.length) {
      if (!this.current) {
        this.current = this.pool.take();
        this.used = 0;
      }
      const n = Math.min(chunk.length - from, this.current.length - this.used);
      this.current.set(n === chunk.length ? chunk : chunk.subarray(from, from + n), this.used);
      this.used += n;
      from += n;
      if (this.used === this.current.length) {
        this.full.push(this.current);
        this.current = undefined;
      }
    }
    this.bytes += chunk.length;
  }

  /** Hands over the whole slabs and, with `all`, the bytes of the current one. */
  take(all: boolean): SlabBatch {
    const slabs = this.full;
    const views = slabs.slice();
    this.full = [];
    if (all && this.current) {
      slabs.push(this.current);
      views.push(this.current.subarray(0, this.used));
      this.current = undefined;
    }
    const bytes = views.reduce((n, v) => n + v.length, 0);
    this.bytes -= bytes;
    return { views, bytes, slabs };
  }

  /** Drops everything queued. */
  clear(): void {
    this.pool.give(this.take(true).slabs);
  }
}
