import { describe, expect, it } from 'vitest';
import { GroupCommitter } from '../../src/archive/group-commit.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('GroupCommitter', () => {
  it('commits concurrent submissions in few batches and resolves each with its result', async () => {
    const batches: number[][] = [];
    const gc = new GroupCommitter<number, string>(async (items) => {
      batches.push([...items]);
      await tick(5);
      return items.map((i) => `ok${i}`);
    });
    const results = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        await tick(i % 10); // arrivals spread over time
        return gc.submit(i);
      }),
    );
    expect(results).toEqual(Array.from({ length: 100 }, (_, i) => `ok${i}`));
    expect(batches.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(batches.length).toBeLessThan(20);
    expect(gc.stats).toMatchObject({ batches: batches.length, items: 100 });
  });

  it('one commit at a time', async () => {
    let active = 0;
    let maxActive = 0;
    const gc = new GroupCommitter<number, number>(
      async (items) => {
        active++;
        maxActive = Math.max(maxActive, active);
        await tick(2);
        active--;
        return [...items];
      },
      { maxBatch: 3 },
    );
    await Promise.all(Array.from({ length: 20 }, (_, i) => gc.submit(i)));
    expect(maxActive).toBe(1);
    expect(gc.stats.batches).toBeGreaterThanOrEqual(7);
  });

  it('isolates a bad record: the batch is retried singly and only the bad one fails', async () => {
    const gc = new GroupCommitter<number, number>(async (items) => {
      if (items.includes(13)) throw new Error('bad record 13');
      return items.map((i) => i * 2);
    });
    const settled = await Promise.allSettled([1, 13, 5].map((i) => gc.submit(i)));
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason.message).toBe('bad record 13');
    expect(gc.stats.retriedBatches).toBe(1);
  });

  it('without isolation fails every member with the error', async () => {
    const err = new Error('disk full');
    const gc = new GroupCommitter<number, number>(
      async () => {
        throw err;
      },
      { isolateFailures: false },
    );
    const settled = await Promise.allSettled([1, 2].map((i) => gc.submit(i)));
    expect(settled.every((s) => s.status === 'rejected' && s.reason === err)).toBe(true);
  });
});

describe('GroupCommitter reservations', () => {
  it('a commit waits for reserved items so they share the batch', async () => {
    const batches: number[][] = [];
    const gc = new GroupCommitter<number, number>(
      async (items) => {
        batches.push([...items]);
        return [...items];
      },
      { maxDelayMs: 1000 },
    );
    const places = [0, 1, 2, 3].map(() => gc.reserve());
    const ps = places.map(async (p, i) => {
      await tick(i * 3);
      return p.submit(i);
    });
    expect(await Promise.all(ps)).toEqual([0, 1, 2, 3]);
    expect(batches).toEqual([[0, 1, 2, 3]]);
  });

  it('waits at most maxDelayMs, and a cancelled reservation does not hold the batch', async () => {
    const gc = new GroupCommitter<number, number>(async (items) => [...items], { maxDelayMs: 20 });
    const a = gc.reserve();
    const b = gc.reserve();
    const t0 = Date.now();
    await a.submit(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(15);
    const c = gc.reserve();
    const p = c.submit(2);
    b.cancel();
    const t1 = Date.now();
    await p;
    expect(Date.now() - t1).toBeLessThan(15);
    expect(() => b.cancel()).toThrow(/already used/);
  });

  /** A commit that records its batches and returns the items. */
  const recorder = () => {
    const batches: number[][] = [];
    const commit = async (items: readonly number[]) => {
      batches.push([...items]);
      return [...items];
    };
    return { batches, commit };
  };

  it('lingering items wait (lingerMs) so that items submitted one after another share a commit; settled() commits them now', async () => {
    const { batches, commit } = recorder();
    const gc = new GroupCommitter<number, number>(commit, { lingerMs: 60_000 });
    expect(gc.settled()).toBeUndefined(); // nothing pending: no wait
    const ps: Promise<number>[] = [];
    for (let i = 0; i < 5; i++) {
      ps.push(gc.submit(i, { linger: true }));
      await tick(1);
    }
    expect(batches).toEqual([]);
    await gc.settled();
    expect(batches).toEqual([[0, 1, 2, 3, 4]]);
    expect(await Promise.all(ps)).toEqual([0, 1, 2, 3, 4]);
    expect(gc.settled()).toBeUndefined();
  });

  it('lingering items commit after lingerMs, at lingerBatch at once, and with an item that does not linger', async () => {
    const { batches, commit } = recorder();
    expect(await new GroupCommitter<number, number>(commit, { lingerMs: 5 }).submit(1, { linger: true })).toBe(1);
    const full = new GroupCommitter<number, number>(commit, { lingerMs: 60_000, lingerBatch: 3 });
    expect(await Promise.all([2, 3, 4].map((i) => full.submit(i, { linger: true })))).toEqual([2, 3, 4]);
    const mixed = new GroupCommitter<number, number>(commit, { lingerMs: 60_000 });
    expect(await Promise.all([mixed.submit(5, { linger: true }), mixed.submit(6)])).toEqual([5, 6]);
    expect(batches).toEqual([[1], [2, 3, 4], [5, 6]]);
  });
});
