/**
 * Two router nodes on one PostgreSQL database and one data directory (issue 17): both
 * `pacs serve` nodes receive on their own router port and drain one forward queue (the
 * Router's schema `<schema>_router`), each entry claimed by one node. DCMTK storescp
 * (`-uf`: one file per C-STORE it accepts, never overwritten) counts the receptions:
 *  - 300 CT split across the two nodes arrive, each exactly once;
 *  - with the destination a black hole (it accepts the connection and never answers, so
 *    the senders hold their claims), 300 more are accepted, node 1 is SIGKILLed while it
 *    holds claims and is not restarted; the destination comes up: node 2 sends all 300,
 *    node 1's claimed entries included once its lease (3 s) has expired.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAe, ConfigStore } from '../../src/config/index.js';
import { RuleStore } from '../../src/router/rule-store.js';
import { dropSchema, freshSchemaName, PG_URL } from '../archive/pg-support.js';
import {
  countDicomFiles,
  freePort,
  REPO_ROOT,
  startProcess,
  startStorescp,
  stopAllPeers,
  storescu,
  waitForPort,
  type Peer,
  type StorescpPeer,
} from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { writeInstances, type Written } from './instance-files.js';

const schema = freshSchemaName();
const queueTable = `"${schema}_router".router_queue`;
let base: string;
let data: string;
let scpPort: number;
let db: pg.Client;

interface Node {
  id: string;
  peer: Peer;
  routerPort: number;
}

async function startNode(id: string): Promise<Node> {
  const [main, ws, routerPort] = [await freePort(), await freePort(), await freePort()];
  const peer = startProcess({
    name: `pacs-${id}`,
    command: process.execPath,
    cwd: REPO_ROOT,
    dir: join(base, id),
    args: [
      join(REPO_ROOT, 'bin/pacs.js'),
      'serve',
      '--data',
      data,
      '--database-url',
      PG_URL,
      '--database-schema',
      schema,
      '--node-id',
      id,
      '--node-lease',
      '3',
      '--port',
      String(main),
      '--workstation-port',
      String(ws),
      '--router-port',
      String(routerPort),
      '--no-web',
    ],
  });
  await waitForPort(routerPort, { peer, timeoutMs: 90_000 });
  return { id, peer, routerPort };
}

async function until(what: string, fn: () => Promise<boolean>, timeoutMs: number, log?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${log ? `\n${log()}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Queue entries still to send (not held), and those a node claims now. */
async function queued(): Promise<number> {
  return Number((await db.query(`SELECT count(*) AS n FROM ${queueTable} WHERE destination <> ''`)).rows[0].n);
}
async function claimedBy(node: string): Promise<number> {
  return Number((await db.query(`SELECT count(*) AS n FROM ${queueTable} WHERE claimed_by = $1`, [node])).rows[0].n);
}

/** Sends half of `files` to each node's router port at once; every instance must be acknowledged. */
async function sendSplit(files: Written[], nodes: Node[]): Promise<void> {
  const half = Math.ceil(files.length / 2);
  const parts = [files.slice(0, half), files.slice(half)];
  const results = await Promise.all(
    nodes.map((n, i) => storescu({ port: n.routerPort, calledAet: 'ROUTER', callingAet: 'MODALITY', files: parts[i].map((f) => f.path), timeoutMs: 300_000 })),
  );
  for (const r of results) expect(r.code, r.stderr).toBe(0);
}

/** Listens on `port`, waiting while the previous storescp's forked children still hold it. */
async function listenRetrying(server: Server, port: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Files storescp wrote: with -uf one per C-STORE it accepted. */
const receptions = (scp: StorescpPeer): number => readdirSync(scp.storageDir).length;

let n1: Node;
let n2: Node;

beforeAll(async () => {
  base = await makeTempDir('pacs-router-nodes-');
  data = join(base, 'data');
  scpPort = await freePort();
  // The registry the first node imports into PostgreSQL, and the rules both nodes read.
  const config = await ConfigStore.open(data);
  await config.update((reg) => addAe(reg, { aeTitle: 'STORESCP', connection: { host: '127.0.0.1', port: scpPort } }));
  const rules = await RuleStore.open(data, { registry: () => config.current });
  await rules.update(() => ({
    rules: [{ name: 'all', condition: 'true', destinations: ['STORESCP'] }],
    queue: { maxAttempts: 1000, baseDelayMs: 100, maxDelayMs: 400, batchSize: 20 },
  }));
  rules.close();
  config.close();
  db = new pg.Client({ connectionString: PG_URL });
  await db.connect();
  n1 = await startNode('n1');
  n2 = await startNode('n2');
}, 240_000);

afterAll(async () => {
  await stopAllPeers();
  await db?.end();
  await dropSchema(schema);
  await removeTempDirs();
});

describe('two router nodes on one PostgreSQL database', () => {
  it('300 instances received by both nodes are forwarded once each', async () => {
    const scp = await startStorescp({ dir: join(base, 'scp1'), aet: 'STORESCP', port: scpPort, fork: true, args: ['-uf'] });
    const sent = writeInstances(base, `1.2.826.0.1.3680043.10.81.${Date.now() % 1e9}`, 300);
    const uids = new Set(sent.map((s) => s.uid));
    await sendSplit(sent, [n1, n2]);
    await until(
      'all 300 at storescp',
      async () => (await countDicomFiles(scp.storageDir, uids)) === 300,
      180_000,
      () => `${n1.peer.logTail(10)}\n${n2.peer.logTail(10)}`,
    );
    // Delivered rows go once the senders pause; then nothing is left to send again.
    await until('the queue empty', async () => (await queued()) === 0, 30_000);
    await new Promise((r) => setTimeout(r, 1500)); // two idle polls of each node: nothing else arrives
    expect(receptions(scp)).toBe(300);
    expect(await countDicomFiles(scp.storageDir)).toBe(300);
    await scp.stop();
  }, 400_000);

  it('destination down, node 1 SIGKILLed holding claims: node 2 sends all 300 once node 1 lease expired', async () => {
    // A destination that accepts connections and never answers: each sender waits on its association, holding its claims.
    const held: Socket[] = [];
    const hole: Server = createServer((s) => {
      held.push(s);
      s.on('error', () => undefined);
    });
    await listenRetrying(hole, scpPort);
    const sent = writeInstances(base, `1.2.826.0.1.3680043.10.82.${Date.now() % 1e9}`, 300);
    const uids = new Set(sent.map((s) => s.uid));
    await sendSplit(sent, [n1, n2]);
    await until(
      'node 1 holding claims',
      async () => (await claimedBy('n1')) > 0,
      60_000,
      () => n1.peer.logTail(10),
    );
    process.kill(-n1.peer.pid, 'SIGKILL');
    await until('node 1 gone', async () => n1.peer.exited, 10_000);
    const claimedAtKill = await claimedBy('n1');
    expect(claimedAtKill).toBeGreaterThan(0);
    expect(await queued()).toBe(300);

    // The destination comes up (node 2's waiting association is cut: it fails and retries).
    for (const s of held) s.destroy();
    await new Promise<void>((r) => hole.close(() => r()));
    const scp = await startStorescp({ dir: join(base, 'scp2'), aet: 'STORESCP', port: scpPort, fork: true, args: ['-uf'] });
    await until(
      'all 300 at storescp',
      async () => (await countDicomFiles(scp.storageDir, uids)) === 300,
      180_000,
      () => n2.peer.logTail(20),
    );
    await until('the queue empty', async () => (await queued()) === 0, 30_000);
    // Node 1 never came back: its claims were taken over once they expired, not released by a restart.
    expect(n1.peer.exited).toBe(true);
    expect(await claimedBy('n1')).toBe(0);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await countDicomFiles(scp.storageDir, uids)).toBe(300);
    // Duplicates only for what node 1 held when it died (here none were sent: the black hole never answered).
    expect(receptions(scp)).toBeGreaterThanOrEqual(300);
    expect(receptions(scp)).toBeLessThanOrEqual(300 + claimedAtKill);
    await scp.stop();
  }, 400_000);
});
