/**
 * Users, sessions, jobs and hanging protocols of two `pacs serve` nodes on one PostgreSQL
 * database and one data directory (issue 17): the first node imports users.json once; a
 * login on one node is valid on the other; a new password, a removed user or a logout on
 * one node ends the session on the other within a second (NOTIFY); a job started on one
 * node is listed with its progress on the other, and shown failed, naming its node, once
 * that node was killed and its lease expired.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job } from '../../src/api-types/index.js';
import { UserStore } from '../../src/web/users.js';
import { dropSchema, freshSchemaName, PG_URL } from '../archive/pg-support.js';
import { freePort, REPO_ROOT, startPacs, startStorescp, stopAllPeers, storescu, waitForPort, type PacsPeer, type StorescpPeer } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { writeInstances } from './instance-files.js';

const schema = freshSchemaName();
const db = ['--database-url', PG_URL, '--database-schema', schema];
const STUDY = '1.2.826.0.1.3680043.10.1.1'; // writeInstances' study
let base: string;
let data: string;

interface Node {
  id: string;
  peer: PacsPeer;
  web: number;
}

async function startNode(id: string, extra: string[] = []): Promise<Node> {
  const main = await freePort();
  const web = await freePort();
  const peer = await startPacs({
    dir: join(base, id),
    port: main,
    args: [join(REPO_ROOT, 'bin/pacs.js'), 'serve', '--data', data, ...db, '--node-id', id, '--port', String(main), '--web-port', String(web), ...extra],
  });
  await waitForPort(web, { peer });
  return { id, peer, web };
}

const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const admin = basic('admin', 'nodes-password');
const json = { 'content-type': 'application/json' };

function call(node: Node, method: string, path: string, o: { headers?: Record<string, string>; body?: unknown } = {}): Promise<Response> {
  return fetch(`http://127.0.0.1:${node.web}${path}`, {
    method,
    headers: { ...(o.body !== undefined ? json : {}), ...o.headers },
    ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
  });
}

/** Logs in on `node`; the session cookie (`pacs_session=...`). */
async function login(node: Node, user: string, password: string): Promise<string> {
  const res = await call(node, 'POST', '/api/login', { body: { user, password } });
  expect(res.status, await res.clone().text()).toBe(200);
  const cookie = res.headers.get('set-cookie')?.split(';')[0];
  expect(cookie).toMatch(/^pacs_session=/);
  return cookie!;
}

/** The status of a reader's route (GET /api/me) with `cookie`. */
async function withCookie(node: Node, cookie: string): Promise<number> {
  return (await call(node, 'GET', '/api/me', { headers: { cookie } })).status;
}

/** Polls until `node` answers 401 to `cookie`; how long that took after `since`. */
async function endedWithin(node: Node, cookie: string, since: number, limitMs: number): Promise<number> {
  while (Date.now() - since <= limitMs) {
    if ((await withCookie(node, cookie)) === 401) return Date.now() - since;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`node ${node.id} still accepted the session ${limitMs} ms after it ended elsewhere`);
}

/** `pacs user ARGS... --data <data> --database-url ...` with `input` on its standard input. */
function pacsUser(input: string, args: string[], extra: string[] = []): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/pacs.js'), 'user', ...args, '--data', data, ...db, ...extra], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(input);
  });
}

async function sql<T>(text: string, values: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: PG_URL, options: `-c search_path="${schema}"` });
  await c.connect();
  try {
    return (await c.query(text, values)).rows as T[];
  } finally {
    await c.end();
  }
}

async function jobs(node: Node): Promise<Job[]> {
  const res = await call(node, 'GET', '/api/jobs', { headers: admin });
  expect(res.status).toBe(200);
  return (await res.json()) as Job[];
}

let n1: Node;
let n2: Node;
let storescp: StorescpPeer;
/** A "destination" that accepts the connection and never answers: a send to it stays running. */
let silent: Server;
let silentPort: number;
const held: Socket[] = [];

beforeAll(async () => {
  base = await makeTempDir('pacs-nodes-sessions-');
  data = join(base, 'data');
  mkdirSync(data, { recursive: true });
  // A single node's users.json: the first node on the empty database imports it.
  const seed = await UserStore.open(data);
  await seed.ensureAdmin('nodes-password');
  await seed.add('imported', 'imported-password', 'reader');
  n1 = await startNode('n1', ['--node-lease', '3']);
  n2 = await startNode('n2');
  storescp = await startStorescp({ dir: join(base, 'storescp') });
  silent = createServer((s) => void held.push(s));
  silentPort = await freePort();
  await new Promise<void>((r) => silent.listen(silentPort, '127.0.0.1', r));
});

afterAll(async () => {
  for (const s of held) s.destroy();
  silent?.close();
  await stopAllPeers();
  await dropSchema(schema);
  await removeTempDirs();
});

describe('two nodes share users, sessions, jobs and hanging protocols in PostgreSQL', () => {
  it('imports users.json once: its users log in on either node', async () => {
    const lines = (n: Node) => readFileSync(n.peer.logFile, 'utf8');
    expect(lines(n1)).toContain('imported the web users from users.json into PostgreSQL');
    expect(lines(n2)).not.toContain('imported the web users');
    expect((await sql<{ name: string }>('SELECT name FROM web_users ORDER BY name')).map((r) => r.name)).toEqual(['admin', 'imported']);
    await login(n2, 'imported', 'imported-password');
  });

  it('a login on node 1 is valid on node 2 at once; the database holds only the SHA-256 of the token', async () => {
    const cookie = await login(n1, 'admin', 'nodes-password');
    expect(await withCookie(n2, cookie)).toBe(200);
    expect(await withCookie(n1, cookie)).toBe(200);
    const token = cookie.slice('pacs_session='.length);
    const rows = await sql<{ token_sha256: string; user_name: string }>('SELECT token_sha256, user_name FROM web_sessions');
    expect(rows).toContainEqual({ token_sha256: createHash('sha256').update(token).digest('hex'), user_name: 'admin' });
    expect(JSON.stringify(rows)).not.toContain(token);
  });

  it('a user added on node 1 logs in on node 2; a new password or removal on node 2 ends their sessions on node 1 within 1 s', async () => {
    const added = await call(n1, 'POST', '/api/users', { headers: admin, body: { name: 'reader1', password: 'first-password', role: 'reader' } });
    expect(added.status, await added.clone().text()).toBe(201);
    const onNode2 = await login(n2, 'reader1', 'first-password');
    const onNode1 = await login(n1, 'reader1', 'first-password');
    // Both cached on both nodes: each seen once.
    for (const c of [onNode1, onNode2]) for (const n of [n1, n2]) expect(await withCookie(n, c)).toBe(200);

    const changed = await call(n2, 'PATCH', '/api/users/reader1', { headers: admin, body: { password: 'second-password' } });
    expect(changed.status, await changed.clone().text()).toBe(200);
    const at = Date.now();
    console.log(`node 1 ended the session ${await endedWithin(n1, onNode1, at, 1000)} ms after node 2 changed the password`);
    expect(await withCookie(n2, onNode2)).toBe(401);
    expect(await withCookie(n1, onNode2)).toBe(401);
    expect((await call(n1, 'GET', '/api/me', { headers: basic('reader1', 'first-password') })).status).toBe(401);
    expect((await call(n1, 'GET', '/api/me', { headers: basic('reader1', 'second-password') })).status).toBe(200);

    // Removed on node 2: the new session from node 1 ends on node 1.
    const again = await login(n1, 'reader1', 'second-password');
    expect(await withCookie(n1, again)).toBe(200);
    expect((await call(n2, 'DELETE', '/api/users/reader1', { headers: admin })).status).toBe(204);
    const removedAt = Date.now();
    console.log(`node 1 ended the session ${await endedWithin(n1, again, removedAt, 1000)} ms after node 2 removed the user`);
    expect((await sql('SELECT 1 FROM web_sessions WHERE user_name = $1', ['reader1'])).length).toBe(0);
  });

  it("pacs user --database-url changes the nodes' users: a new password ends the sessions on both nodes", async () => {
    expect((await call(n1, 'POST', '/api/login', { body: { user: 'cliuser', password: 'cli-password' } })).status).toBe(401);
    expect((await pacsUser('cli-password\n', ['add', 'cliuser', '--role', 'reader', '--password-stdin'])).status).toBe(0);
    const session = await login(n2, 'cliuser', 'cli-password');
    expect(await withCookie(n1, session)).toBe(200);
    const list = await pacsUser('', ['list']);
    expect(list.stdout).toMatch(/^cliuser +reader /m);
    const passwd = await pacsUser('new-cli-password\n', ['passwd', 'cliuser', '--password-stdin']);
    expect(passwd.status, passwd.stderr).toBe(0);
    const at = Date.now();
    await endedWithin(n1, session, at, 1000);
    await endedWithin(n2, session, at, 1000);
    await login(n1, 'cliuser', 'new-cli-password');
    // Without --database-url the command says where the nodes' users are.
    const plain = await pacsUser('', ['list'], ['--database-url', '']);
    expect(plain.stderr).toContain('their users are in the database (give --database-url)');
  });

  it('a logout on node 2 ends the session on node 1', async () => {
    const cookie = await login(n1, 'imported', 'imported-password');
    expect(await withCookie(n1, cookie)).toBe(200);
    expect((await call(n2, 'POST', '/api/logout', { headers: { cookie } })).status).toBe(200);
    await endedWithin(n1, cookie, Date.now(), 1000);
  });

  it('hanging protocols saved on node 1 are served by node 2', async () => {
    const protocols = [{ name: 'CT two up', match: { modality: 'CT' }, rows: 1, cols: 2, viewports: [{}, { study: 'prior' }] }];
    const put = await call(n1, 'PUT', '/api/hanging-protocols', { headers: admin, body: { protocols } });
    expect(put.status, await put.clone().text()).toBe(200);
    const got = await call(n2, 'GET', '/api/hanging-protocols', { headers: admin });
    expect(((await got.json()) as { protocols: unknown[] }).protocols).toEqual(protocols);
  });

  it("a user's window presets saved on node 1 are served by node 2, and not written to the data directory's file", async () => {
    const presets = [{ label: 'Liver', center: 60, width: 160, modality: 'CT' }];
    const put = await call(n1, 'PUT', '/api/me/window-presets', { headers: admin, body: { presets } });
    expect(put.status, await put.clone().text()).toBe(200);
    const got = await call(n2, 'GET', '/api/me/window-presets', { headers: admin });
    expect(((await got.json()) as { presets: unknown[] }).presets).toEqual(presets);
    const rows = await sql<{ name: string }>(`SELECT name FROM shared_documents WHERE name = $1`, ['user-settings:admin']);
    expect(rows).toHaveLength(1);
  });

  it("lists node 1's jobs with their progress on node 2, and a job of a killed node as failed naming it", async () => {
    mkdirSync(join(base, 'files'));
    const files = writeInstances(join(base, 'files'), '1.2.826.0.1.3680043.10.1718', 5).map((w) => w.path);
    const stored = await storescu({ port: n1.peer.port, calledAet: 'PACS', callingAet: 'MOD', files });
    expect(stored.code, stored.stderr).toBe(0);
    for (const [aeTitle, port] of [
      ['STORESCP', storescp.port],
      ['SILENT', silentPort],
    ] as const) {
      const res = await call(n1, 'POST', '/api/aes', { headers: admin, body: { aeTitle, connection: { host: '127.0.0.1', port } } });
      expect(res.status, await res.clone().text()).toBe(201);
    }

    // A send from node 1 to storescp: node 2 lists it with its progress, to the end.
    const sent = await call(n1, 'POST', '/api/studies/send', { headers: admin, body: { destination: 'STORESCP', studyUid: STUDY } });
    expect(sent.status, await sent.clone().text()).toBe(202);
    const job = (await sent.json()) as Job;
    expect(job.node).toBe('n1');
    const seen = async () => (await jobs(n2)).find((j) => j.id === job.id);
    await expect.poll(seen, { timeout: 30_000, interval: 100 }).toMatchObject({ state: 'done', done: 5, total: 5, failed: 0, node: 'n1' });
    expect((await call(n2, 'GET', `/api/jobs/${job.id}`, { headers: admin }).then((r) => r.json())) as Job).toMatchObject({ state: 'done', done: 5 });
    expect(await storescp.countFiles()).toBe(5);

    // A send to a destination that never answers stays running; node 1 dies meanwhile.
    const hanging = await call(n1, 'POST', '/api/studies/send', { headers: admin, body: { destination: 'SILENT', studyUid: STUDY } });
    expect(hanging.status).toBe(202);
    const stuck = (await hanging.json()) as Job;
    await expect
      .poll(async () => (await jobs(n2)).find((j) => j.id === stuck.id), { timeout: 10_000, interval: 100 })
      .toMatchObject({ state: 'running', total: 5 });
    process.kill(n1.peer.pid, 'SIGKILL');
    await expect.poll(() => n1.peer.exited, { timeout: 10_000 }).toBe(true);
    // Its lease is 3 s: then node 2 shows the job failed, naming the node.
    await expect
      .poll(async () => (await jobs(n2)).find((j) => j.id === stuck.id), { timeout: 30_000, interval: 250 })
      .toMatchObject({ state: 'failed', message: 'node n1 stopped', node: 'n1' });
    // The finished job stays as it was.
    expect((await jobs(n2)).find((j) => j.id === job.id)).toMatchObject({ state: 'done', done: 5 });
  });
});
