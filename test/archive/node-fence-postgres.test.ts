/**
 * Fencing a node paused beyond its lease (node-table.ts, "Fencing"), on a real PostgreSQL:
 * the sweeping node ends the expired lease; from then on every index write of the paused
 * node fails with NodeFencedError and changes nothing, and its next heartbeat reports it
 * fenced. A write already under way when the fence comes is ordered before it (the share
 * lock on the node's row), so the sweep that follows finds its row.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { NodeFencedError, NodeTable, listNodes } from '../../src/archive/node-table.js';
import { PostgresIndex } from '../../src/archive/postgres-index.js';
import { SharedDatabase } from '../../src/archive/shared-database.js';
import { makeRecord } from './index-conformance.js';
import { dropSchema, freshSchemaName, PG_URL } from './pg-support.js';

const schema = freshSchemaName();
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});
afterAll(() => dropSchema(schema));

const info = (nodeId: string, pid: number) => ({ nodeId, host: 'host-a', pid, roles: ['main'], version: '0.1.0', ports: {} });

/** Two registered nodes, `a` (whose heartbeat the test drives) with `a`'s index fenced as serve does. */
async function twoNodes(): Promise<{ db: SharedDatabase; a: NodeTable; b: NodeTable; index: PostgresIndex; errors: string[] }> {
  const db = await SharedDatabase.open({ connectionString: PG_URL, schema });
  closers.push(() => db.close());
  const errors: string[] = [];
  const logger = { info: () => undefined, warn: () => undefined, error: (_o: object, m?: string) => void errors.push(m ?? '') };
  // No timer beats for a within the test: it is "paused" whenever the test says so.
  const a = await NodeTable.register(db, info(`a${process.pid}`, 1), { processAlive: () => true, heartbeatMs: 3_600_000, leaseSeconds: 1, logger });
  const b = await NodeTable.register(db, info(`b${process.pid}`, 2), { processAlive: () => true, heartbeatMs: 3_600_000, leaseSeconds: 30, logger });
  closers.push(
    () => a.stop(),
    () => b.stop(),
  );
  const index = await PostgresIndex.open({ connectionString: PG_URL, schema });
  closers.push(() => index.close());
  index.setWriteFence(a.writeFence());
  return { db, a, b, index, errors };
}

/** Makes a's lease expired, as if it had been paused for a minute. */
async function pause(db: SharedDatabase, a: NodeTable): Promise<void> {
  await db.pool.query(`UPDATE cluster_nodes SET heartbeat_at = now() - interval '1 minute' WHERE node_id = $1`, [a.info.nodeId]);
}

describe('fencing a node paused beyond its lease', () => {
  it('writes while live; once fenced, writes nothing (NodeFencedError) and its heartbeat says so', async () => {
    const { db, a, b, index, errors } = await twoNodes();
    const before = await index.countInstances();
    await index.insertInstances([makeRecord()]);
    expect(await index.countInstances()).toBe(before + 1);

    // Live: another node may not fence it.
    expect(await b.fenceIfExpired(a.info.nodeId)).toBe(false);
    expect(await b.fenceIfExpired(b.info.nodeId)).toBe(false); // never itself
    await pause(db, a);
    expect(await b.fenceIfExpired(a.info.nodeId)).toBe(true);
    expect((await listNodes(db)).find((n) => n.nodeId === a.info.nodeId)?.stoppedAt).toBeInstanceOf(Date);

    const err = await index.insertInstances([makeRecord()]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NodeFencedError);
    expect((err as Error).message).toBe(`node "${a.info.nodeId}" was fenced: its lease expired and another node swept its open batches; restart it`);
    expect(await index.countInstances()).toBe(before + 1);

    // The paused node wakes up: its heartbeat renews nothing and reports the fence.
    let fenced = false;
    void a.fenced.then(() => (fenced = true));
    await a.beat();
    await Promise.resolve();
    expect(fenced).toBe(true);
    expect(errors).toEqual([(err as Error).message]);
    expect((await listNodes(db)).find((n) => n.nodeId === a.info.nodeId)?.live).toBe(false);
  });

  it('a write under way when the fence comes commits first; the fence waits for it', async () => {
    const { db, a, b, index } = await twoNodes();
    const rec = makeRecord();
    let fencedAt = 0;
    let committedAt = 0;
    await pause(db, a); // expired, but the write below starts before anyone fences
    let started!: () => void;
    const inside = new Promise<void>((r) => (started = r));
    const write = index
      .write(async (tx) => {
        started();
        await new Promise((r) => setTimeout(r, 500));
        await tx.insertInstances([rec], 'keep');
      })
      .then(() => (committedAt = performance.now()));
    await inside;
    const fence = b.fenceIfExpired(a.info.nodeId).then((r) => {
      fencedAt = performance.now();
      return r;
    });
    expect(await fence).toBe(true);
    await write;
    expect(committedAt).toBeGreaterThan(0);
    expect(fencedAt).toBeGreaterThanOrEqual(committedAt);
    expect(await index.hasInstance(rec.sopInstanceUid)).toBe(true);
    await expect(index.insertInstances([makeRecord()])).rejects.toBeInstanceOf(NodeFencedError);
  });
});
