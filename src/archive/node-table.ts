/**
 * The nodes on one PostgreSQL database (`cluster_nodes`): each running `pacs serve`
 * registers its node id, host, pid, roles, version and ports, and renews its heartbeat
 * every few seconds. A node's lease is its last heartbeat plus `lease_seconds`, judged by
 * the database's clock (the hosts' clocks may differ). Another node's temporary files are
 * touched only once its lease has expired (file-blob-store.ts); `pacs status` lists the
 * table. A clean stop sets `stopped_at` (the lease ends at once); the row stays, so
 * status shows when a node was last seen.
 *
 * Fencing: a node paused beyond its lease (SIGSTOP, a long GC, a frozen VM) must not
 * commit what it was storing after another node swept its open batches (the row would
 * name a deleted file). So the sweeper first sets the expired node's `stopped_at`
 * (fenceIfExpired), in the statement that checks the lease; every index write of a node
 * starts by taking a share lock on its own row with `stopped_at` NULL (writeFence): the
 * lock orders the two, so a commit either precedes the fence (and the sweep finds its
 * row) or fails. The paused node's next heartbeat finds its row stopped and reports it
 * (`fenced`): the node then shuts down; a restart registers it again.
 */
import type { SharedDatabase } from './shared-database.js';

export interface NodeInfo {
  nodeId: string;
  host: string;
  pid: number;
  /** What runs on it: main, workstation, router, web, hl7. */
  roles: string[];
  version: string;
  /** Its own ports, by role (`main`, `web`, ...). */
  ports: Record<string, number>;
}

export interface NodeRecord extends NodeInfo {
  startedAt: Date;
  heartbeatAt: Date;
  leaseSeconds: number;
  stoppedAt?: Date;
  /** Seconds since the last heartbeat, by the database's clock. */
  heartbeatAgeSeconds: number;
  /** Not stopped and its lease not expired. */
  live: boolean;
}

/** The node id is held by another live node (elsewhere, or a process still running here). */
export class NodeIdInUseError extends Error {
  override readonly name = 'NodeIdInUseError';
  constructor(readonly holder: NodeRecord) {
    super(
      `node id "${holder.nodeId}" is in use by a live node (pid ${holder.pid} on host ${holder.host}, ` +
        `last heartbeat ${holder.heartbeatAgeSeconds.toFixed(1)} s ago): give this node another --node-id`,
    );
  }
}

/** This node's row was stopped by another node's sweep (its lease had expired): it may no longer write. */
export class NodeFencedError extends Error {
  override readonly name = 'NodeFencedError';
  constructor(readonly nodeId: string) {
    super(`node "${nodeId}" was fenced: its lease expired and another node swept its open batches; restart it`);
  }
}

export interface NodeLogger {
  error(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
}

const SELECT = `SELECT node_id, host, pid, roles, version, ports, started_at, heartbeat_at, lease_seconds, stopped_at,
  EXTRACT(EPOCH FROM (now() - heartbeat_at))::float8 AS age,
  (stopped_at IS NULL AND heartbeat_at + make_interval(secs => lease_seconds) > now()) AS live
  FROM cluster_nodes`;

interface Row {
  node_id: string;
  host: string;
  pid: number;
  roles: string[];
  version: string;
  ports: Record<string, number>;
  started_at: Date;
  heartbeat_at: Date;
  lease_seconds: number;
  stopped_at: Date | null;
  age: number;
  live: boolean;
}

function record(r: Row): NodeRecord {
  return {
    nodeId: r.node_id,
    host: r.host,
    pid: r.pid,
    roles: r.roles,
    version: r.version,
    ports: r.ports,
    startedAt: r.started_at,
    heartbeatAt: r.heartbeat_at,
    leaseSeconds: r.lease_seconds,
    ...(r.stopped_at ? { stoppedAt: r.stopped_at } : {}),
    heartbeatAgeSeconds: r.age,
    live: r.live,
  };
}

/** Every node the database knows, by node id. */
export async function listNodes(db: SharedDatabase): Promise<NodeRecord[]> {
  return ((await db.pool.query(`${SELECT} ORDER BY node_id`)).rows as Row[]).map(record);
}

export interface NodeTableOptions {
  /** Heartbeat period (default 2 s). */
  heartbeatMs?: number;
  /** How long after its last heartbeat a silent node is taken for dead (default 15 s). */
  leaseSeconds?: number;
  /** Whether a process with this pid runs on this host (for a row left by an earlier process with our node id). */
  processAlive: (pid: number) => boolean;
  logger?: NodeLogger;
}

/** This node's row: registered at start, a heartbeat every few seconds, stopped at close. */
export class NodeTable {
  private timer?: NodeJS.Timeout;
  private failing = false;
  private beating?: Promise<void>;
  private fence!: () => void;
  /** Resolves once this node finds that another node fenced it (its heartbeat matched no live row). */
  readonly fenced = new Promise<void>((resolve) => (this.fence = resolve));

  private constructor(
    private readonly db: SharedDatabase,
    readonly info: NodeInfo,
    private readonly opts: NodeTableOptions,
  ) {}

  /**
   * Registers this node (taking over its row when the earlier holder is stopped, expired,
   * or a process of this host that is gone) and starts the heartbeat. NodeIdInUseError
   * when another live process holds the node id.
   */
  static async register(db: SharedDatabase, info: NodeInfo, opts: NodeTableOptions): Promise<NodeTable> {
    const t = new NodeTable(db, info, opts);
    const lease = opts.leaseSeconds ?? 15;
    await db.transaction(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`pacs-node:${db.schema}:${info.nodeId}`]);
      const held = (await c.query(`${SELECT} WHERE node_id = $1`, [info.nodeId])).rows[0] as Row | undefined;
      if (held?.live) {
        const h = record(held);
        const sameProcess = h.host === info.host && h.pid === info.pid;
        const goneHere = h.host === info.host && !opts.processAlive(h.pid);
        if (!sameProcess && !goneHere) throw new NodeIdInUseError(h);
      }
      await c.query(
        `INSERT INTO cluster_nodes (node_id, host, pid, roles, version, ports, started_at, heartbeat_at, lease_seconds, stopped_at)
         VALUES ($1, $2, $3, $4, $5, $6, now(), now(), $7, NULL)
         ON CONFLICT (node_id) DO UPDATE SET host = excluded.host, pid = excluded.pid, roles = excluded.roles, version = excluded.version,
           ports = excluded.ports, started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at,
           lease_seconds = excluded.lease_seconds, stopped_at = NULL`,
        [info.nodeId, info.host, info.pid, JSON.stringify(info.roles), info.version, JSON.stringify(info.ports), lease],
      );
    });
    t.timer = setInterval(() => void t.beat(), opts.heartbeatMs ?? 2000);
    t.timer.unref();
    return t;
  }

  /** What runs on this node and on which ports, once the roles have started. */
  async describe(roles: string[], ports: Record<string, number>): Promise<void> {
    this.info.roles = roles;
    this.info.ports = ports;
    await this.db.pool.query(`UPDATE cluster_nodes SET roles = $2, ports = $3 WHERE node_id = $1 AND pid = $4 AND host = $5`, [
      this.info.nodeId,
      JSON.stringify(roles),
      JSON.stringify(ports),
      this.info.pid,
      this.info.host,
    ]);
  }

  /**
   * True when the node `nodeId` holds no lease: stopped, silent beyond its lease, or
   * unknown to the database. Never true for this node itself.
   */
  async leaseExpired(nodeId: string): Promise<boolean> {
    if (nodeId === this.info.nodeId) return false;
    const r = (await this.db.pool.query(`${SELECT} WHERE node_id = $1`, [nodeId])).rows[0] as Row | undefined;
    return !r?.live;
  }

  /**
   * Ends the lease of `nodeId` if it has expired, so that it can no longer write (see
   * "Fencing" above); true when the node holds no lease now (fenced here, or already
   * stopped, expired or unknown). Never true for this node itself. Call it under the
   * node's sweep lock, before touching its open batches.
   */
  async fenceIfExpired(nodeId: string): Promise<boolean> {
    if (nodeId === this.info.nodeId) return false;
    const r = await this.db.pool.query(
      `UPDATE cluster_nodes SET stopped_at = now()
       WHERE node_id = $1 AND stopped_at IS NULL AND heartbeat_at + make_interval(secs => lease_seconds) <= now()`,
      [nodeId],
    );
    if ((r.rowCount ?? 0) > 0) this.opts.logger?.warn({ nodeId }, 'fenced a node whose lease has expired: it can no longer write');
    return this.leaseExpired(nodeId);
  }

  /**
   * The statement every index write transaction of this node runs first: a row while this
   * node holds its registration (share-locked until the commit), none once it was fenced.
   * Schema-qualified: the Router's and Workstation's indexes live in schemas of their own.
   */
  writeFence(): { sql: string; params: string[]; error: () => Error } {
    return {
      sql: `SELECT 1 FROM "${this.db.schema}".cluster_nodes WHERE node_id = $1 AND pid = $2 AND host = $3 AND stopped_at IS NULL FOR SHARE`,
      params: [this.info.nodeId, String(this.info.pid), this.info.host],
      error: () => new NodeFencedError(this.info.nodeId),
    };
  }

  /**
   * Runs `fn` holding the database's advisory lock on `nodeId`'s open blob batches, so that
   * one node at a time sweeps them. On a connection of its own: the pool is small, and a
   * sweep asks the pool for leases while it holds the lock. `wait` false: undefined at once
   * when another node holds it.
   */
  async withSweepLock<T>(nodeId: string, wait: boolean, fn: () => Promise<T>): Promise<T | undefined> {
    const c = this.db.newClient();
    c.on('error', () => undefined); // a lost connection ends the lock; the sweep's own steps are idempotent
    await c.connect();
    try {
      const key = `pacs-sweep:${this.db.schema}:${nodeId}`;
      if (wait) await c.query('SELECT pg_advisory_lock(hashtext($1))', [key]);
      else if (!((await c.query('SELECT pg_try_advisory_lock(hashtext($1)) AS got', [key])).rows[0] as { got: boolean }).got) return undefined;
      // Ending the session releases the lock.
      return await fn();
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  /** The heartbeat (also at once, for tests); a failure is logged once per outage (the next one tries again). */
  async beat(): Promise<void> {
    if (this.beating) return;
    this.beating = (async () => {
      try {
        const r = await this.db.pool.query(
          `UPDATE cluster_nodes SET heartbeat_at = now() WHERE node_id = $1 AND pid = $2 AND host = $3 AND stopped_at IS NULL`,
          [this.info.nodeId, this.info.pid, this.info.host],
        );
        if (r.rowCount === 0) {
          clearInterval(this.timer);
          this.opts.logger?.error({ nodeId: this.info.nodeId }, new NodeFencedError(this.info.nodeId).message);
          this.fence();
          return;
        }
        if (this.failing) this.opts.logger?.info({ nodeId: this.info.nodeId }, 'node heartbeat renewed again');
        this.failing = false;
      } catch (err) {
        if (!this.failing) this.opts.logger?.warn({ nodeId: this.info.nodeId, err: (err as Error).message }, 'node heartbeat not renewed');
        this.failing = true;
      }
    })().finally(() => {
      this.beating = undefined;
    });
    await this.beating;
  }

  /** Stops the heartbeat and ends the lease (the row stays for status). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.beating;
    await this.db.pool
      .query(`UPDATE cluster_nodes SET stopped_at = now() WHERE node_id = $1 AND pid = $2 AND host = $3`, [this.info.nodeId, this.info.pid, this.info.host])
      .catch(() => undefined);
  }
}
