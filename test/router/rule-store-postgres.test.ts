/**
 * The router's rules in PostgreSQL (archive/shared-router-rules.ts behind RuleStore), as
 * nodes on one database keep them: router/rules.json imported once by the first node;
 * every change a read-modify-write under the row's lock, so concurrent changes from two
 * nodes are all kept; an invalid change rolls back; the other node hears of each change
 * by NOTIFY.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SharedDatabase } from '../../src/archive/shared-database.js';
import { ROUTER_RULES_DOCUMENT, SharedRouterRules } from '../../src/archive/shared-router-rules.js';
import { defaultRegistry } from '../../src/config/index.js';
import { RuleStore } from '../../src/router/rule-store.js';
import type { RouterSettings } from '../../src/router/rules.js';
import { dropSchema, freshSchemaName, PG_URL } from '../archive/pg-support.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

const opened: SharedDatabase[] = [];
const stores: RuleStore[] = [];
const schemas: string[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) s.close();
  await Promise.all(opened.splice(0).map((d) => d.close()));
});
afterAll(async () => {
  for (const s of schemas) await dropSchema(s);
  await removeTempDirs();
});

const reg = defaultRegistry();

async function openNode(schema: string, dir: string, node: string, created?: (imported: boolean) => void): Promise<RuleStore> {
  const db = await SharedDatabase.open({ connectionString: PG_URL, schema });
  opened.push(db);
  const store = await RuleStore.open(dir, { registry: () => reg, shared: new SharedRouterRules(db, node), onCreated: (i) => created?.(i.imported) });
  stores.push(store);
  return store;
}

function fresh(): string {
  const s = freshSchemaName();
  schemas.push(s);
  return s;
}

/** Resolves with the first settings `store` hears of that satisfy `ok` (rejects after 5 s). */
function heard(store: RuleStore, ok: (s: RouterSettings) => boolean): Promise<RouterSettings> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no change heard within 5 s')), 5000);
    const off = store.onChange((s) => {
      if (!ok(s)) return;
      clearTimeout(timer);
      off();
      resolve(s);
    });
  });
}

describe('router rules in PostgreSQL', () => {
  it('imports router/rules.json once (nodes starting together), then reads the database only', async () => {
    const schema = fresh();
    const dir = await makeTempDir('pacs-rules-pg-');
    await mkdir(join(dir, 'router'));
    await writeFile(
      join(dir, 'router', 'rules.json'),
      JSON.stringify({ rules: [{ name: 'from file', condition: 'Modality == "CT"', destinations: ['PACS'] }] }),
    );
    const imports: boolean[] = [];
    const [a, b] = await Promise.all([openNode(schema, dir, 'n1', (i) => imports.push(i)), openNode(schema, dir, 'n2', (i) => imports.push(i))]);
    expect(imports).toEqual([true]);
    expect(a.current.rules.map((r) => r.name)).toEqual(['from file']);
    expect(b.current).toEqual(a.current);
    // The file is not read again: a later node gets the database's rules.
    await writeFile(join(dir, 'router', 'rules.json'), JSON.stringify({ rules: [] }));
    const c = await openNode(schema, dir, 'n3', (i) => imports.push(i));
    expect(c.current.rules.map((r) => r.name)).toEqual(['from file']);
    expect(imports).toEqual([true]);
  });

  it('starts from the default rule when there is no rules.json, without writing one', async () => {
    const schema = fresh();
    const dir = await makeTempDir('pacs-rules-pg-');
    const imports: boolean[] = [];
    const a = await openNode(schema, dir, 'n1', (i) => imports.push(i));
    expect(imports).toEqual([false]);
    expect(a.current.rules.map((r) => r.name)).toEqual(['everything to the workstation']);
    await expect(import('node:fs/promises').then((fs) => fs.stat(join(dir, 'router', 'rules.json')))).rejects.toThrow(/ENOENT/);
  });

  it('keeps every one of concurrent changes from two nodes, rolls back an invalid one, and tells the other node', async () => {
    const schema = fresh();
    const dir = await makeTempDir('pacs-rules-pg-');
    const [a, b] = await Promise.all([openNode(schema, dir, 'n1'), openNode(schema, dir, 'n2')]);
    a.watch();
    b.watch();
    const names = Array.from({ length: 8 }, (_, i) => `r${i}`);
    const bHearsAll = heard(b, (s) => names.every((n) => s.rules.some((r) => r.name === n)));
    await Promise.all(names.map((n, i) => (i % 2 ? b : a).add({ name: n, condition: `Modality == "M${i}"`, destinations: ['PACS'] })));
    const row = new SharedRouterRules(opened[0], 'test');
    const stored = await row.read();
    const storedNames = (stored!.settings as RouterSettings).rules.map((r) => r.name);
    expect(storedNames.filter((n) => names.includes(n)).sort()).toEqual(names);
    expect(storedNames).toHaveLength(names.length + 1);
    // One revision per change: the first row, then 8 updates one after the other.
    expect(stored!.revision).toBe(1 + names.length);
    await bHearsAll;
    const aHearsAll = a.current.rules.length === names.length + 1 ? Promise.resolve(a.current) : heard(a, (s) => s.rules.length === names.length + 1);
    expect((await aHearsAll).rules.map((r) => r.name).sort()).toEqual([...storedNames].sort());

    // A change that does not validate leaves the row as it was.
    await expect(a.add({ name: 'bad', condition: 'true', destinations: ['NOWHERE'] })).rejects.toThrow(/NOWHERE/);
    await expect(a.update((s) => ({ ...s, rules: [...s.rules, { name: 'bad2', condition: 'Modality ==', destinations: ['PACS'] }] }))).rejects.toThrow(
      /condition: 1:/,
    );
    await expect(b.add({ name: 'r0', condition: 'true', destinations: ['PACS'] })).rejects.toThrow(/already a rule named "r0"/);
    expect((await row.read())!.revision).toBe(1 + names.length);

    // Remove and reorder on one node, heard on the other.
    const order = [...storedNames].reverse().filter((n) => n !== 'r3');
    const aHearsOrder = heard(a, (s) => s.rules.map((r) => r.name).join() === order.join());
    await b.remove('r3');
    await b.reorder(order);
    await aHearsOrder;
    expect(a.rule('r3')).toBeUndefined();
  });

  it('names the row when it does not hold {revision, settings}', async () => {
    const schema = fresh();
    const dir = await makeTempDir('pacs-rules-pg-');
    const a = await openNode(schema, dir, 'n1');
    await opened[0].pool.query('UPDATE shared_documents SET body = $2 WHERE name = $1', [ROUTER_RULES_DOCUMENT, JSON.stringify({ rules: 'x' })]);
    await expect(a.reload()).rejects.toThrow(/router rules row .* is not \{revision, settings\}/);
    await opened[0].pool.query('UPDATE shared_documents SET body = $2 WHERE name = $1', [
      ROUTER_RULES_DOCUMENT,
      JSON.stringify({ revision: 5, settings: { rules: 'x' } }),
    ]);
    await expect(a.reload()).rejects.toThrow(/router rules in PostgreSQL schema .* are not valid/);
  });
});
