/**
 * The router's rules shared by two `pacs serve` nodes on one PostgreSQL database (issue
 * 17): a rule added through node 1's REST API is in node 2's within moments (NOTIFY, no
 * file watching), and `pacs router rules add --database-url` from the command line changes
 * the same rules, seen by both nodes. The delays are logged, not judged (a loaded machine).
 * The nodes share the Workstation's archive likewise (schema `<schema>_workstation`): a
 * study stored to node 1's Workstation port is listed by node 2's.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropSchema, freshSchemaName } from '../archive/pg-support.js';
import { runPacs } from '../cli/run-pacs.js';
import { stopAllPeers, storescu } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { writeInstances } from './instance-files.js';
import { admin, logLines, NodeCluster, type Node } from './nodes-support.js';

const schema = freshSchemaName();
let cluster: NodeCluster;
let base: string;
let data: string;
let n1: Node;
let n2: Node;

interface RulesBody {
  rules: { name: string; condition: string; destinations: string[] }[];
}

async function rulesOf(node: Node): Promise<string[]> {
  const res = await fetch(`http://127.0.0.1:${node.ports.web}/api/router/rules`, { headers: admin });
  expect(res.status).toBe(200);
  return ((await res.json()) as RulesBody).rules.map((r) => r.name);
}

/** Polls `node`'s rules every 20 ms for up to 2 s until `name` is among them; the delay, or undefined. */
async function arrival(node: Node, name: string, since: number): Promise<number | undefined> {
  while (Date.now() - since < 2000) {
    if ((await rulesOf(node)).includes(name)) return Date.now() - since;
    await new Promise((r) => setTimeout(r, 20));
  }
  return (await rulesOf(node)).includes(name) ? Date.now() - since : undefined;
}

beforeAll(async () => {
  base = await makeTempDir('pacs-rules-nodes-');
  data = join(base, 'data');
  cluster = new NodeCluster(schema, base, data);
  n1 = await cluster.startNode('n1');
  n2 = await cluster.startNode('n2');
});

afterAll(async () => {
  await stopAllPeers();
  await dropSchema(schema);
  await removeTempDirs();
});

describe('router rules on two nodes of one PostgreSQL database', () => {
  it('are created once in the database, not in router/rules.json', async () => {
    const created = [...logLines(n1), ...logLines(n2)].filter((l) => String(l.msg).startsWith('created the router rules in PostgreSQL'));
    expect(created).toHaveLength(1);
    expect(existsSync(join(data, 'router', 'rules.json'))).toBe(false);
    expect(await rulesOf(n1)).toEqual(await rulesOf(n2));
  });

  it("a rule added through node 1's REST API is in node 2's", async () => {
    const before = await rulesOf(n2);
    const since = Date.now();
    const res = await fetch(`http://127.0.0.1:${n1.ports.web}/api/router/rules`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ct to pacs', condition: 'Modality == "CT"', destinations: ['PACS'] }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const delay = await arrival(n2, 'ct to pacs', since);
    console.log(`rule added on node 1 (REST) seen by node 2 after ${delay ?? '> 2000'} ms (load ${(await import('node:os')).loadavg()[0].toFixed(2)})`);
    expect(delay).toBeDefined();
    expect(await rulesOf(n2)).toEqual([...before, 'ct to pacs']);
    // Rejected on node 2 as a duplicate: its validation runs against the shared rules.
    const dup = await fetch(`http://127.0.0.1:${n2.ports.web}/api/router/rules`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ct to pacs', condition: 'true', destinations: ['PACS'] }),
    });
    expect(dup.status).toBe(409);
  });

  it('pacs router rules add --database-url changes the rules both nodes follow; list and rm too', async () => {
    const add = await runPacs('router', 'rules', 'add', 'mr from cli', 'Modality == "MR"', '--dest', 'PACS', '--position', '1', '--data', data, ...cluster.db);
    // Committed before the command exited: the delays count from there.
    const since = Date.now();
    expect(add.status, add.stderr).toBe(0);
    expect(add.stdout).toMatch(/added rule "mr from cli"/);
    const [d1, d2] = await Promise.all([arrival(n1, 'mr from cli', since), arrival(n2, 'mr from cli', since)]);
    console.log(`rule added by the CLI seen by node 1 after ${d1 ?? '> 2000'} ms, node 2 after ${d2 ?? '> 2000'} ms after the command exited`);
    expect(d1).toBeDefined();
    expect(d2).toBeDefined();
    expect((await rulesOf(n1))[0]).toBe('mr from cli');
    expect(await rulesOf(n2)).toEqual(await rulesOf(n1));

    const list = await runPacs('router', 'rules', 'list', '--json', '--data', data, ...cluster.db);
    expect(list.status, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as RulesBody).rules.map((r) => r.name)).toEqual(await rulesOf(n1));

    const rm = await runPacs('router', 'rules', 'rm', 'ct to pacs', '--data', data, ...cluster.db);
    expect(rm.status, rm.stderr).toBe(0);
    await expect.poll(() => rulesOf(n2), { timeout: 5000, interval: 50 }).not.toContain('ct to pacs');
    await expect.poll(() => rulesOf(n1), { timeout: 5000, interval: 50 }).not.toContain('ct to pacs');

    // Without --database-url the command says where the nodes' rules are.
    const local = await runPacs('router', 'rules', 'list', '--data', data);
    expect(local.stderr).toMatch(/their router rules are in the database \(give --database-url\)/);
  });

  it("share the Workstation's archive: a study stored to node 1's Workstation is listed by node 2's", async () => {
    mkdirSync(join(base, 'ws-files'));
    const study = '1.2.826.0.1.3680043.10.1717.77';
    const files = writeInstances(join(base, 'ws-files'), `${study}.1`, 2, { studyInstanceUid: study }).map((w) => w.path);
    const stored = await storescu({ port: n1.ports.workstation, calledAet: 'WORKSTATION', callingAet: 'MODALITY', files });
    expect(stored.code, stored.stderr).toBe(0);
    const res = await fetch(`http://127.0.0.1:${n2.ports.web}/workstation/dicomweb/studies?StudyInstanceUID=${study}`, { headers: admin });
    expect(res.status).toBe(200);
    const found = (await res.json()) as Array<Record<string, { Value?: unknown[] }>>;
    expect(found.map((s) => s['0020000D']?.Value?.[0])).toEqual([study]);
    expect(found[0]['00201208']?.Value?.[0]).toBe(2); // NumberOfStudyRelatedInstances
    // In the database, not in a SQLite file of the shared directory.
    const rows = await cluster.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}_workstation".instances`);
    expect(Number(rows[0].n)).toBe(2);
    expect(existsSync(join(data, 'workstation', 'index.sqlite'))).toBe(false);
  });
});
