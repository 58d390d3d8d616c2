/**
 * The durable queue of audit messages waiting for the repository: one file per message in
 * `<data>/audit-queue/`, named by a sequence number, written crash-safe (temporary file,
 * fsync, rename) before the message is sent, removed once it is. A restart finds what was
 * left and sends it first, in order. Bounded: past `maxQueued` messages the oldest is
 * dropped (and counted), so an unreachable repository cannot fill the disk.
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../config/index.js';

export const QUEUE_DIR = 'audit-queue';
const NAME = /^(\d{16})\.syslog$/;

const fileName = (seq: number): string => `${String(seq).padStart(16, '0')}.syslog`;

export class AuditQueue {
  private readonly seqs: number[] = [];
  private next = 1;
  /** Messages dropped because the queue was full, since it was opened. */
  dropped = 0;

  private constructor(
    readonly dir: string,
    private readonly maxQueued: () => number,
  ) {}

  /** The queue in `dir` (`<data>/audit-queue`, or a node's own). */
  static async open(dir: string, maxQueued: () => number): Promise<AuditQueue> {
    const q = new AuditQueue(dir, maxQueued);
    await mkdir(q.dir, { recursive: true, mode: 0o700 });
    for (const f of await readdir(q.dir)) {
      const m = NAME.exec(f);
      if (m) q.seqs.push(Number(m[1]));
      else if (f.endsWith('.tmp')) await rm(join(q.dir, f), { force: true }); // a write cut by a crash
    }
    q.seqs.sort((a, b) => a - b);
    q.next = (q.seqs.at(-1) ?? 0) + 1;
    return q;
  }

  get length(): number {
    return this.seqs.length;
  }

  /** Stores a message durably at the end of the queue; drops the oldest ones past the bound. Returns how many were dropped. */
  async push(message: Buffer): Promise<number> {
    const seq = this.next++;
    await writeFileAtomic(join(this.dir, fileName(seq)), message);
    this.seqs.push(seq);
    let dropped = 0;
    while (this.seqs.length > Math.max(1, this.maxQueued())) {
      await rm(join(this.dir, fileName(this.seqs.shift()!)), { force: true });
      dropped++;
    }
    this.dropped += dropped;
    return dropped;
  }

  /** The oldest message and its sequence number, or undefined when empty. */
  async peek(): Promise<{ seq: number; message: Buffer } | undefined> {
    while (this.seqs.length) {
      const seq = this.seqs[0];
      try {
        return { seq, message: await readFile(join(this.dir, fileName(seq))) };
      } catch (err) {
        // Gone (dropped meanwhile, or removed by hand): go on with the next.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        if (this.seqs[0] === seq) this.seqs.shift();
      }
    }
    return undefined;
  }

  /** Removes a message once it was sent. */
  async remove(seq: number): Promise<void> {
    const i = this.seqs.indexOf(seq);
    if (i >= 0) this.seqs.splice(i, 1);
    await rm(join(this.dir, fileName(seq)), { force: true });
  }
}
