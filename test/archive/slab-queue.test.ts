import { describe, expect, it } from 'vitest';
import { SlabPool, SlabQueue } from '../../src/archive/slab-queue.js';

const bytes = (n: number, from: number) => Buffer.from(Array.from({ length: n }, (_, i) => (from + i) & 0xff));

describe('SlabQueue', () => {
  it('copies chunks across slab boundaries and hands over whole slabs, then the rest', () => {
    const pool = new SlabPool(8, 4);
    const q = new SlabQueue(pool);
    const a = bytes(5, 0);
    const b = bytes(14, 5);
    q.append(a);
    q.append(b);
    a.fill(0); // the chunks' memory is reused by the caller: the queue holds copies
    b.fill(0);
    expect(q.bytes).toBe(19);
    expect(q.fullBytes).toBe(16);
    const whole = q.take(false);
    expect(whole.bytes).toBe(16);
    expect(whole.views.map((v) => v.length)).toEqual([8, 8]);
    expect(Buffer.concat(whole.views)).toEqual(bytes(16, 0));
    expect(q.bytes).toBe(3);
    const rest = q.take(true);
    expect(Buffer.concat(rest.views)).toEqual(bytes(3, 16));
    expect(rest.slabs.map((s) => s.length)).toEqual([8]); // the slab, not the view
    expect(q.bytes).toBe(0);
    expect(q.take(true)).toEqual({ views: [], bytes: 0, slabs: [] });
  });

  it('uses written slabs again, and keeps no more of them than asked', () => {
    const pool = new SlabPool(4, 1);
    const q = new SlabQueue(pool);
    q.append(bytes(8, 0));
    const batch = q.take(false);
    pool.give(batch.slabs);
    q.append(bytes(4, 100));
    const again = q.take(false);
    expect(again.slabs[0]).toBe(batch.slabs[0]); // the one slab kept
    expect(again.views[0]).toEqual(bytes(4, 100));
    q.append(bytes(4, 0));
    expect(batch.slabs).not.toContain(q.take(false).slabs[0]); // the other was left to the collector
    q.append(bytes(2, 0));
    q.clear();
    expect(q.bytes).toBe(0);
  });
});
