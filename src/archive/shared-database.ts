/**
 * What several nodes on one PostgreSQL database share besides the index: the registry
 * (shared-registry.ts), the node table with its heartbeats (node-table.ts), the web's
 * users and sessions (shared-auth.ts), jobs (shared-jobs.ts) and small documents such as
 * the hanging protocols (shared-documents.ts), in the index's schema. Their tables are
 * created and migrated here, in numbered steps, under an advisory lock, so nodes starting
 * together (or an upgraded node starting while older ones run) take turns and every step
 * runs once; a node older than the schema runs on (each step only adds).
 */
import pg from 'pg';
import { pgTransaction, STALLED_TRANSACTION_MS, withDefaultUser } from './postgres-index.js';

const SCHEMA_RE = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** The shared tables, one step per version; never edit a step, add one. */
const MIGRATIONS: readonly string[][] = [
  [
    `CREATE TABLE IF NOT EXISTS shared_registry (
       id SMALLINT PRIMARY KEY CHECK (id = 1),
       revision BIGINT NOT NULL,
       body JSONB NOT NULL,
       updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
       updated_by TEXT NOT NULL
     )`,
    `CREATE TABLE IF NOT EXISTS cluster_nodes (
       node_id TEXT PRIMARY KEY,
       host TEXT NOT NULL,
       pid INTEGER NOT NULL,
       roles JSONB NOT NULL,
       version TEXT NOT NULL,
       ports JSONB NOT NULL,
       started_at TIMESTAMPTZ NOT NULL,
       heartbeat_at TIMESTAMPTZ NOT NULL,
       lease_seconds INTEGER NOT NULL,
       stopped_at TIMESTAMPTZ
     )`,
  ],
  // Users, sessions (by the SHA-256 of their token), jobs and small shared documents (shared-auth.ts, shared-jobs.ts).
  [
    `CREATE TABLE IF NOT EXISTS web_users (
       name TEXT PRIMARY KEY,
       hash TEXT NOT NULL,
       salt TEXT NOT NULL,
       role TEXT NOT NULL,
       created TEXT NOT NULL
     )`,
    `CREATE TABLE IF NOT EXISTS web_sessions (
       token_sha256 TEXT PRIMARY KEY,
       user_name TEXT NOT NULL REFERENCES web_users (name) ON DELETE CASCADE,
       expires_at TIMESTAMPTZ NOT NULL,
       created_by TEXT NOT NULL
     )`,
    `CREATE INDEX IF NOT EXISTS web_sessions_user ON web_sessions (user_name)`,
    `CREATE TABLE IF NOT EXISTS shared_jobs (
       id TEXT PRIMARY KEY,
       node_id TEXT NOT NULL,
       body JSONB NOT NULL,
       state TEXT NOT NULL,
       started_at TIMESTAMPTZ NOT NULL,
       updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
     )`,
    `CREATE INDEX IF NOT EXISTS shared_jobs_started ON shared_jobs (started_at DESC)`,
    `CREATE TABLE IF NOT EXISTS shared_documents (
       name TEXT PRIMARY KEY,
       body JSONB NOT NULL,
       updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
       updated_by TEXT NOT NULL
     )`,
  ],
];
export const SHARED_SCHEMA_VERSION = MIGRATIONS.length;

export interface SharedDatabaseOptions {
  connectionString: string;
  /** The index's schema (default 'pacs'). */
  schema?: string;
}

/** A small pool on the shared tables (and the URL, for LISTEN connections of its own). */
export class SharedDatabase {
  private constructor(
    readonly pool: pg.Pool,
    readonly schema: string,
    readonly connectionString: string,
  ) {}

  static async open(opts: SharedDatabaseOptions): Promise<SharedDatabase> {
    const schema = opts.schema ?? 'pacs';
    if (!SCHEMA_RE.test(schema)) throw new Error(`invalid PostgreSQL schema name '${schema}'`);
    const connectionString = withDefaultUser(opts.connectionString);
    // allowExitOnIdle: a command (`pacs config ...`) ends when its work is done, without closing.
    const pool = new pg.Pool({
      connectionString,
      max: 2,
      options: `-c search_path="${schema}" -c idle_in_transaction_session_timeout=${STALLED_TRANSACTION_MS}`,
      allowExitOnIdle: true,
    });
    pool.on('error', () => undefined); // idle client errors surface on the next query
    const db = new SharedDatabase(pool, schema, connectionString);
    try {
      await db.migrate();
    } catch (e) {
      await pool.end();
      throw e;
    }
    return db;
  }

  /** Runs `fn` in one transaction. */
  transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return pgTransaction(this.pool, fn);
  }

  /** A connection of its own (LISTEN), on the same schema. */
  newClient(): pg.Client {
    return new pg.Client({ connectionString: this.connectionString, options: `-c search_path="${this.schema}"` });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async migrate(): Promise<void> {
    await this.transaction(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`pacs-shared:${this.schema}`]);
      await c.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
      await c.query(`CREATE TABLE IF NOT EXISTS shared_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)`);
      const row = (await c.query(`SELECT value FROM shared_meta WHERE key = 'schema_version'`)).rows[0] as { value: number } | undefined;
      const stored = row?.value ?? 0;
      for (let v = stored; v < MIGRATIONS.length; v++) for (const ddl of MIGRATIONS[v]) await c.query(ddl);
      if (stored < MIGRATIONS.length) {
        await c.query(`INSERT INTO shared_meta (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [
          MIGRATIONS.length,
        ]);
      }
    });
  }
}
