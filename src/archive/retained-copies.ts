/**
 * The bytes of files just written, kept in memory for a while so that a reader that comes
 * soon after (the Router's sender: every instance it receives it forwards at once) takes
 * them from memory instead of reading the file back (issue 16). The Router's store writes
 * with direct I/O like the archive's: neither the write nor the read goes through the page
 * cache, whose fresh pages are what a buffered store paid most for on these VMs (see
 * blob-writer.ts). A copy is the writer's own slabs, kept instead of given back to the pool.
 *
 * Bounded: the newest copies up to `capBytes` in all are kept, oldest dropped first; a file
 * larger than `maxCopyBytes` is not kept. A reader borrows a copy and gives it back; a copy
 * dropped while borrowed returns its slabs to the pool only once given back, and only if the
 * reader says nothing may still read them (a socket write in flight), else they are left to
 * the garbage collector.
 */
import type { SlabPool } from './slab-queue.js';

/** A file's bytes in order, as views of pooled slabs. */
export interface CopyBytes {
  readonly views: readonly Buffer[];
  readonly bytes: number;
}

/** A borrowed copy: read its views, then give it back once. */
export interface BorrowedCopy extends CopyBytes {
  /** `reusable`: nothing reads the views any more, their slabs may be written again. */
  giveBack(reusable: boolean): void;
}

interface Entry extends CopyBytes {
  slabs: Buffer[];
  borrowers: number;
  kept: boolean;
  /** A borrower could not vouch for the slabs: they go to the garbage collector, not the pool. */
  tainted: boolean;
}

export class RetainedCopies {
  private readonly copies = new Map<string, Entry>();
  private total = 0;

  constructor(
    private readonly pool: SlabPool,
    readonly capBytes: number,
    readonly maxCopyBytes = Math.floor(capBytes / 4),
  ) {}

  /** Bytes kept now (copies borrowed after being dropped not counted). */
  get bytes(): number {
    return this.total;
  }

  /** Keeps the copy of `key` (its slabs are the store's from now on); drops the oldest beyond the cap. */
  add(key: string, copy: CopyBytes & { slabs: Buffer[] }): void {
    if (copy.bytes > this.maxCopyBytes) {
      this.pool.give(copy.slabs);
      return;
    }
    this.drop(key);
    this.copies.set(key, { ...copy, borrowers: 0, kept: true, tainted: false });
    this.total += copy.bytes;
    for (const k of this.copies.keys()) {
      if (this.total <= this.capBytes) break;
      this.drop(k);
    }
  }

  /** The copy of `key`, if still kept; give it back once read. */
  borrow(key: string): BorrowedCopy | undefined {
    const e = this.copies.get(key);
    if (!e) return undefined;
    e.borrowers++;
    let given = false;
    return {
      views: e.views,
      bytes: e.bytes,
      giveBack: (reusable: boolean) => {
        if (given) return;
        given = true;
        e.borrowers--;
        if (!reusable) e.tainted = true;
        this.settle(e);
      },
    };
  }

  /** Stops keeping the copy of `key` (gone, or not wanted). */
  drop(key: string): void {
    const e = this.copies.get(key);
    if (!e) return;
    this.copies.delete(key);
    this.total -= e.bytes;
    e.kept = false;
    this.settle(e);
  }

  /** Drops every copy. */
  clear(): void {
    for (const k of [...this.copies.keys()]) this.drop(k);
  }

  private settle(e: Entry): void {
    if (e.kept || e.borrowers > 0 || e.slabs.length === 0) return;
    if (!e.tainted) this.pool.give(e.slabs);
    e.slabs = [];
  }
}
