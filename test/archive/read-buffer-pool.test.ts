import { describe, expect, it } from 'vitest';
import { ReadBufferPool } from '../../src/archive/read-buffer-pool.js';

describe('ReadBufferPool', () => {
  it('hands a given-back buffer out again, and allocates when none is idle', () => {
    const pool = new ReadBufferPool(64, 2);
    const a = pool.take();
    const b = pool.take();
    expect(a.length).toBe(64);
    expect(b.buffer).not.toBe(a.buffer);
    pool.give(a);
    expect(pool.idle).toBe(1);
    expect(pool.take().buffer).toBe(a.buffer);
    expect(pool.idle).toBe(0);
  });

  it('keeps a buffer given back twice only once (two readers must never share one)', () => {
    const pool = new ReadBufferPool(64, 4);
    const a = pool.take();
    pool.give(a);
    pool.give(a);
    pool.give(Buffer.from(a.buffer, 0, 64)); // another view of the same memory
    expect(pool.idle).toBe(1);
    const first = pool.take();
    const second = pool.take();
    expect(second.buffer).not.toBe(first.buffer);
  });

  it('refuses foreign buffers and views, and holds at most `keep` idle buffers', () => {
    const pool = new ReadBufferPool(64, 2);
    pool.give(Buffer.allocUnsafeSlow(32));
    pool.give(pool.take().subarray(1));
    expect(pool.idle).toBe(0);
    const taken = [pool.take(), pool.take(), pool.take()];
    for (const b of taken) pool.give(b);
    expect(pool.idle).toBe(2);
  });
});
