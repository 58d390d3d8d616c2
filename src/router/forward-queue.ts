/**
 * The durable forward queue, a table in the Router's own index (`DATA/router/index.sqlite`):
 * one row per (instance, destination), ordered by pk within each destination.
 *
 * At-least-once: rows are inserted by Archive's afterInsert hook in the SAME transaction
 * that inserts the instance rows, so an instance acknowledged to its sender (C-STORE
 * success comes only after that commit and its WAL fdatasync) always has its queue rows.
 * A row is deleted only after the destination answered the C-STORE with success or
 * warning; a crash in between leaves it pending and it is sent again (a duplicate at the
 * destination, never a loss). "In flight" is kept in memory only, so nothing is stuck
 * after a crash.
 *
 * States: pending (attempts 0: waiting; attempts > 0: failed, retried at next_attempt_at)
 * and dead (attempts exhausted, or the instance is gone). Manual retry puts dead rows
 * back to pending; purge deletes rows.
 *
 * Held rows (no destination: `destination` is ''): an instance no rule forwards
 * (`unrouted`) or whose rules could not be evaluated (`rule-failed`, with the error),
 * inserted in the same ingest transaction. They are never sent; they keep their instance
 * from the retention (which deletes only instances no row names) until a user purges
 * them or retries them (the rules are evaluated again: see Router.reroute).
 */
import type { Index, IndexReader, IndexWriter } from '../archive/index-types.js';

export type QueueState = 'pending' | 'dead' | HeldState;
/** States of held rows (no destination). */
export const HELD_STATES = ['unrouted', 'rule-failed'] as const;
export type HeldState = (typeof HELD_STATES)[number];

export interface QueueEntry {
  id: number;
  destination: string;
  sopInstanceUid: string;
  rule: string;
  changes: Record<string, string | null>;
  state: QueueState;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface NewEntry {
  destination: string;
  sopInstanceUid: string;
  rule: string;
  changes: Record<string, string | null>;
}

/** An instance held because no rule forwards it, or its rules failed (`rule`: the first rule that failed; `error`: why). */
export interface HeldEntry {
  sopInstanceUid: string;
  state: HeldState;
  rule: string;
  error: string | null;
}

export interface HeldCounts {
  unrouted: number;
  ruleFailed: number;
}

export interface DestinationCounts {
  destination: string;
  /** Waiting, never tried. */
  pending: number;
  /** Tried and failed, waiting for a retry. */
  failed: number;
  dead: number;
  /** Being sent now (in memory). */
  inFlight: number;
  oldestCreatedAt: string | null;
  /** When the earliest pending entry is due (ms epoch); null when nothing is pending. */
  nextAttemptAt: number | null;
  lastError: string | null;
}

export function queueDdl(dialect: Index['kind']): string[] {
  const pk = dialect === 'sqlite' ? 'INTEGER PRIMARY KEY' : 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY';
  return [
    `CREATE TABLE IF NOT EXISTS router_queue (
      pk ${pk},
      destination TEXT NOT NULL,
      sop_instance_uid TEXT NOT NULL,
      rule TEXT NOT NULL,
      changes TEXT,
      state TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt_at BIGINT NOT NULL,
      last_error TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL)`,
    `CREATE INDEX IF NOT EXISTS router_queue_due ON router_queue (destination, state, next_attempt_at, pk)`,
    `CREATE INDEX IF NOT EXISTS router_queue_uid ON router_queue (sop_instance_uid)`,
  ];
}

const now = (): string => new Date().toISOString();

function toEntry(r: Record<string, unknown>): QueueEntry {
  return {
    id: Number(r.pk),
    destination: String(r.destination),
    sopInstanceUid: String(r.sop_instance_uid),
    rule: String(r.rule),
    changes: r.changes ? (JSON.parse(String(r.changes)) as Record<string, string | null>) : {},
    state: String(r.state) as QueueState,
    attempts: Number(r.attempts),
    nextAttemptAt: Number(r.next_attempt_at),
    lastError: r.last_error === null || r.last_error === undefined ? null : String(r.last_error),
    createdAt: String(r.created_at),
    updatedAt: String(r.updated_at),
  };
}

const COLUMNS = 'pk, destination, sop_instance_uid, rule, changes, state, attempts, next_attempt_at, last_error, created_at, updated_at';

export class ForwardQueue {
  constructor(readonly index: Index) {}

  async ensureSchema(): Promise<void> {
    await this.index.write(async (tx) => {
      for (const ddl of queueDdl(this.index.kind)) await tx.execute(ddl);
    });
  }

  /** Inserts entries inside the caller's transaction (the ingest commit); returns them as stored. */
  static async enqueue(tx: IndexWriter, entries: readonly NewEntry[]): Promise<QueueEntry[]> {
    const t = now();
    const at = Date.now();
    const out: QueueEntry[] = [];
    for (const e of entries) {
      const rows = await tx.execute(
        `INSERT INTO router_queue (destination, sop_instance_uid, rule, changes, state, attempts, next_attempt_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'pending', 0, $5, $6, $6) RETURNING pk`,
        [e.destination, e.sopInstanceUid, e.rule, Object.keys(e.changes).length ? JSON.stringify(e.changes) : null, at, t],
      );
      out.push({
        id: Number(rows[0].pk), destination: e.destination, sopInstanceUid: e.sopInstanceUid, rule: e.rule, changes: e.changes,
        state: 'pending', attempts: 0, nextAttemptAt: at, lastError: null, createdAt: t, updatedAt: t,
      });
    }
    return out;
  }

  /**
   * Holds instances inside the caller's transaction: one row each, replacing a held row the
   * instance already had (a replaced duplicate is routed again).
   */
  static async hold(tx: IndexWriter, entries: readonly HeldEntry[]): Promise<void> {
    const t = now();
    const at = Date.now();
    for (const e of entries) {
      await tx.execute(`DELETE FROM router_queue WHERE sop_instance_uid = $1 AND destination = ''`, [e.sopInstanceUid]);
      await tx.execute(
        `INSERT INTO router_queue (destination, sop_instance_uid, rule, changes, state, attempts, next_attempt_at, last_error, created_at, updated_at)
         VALUES ('', $1, $2, NULL, $3, 0, $4, $5, $6, $6)`,
        [e.sopInstanceUid, e.rule, e.state, at, e.error === null ? null : e.error.slice(0, 1000), t],
      );
    }
  }

  /** Drops held rows inside the caller's transaction (a retry that routed them). */
  static async release(tx: IndexWriter, ids: readonly number[]): Promise<void> {
    for (const id of ids) await tx.execute(`DELETE FROM router_queue WHERE pk = $1 AND destination = ''`, [id]);
  }

  /** Held rows in arrival order: one state or both, or the given ids. */
  held(opts: { state?: HeldState; ids?: readonly number[]; limit?: number; offset?: number; afterId?: number; upToId?: number } = {}): Promise<QueueEntry[]> {
    const params: (string | number)[] = [];
    const where = [`destination = ''`];
    if (opts.afterId !== undefined) {
      params.push(opts.afterId);
      where.push(`pk > $${params.length}`);
    }
    if (opts.upToId !== undefined) {
      params.push(opts.upToId);
      where.push(`pk <= $${params.length}`);
    }
    if (opts.state) {
      params.push(opts.state);
      where.push(`state = $${params.length}`);
    }
    return this.page(where, params, opts, 'pk');
  }

  /** The newest held row's id (0 when there is none). */
  async lastHeldId(): Promise<number> {
    const rows = await this.index.read((tx) => tx.select(`SELECT MAX(pk) AS id FROM router_queue WHERE destination = ''`));
    return Number(rows[0]?.id ?? 0);
  }

  async heldCounts(): Promise<HeldCounts> {
    const rows = await this.index.read((tx) => tx.select(
      `SELECT SUM(CASE WHEN state = 'unrouted' THEN 1 ELSE 0 END) AS unrouted,
         SUM(CASE WHEN state = 'rule-failed' THEN 1 ELSE 0 END) AS failed
       FROM router_queue WHERE destination = ''`));
    return { unrouted: Number(rows[0]?.unrouted ?? 0), ruleFailed: Number(rows[0]?.failed ?? 0) };
  }

  /** Deletes held rows (one state, both, or the given ids): their instances become eligible for the retention. */
  async purgeHeld(opts: { state?: HeldState; ids?: readonly number[] } = {}): Promise<number> {
    return this.index.write(async (tx) => {
      const params: (string | number)[] = [];
      let sql = `SELECT pk FROM router_queue WHERE destination = ''`;
      if (opts.state) {
        params.push(opts.state);
        sql += ` AND state = $1`;
      }
      const ids = opts.ids ? new Set(opts.ids) : undefined;
      const rows = (await tx.execute(sql, params)).map((r) => Number(r.pk)).filter((id) => !ids || ids.has(id));
      for (const id of rows) await tx.execute('DELETE FROM router_queue WHERE pk = $1', [id]);
      return rows.length;
    });
  }

  /** Enqueues in a transaction of its own (manual re-send). */
  add(entries: readonly NewEntry[]): Promise<QueueEntry[]> {
    return this.index.write((tx) => ForwardQueue.enqueue(tx, entries));
  }

  /** The next due pending entries of a destination, in queue order, leaving out `exclude`. */
  due(destination: string, limit: number, exclude: ReadonlySet<number> = new Set()): Promise<QueueEntry[]> {
    return this.index.read(async (tx) => {
      const rows = await tx.select(
        `SELECT ${COLUMNS} FROM router_queue WHERE destination = $1 AND state = 'pending' AND next_attempt_at <= $2
         ORDER BY pk LIMIT $3`, [destination, Date.now(), limit + exclude.size]);
      return rows.map(toEntry).filter((e) => !exclude.has(e.id)).slice(0, limit);
    });
  }

  /** When the destination's next pending entry is due (ms epoch), or undefined when it has none. */
  async nextDue(destination: string): Promise<number | undefined> {
    const rows = await this.index.read((tx) => tx.select(
      `SELECT MIN(next_attempt_at) AS t FROM router_queue WHERE destination = $1 AND state = 'pending'`, [destination]));
    const t = rows[0]?.t;
    return t === null || t === undefined ? undefined : Number(t);
  }

  /**
   * Up to `limit` stored instances received before `before` (ISO time) that no queue row
   * names: nothing left to send, and not held (unrouted, rule failed).
   */
  async forwarded(before: string, limit: number): Promise<string[]> {
    const rows = await this.index.read((tx) => tx.select(
      `SELECT i.sop_instance_uid AS uid FROM instances i
       WHERE i.received_at < $1 AND NOT EXISTS (SELECT 1 FROM router_queue q WHERE q.sop_instance_uid = i.sop_instance_uid)
       LIMIT $2`, [before, limit]));
    return rows.map((r) => String(r.uid));
  }

  /** Destinations with pending entries. */
  async destinations(): Promise<string[]> {
    const rows = await this.index.read((tx) => tx.select(`SELECT DISTINCT destination FROM router_queue WHERE state = 'pending' AND destination <> ''`));
    return rows.map((r) => String(r.destination));
  }

  /** Delivered: the rows go. */
  async delivered(ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.index.write(async (tx) => {
      for (const id of ids) await tx.execute('DELETE FROM router_queue WHERE pk = $1', [id]);
    });
  }

  /**
   * A failed attempt for each entry: attempts + 1, retried after `delay(attempts)` ms, or
   * dead once maxAttempts is reached (or at once with `dead`).
   */
  async failed(
    failures: readonly { id: number; error: string; dead?: boolean }[],
    maxAttempts: number,
    delay: (attempts: number) => number,
  ): Promise<void> {
    if (failures.length === 0) return;
    await this.index.write(async (tx) => {
      const t = now();
      for (const f of failures) {
        const row = await tx.execute('SELECT attempts FROM router_queue WHERE pk = $1', [f.id]);
        if (row.length === 0) continue;
        const attempts = Number(row[0].attempts) + 1;
        const dead = f.dead || attempts >= maxAttempts;
        await tx.execute(
          `UPDATE router_queue SET attempts = $2, state = $3, next_attempt_at = $4, last_error = $5, updated_at = $6 WHERE pk = $1`,
          [f.id, attempts, dead ? 'dead' : 'pending', Date.now() + (dead ? 0 : delay(attempts)), f.error.slice(0, 1000), t],
        );
      }
    });
  }

  /** Dead entries (of one destination, or all; or the given ids) back to pending, due now. Returns how many. */
  async retry(opts: { destination?: string; ids?: readonly number[] } = {}): Promise<number> {
    return this.index.write(async (tx) => {
      const rows = await this.select(tx, `state = 'dead'`, opts);
      const t = now();
      for (const r of rows) {
        await tx.execute(`UPDATE router_queue SET state = 'pending', attempts = 0, next_attempt_at = $2, updated_at = $3 WHERE pk = $1`,
          [r.id, Date.now(), t]);
      }
      return rows.length;
    });
  }

  /** Deletes entries: dead ones by default, or every state with `all`. Returns how many. */
  async purge(opts: { destination?: string; ids?: readonly number[]; all?: boolean } = {}): Promise<number> {
    return this.index.write(async (tx) => {
      const rows = await this.select(tx, opts.all ? '1 = 1' : `state = 'dead'`, opts);
      for (const r of rows) await tx.execute('DELETE FROM router_queue WHERE pk = $1', [r.id]);
      return rows.length;
    });
  }

  /**
   * Entries for display, in queue order. `state`: a stored state, `failed` (pending,
   * tried before) or `untried` (pending, never tried); `ids`: only these entries.
   */
  list(opts: { destination?: string; state?: QueueState | 'failed' | 'untried'; ids?: readonly number[]; limit?: number; offset?: number } = {}): Promise<QueueEntry[]> {
    const where: string[] = [`destination <> ''`];
    const params: (string | number)[] = [];
    if (opts.destination) {
      params.push(opts.destination);
      where.push(`destination = $${params.length}`);
    }
    if (opts.state === 'failed') where.push(`state = 'pending' AND attempts > 0`);
    else if (opts.state === 'untried') where.push(`state = 'pending' AND attempts = 0`);
    else if (opts.state) {
      params.push(opts.state);
      where.push(`state = $${params.length}`);
    }
    return this.page(where, params, opts, 'destination, pk');
  }

  /** One page of rows matching `where` (with `params`), limited to `ids` when given. */
  private page(where: string[], params: (string | number)[], opts: { ids?: readonly number[]; limit?: number; offset?: number }, orderBy: string): Promise<QueueEntry[]> {
    if (opts.ids) {
      if (opts.ids.length === 0) return Promise.resolve([]);
      where.push(`pk IN (${opts.ids.map((id) => {
        params.push(id);
        return `$${params.length}`;
      }).join(', ')})`);
    }
    params.push(opts.limit ?? 1000);
    const limit = `$${params.length}`;
    params.push(opts.offset ?? 0);
    return this.index.read(async (tx) => (await tx.select(
      `SELECT ${COLUMNS} FROM router_queue WHERE ${where.join(' AND ')} ORDER BY ${orderBy} LIMIT ${limit} OFFSET $${params.length}`,
      params)).map(toEntry));
  }

  /** Counts per destination (inFlight filled in by the router). */
  async counts(): Promise<DestinationCounts[]> {
    const rows = await this.index.read((tx) => tx.select(
      `SELECT destination,
         SUM(CASE WHEN state = 'pending' AND attempts = 0 THEN 1 ELSE 0 END) AS pending,
         SUM(CASE WHEN state = 'pending' AND attempts > 0 THEN 1 ELSE 0 END) AS failed,
         SUM(CASE WHEN state = 'dead' THEN 1 ELSE 0 END) AS dead,
         MIN(created_at) AS oldest,
         MIN(CASE WHEN state = 'pending' THEN next_attempt_at END) AS next
       FROM router_queue WHERE destination <> '' GROUP BY destination ORDER BY destination`));
    const errors = await this.index.read((tx) => tx.select(
      `SELECT destination, last_error FROM router_queue WHERE last_error IS NOT NULL AND destination <> '' ORDER BY updated_at DESC`));
    return rows.map((r) => ({
      destination: String(r.destination),
      pending: Number(r.pending),
      failed: Number(r.failed),
      dead: Number(r.dead),
      inFlight: 0,
      oldestCreatedAt: r.oldest === null ? null : String(r.oldest),
      nextAttemptAt: r.next === null || r.next === undefined ? null : Number(r.next),
      lastError: (errors.find((e) => e.destination === r.destination)?.last_error as string | undefined) ?? null,
    }));
  }

  private async select(tx: IndexReader | IndexWriter, cond: string, opts: { destination?: string; ids?: readonly number[] }): Promise<{ id: number }[]> {
    const params: (string | number)[] = [];
    let sql = `SELECT pk FROM router_queue WHERE destination <> '' AND ${cond}`;
    if (opts.destination) {
      params.push(opts.destination);
      sql += ` AND destination = $${params.length}`;
    }
    const rows = 'execute' in tx ? await tx.execute(sql, params) : await tx.select(sql, params);
    const ids = opts.ids ? new Set(opts.ids) : undefined;
    return rows.map((r) => ({ id: Number(r.pk) })).filter((r) => !ids || ids.has(r.id));
  }
}
