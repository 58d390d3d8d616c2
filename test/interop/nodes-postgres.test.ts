/**
 * Several `pacs serve` nodes on one PostgreSQL database and one data directory (issue 17):
 * the registry is shared through the database (a change made with `pacs config` is in
 * force on the other node at once, through NOTIFY), each node keeps the ports of its own
 * command line, `pacs status` lists the nodes with their heartbeats, and a node's start-up
 * sweep leaves a live node's open blob batch alone and sweeps it once its lease expired.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigStore, serverAe, setAe } from '../../src/config/index.js';
import type { Registry } from '../../src/config/index.js';
import { dropSchema, freshSchemaName, PG_URL } from '../archive/pg-support.js';
import { runPacs } from '../cli/run-pacs.js';
import { echoscu, freePort, REPO_ROOT, stopAllPeers, storescu } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { writeInstances } from './instance-files.js';
import { admin, logLines, logSize, NodeCluster, ready, type Node } from './nodes-support.js';

const schema = freshSchemaName();
let base: string;
let data: string;
let cluster: NodeCluster;
let db: string[];
const startNode = (id: string, ports?: Node['ports'], extra: string[] = []) => cluster.startNode(id, ports, extra);
const status = () => cluster.status();
const sharedRegistry = () => cluster.sharedRegistry();

/**
 * Waits for `node` to log that it applied the registry's latest revision (it hears of it
 * by NOTIFY: no file watching, no polling) and returns how long after the commit (the
 * row's updated_at; one host, one clock).
 */
async function appliedAfter(node: Node): Promise<number> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  let row: { revision: string; at: number };
  try {
    row = (await c.query(`SELECT revision, (EXTRACT(EPOCH FROM updated_at) * 1000)::float8 AS at FROM "${schema}".shared_registry`)).rows[0] as typeof row;
  } finally {
    await c.end();
  }
  const revision = Number(row.revision);
  const line = () => logLines(node).find((l) => l.msg === 'registry changed by another process: new revision in force' && l.revision === revision);
  await expect.poll(line, { timeout: 20_000, interval: 50 }).toBeDefined();
  return Math.round(Number(line()!.time) - row.at);
}

let n1: Node;
let n2: Node;

beforeAll(async () => {
  base = await makeTempDir('pacs-nodes-');
  data = join(base, 'data');
  cluster = new NodeCluster(schema, base, data);
  db = cluster.db;
  // A single node's registry, strict: the first node on the empty database imports it.
  const seed = await ConfigStore.open(data);
  await seed.update((r) => setAe(r, 'PACS', { policy: { strict: true } }));
  seed.close();
  n1 = await startNode('n1', undefined, ['--node-lease', '3']);
  n2 = await startNode('n2');
});

afterAll(async () => {
  await stopAllPeers();
  await dropSchema(schema);
  await removeTempDirs();
});

describe('two nodes on one PostgreSQL database and one data directory', () => {
  it('share the registry: imported once, a change made with pacs config is in force on the other node, and neither node moves', async () => {
    expect(logLines(n1).some((l) => String(l.msg).startsWith('imported the AE registry from config.json into PostgreSQL'))).toBe(true);
    expect(logLines(n2).some((l) => String(l.msg).startsWith('imported the AE registry'))).toBe(false);

    const refused = await echoscu({ port: n2.ports.main, calledAet: 'PACS', callingAet: 'NEWMOD' });
    expect(refused.stdout + refused.stderr).toMatch(/Calling AE Title Not Recognized/i);

    const add = await runPacs('config', 'ae', 'add', 'NEWMOD', '--host', '127.0.0.1', '--data', data, ...db);
    expect(add.status, add.stderr).toBe(0);
    console.log(`node 2 applied the change of pacs config ${await appliedAfter(n2)} ms after its commit`);
    // In force at once: the new AE is admitted by node 2 (and node 1), strict as they are.
    expect((await echoscu({ port: n2.ports.main, calledAet: 'PACS', callingAet: 'NEWMOD' })).code).toBe(0);
    expect((await echoscu({ port: n1.ports.main, calledAet: 'PACS', callingAet: 'NEWMOD' })).code).toBe(0);

    // The REST API of node 1 changes the same registry: in force on node 2.
    const res = await fetch(`http://127.0.0.1:${n1.ports.web}/api/aes`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ aeTitle: 'RESTMOD', connection: { host: '127.0.0.1' } }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    console.log(`node 2 applied the change of node 1's REST API ${await appliedAfter(n2)} ms after its commit`);
    expect((await echoscu({ port: n2.ports.main, calledAet: 'PACS', callingAet: 'RESTMOD' })).code).toBe(0);
    // Each node's view shows its own ports.
    const view = (await (await fetch(`http://127.0.0.1:${n2.ports.web}/api/config`, { headers: admin })).json()) as Registry;
    expect(serverAe(view, 'main')?.connection.port).toBe(n2.ports.main);
    expect(view.web.port).toBe(n2.ports.web);

    // The ports of each node's command line are its own: the shared registry keeps its
    // own, no listener was re-opened, both nodes are ready on their ports.
    const reg = await sharedRegistry();
    expect(serverAe(reg, 'main')?.connection.port).toBe(11112);
    expect(reg.web.port).toBe(8080);
    for (const n of [n1, n2]) {
      expect(logLines(n).filter((l) => String(l.msg).startsWith('re-opening the'))).toEqual([]);
      expect(await ready(n.ports.web)).toBe(true);
      const cfg = await fetch(`http://127.0.0.1:${n.ports.web}/api/health`);
      expect(cfg.status).toBe(200);
    }
  });

  it('pacs status lists both nodes with their roles, ports, version and a live heartbeat', async () => {
    await expect.poll(async () => (await status()).map((n) => n.roles.length > 0 && n.live), { timeout: 20_000 }).toEqual([true, true]);
    const rows = await status();
    expect(rows.map((n) => n.nodeId)).toEqual(['n1', 'n2']);
    for (const [row, node] of [
      [rows[0], n1],
      [rows[1], n2],
    ] as const) {
      expect(row.roles.sort()).toEqual(['main', 'router', 'web', 'workstation']);
      expect(row.ports).toEqual({ main: node.ports.main, workstation: node.ports.workstation, router: node.ports.router, web: node.ports.web });
      expect(row.version).toBe(JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version);
      expect(row.heartbeatAgeSeconds).toBeLessThan(row.leaseSeconds);
    }
    const text = await runPacs('status', ...db);
    expect(text.stdout).toContain(`2 node(s) on PostgreSQL schema "${schema}", 2 live`);
    expect(text.stdout).toMatch(/^n1 +\S+ +live +main,workstation,router,web /m);
    expect(text.stdout).toMatch(/LAST HEARTBEAT/);
  });

  it('refuses a second process with the same node id, and a single (SQLite) node beside them, naming the holder', async () => {
    const same = await runPacs('serve', '--data', data, ...db, '--node-id', 'n2', '--port', String(await freePort()), '--no-web');
    expect(same.status).toBe(1);
    expect(same.stderr).toContain(`node id "n2" already runs on this data directory (pid ${n2.peer.pid}`);
    const single = await runPacs('serve', '--data', data, '--port', String(await freePort()), '--no-web');
    expect(single.status).toBe(1);
    expect(single.stderr).toMatch(/already served by node "n[12]" \(pid \d+ on host/);
  });

  it("a node's start-up sweep leaves a live node's open batch alone, and sweeps it once that node's lease expired", async () => {
    mkdirSync(join(base, 'files'));
    const files = writeInstances(join(base, 'files'), '1.2.826.0.1.3680043.10.1717', 3).map((w) => w.path);
    const stored = await storescu({ port: n1.ports.main, calledAet: 'PACS', callingAet: 'NEWMOD', files });
    expect(stored.code, stored.stderr).toBe(0);
    const markers = join(data, 'blobs', 'open-by-node', 'n1');
    const open = readdirSync(markers);
    expect(open).toHaveLength(1); // one batch, open: 3 of its 1024 files taken
    const [day, batch] = open[0].split('.');
    const batchDir = join(data, 'blobs', 's', day, batch);
    const inFlight = readdirSync(batchDir).sort(); // the 3 stored and n1's pool of pre-created files
    expect(inFlight.length).toBeGreaterThan(3);

    // Node 2 restarts while node 1 lives: node 1's batch is left as it is.
    await n2.peer.stop();
    n2 = await startNode('n2', n2.ports);
    expect(logLines(n2).some((l) => l.msg === 'open batches of live nodes left alone' && (l.nodes as string[]).includes('n1'))).toBe(true);
    expect(readdirSync(markers)).toEqual(open);
    expect(readdirSync(batchDir).sort()).toEqual(inFlight);

    // Node 1 dies (no clean stop); once its lease has expired, node 2 sweeps its batch: by
    // its periodic sweep if that comes first, else at its next start.
    const before = logSize(n2);
    process.kill(n1.peer.pid, 'SIGKILL');
    await expect.poll(() => n1.peer.exited, { timeout: 10_000 }).toBe(true);
    await expect.poll(async () => (await status()).find((n) => n.nodeId === 'n1')?.live, { timeout: 30_000, interval: 500 }).toBe(false);
    await n2.peer.stop();
    n2 = await startNode('n2', n2.ports);
    const swept = logLines(n2, before).find((l) => l.msg === 'swept the open batches of node n1, whose lease has expired');
    expect(swept).toMatchObject({ nodeId: 'n1', batches: 1 });
    expect(readdirSync(markers)).toEqual([]);
    // What n1 acknowledged stays (its rows and files); its unused pool files are gone.
    expect(readdirSync(batchDir)).toHaveLength(3);
  });
});
