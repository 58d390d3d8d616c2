/**
 * Background jobs of several nodes on one PostgreSQL database (`shared_jobs`), so that
 * every node lists every node's jobs with their progress. A row holds the job as the REST
 * API shows it (JSON) and the node running it; whether that node still holds its lease
 * comes from the node table (node-table.ts), so a job of a node that died is told apart
 * from one still running.
 */
import type { SharedDatabase } from './shared-database.js';

/** Finished jobs kept beyond the newest this many are deleted (at most once a minute). */
const KEEP_ROWS = 1000;
const PRUNE_MS = 60_000;

export interface SharedJobRow {
  /** The job as the REST API shows it. */
  body: unknown;
  nodeId: string;
  /** The node holds its lease (not stopped, heartbeat within it). */
  nodeLive: boolean;
}

const SELECT = `SELECT j.body, j.node_id,
  COALESCE(n.stopped_at IS NULL AND n.heartbeat_at + make_interval(secs => n.lease_seconds) > now(), false) AS live
  FROM shared_jobs j LEFT JOIN cluster_nodes n ON n.node_id = j.node_id`;

interface Row {
  body: unknown;
  node_id: string;
  live: boolean;
}

const row = (r: Row): SharedJobRow => ({ body: r.body, nodeId: r.node_id, nodeLive: r.live });

export class SharedJobTable {
  private prunedAt = 0;

  constructor(
    private readonly db: SharedDatabase,
    /** This node: the jobs it saves are its own. */
    readonly nodeId: string,
  ) {}

  /** Writes this node's job (inserted the first time, replaced after). */
  async save(job: { id: string; state: string; startedAt: string }): Promise<void> {
    await this.db.pool.query(
      `INSERT INTO shared_jobs (id, node_id, body, state, started_at, updated_at) VALUES ($1, $2, $3, $4, $5, now())
       ON CONFLICT (id) DO UPDATE SET body = excluded.body, state = excluded.state, updated_at = now()`,
      [job.id, this.nodeId, JSON.stringify(job), job.state, job.startedAt],
    );
    if (Date.now() - this.prunedAt >= PRUNE_MS) {
      this.prunedAt = Date.now();
      await this.db.pool.query(`DELETE FROM shared_jobs WHERE state <> 'running' AND id IN (SELECT id FROM shared_jobs ORDER BY started_at DESC OFFSET $1)`, [
        KEEP_ROWS,
      ]);
    }
  }

  /** The newest `limit` jobs of every node, newest first. */
  async list(limit: number): Promise<SharedJobRow[]> {
    return ((await this.db.pool.query(`${SELECT} ORDER BY j.started_at DESC, j.id LIMIT $1`, [limit])).rows as Row[]).map(row);
  }

  async get(id: string): Promise<SharedJobRow | undefined> {
    const r = (await this.db.pool.query(`${SELECT} WHERE j.id = $1`, [id])).rows[0] as Row | undefined;
    return r && row(r);
  }

  /**
   * Jobs an earlier process of this node left running (it died or was stopped): failed
   * with `message`. Returns how many.
   */
  async failLeftOver(message: string): Promise<number> {
    const r = await this.db.pool.query(
      `UPDATE shared_jobs SET state = 'failed', updated_at = now(),
         body = body || jsonb_build_object('state', 'failed', 'message', $2::text, 'finishedAt', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
       WHERE node_id = $1 AND state = 'running'`,
      [this.nodeId, message],
    );
    return r.rowCount ?? 0;
  }
}
