/**
 * Users, sessions, jobs and hanging protocols of several nodes in PostgreSQL
 * (archive/shared-auth.ts, shared-jobs.ts, shared-documents.ts and their users in
 * web/users.ts, web/auth.ts, services/jobs.ts), two "nodes" in one process, each with its
 * own pool and LISTEN connection on one fresh schema.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { NodeTable } from '../../src/archive/node-table.js';
import { SharedAuthTables } from '../../src/archive/shared-auth.js';
import { SharedDatabase } from '../../src/archive/shared-database.js';
import { SharedDocuments } from '../../src/archive/shared-documents.js';
import { SharedJobTable } from '../../src/archive/shared-jobs.js';
import { JobRegistry, PROGRESS_WRITE_MS } from '../../src/services/jobs.js';
import { SharedSessions } from '../../src/web/auth.js';
import { HangingProtocolStore } from '../../src/web/hanging-protocols.js';
import { UserStore } from '../../src/web/users.js';
import { dropSchema, freshSchemaName, PG_URL } from '../archive/pg-support.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

const schema = freshSchemaName();
const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});
afterAll(async () => {
  await dropSchema(schema);
  await removeTempDirs();
});

async function node(id: string, dataDir: string) {
  const db = await SharedDatabase.open({ connectionString: PG_URL, schema });
  const auth = new SharedAuthTables(db, id);
  const users = await UserStore.openShared(dataDir, auth);
  const sessions = new SharedSessions(auth);
  closers.push(() => db.close());
  closers.push(() => users.close());
  closers.push(() => sessions.close());
  return { db, auth, users, sessions };
}

const until = async (cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('users and sessions in PostgreSQL', () => {
  it('imports users.json once, shares users and sessions, and ends sessions on every node', async () => {
    const dir = await makeTempDir('pacs-shared-auth-');
    const file = await UserStore.open(dir);
    await file.ensureAdmin('admin-password');
    const a = await node('a', dir);
    // The file is not read again: a user added to it now stays out.
    await file.add('late', 'late-password', 'reader');
    const b = await node('b', dir);
    await until(() => a.auth.listening && b.auth.listening);
    expect((await a.users.list()).map((u) => u.name)).toEqual(['admin']);
    expect((await b.users.list()).map((u) => u.name)).toEqual(['admin']);

    await a.users.add('reader1', 'reader-password', 'reader');
    await until(async () => (await b.users.role('reader1')) === 'reader');
    expect(await b.users.verify('reader1', 'reader-password')).toMatchObject({ name: 'reader1', role: 'reader' });

    // A session made on a is valid on b; the table has its SHA-256 only.
    const token = await a.sessions.create('reader1');
    expect(await b.sessions.user(token)).toBe('reader1');
    const rows = (await a.db.pool.query('SELECT token_sha256 FROM web_sessions')).rows as Array<{ token_sha256: string }>;
    expect(rows).toEqual([{ token_sha256: createHash('sha256').update(token).digest('hex') }]);

    // Cached on b: a row deleted behind its back (no notification) is not looked up per request.
    await a.db.pool.query('DELETE FROM web_sessions');
    expect(await b.sessions.user(token)).toBe('reader1');
    expect(await a.sessions.user(token)).toBeUndefined(); // a never cached it

    // A new password on a: b hears of it and drops the user's sessions and its own caches.
    const t2 = await a.sessions.create('reader1');
    expect(await b.sessions.user(t2)).toBe('reader1');
    const ended: string[] = [];
    b.users.onInvalidate((n) => ended.push(n));
    await a.users.setPassword('reader1', 'new-password');
    await until(() => ended.includes('reader1'));
    expect(await b.sessions.user(t2)).toBeUndefined();
    expect(await b.sessions.user(token)).toBeUndefined();
    expect(await b.users.verify('reader1', 'reader-password')).toBeUndefined();

    // A demotion applies on the other node; a logout on b ends a's cached session.
    await b.users.add('second', 'second-password', 'admin');
    await until(async () => (await a.users.role('second')) === 'admin');
    await b.users.setRole('second', 'reader');
    await until(async () => (await a.users.role('second')) === 'reader');
    const t3 = await a.sessions.create('second');
    expect(await a.sessions.user(t3)).toBe('second');
    await b.sessions.drop(t3);
    await until(async () => (await a.sessions.user(t3)) === undefined);

    // Removed on b: gone on a, with its sessions; the last admin stays.
    const t4 = await a.sessions.create('second');
    await b.users.remove('second');
    await until(async () => (await a.users.role('second')) === undefined);
    expect(await a.sessions.user(t4)).toBeUndefined();
    await expect(a.users.remove('admin')).rejects.toThrow(/last admin/);
    expect(await a.sessions.user('x'.repeat(5000))).toBeUndefined();
  });

  it('two nodes creating the first admin together make one', async () => {
    const dir = await makeTempDir('pacs-shared-auth-');
    const s = freshSchemaName();
    const dbs = await Promise.all([0, 1].map(() => SharedDatabase.open({ connectionString: PG_URL, schema: s })));
    closers.push(() => dropSchema(s));
    for (const d of dbs) closers.push(() => d.close());
    const stores = await Promise.all(dbs.map((d, i) => UserStore.openShared(dir, new SharedAuthTables(d, `n${i}`))));
    for (const u of stores) closers.push(() => u.close());
    const made = await Promise.all(stores.map((u) => u.ensureAdmin('admin-password')));
    expect(made.filter((m) => m.created)).toHaveLength(1);
    expect((await stores[1].list()).map((u) => u.name)).toEqual(['admin']);
  });
});

describe('jobs in PostgreSQL', () => {
  it("lists every node's jobs with progress written at most every 500 ms, and a dead node's running job as failed", async () => {
    const db = await SharedDatabase.open({ connectionString: PG_URL, schema });
    closers.push(() => db.close());
    const table = await NodeTable.register(
      db,
      { nodeId: 'j1', host: 'h', pid: 1, roles: [], version: 't', ports: {} },
      { processAlive: () => true, leaseSeconds: 60, heartbeatMs: 60_000 },
    );
    closers.push(() => table.stop());
    const saves: number[] = [];
    const t1 = new SharedJobTable(db, 'j1');
    const counting = Object.assign(Object.create(t1) as SharedJobTable, {
      save: async (j: Parameters<SharedJobTable['save']>[0]) => {
        saves.push(Date.now());
        await t1.save(j);
      },
    });
    const r1 = new JobRegistry();
    await r1.share(counting);
    const started = Date.now();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const job = r1.start('send', 'a send', async (c) => {
      c.setTotal(2000);
      for (let i = 1; i <= 1000; i++) {
        c.progress(i, 0);
        if (i % 100 === 0) await new Promise((r) => setTimeout(r, 120));
      }
      await gate;
      return { ok: true, message: 'sent' };
    });
    expect(job.node).toBe('j1');
    // Another node sees the progress while it runs.
    const r2 = new JobRegistry();
    await r2.share(new SharedJobTable(db, 'j2'));
    await until(async () => (await r2.get(job.id))?.done === 1000);
    expect(await r2.get(job.id)).toMatchObject({ state: 'running', total: 2000, node: 'j1' });
    // 1000 progress calls: one write at the start, then at most one per 500 ms.
    expect(saves.length).toBeLessThanOrEqual(2 + Math.ceil((Date.now() - started) / PROGRESS_WRITE_MS));
    for (let i = 1; i < saves.length; i++) expect(saves[i] - saves[i - 1]).toBeGreaterThanOrEqual(PROGRESS_WRITE_MS - 5);
    release();
    await r1.settled();
    expect((await r2.list()).find((j) => j.id === job.id)).toMatchObject({ state: 'done', done: 1000, message: 'sent' });

    // j1 stops (its lease ends) with a job running: listed failed, naming it.
    const stuck = r1.start('retrieve', 'stuck', () => new Promise(() => undefined));
    await until(async () => (await r2.get(stuck.id)) !== undefined);
    expect((await r2.get(stuck.id))?.state).toBe('running');
    await table.stop();
    expect((await r2.list()).find((j) => j.id === stuck.id)).toMatchObject({ state: 'failed', message: 'node j1 stopped', node: 'j1' });
    // A job of a node the table never knew: failed too.
    await t1.save({ ...stuck, id: 'orphan' });
    await db.pool.query(`UPDATE shared_jobs SET node_id = 'ghost' WHERE id = 'orphan'`);
    expect(await r2.get('orphan')).toMatchObject({ state: 'failed', message: 'node ghost stopped' });
    // A later process of j1 marks what the earlier one left running as failed, for good.
    const r3 = new JobRegistry();
    await r3.share(new SharedJobTable(db, 'j1'));
    const row = (await db.pool.query('SELECT state, body FROM shared_jobs WHERE id = $1', [stuck.id])).rows[0] as { state: string; body: { message: string } };
    expect(row).toMatchObject({ state: 'failed', body: { message: 'node j1 stopped' } });
  });
});

describe('hanging protocols in PostgreSQL', () => {
  it("starts from the data directory's file, then keeps them in the database for every node", async () => {
    const dir = await makeTempDir('pacs-shared-hp-');
    const db = await SharedDatabase.open({ connectionString: PG_URL, schema });
    closers.push(() => db.close());
    const p = (name: string) => ({ name, match: { modality: 'CT' }, rows: 1, cols: 1, viewports: [{}] });
    await writeFile(join(dir, 'hanging-protocols.json'), JSON.stringify({ protocols: [p('from file')] }));
    const a = HangingProtocolStore.shared(dir, new SharedDocuments(db, 'a'));
    const b = HangingProtocolStore.shared(dir, new SharedDocuments(db, 'b'));
    expect(await b.list()).toEqual([p('from file')]);
    await a.replace([p('shared')]);
    expect(await b.list()).toEqual([p('shared')]);
    await db.pool.query(`UPDATE shared_documents SET body = '{"protocols": [{"name": 1}]}' WHERE name = 'hanging-protocols'`);
    await expect(b.list()).rejects.toThrow(/hanging protocols in PostgreSQL/);
  });
});
