import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteIndex } from '../../src/archive/sqlite-index.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { registerForwardQueueConformance } from './forward-queue-conformance.js';

afterAll(() => removeTempDirs());

let dir: string | undefined;
registerForwardQueueConformance('sqlite', {
  async open() {
    dir ??= await makeTempDir('pacs-queue-');
    return SqliteIndex.open(join(dir, 'index.sqlite'));
  },
  async destroy() {
    dir = undefined;
  },
});

describe('Forward queue store: sqlite, a queue table made before AUTOINCREMENT', () => {
  it('is made again at ensureSchema with its rows and ids; a deleted largest id is not given again', async () => {
    const file = join(await makeTempDir('pacs-queue-old-'), 'index.sqlite');
    // The table as releases before this change made it: INTEGER PRIMARY KEY (keys reused), no claim columns.
    const old = new Database(file);
    old.exec(`CREATE TABLE router_queue (
      pk INTEGER PRIMARY KEY, destination TEXT NOT NULL, sop_instance_uid TEXT NOT NULL, rule TEXT NOT NULL, changes TEXT,
      state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at BIGINT NOT NULL, last_error TEXT,
      created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`);
    old.exec(`CREATE INDEX router_queue_due ON router_queue (destination, state, next_attempt_at, pk)`);
    old.exec(`CREATE INDEX router_queue_uid ON router_queue (sop_instance_uid)`);
    const insert = old.prepare(
      `INSERT INTO router_queue (pk, destination, sop_instance_uid, rule, changes, state, attempts, next_attempt_at, last_error, created_at, updated_at)
       VALUES (?, 'A', ?, 'r', ?, ?, ?, 0, ?, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')`,
    );
    insert.run(3, '7.7.3', null, 'pending', 0, null);
    insert.run(8, '7.7.8', '{"InstitutionName":"X"}', 'dead', 5, 'refused');
    old.close();

    const index = await SqliteIndex.open(file);
    try {
      const queue = index.forwardQueue;
      await queue.ensureSchema();
      await queue.ensureSchema(); // made again once only
      const rows = await queue.list({ destination: 'A' });
      expect(rows.map((e) => [e.id, e.sopInstanceUid, e.state, e.attempts, e.lastError, e.changes])).toEqual([
        [3, '7.7.3', 'pending', 0, null, {}],
        [8, '7.7.8', 'dead', 5, 'refused', { InstitutionName: 'X' }],
      ]);
      // The largest id purged, then a new entry: it takes a new id, and the table has the claim columns.
      expect(await queue.purge({ ids: [8] })).toBe(1);
      const [next] = await queue.add([{ destination: 'A', sopInstanceUid: '7.7.9', rule: 'r', changes: {} }]);
      expect(next.id).toBe(9);
      expect((await queue.claim('A', 10, { claimant: 'n1', leaseMs: 60_000 })).map((e) => e.id)).toEqual([3, 9]);
    } finally {
      await index.close();
    }
    const check = new Database(file, { readonly: true });
    try {
      const tables = check.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name LIKE 'router_queue%'`).all() as Array<{
        name: string;
        sql: string;
      }>;
      expect(tables.map((t) => t.name)).toEqual(['router_queue']);
      expect(tables[0].sql).toContain('AUTOINCREMENT');
      const indexes = check.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'router_queue' ORDER BY name`).all() as Array<{
        name: string;
      }>;
      expect(indexes.map((i) => i.name)).toEqual(['router_queue_due', 'router_queue_uid']);
    } finally {
      check.close();
    }
  });
});
