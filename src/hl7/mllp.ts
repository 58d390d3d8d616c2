/**
 * MLLP framing (HL7 v2 Minimal Lower Layer Protocol, release 2): a message is sent as
 * <SB> message <EB><CR>, SB = 0x0B, EB = 0x1C, CR = 0x0D. The framer takes a connection's
 * bytes in whatever chunks they arrive and returns whole frames. A frame larger than
 * `maxBytes` is not kept: only its first `headBytes` (enough to read its MSH and answer it)
 * and its size, so a connection holds at most about `maxBytes` whatever the sender does.
 * Bytes outside a block are ignored, as MLLP says; an SB inside a block starts a new one.
 */
export const SB = 0x0b;
export const EB = 0x1c;
export const CR = 0x0d;

export type MllpFrame = { oversized: false; bytes: Buffer } | { oversized: true; head: Buffer; size: number };

/** A payload wrapped for the wire. */
export function mllpFrame(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(payload.length + 3);
  out[0] = SB;
  payload.copy(out, 1);
  out[payload.length + 1] = EB;
  out[payload.length + 2] = CR;
  return out;
}

export class MllpFramer {
  private inside = false;
  /** Saw EB at the end of the last chunk: a CR may follow. */
  private afterEnd = false;
  private parts: Buffer[] = [];
  private size = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly headBytes = 4096,
  ) {}

  /** Bytes of an unfinished frame held now (for tests: never much above `maxBytes`). */
  get buffered(): number {
    return this.parts.reduce((n, p) => n + p.length, 0);
  }

  push(chunk: Buffer): MllpFrame[] {
    const frames: MllpFrame[] = [];
    let i = 0;
    if (this.afterEnd) {
      this.afterEnd = false;
      if (chunk.length > 0 && chunk[0] === CR) i = 1;
    }
    while (i < chunk.length) {
      if (!this.inside) {
        const start = chunk.indexOf(SB, i);
        if (start < 0) return frames;
        this.inside = true;
        this.parts = [];
        this.size = 0;
        i = start + 1;
        continue;
      }
      const end = chunk.indexOf(EB, i);
      const restart = chunk.indexOf(SB, i);
      if (restart >= 0 && (end < 0 || restart < end)) {
        // A new block before this one ended: the partial frame is dropped.
        this.parts = [];
        this.size = 0;
        i = restart + 1;
        continue;
      }
      const stop = end < 0 ? chunk.length : end;
      this.take(chunk.subarray(i, stop));
      if (end < 0) return frames;
      frames.push(this.finish());
      i = end + 1;
      if (i === chunk.length) this.afterEnd = true;
      else if (chunk[i] === CR) i++;
    }
    return frames;
  }

  private take(part: Buffer): void {
    if (part.length === 0) return;
    const total = this.size + part.length;
    if (total <= this.maxBytes) this.parts.push(part);
    else if (this.size <= this.maxBytes) {
      // Crossing the limit now: from here on only the head is kept.
      this.parts = [Buffer.concat([...this.parts, part], Math.min(total, this.headBytes))];
    }
    this.size = total;
  }

  private finish(): MllpFrame {
    const size = this.size;
    const bytes = Buffer.concat(this.parts);
    this.inside = false;
    this.parts = [];
    this.size = 0;
    return size > this.maxBytes ? { oversized: true, head: bytes, size } : { oversized: false, bytes };
  }
}
