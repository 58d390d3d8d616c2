/**
 * The forward queue's store (archive/forward-queue.ts): every index backend runs exactly
 * these tests (forward-queue-sqlite.test.ts, forward-queue-postgres.test.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ForwardQueueStore, NewEntry } from '../../src/archive/forward-queue.js';
import type { Index } from '../../src/archive/index-types.js';
import type { SqlWriter } from '../../src/archive/sql-types.js';
import { makeRecord, type IndexFactory } from './index-conformance.js';

/** The archive's SQL side of an index (sql-types.ts), for the migration test. */
interface SqlIndexLike {
  write<T>(fn: (tx: SqlWriter) => Promise<T>): Promise<T>;
}

const entry = (destination: string, uid: string, changes: Record<string, string | null> = {}): NewEntry => ({
  destination,
  sopInstanceUid: uid,
  rule: 'r',
  changes,
});

/** `concurrentHandles`: the backend serves several handles on one store at once (several nodes: PostgreSQL). */
export function registerForwardQueueConformance(name: string, factory: IndexFactory, concurrentHandles = false): void {
  describe(`Forward queue store: ${name}`, () => {
    let index: Index;
    let queue: ForwardQueueStore;
    beforeEach(async () => {
      index = await factory.open();
      queue = index.forwardQueue;
      await queue.ensureSchema();
      await queue.ensureSchema(); // idempotent
    });
    afterEach(async () => {
      await index.close();
      await factory.destroy();
    });

    it('lists by state (untried, failed, dead), by ids, with limit and offset; counts per destination', async () => {
      await queue.add(['1', '2', '3', '4', '5'].map((n) => entry('A', `1.2.${n}`)));
      const [b] = await queue.add([entry('B', '1.2.9', { InstitutionName: 'X', StationName: null })]);
      expect(b).toMatchObject({ destination: 'B', state: 'pending', attempts: 0, changes: { InstitutionName: 'X', StationName: null } });
      // Listed with what the index holds of the instance: nothing here (no instance stored).
      expect((await queue.list({ destination: 'B' }))[0]).toEqual({ ...b, instance: null });
      const all = await queue.list({ destination: 'A' });
      expect(all.map((e) => e.sopInstanceUid)).toEqual(['1.2.1', '1.2.2', '1.2.3', '1.2.4', '1.2.5']);
      // 1.2.1 fails once (retried later), 1.2.2 dies.
      const retryAt = Date.now() + 60_000;
      await queue.failed([{ id: all[0].id, error: 'refused' }], 3, () => 60_000);
      await queue.failed([{ id: all[1].id, error: 'gone', dead: true }], 3, () => 0);
      expect((await queue.list({ destination: 'A', state: 'untried' })).map((e) => e.sopInstanceUid)).toEqual(['1.2.3', '1.2.4', '1.2.5']);
      expect((await queue.list({ destination: 'A', state: 'failed' })).map((e) => [e.sopInstanceUid, e.attempts, e.lastError])).toEqual([
        ['1.2.1', 1, 'refused'],
      ]);
      expect((await queue.list({ destination: 'A', state: 'dead' })).map((e) => e.sopInstanceUid)).toEqual(['1.2.2']);
      expect((await queue.list({ destination: 'A', state: 'pending' })).length).toBe(4);
      expect((await queue.list({ ids: [all[4].id, all[2].id] })).map((e) => e.sopInstanceUid)).toEqual(['1.2.3', '1.2.5']);
      expect(await queue.list({ ids: [] })).toEqual([]);
      expect((await queue.list({ destination: 'A', limit: 2, offset: 1 })).map((e) => e.sopInstanceUid)).toEqual(['1.2.2', '1.2.3']);
      expect((await queue.list({ state: 'untried', limit: 10 })).map((e) => e.destination)).toEqual(['A', 'A', 'A', 'B']);
      expect((await queue.list({ state: 'failed' }))[0].nextAttemptAt).toBeGreaterThanOrEqual(retryAt - 1000);

      const counts = await queue.counts();
      expect(counts.map((c) => c.destination)).toEqual(['A', 'B']);
      const a = counts[0];
      expect(a).toMatchObject({ pending: 3, failed: 1, dead: 1, inFlight: 0, lastError: expect.stringMatching(/refused|gone/) });
      expect(a.oldestCreatedAt).toBe(all[0].createdAt);
      // The untried entries are due already: the next attempt is now or earlier.
      expect(a.nextAttemptAt).toBeLessThanOrEqual(Date.now());
      expect(await queue.purge({ destination: 'A', all: true })).toBe(5);
      expect(await queue.purge({ destination: 'B', all: true })).toBe(1);
      expect(await queue.counts()).toEqual([]);
    });

    it('hands out due entries in queue order, leaving out those excluded; retries, dies, is retried and purged', async () => {
      const [e1, e2, e3] = await queue.add([entry('A', '1.1'), entry('A', '1.2'), entry('A', '1.3')]);
      await queue.add([entry('B', '2.1')]);
      expect((await queue.destinations()).sort()).toEqual(['A', 'B']);
      expect((await queue.due('A', 2)).map((e) => e.id)).toEqual([e1.id, e2.id]);
      expect((await queue.due('A', 2, new Set([e1.id]))).map((e) => e.id)).toEqual([e2.id, e3.id]);
      expect(await queue.nextDue('A')).toBeLessThanOrEqual(Date.now());
      expect(await queue.nextDue('C')).toBeUndefined();

      await queue.delivered([e1]);
      await queue.delivered([]);
      // e2: fails twice and is dead at maxAttempts 2; e3: fails once, waits.
      const later = Date.now() + 3_600_000;
      await queue.failed(
        [
          { id: e2.id, error: 'x'.repeat(5000) },
          { id: e3.id, error: 'busy' },
        ],
        2,
        () => 3_600_000,
      );
      await queue.failed(
        [
          { id: e2.id, error: 'again' },
          { id: 999_999, error: 'no such row' },
        ],
        2,
        () => 3_600_000,
      );
      expect((await queue.due('A', 10)).map((e) => e.id)).toEqual([]);
      expect(await queue.nextDue('A')).toBeGreaterThanOrEqual(later - 1000);
      const [dead] = await queue.list({ destination: 'A', state: 'dead' });
      expect(dead).toMatchObject({ id: e2.id, attempts: 2, lastError: 'again' });
      expect((await queue.list({ ids: [e3.id] }))[0].lastError).toBe('busy');

      // Retry: of another destination: nothing; the failed e3 (not dead): due now, its attempts kept;
      // then A's dead ones: e2 due now, its attempts from 0.
      expect(await queue.retry({ destination: 'B' })).toBe(0);
      expect(await queue.retry({ ids: [e3.id], state: 'dead' })).toBe(0);
      expect(await queue.retry({ ids: [e3.id] })).toBe(1);
      expect((await queue.due('A', 10)).map((e) => [e.id, e.attempts])).toEqual([[e3.id, 1]]);
      expect(await queue.retry({ destination: 'A', state: 'dead' })).toBe(1);
      expect((await queue.due('A', 10)).map((e) => [e.id, e.attempts])).toEqual([
        [e2.id, 0],
        [e3.id, 1],
      ]);
      // Both kinds at once, the default.
      await queue.failed([{ id: e3.id, error: 'busy' }], 5, () => 3_600_000);
      await queue.failed([{ id: e2.id, error: 'gone', dead: true }], 5, () => 0);
      expect(await queue.retry({ destination: 'A' })).toBe(2);
      expect((await queue.due('A', 10)).map((e) => [e.id, e.attempts])).toEqual([
        [e2.id, 0],
        [e3.id, 2],
      ]);
      // Purge without `all` takes dead entries only.
      await queue.failed([{ id: e2.id, error: 'refused', dead: true }], 5, () => 0);
      expect(await queue.purge()).toBe(1);
      expect((await queue.list()).map((e) => e.sopInstanceUid)).toEqual(['1.3', '2.1']);
      expect(await queue.purge({ ids: [e3.id], all: true })).toBe(1);
      expect((await queue.list()).map((e) => e.sopInstanceUid)).toEqual(['2.1']);
    });

    it('holds instances (replacing a held row), pages, counts, releases and purges them', async () => {
      await index.write((tx) =>
        tx.forwardQueue.hold([
          { sopInstanceUid: '3.1', state: 'unrouted', rule: '', error: null },
          { sopInstanceUid: '3.2', state: 'rule-failed', rule: 'mr', error: 'e'.repeat(3000) },
          { sopInstanceUid: '3.3', state: 'unrouted', rule: '', error: null },
        ]),
      );
      // A replaced duplicate is held again: one row for it, the newest.
      await index.write((tx) => tx.forwardQueue.hold([{ sopInstanceUid: '3.1', state: 'rule-failed', rule: 'ct', error: 'bad' }]));
      const held = await queue.held();
      expect(held.map((e) => [e.sopInstanceUid, e.state, e.destination])).toEqual([
        ['3.2', 'rule-failed', ''],
        ['3.3', 'unrouted', ''],
        ['3.1', 'rule-failed', ''],
      ]);
      expect(held[0].lastError).toHaveLength(1000);
      // Held rows are not queue entries.
      expect(await queue.list()).toEqual([]);
      expect(await queue.counts()).toEqual([]);
      expect(await queue.destinations()).toEqual([]);
      expect(await queue.heldCounts()).toEqual({ unrouted: 1, ruleFailed: 2 });
      expect(await queue.lastHeldId()).toBe(held[2].id);
      expect((await queue.held({ state: 'unrouted' })).map((e) => e.sopInstanceUid)).toEqual(['3.3']);
      expect((await queue.held({ afterId: held[0].id, upToId: held[1].id })).map((e) => e.sopInstanceUid)).toEqual(['3.3']);
      expect((await queue.held({ limit: 1, offset: 1 })).map((e) => e.sopInstanceUid)).toEqual(['3.3']);
      expect((await queue.held({ ids: [held[2].id] })).map((e) => e.sopInstanceUid)).toEqual(['3.1']);

      // Release (a reroute that routed it) in the same transaction as its new entry.
      await index.write(async (tx) => {
        await tx.forwardQueue.release([held[1].id]);
        await tx.forwardQueue.enqueue([entry('A', '3.3')]);
      });
      expect((await queue.held()).map((e) => e.sopInstanceUid)).toEqual(['3.2', '3.1']);
      expect((await queue.list()).map((e) => e.sopInstanceUid)).toEqual(['3.3']);
      // Release never touches a queue entry.
      const [q] = await queue.list();
      await index.write((tx) => tx.forwardQueue.release([q.id]));
      expect(await queue.list()).toHaveLength(1);

      expect(await queue.purgeHeld({ state: 'unrouted' })).toBe(0);
      expect(await queue.purgeHeld({ ids: [held[2].id] })).toBe(1);
      expect(await queue.purgeHeld()).toBe(1);
      expect(await queue.heldCounts()).toEqual({ unrouted: 0, ruleFailed: 0 });
      expect(await queue.lastHeldId()).toBe(0);
      expect(await queue.list()).toHaveLength(1);
    });

    it("writes its rows in the caller's transaction: a failed one leaves none", async () => {
      const r = makeRecord();
      await expect(
        index.write(async (tx) => {
          await tx.insertInstances([r], 'keep');
          await tx.forwardQueue.enqueue([entry('A', r.sopInstanceUid)]);
          await tx.forwardQueue.hold([{ sopInstanceUid: r.sopInstanceUid, state: 'unrouted', rule: '', error: null }]);
          throw new Error('ingest failed');
        }),
      ).rejects.toThrow('ingest failed');
      expect(await index.hasInstance(r.sopInstanceUid)).toBe(false);
      expect(await queue.list()).toEqual([]);
      expect(await queue.held()).toEqual([]);
      const [stored] = await index.write(async (tx) => {
        await tx.insertInstances([r], 'keep');
        return tx.forwardQueue.enqueue([entry('A', r.sopInstanceUid)]);
      });
      expect(await queue.list()).toEqual([{ ...stored, instance: expect.objectContaining({ patientId: r.patientId, modality: r.modality }) }]);
    });

    it("counts deliveries per destination after their rows go; lists entries with their instance's patient, study and series", async () => {
      const stored = makeRecord({ patientName: 'Roe^Richard', patientId: 'PID7', studyDescription: 'CT Chest', seriesDescription: 'Lung', modality: 'CT' });
      await index.insertInstances([stored]);
      await queue.add([entry('A', stored.sopInstanceUid), entry('A', '9.9.9'), entry('B', '9.9.8')]);
      const listed = await queue.list({ destination: 'A' });
      expect(listed.map((e) => e.instance)).toEqual([
        { patientName: 'Roe^Richard', patientId: 'PID7', studyDate: '20240102', studyDescription: 'CT Chest', seriesDescription: 'Lung', modality: 'CT' },
        null,
      ]);
      await queue.delivered(listed);
      const nothingQueued = { pending: 0, failed: 0, dead: 0, inFlight: 0, oldestCreatedAt: null, nextAttemptAt: null, lastError: null };
      expect((await queue.counts()).find((c) => c.destination === 'A')).toEqual({ destination: 'A', ...nothingQueued, delivered: 2 });
      const [b] = await queue.list({ destination: 'B' });
      await queue.delivered([b]);
      await queue.add([entry('A', '9.9.7')]);
      expect((await queue.counts()).map((c) => [c.destination, c.pending, c.delivered])).toEqual([
        ['A', 1, 2],
        ['B', 0, 1],
      ]);
    });

    it("never gives a purged row's id again: a sender's late deletion of it leaves the next row", async () => {
      const [sent] = await queue.add([entry('A', '4.4.1')]);
      expect(await queue.purge({ destination: 'A', all: true })).toBe(1);
      // The largest id, gone: SQLite without AUTOINCREMENT would give it to the next row.
      const [next] = await queue.add([entry('A', '4.4.2')]);
      expect(next.id).toBeGreaterThan(sent.id);
      // A request naming the purged entry (a stale page) does not reach the new one.
      expect(await queue.purge({ ids: [sent.id], all: true })).toBe(0);
      expect(await queue.retry({ ids: [sent.id] })).toBe(0);
      await queue.delivered([sent]);
      expect((await queue.list({ destination: 'A' })).map((e) => [e.id, e.sopInstanceUid])).toEqual([[next.id, '4.4.2']]);
      expect((await queue.counts()).find((c) => c.destination === 'A')?.delivered).toBe(0);
    });

    it('finds stored instances received before a time that no row names (the retention)', async () => {
      const old = [
        makeRecord({ receivedAt: '2024-01-01T00:00:00.000Z' }),
        makeRecord({ receivedAt: '2024-01-01T00:00:00.000Z' }),
        makeRecord({ receivedAt: '2024-01-01T00:00:00.000Z' }),
      ];
      const recent = makeRecord({ receivedAt: '2024-06-01T00:00:00.000Z' });
      await index.insertInstances([...old, recent]);
      // old[0] still to send, old[1] held; old[2] forwarded (no row); recent: too new.
      await queue.add([entry('A', old[0].sopInstanceUid)]);
      await index.write((tx) => tx.forwardQueue.hold([{ sopInstanceUid: old[1].sopInstanceUid, state: 'unrouted', rule: '', error: null }]));
      expect(await queue.forwarded('2024-03-01T00:00:00.000Z', 10)).toEqual([old[2].sopInstanceUid]);
      expect(await queue.forwarded('2024-03-01T00:00:00.000Z', 0)).toEqual([]);
      expect((await queue.forwarded('2025-01-01T00:00:00.000Z', 10)).sort()).toEqual([old[2].sopInstanceUid, recent.sopInstanceUid].sort());
    });

    describe('claims (several router nodes on one database)', () => {
      const A = { claimant: 'node-a', leaseMs: 60_000 };
      const B = { claimant: 'node-b', leaseMs: 60_000 };

      // Several handles on one store are several nodes: PostgreSQL only (SQLite is one node per data directory).
      if (concurrentHandles)
        it('two handles on one store claiming at once take disjoint entries, together all of them, in queue order', async () => {
          const other = await factory.open();
          try {
            const added = await queue.add(Array.from({ length: 120 }, (_, i) => entry('A', `1.3.${i}`)));
            await queue.add([entry('B', '1.3.b')]);
            const taken = new Map<string, number[]>([
              ['node-a', []],
              ['node-b', []],
            ]);
            // Each node claims batches of 7 until the queue has nothing left for it (its own claims renewed are not new work).
            const drain = async (q: ForwardQueueStore, claim: typeof A) => {
              for (;;) {
                const mine = new Set(taken.get(claim.claimant));
                const batch = await q.claim('A', 7, claim, mine);
                if (batch.length === 0) return;
                const ids = batch.map((e) => e.id);
                expect(ids).toEqual([...ids].sort((x, y) => x - y));
                taken.get(claim.claimant)!.push(...ids);
              }
            };
            await Promise.all([drain(queue, A), drain(other.forwardQueue, B)]);
            const a = taken.get('node-a')!;
            const b = taken.get('node-b')!;
            expect(a.filter((id) => b.includes(id))).toEqual([]);
            expect([...a, ...b].sort((x, y) => x - y)).toEqual(added.map((e) => e.id));
            expect(new Set(a).size).toBe(a.length);
            // Neither took the other destination's entry.
            expect((await queue.claim('B', 10, B)).map((e) => e.sopInstanceUid)).toEqual(['1.3.b']);
          } finally {
            await other.close();
          }
        });

      it("a live claim is not another node's to take; its holder claims it again; an expired one is anyone's", async () => {
        const [e1, e2] = await queue.add([entry('A', '1.4.1'), entry('A', '1.4.2')]);
        expect((await queue.claim('A', 1, A)).map((e) => e.id)).toEqual([e1.id]);
        expect((await queue.claim('A', 10, B)).map((e) => e.id)).toEqual([e2.id]);
        expect(await queue.claim('A', 10, { ...B, claimant: 'node-c' })).toEqual([]);
        // Its holder takes it again (a round cut short: the rest of its claims are still its work).
        expect((await queue.claim('A', 10, A)).map((e) => e.id)).toEqual([e1.id]);
        // Node A dies: its claim, taken with a short lease, lapses and node C takes it.
        expect((await queue.claim('A', 10, { claimant: 'node-a', leaseMs: 1 })).map((e) => e.id)).toEqual([e1.id]);
        await new Promise((r) => setTimeout(r, 30));
        expect((await queue.claim('A', 10, { claimant: 'node-c', leaseMs: 60_000 })).map((e) => e.id)).toEqual([e1.id]);
        // A renewal keeps a claim past its first lease.
        const [e3] = await queue.add([entry('A', '1.4.3')]);
        expect((await queue.claim('A', 10, { claimant: 'node-d', leaseMs: 1 })).map((e) => e.id)).toEqual([e3.id]);
        expect(await queue.renewClaims({ claimant: 'node-d', leaseMs: 60_000 })).toBe(1);
        await new Promise((r) => setTimeout(r, 30));
        expect(await queue.claim('A', 10, { claimant: 'node-e', leaseMs: 60_000 })).toEqual([]);
      });

      it('delivered entries are never claimed again; a failure ends the claim, and does not touch a live claim of another node', async () => {
        const [e1, e2, e3] = await queue.add([entry('A', '1.5.1'), entry('A', '1.5.2'), entry('A', '1.5.3')]);
        expect((await queue.claim('A', 10, A)).map((e) => e.id)).toEqual([e1.id, e2.id, e3.id]);
        // Delivered but not yet deleted: left out of its holder's next claim (the sender passes them as exclude).
        expect((await queue.claim('A', 10, A, new Set([e1.id]))).map((e) => e.id)).toEqual([e2.id, e3.id]);
        await queue.delivered([e1]);
        // Node B cannot fail what A holds; A's own failure counts, ends the claim (due again at once with no delay).
        await queue.failed([{ id: e2.id, error: 'refused' }], 5, () => 0, 'node-b');
        expect((await queue.list({ ids: [e2.id] }))[0]).toMatchObject({ attempts: 0, lastError: null });
        await queue.failed([{ id: e2.id, error: 'refused' }], 5, () => 0, 'node-a');
        expect((await queue.list({ ids: [e2.id] }))[0]).toMatchObject({ attempts: 1, lastError: 'refused', state: 'pending' });
        expect((await queue.claim('A', 10, B)).map((e) => e.id)).toEqual([e2.id]);
        // A stops: what it still held goes back at once.
        expect(await queue.releaseClaims('node-a')).toBe(1);
        expect((await queue.claim('A', 10, B, new Set([e2.id]))).map((e) => e.id)).toEqual([e3.id]);
        await queue.delivered([e2, e3]);
        expect(await queue.claim('A', 10, { claimant: 'node-c', leaseMs: 1 })).toEqual([]);
        expect(await queue.list({ destination: 'A' })).toEqual([]);
        expect((await queue.counts()).find((c) => c.destination === 'A')?.delivered).toBe(3);
      });

      it('an attempt another node already counted (the destination down for both) is not counted again', async () => {
        const [e] = await queue.add([entry('A', '1.7.1')]);
        await queue.failed([{ id: e.id, error: 'refused' }], 5, () => 60_000, 'node-a');
        await queue.failed([{ id: e.id, error: 'refused too' }], 5, () => 60_000, 'node-b');
        expect((await queue.list({ ids: [e.id] }))[0]).toMatchObject({ attempts: 1, lastError: 'refused' });
        // A single node (no claimant) counts every failure it reports, as before claims.
        await queue.failed([{ id: e.id, error: 'refused again' }], 5, () => 60_000);
        expect((await queue.list({ ids: [e.id] }))[0]).toMatchObject({ attempts: 2, lastError: 'refused again' });
      });

      it('adds the claim columns to a queue table made before them (on PostgreSQL from two nodes at once)', async () => {
        const sql = (x: Index) => x as unknown as SqlIndexLike;
        const cols = async (x: Index) => (await sql(x).write((tx) => tx.execute(tx.dialect.tableColumns, ['router_queue']))).map((r) => r.name);
        const [e] = await queue.add([entry('A', '1.6.1')]);
        // The table as it was before claims: no claimed_by, no claim_until.
        await sql(index).write(async (tx) => {
          await tx.execute('ALTER TABLE router_queue DROP COLUMN claimed_by');
          await tx.execute('ALTER TABLE router_queue DROP COLUMN claim_until');
        });
        expect(await cols(index)).not.toContain('claimed_by');
        await index.close();
        index = await factory.open();
        queue = index.forwardQueue;
        const other = concurrentHandles ? await factory.open() : undefined;
        try {
          await Promise.all([queue.ensureSchema(), other?.forwardQueue.ensureSchema()]);
          expect(await cols(index)).toEqual(expect.arrayContaining(['claimed_by', 'claim_until']));
          expect((await (other ?? index).forwardQueue.claim('A', 10, A)).map((x) => x.id)).toEqual([e.id]);
        } finally {
          await other?.close();
        }
      });
    });
  });
}
