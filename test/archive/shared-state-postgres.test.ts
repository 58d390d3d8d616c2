/**
 * What nodes on one PostgreSQL database share besides the index (shared-database.ts):
 * the registry (shared-registry.ts: imported once, changed atomically, followed through
 * NOTIFY) and the node table (node-table.ts: registration, heartbeats, leases).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { NodeIdInUseError, NodeTable, listNodes } from '../../src/archive/node-table.js';
import { SharedDatabase } from '../../src/archive/shared-database.js';
import { PostgresRegistryBackend } from '../../src/archive/shared-registry.js';
import { addAe, ConfigStore, findAe, listAes, setAe, type Registry } from '../../src/config/index.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { dropSchema, freshSchemaName, PG_URL } from './pg-support.js';

const opened: SharedDatabase[] = [];
const schemas: string[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((d) => d.close()));
});
afterAll(async () => {
  for (const s of schemas) await dropSchema(s);
  await removeTempDirs();
});

async function open(schema: string): Promise<SharedDatabase> {
  const db = await SharedDatabase.open({ connectionString: PG_URL, schema });
  opened.push(db);
  return db;
}

function fresh(): string {
  const s = freshSchemaName();
  schemas.push(s);
  return s;
}

const logs = () => {
  const lines: string[] = [];
  return { lines, logger: { info: (_o: object, m?: string) => void lines.push(m ?? ''), error: (_o: object, m?: string) => void lines.push(`error: ${m}`) } };
};

const peer = (aeTitle: string) => ({ aeTitle, connection: { host: '127.0.0.1', port: 4242 } });

describe('the registry in PostgreSQL', () => {
  it("imports the data directory's config.json once, on an empty database, and says so", async () => {
    const schema = fresh();
    const dir = await makeTempDir('pacs-shared-reg-');
    const file = await ConfigStore.open(dir);
    await file.update((r) => addAe(r, peer('FROMFILE')));
    const [db1, db2] = await Promise.all([open(schema), open(schema)]);
    const a = logs();
    const b = logs();
    // Two nodes starting together: one imports, the other reads what it imported.
    const [s1, s2] = await Promise.all([
      ConfigStore.open(dir, { backend: new PostgresRegistryBackend(db1, dir, 'n1'), logger: a.logger }),
      ConfigStore.open(dir, { backend: new PostgresRegistryBackend(db2, dir, 'n2'), logger: b.logger }),
    ]);
    const imports = [...a.lines, ...b.lines].filter((l) => l.startsWith('imported the AE registry from config.json'));
    expect(imports).toHaveLength(1);
    expect(findAe(s1.current, 'FROMFILE')).toBeDefined();
    expect(s2.current).toEqual(s1.current);
    expect(s1.location).toBe(`PostgreSQL schema "${schema}"`);
    // config.json is not read again: a change there is not the registry's.
    await file.update((r) => addAe(r, peer('LATER')));
    const s3 = await ConfigStore.open(dir, { backend: new PostgresRegistryBackend(db1, dir, 'n3') });
    expect(findAe(s3.current, 'LATER')).toBeUndefined();
  });

  it('starts from the defaults when there is no config.json, and loses no change when nodes update at once', async () => {
    const schema = fresh();
    const dir = await makeTempDir('pacs-shared-reg-');
    const [db1, db2] = await Promise.all([open(schema), open(schema)]);
    const a = await ConfigStore.open(dir, { backend: new PostgresRegistryBackend(db1, dir, 'n1') });
    const b = await ConfigStore.open(dir, { backend: new PostgresRegistryBackend(db2, dir, 'n2') });
    expect(a.current.revision).toBe(1);
    await Promise.all([
      ...Array.from({ length: 5 }, (_, i) => a.update((r) => addAe(r, peer(`A${i}`)))),
      ...Array.from({ length: 5 }, (_, i) => b.update((r) => addAe(r, peer(`B${i}`)))),
    ]);
    const c = await ConfigStore.open(dir, { backend: new PostgresRegistryBackend(db1, dir, 'n3') });
    expect(listAes(c.current).filter((x) => x.role === 'peer')).toHaveLength(10);
    expect(c.current.revision).toBe(11);
  });

  it("follows another node's changes through NOTIFY, keeps its own overlay, and ignores a broken row", async () => {
    const schema = fresh();
    const dir = await makeTempDir('pacs-shared-reg-');
    const [db1, db2] = await Promise.all([open(schema), open(schema)]);
    const log = logs();
    // Node 1 listens on its own port 4100 (an overlay): never written to the database.
    const node1 = await ConfigStore.open(dir, {
      backend: new PostgresRegistryBackend(db1, dir, 'n1'),
      logger: log.logger,
      overlay: (r: Registry) => setAe(r, 'PACS', { connection: { port: 4100 } }),
    });
    const seen: Registry[] = [];
    node1.onChange((next) => seen.push(next));
    node1.watch();
    const node2 = await ConfigStore.open(dir, { backend: new PostgresRegistryBackend(db2, dir, 'n2') });
    // Before or after node 1's LISTEN is up: it reads the row again once it listens.
    await node2.update((r) => addAe(r, peer('FROMNODE2')));
    await expect.poll(() => seen.map((r) => r.revision), { timeout: 10_000, interval: 20 }).toEqual([2]);
    expect(findAe(seen[0], 'FROMNODE2')).toBeDefined();
    expect(findAe(node1.current, 'PACS')?.connection.port).toBe(4100);
    expect(findAe(node2.current, 'PACS')?.connection.port).toBe(11112);
    expect(log.lines).toContain('registry changed by another process: new revision in force');

    // Node 1's own change is stored without its overlay.
    await node1.update((r) => addAe(r, peer('FROMNODE1')));
    await node2.reload();
    expect(findAe(node2.current, 'PACS')?.connection.port).toBe(11112);
    expect(findAe(node2.current, 'FROMNODE1')).toBeDefined();

    // A row that does not validate is not applied: node 1 keeps its last good registry.
    await db2.pool.query(`UPDATE shared_registry SET revision = 99, body = jsonb_set(body, '{revision}', '99'::jsonb) || '{"web": {"port": 0}}'::jsonb`);
    await db2.pool.query(`SELECT pg_notify('pacs_registry', $1)`, [`${schema}:99`]);
    // Logged each time the broken row is read (the notification, and any read again after it).
    await expect.poll(() => log.lines.filter((l) => l === 'error: configuration not applied').length, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    expect(node1.current.revision).toBe(3);
    node1.close();
  });
});

describe('the node table', () => {
  const info = (nodeId: string, host = 'host-a', pid = 1000) => ({ nodeId, host, pid, roles: ['main'], version: '0.1.0', ports: { main: 11112 } });

  it('registers nodes, renews heartbeats, and tells whose lease has expired', async () => {
    const db = await open(fresh());
    const a = await NodeTable.register(db, info('a'), { processAlive: () => true, heartbeatMs: 100, leaseSeconds: 1 });
    const b = await NodeTable.register(db, info('b', 'host-b'), { processAlive: () => true, heartbeatMs: 100, leaseSeconds: 30 });
    await b.describe(['main', 'web'], { main: 4000, web: 4001 });
    const rows = await listNodes(db);
    expect(rows.map((r) => [r.nodeId, r.live])).toEqual([
      ['a', true],
      ['b', true],
    ]);
    expect(rows[1]).toMatchObject({ host: 'host-b', roles: ['main', 'web'], ports: { main: 4000, web: 4001 }, version: '0.1.0' });
    expect(await a.leaseExpired('b')).toBe(false);
    expect(await a.leaseExpired('a')).toBe(false); // never its own
    expect(await a.leaseExpired('unknown')).toBe(true);
    // Heartbeats move the last one forward.
    const first = rows[0].heartbeatAt.getTime();
    await expect.poll(async () => (await listNodes(db))[0].heartbeatAt.getTime() > first, { timeout: 10_000 }).toBe(true);
    // Node a stops beating (a crash): its lease (1 s) expires.
    await a.stop();
    await db.pool.query(`UPDATE cluster_nodes SET stopped_at = NULL WHERE node_id = 'a'`);
    await expect.poll(() => b.leaseExpired('a'), { timeout: 10_000, interval: 100 }).toBe(true);
    await b.stop();
    expect((await listNodes(db)).find((r) => r.nodeId === 'b')).toMatchObject({ live: false });
    expect((await listNodes(db)).find((r) => r.nodeId === 'b')?.stoppedAt).toBeInstanceOf(Date);
  });

  it('refuses a node id held by a live node elsewhere; takes it over from a stopped node or a gone process of this host', async () => {
    const db = await open(fresh());
    const far = await NodeTable.register(db, info('x', 'host-far', 7), { processAlive: () => true });
    const err = await NodeTable.register(db, info('x', 'host-near', 8), { processAlive: () => true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NodeIdInUseError);
    expect((err as Error).message).toMatch(/^node id "x" is in use by a live node \(pid 7 on host host-far, last heartbeat [\d.]+ s ago\)/);
    await far.stop();
    const near = await NodeTable.register(db, info('x', 'host-near', 8), { processAlive: () => true });
    // A process of this host that is gone (killed) leaves a live-looking row: taken over.
    const again = await NodeTable.register(db, info('x', 'host-near', 9), { processAlive: (pid) => pid !== 8 });
    expect((await listNodes(db))[0]).toMatchObject({ pid: 9, live: true });
    await near.stop(); // a stale holder's stop does not end the new holder's lease
    expect((await listNodes(db))[0]).toMatchObject({ pid: 9, live: true });
    await again.stop();
  });
});
