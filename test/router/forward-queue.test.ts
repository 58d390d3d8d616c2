/** The forward queue's listing for display (states, ids, paging) and its per-destination counts. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteIndex } from '../../src/archive/sqlite-index.js';
import { ForwardQueue } from '../../src/router/forward-queue.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

let index: SqliteIndex;
let queue: ForwardQueue;

beforeAll(async () => {
  index = await SqliteIndex.open(join(await makeTempDir('pacs-queue-'), 'index.sqlite'));
  queue = new ForwardQueue(index);
  await queue.ensureSchema();
  await queue.add(['1', '2', '3', '4', '5'].map((n) => ({ destination: 'A', sopInstanceUid: `1.2.${n}`, rule: 'r', changes: {} })));
  await queue.add([{ destination: 'B', sopInstanceUid: '1.2.9', rule: 'r', changes: { InstitutionName: 'X' } }]);
});

afterAll(async () => {
  await index?.close();
  await removeTempDirs();
});

describe('ForwardQueue display', () => {
  it('lists by state (untried, failed, dead), by ids, with limit and offset', async () => {
    const all = await queue.list({ destination: 'A' });
    expect(all.map((e) => e.sopInstanceUid)).toEqual(['1.2.1', '1.2.2', '1.2.3', '1.2.4', '1.2.5']);
    // 1.2.1 fails once (retried later), 1.2.2 dies.
    const retryAt = Date.now() + 60_000;
    await queue.failed([{ id: all[0].id, error: 'refused' }], 3, () => 60_000);
    await queue.failed([{ id: all[1].id, error: 'gone', dead: true }], 3, () => 0);
    expect((await queue.list({ destination: 'A', state: 'untried' })).map((e) => e.sopInstanceUid)).toEqual(['1.2.3', '1.2.4', '1.2.5']);
    expect((await queue.list({ destination: 'A', state: 'failed' })).map((e) => [e.sopInstanceUid, e.attempts, e.lastError])).toEqual([['1.2.1', 1, 'refused']]);
    expect((await queue.list({ destination: 'A', state: 'dead' })).map((e) => e.sopInstanceUid)).toEqual(['1.2.2']);
    expect((await queue.list({ destination: 'A', state: 'pending' })).length).toBe(4);
    expect((await queue.list({ ids: [all[4].id, all[2].id] })).map((e) => e.sopInstanceUid)).toEqual(['1.2.3', '1.2.5']);
    expect(await queue.list({ ids: [] })).toEqual([]);
    expect((await queue.list({ destination: 'A', limit: 2, offset: 1 })).map((e) => e.sopInstanceUid)).toEqual(['1.2.2', '1.2.3']);
    expect((await queue.list({ state: 'untried', limit: 10 })).map((e) => e.destination)).toEqual(['A', 'A', 'A', 'B']);
    const failed = (await queue.list({ state: 'failed' }))[0];
    expect(failed.nextAttemptAt).toBeGreaterThanOrEqual(retryAt - 1000);
  });

  it('counts per destination with the next attempt', async () => {
    const counts = await queue.counts();
    const a = counts.find((c) => c.destination === 'A')!;
    expect(a).toMatchObject({ pending: 3, failed: 1, dead: 1, lastError: expect.stringMatching(/refused|gone/) });
    // The untried entries are due already: the next attempt is now or earlier.
    expect(a.nextAttemptAt).toBeLessThanOrEqual(Date.now());
    await queue.purge({ destination: 'A', all: true });
    await queue.purge({ destination: 'B', all: true });
    expect(await queue.counts()).toEqual([]);
  });
});
