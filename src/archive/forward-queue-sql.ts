/** The forward queue (forward-queue.ts) in SQL, the same statements on both index backends. */
import type {
  DestinationCounts,
  ForwardQueueStore,
  ForwardQueueWriter,
  DeliveredEntry,
  HeldCounts,
  HeldEntry,
  HeldQuery,
  HeldState,
  NewEntry,
  QueueClaim,
  QueueEntry,
  QueueFailure,
  QueueQuery,
  QueueState,
  RetryState,
} from './forward-queue.js';
import type { SqlDialect, SqlIndex, SqlReader, SqlValue, SqlWriter } from './sql-types.js';

export function queueDdl(d: SqlDialect): string[] {
  return [
    // Entry ids are shown on the router page and in the CLI and named back in retries and
    // purges: a key given again could make a stale request act on another instance's entry.
    `CREATE TABLE IF NOT EXISTS router_queue (
      pk ${d.neverReusedPk},
      destination TEXT NOT NULL,
      sop_instance_uid TEXT NOT NULL,
      rule TEXT NOT NULL,
      changes TEXT,
      state TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt_at BIGINT NOT NULL,
      last_error TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      claimed_by TEXT,
      claim_until BIGINT)`,
    `CREATE INDEX IF NOT EXISTS router_queue_due ON router_queue (destination, state, next_attempt_at, pk)`,
    `CREATE INDEX IF NOT EXISTS router_queue_uid ON router_queue (sop_instance_uid)`,
    // Deliveries per destination, counted as their rows go: what was sent stays visible (page and CLI alike).
    `CREATE TABLE IF NOT EXISTS router_delivered (
      destination TEXT PRIMARY KEY,
      delivered BIGINT NOT NULL,
      last_delivered_at TEXT NOT NULL)`,
  ];
}

/**
 * Columns added after the table was first made, added where missing. Safe while other
 * nodes run: the schema lock serializes the nodes adding them, and code that predates
 * them never names them.
 */
const ADDED_QUEUE_COLUMNS: ReadonlyArray<{ column: string; type: string }> = [
  // Which router node is sending an entry, until when (several nodes on one database).
  { column: 'claimed_by', type: 'TEXT' },
  { column: 'claim_until', type: 'BIGINT' },
];

const now = (): string => new Date().toISOString();

/** Which entries a retry takes: failed (pending, tried before), dead, or both. */
const RETRY_CONDITION: Record<RetryState | 'all', string> = {
  failed: `state = 'pending' AND attempts > 0`,
  dead: `state = 'dead'`,
  all: `(state = 'dead' OR (state = 'pending' AND attempts > 0))`,
};

/** Error texts kept per row, in characters. */
const ERROR_MAX = 1000;

const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** An entry of a listing: with its instance's patient, study and series (null when the instance is gone). */
function toListedEntry(r: Record<string, unknown>): QueueEntry {
  return {
    ...toEntry(r),
    instance:
      r.instance_pk === null || r.instance_pk === undefined
        ? null
        : {
            patientName: text(r.patient_name),
            patientId: text(r.patient_id),
            studyDate: text(r.study_date),
            studyDescription: text(r.study_description),
            seriesDescription: text(r.series_description),
            modality: text(r.modality),
          },
  };
}

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

const QUEUE_INDEXES = ['router_queue_due', 'router_queue_uid'];

const COLUMNS = 'pk, destination, sop_instance_uid, rule, changes, state, attempts, next_attempt_at, last_error, created_at, updated_at';

/** Queue rows inside one write transaction. */
export class SqlForwardQueueWriter implements ForwardQueueWriter {
  constructor(private readonly tx: SqlWriter) {}

  async ensureSchema(): Promise<void> {
    if (this.tx.dialect.schemaLock) await this.tx.execute(this.tx.dialect.schemaLock, ['pacs-router-queue']);
    const before = await this.columnsOfTableWithReusedIds();
    if (before) {
      // The new table takes the indexes' names.
      for (const index of QUEUE_INDEXES) await this.tx.execute(`DROP INDEX IF EXISTS ${index}`);
      await this.tx.execute('ALTER TABLE router_queue RENAME TO router_queue_before');
    }
    for (const ddl of queueDdl(this.tx.dialect)) await this.tx.execute(ddl);
    if (before) {
      // Rows and their ids kept; columns the old table lacked stay empty, as ADD COLUMN leaves them.
      const list = before.join(', ');
      await this.tx.execute(`INSERT INTO router_queue (${list}) SELECT ${list} FROM router_queue_before`);
      await this.tx.execute('DROP TABLE router_queue_before');
    }
    const have = new Set((await this.tx.execute(this.tx.dialect.tableColumns, ['router_queue'])).map((r) => String(r.name)));
    for (const c of ADDED_QUEUE_COLUMNS) if (!have.has(c.column)) await this.tx.execute(`ALTER TABLE router_queue ADD COLUMN ${c.column} ${c.type}`);
  }

  /**
   * The columns to copy of a queue table made when its keys could be given again (SQLite
   * before AUTOINCREMENT), which ensureSchema() makes again; undefined for any other.
   * Ids deleted before that may still come back once; none after it.
   */
  private async columnsOfTableWithReusedIds(): Promise<string[] | undefined> {
    const d = this.tx.dialect;
    if (!d.tableDefinition) return undefined;
    const [made] = await this.tx.execute(d.tableDefinition, ['router_queue']);
    if (!made || String(made.sql).includes(d.neverReusedPk)) return undefined;
    const have = new Set((await this.tx.execute(d.tableColumns, ['router_queue'])).map((r) => String(r.name)));
    // Only names this code made: never an identifier read back from the database as such.
    return [...COLUMNS.split(', '), ...ADDED_QUEUE_COLUMNS.map((c) => c.column)].filter((c) => have.has(c));
  }

  async enqueue(entries: readonly NewEntry[]): Promise<QueueEntry[]> {
    const t = now();
    const at = Date.now();
    const out: QueueEntry[] = [];
    for (const e of entries) {
      const rows = await this.tx.executeOwn(
        `INSERT INTO router_queue (destination, sop_instance_uid, rule, changes, state, attempts, next_attempt_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'pending', 0, $5, $6, $6) RETURNING pk`,
        [e.destination, e.sopInstanceUid, e.rule, Object.keys(e.changes).length ? JSON.stringify(e.changes) : null, at, t],
      );
      out.push({
        id: Number(rows[0].pk),
        destination: e.destination,
        sopInstanceUid: e.sopInstanceUid,
        rule: e.rule,
        changes: e.changes,
        state: 'pending',
        attempts: 0,
        nextAttemptAt: at,
        lastError: null,
        createdAt: t,
        updatedAt: t,
      });
    }
    return out;
  }

  async hold(entries: readonly HeldEntry[]): Promise<void> {
    const t = now();
    const at = Date.now();
    for (const e of entries) {
      await this.tx.executeOwn(`DELETE FROM router_queue WHERE sop_instance_uid = $1 AND destination = ''`, [e.sopInstanceUid]);
      await this.tx.executeOwn(
        `INSERT INTO router_queue (destination, sop_instance_uid, rule, changes, state, attempts, next_attempt_at, last_error, created_at, updated_at)
         VALUES ('', $1, $2, NULL, $3, 0, $4, $5, $6, $6)`,
        [e.sopInstanceUid, e.rule, e.state, at, e.error === null ? null : e.error.slice(0, ERROR_MAX), t],
      );
    }
  }

  async release(ids: readonly number[]): Promise<void> {
    for (const id of ids) await this.tx.executeOwn(`DELETE FROM router_queue WHERE pk = $1 AND destination = ''`, [id]);
  }
}

/** The queue's operations, each a transaction of its own on `index`. */
export class SqlForwardQueue implements ForwardQueueStore {
  constructor(private readonly index: SqlIndex) {}

  ensureSchema(): Promise<void> {
    return this.index.write((tx) => tx.forwardQueue.ensureSchema());
  }

  add(entries: readonly NewEntry[]): Promise<QueueEntry[]> {
    return this.index.write((tx) => tx.forwardQueue.enqueue(entries));
  }

  held(q: HeldQuery = {}): Promise<QueueEntry[]> {
    const params: SqlValue[] = [];
    const where = [`destination = ''`];
    if (q.afterId !== undefined) {
      params.push(q.afterId);
      where.push(`pk > $${params.length}`);
    }
    if (q.upToId !== undefined) {
      params.push(q.upToId);
      where.push(`pk <= $${params.length}`);
    }
    if (q.state) {
      params.push(q.state);
      where.push(`state = $${params.length}`);
    }
    return this.page(where, params, q, 'pk');
  }

  async lastHeldId(): Promise<number> {
    const rows = await this.index.read((tx) => tx.select(`SELECT MAX(pk) AS id FROM router_queue WHERE destination = ''`));
    return Number(rows[0]?.id ?? 0);
  }

  async heldCounts(): Promise<HeldCounts> {
    const rows = await this.index.read((tx) =>
      tx.select(
        `SELECT SUM(CASE WHEN state = 'unrouted' THEN 1 ELSE 0 END) AS unrouted,
         SUM(CASE WHEN state = 'rule-failed' THEN 1 ELSE 0 END) AS failed
       FROM router_queue WHERE destination = ''`,
      ),
    );
    return { unrouted: Number(rows[0]?.unrouted ?? 0), ruleFailed: Number(rows[0]?.failed ?? 0) };
  }

  purgeHeld(q: { state?: HeldState; ids?: readonly number[] } = {}): Promise<number> {
    return this.index.write(async (tx) => {
      const params: SqlValue[] = [];
      let sql = `SELECT pk FROM router_queue WHERE destination = ''`;
      if (q.state) {
        params.push(q.state);
        sql += ` AND state = $1`;
      }
      const ids = q.ids ? new Set(q.ids) : undefined;
      const rows = (await tx.executeOwn(sql, params)).map((r) => Number(r.pk)).filter((id) => !ids || ids.has(id));
      for (const id of rows) await tx.executeOwn('DELETE FROM router_queue WHERE pk = $1', [id]);
      return rows.length;
    });
  }

  due(destination: string, limit: number, exclude: ReadonlySet<number> = new Set()): Promise<QueueEntry[]> {
    return this.index.read(async (tx) => {
      const rows = await tx.select(
        `SELECT ${COLUMNS} FROM router_queue WHERE destination = $1 AND state = 'pending' AND next_attempt_at <= $2
         ORDER BY pk LIMIT $3`,
        [destination, Date.now(), limit + exclude.size],
      );
      return rows
        .map(toEntry)
        .filter((e) => !exclude.has(e.id))
        .slice(0, limit);
    });
  }

  async claim(destination: string, limit: number, claim: QueueClaim, exclude: ReadonlySet<number> = new Set()): Promise<QueueEntry[]> {
    const { nowMs, skipLocked } = this.index.dialect;
    // Excluded entries (delivered, not yet deleted) are already this claimant's: claiming them again only renews them.
    const rows = await this.index.write((tx) =>
      tx.executeOwn(
        `UPDATE router_queue SET claimed_by = $3, claim_until = ${nowMs} + $4
         WHERE pk IN (SELECT pk FROM router_queue
           WHERE destination = $1 AND state = 'pending' AND next_attempt_at <= $2
             AND (claimed_by IS NULL OR claimed_by = $3 OR claim_until < ${nowMs})
           ORDER BY pk LIMIT $5${skipLocked})
         RETURNING ${COLUMNS}`,
        [destination, Date.now(), claim.claimant, claim.leaseMs, limit + exclude.size],
      ),
    );
    return rows
      .map(toEntry)
      .filter((e) => !exclude.has(e.id))
      .sort((a, b) => a.id - b.id)
      .slice(0, limit);
  }

  async renewClaims(claim: QueueClaim): Promise<number> {
    const rows = await this.index.write((tx) =>
      tx.executeOwn(`UPDATE router_queue SET claim_until = ${tx.dialect.nowMs} + $2 WHERE claimed_by = $1 RETURNING pk`, [claim.claimant, claim.leaseMs]),
    );
    return rows.length;
  }

  async releaseClaims(claimant: string): Promise<number> {
    const rows = await this.index.write((tx) =>
      tx.executeOwn(`UPDATE router_queue SET claimed_by = NULL, claim_until = NULL WHERE claimed_by = $1 RETURNING pk`, [claimant]),
    );
    return rows.length;
  }

  async nextDue(destination: string): Promise<number | undefined> {
    const rows = await this.index.read((tx) =>
      tx.select(`SELECT MIN(next_attempt_at) AS t FROM router_queue WHERE destination = $1 AND state = 'pending'`, [destination]),
    );
    const t = rows[0]?.t;
    return t === null || t === undefined ? undefined : Number(t);
  }

  async forwarded(before: string, limit: number): Promise<string[]> {
    const rows = await this.index.read((tx) =>
      tx.select(
        `SELECT i.sop_instance_uid AS uid FROM instances i
       WHERE i.received_at < $1 AND NOT EXISTS (SELECT 1 FROM router_queue q WHERE q.sop_instance_uid = i.sop_instance_uid)
       LIMIT $2`,
        [before, limit],
      ),
    );
    return rows.map((r) => String(r.uid));
  }

  async destinations(): Promise<string[]> {
    const rows = await this.index.read((tx) => tx.select(`SELECT DISTINCT destination FROM router_queue WHERE state = 'pending' AND destination <> ''`));
    return rows.map((r) => String(r.destination));
  }

  async delivered(entries: readonly DeliveredEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.index.write(async (tx) => {
      const perDestination = new Map<string, number>();
      for (const e of entries) {
        for (const r of await tx.executeOwn('DELETE FROM router_queue WHERE pk = $1 AND sop_instance_uid = $2 RETURNING destination', [
          e.id,
          e.sopInstanceUid,
        ])) {
          perDestination.set(String(r.destination), (perDestination.get(String(r.destination)) ?? 0) + 1);
        }
      }
      const t = now();
      for (const [destination, n] of perDestination) {
        await tx.executeOwn(
          `INSERT INTO router_delivered (destination, delivered, last_delivered_at) VALUES ($1, $2, $3)
           ON CONFLICT (destination) DO UPDATE SET delivered = router_delivered.delivered + excluded.delivered, last_delivered_at = excluded.last_delivered_at`,
          [destination, n, t],
        );
      }
    });
  }

  async failed(failures: readonly QueueFailure[], maxAttempts: number, delay: (attempts: number) => number, claimant?: string): Promise<void> {
    if (failures.length === 0) return;
    await this.index.write(async (tx) => {
      const t = now();
      // With a claimant: only what it may claim (another live node's entry is that node's to settle), and
      // still due (another node that failed it meanwhile counted this attempt: the destination is down for both).
      const claimable =
        claimant === undefined
          ? ''
          : ` AND state = 'pending' AND next_attempt_at <= $3 AND (claimed_by IS NULL OR claimed_by = $2 OR claim_until < ${tx.dialect.nowMs})`;
      // In id order: two nodes failing overlapping entries lock them in the same order (no deadlock).
      for (const f of [...failures].sort((a, b) => a.id - b.id)) {
        const row = await tx.executeOwn(
          `SELECT attempts FROM router_queue WHERE pk = $1${claimable}${tx.dialect.forUpdate}`,
          claimant === undefined ? [f.id] : [f.id, claimant, Date.now()],
        );
        if (row.length === 0) continue;
        const attempts = Number(row[0].attempts) + 1;
        const dead = f.dead || attempts >= maxAttempts;
        await tx.executeOwn(
          `UPDATE router_queue SET attempts = $2, state = $3, next_attempt_at = $4, last_error = $5, updated_at = $6, claimed_by = NULL, claim_until = NULL
           WHERE pk = $1`,
          [f.id, attempts, dead ? 'dead' : 'pending', Date.now() + (dead ? 0 : delay(attempts)), f.error.slice(0, ERROR_MAX), t],
        );
      }
    });
  }

  retry(q: { destination?: string; ids?: readonly number[]; state?: RetryState } = {}): Promise<number> {
    return this.index.write(async (tx) => {
      const ids = await selectIds(tx, RETRY_CONDITION[q.state ?? 'all'], q);
      const t = now();
      for (const id of ids) {
        // A dead entry starts its attempts again (else its next failure is its last); a failed one keeps its count.
        await tx.executeOwn(
          `UPDATE router_queue SET attempts = CASE WHEN state = 'dead' THEN 0 ELSE attempts END, state = 'pending', next_attempt_at = $2, updated_at = $3 WHERE pk = $1`,
          [id, Date.now(), t],
        );
      }
      return ids.length;
    });
  }

  purge(q: { destination?: string; ids?: readonly number[]; all?: boolean } = {}): Promise<number> {
    return this.index.write(async (tx) => {
      const ids = await selectIds(tx, q.all ? '1 = 1' : `state = 'dead'`, q);
      for (const id of ids) await tx.executeOwn('DELETE FROM router_queue WHERE pk = $1', [id]);
      return ids.length;
    });
  }

  list(q: QueueQuery = {}): Promise<QueueEntry[]> {
    const where: string[] = [`destination <> ''`];
    const params: SqlValue[] = [];
    if (q.destination) {
      params.push(q.destination);
      where.push(`destination = $${params.length}`);
    }
    if (q.state === 'failed') where.push(`state = 'pending' AND attempts > 0`);
    else if (q.state === 'untried') where.push(`state = 'pending' AND attempts = 0`);
    else if (q.state) {
      params.push(q.state);
      where.push(`state = $${params.length}`);
    }
    return this.page(where, params, q, 'destination, pk');
  }

  async counts(): Promise<DestinationCounts[]> {
    const [rows, errors, delivered] = await this.index.read(async (tx) => [
      await tx.select(
        `SELECT destination,
           SUM(CASE WHEN state = 'pending' AND attempts = 0 THEN 1 ELSE 0 END) AS pending,
           SUM(CASE WHEN state = 'pending' AND attempts > 0 THEN 1 ELSE 0 END) AS failed,
           SUM(CASE WHEN state = 'dead' THEN 1 ELSE 0 END) AS dead,
           MIN(created_at) AS oldest,
           MIN(CASE WHEN state = 'pending' THEN next_attempt_at END) AS next
         FROM router_queue WHERE destination <> '' GROUP BY destination ORDER BY destination`,
      ),
      await tx.select(`SELECT destination, last_error FROM router_queue WHERE last_error IS NOT NULL AND destination <> '' ORDER BY updated_at DESC`),
      await tx.select(`SELECT destination, delivered FROM router_delivered`),
    ]);
    const deliveredTo = new Map(delivered.map((r) => [String(r.destination), Number(r.delivered)]));
    const out: DestinationCounts[] = rows.map((r) => ({
      destination: String(r.destination),
      pending: Number(r.pending),
      failed: Number(r.failed),
      dead: Number(r.dead),
      inFlight: 0,
      oldestCreatedAt: r.oldest === null ? null : String(r.oldest),
      nextAttemptAt: r.next === null || r.next === undefined ? null : Number(r.next),
      lastError: (errors.find((e) => e.destination === r.destination)?.last_error as string | undefined) ?? null,
      delivered: deliveredTo.get(String(r.destination)) ?? 0,
    }));
    // Destinations with nothing queued now, but deliveries.
    for (const [destination, n] of deliveredTo) {
      if (!out.some((c) => c.destination === destination))
        out.push({ destination, pending: 0, failed: 0, dead: 0, inFlight: 0, oldestCreatedAt: null, nextAttemptAt: null, lastError: null, delivered: n });
    }
    return out.sort((a, b) => (a.destination < b.destination ? -1 : a.destination > b.destination ? 1 : 0));
  }

  /** One page of rows matching `where` (with `params`), limited to `ids` when given. */
  private page(where: string[], params: SqlValue[], q: { ids?: readonly number[]; limit?: number; offset?: number }, orderBy: string): Promise<QueueEntry[]> {
    if (q.ids) {
      if (q.ids.length === 0) return Promise.resolve([]);
      where.push(
        `pk IN (${q.ids
          .map((id) => {
            params.push(id);
            return `$${params.length}`;
          })
          .join(', ')})`,
      );
    }
    params.push(q.limit ?? 1000);
    const limit = `$${params.length}`;
    params.push(q.offset ?? 0);
    // The page first, then what the index holds of each row's instance.
    const rows = `SELECT ${COLUMNS} FROM router_queue WHERE ${where.join(' AND ')} ORDER BY ${orderBy} LIMIT ${limit} OFFSET $${params.length}`;
    return this.index.read(async (tx) =>
      (
        await tx.select(
          `SELECT q.*, i.pk AS instance_pk, st.patient_name, p.patient_id, st.study_date, st.study_description, se.series_description, se.modality
           FROM (${rows}) q
           LEFT JOIN instances i ON i.sop_instance_uid = q.sop_instance_uid
           LEFT JOIN series se ON se.pk = i.series_fk
           LEFT JOIN studies st ON st.pk = se.study_fk
           LEFT JOIN patients p ON p.pk = st.patient_fk
           ORDER BY ${orderBy
             .split(',')
             .map((c) => `q.${c.trim()}`)
             .join(', ')}`,
          params,
        )
      ).map(toListedEntry),
    );
  }
}

/** Ids of entries (not held rows) matching `cond`, of one destination or all, limited to `ids` when given. */
async function selectIds(tx: SqlReader, cond: string, q: { destination?: string; ids?: readonly number[] }): Promise<number[]> {
  const params: SqlValue[] = [];
  let sql = `SELECT pk FROM router_queue WHERE destination <> '' AND ${cond}`;
  if (q.destination) {
    params.push(q.destination);
    sql += ` AND destination = $${params.length}`;
  }
  const ids = q.ids ? new Set(q.ids) : undefined;
  return (await tx.select(sql, params)).map((r) => Number(r.pk)).filter((id) => !ids || ids.has(id));
}
