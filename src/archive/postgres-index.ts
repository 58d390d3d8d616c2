/**
 * PostgreSQL index (pg). The schema is created on open inside the schema the caller
 * names (default 'pacs'), so several PACS nodes can share one index and tests can use
 * a fresh schema per run. Read transactions are BEGIN READ ONLY: the server refuses
 * writes in them.
 */
import { userInfo } from 'node:os';
import pg from 'pg';
import { BaseIndex } from './base-index.js';
import {
  ADDED_COLUMNS,
  INSTANCE_STAMP_COLUMNS,
  lateIndexDdl,
  migrateToPatientIdentity,
  SqlIndexReader,
  SqlIndexWriter,
  schemaDdl,
  SCHEMA_VERSION,
  STUDY_STAMP_COLUMNS,
} from './index-sql.js';
import type { WriteFence } from './index-types.js';
import type { SqlDialect, SqlReader, SqlRow, SqlRunner, SqlValue, SqlWriter } from './sql-types.js';

export interface PostgresIndexOptions {
  connectionString: string;
  /** Schema holding the tables; created if missing. Letters, digits, '_' only. */
  schema?: string;
  /** Pool size (default 4). */
  maxConnections?: number;
}

const SCHEMA_RE = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * libpq's default when neither the URL nor PGUSER names a user: the operating system's user
 * name. pg falls back to $USER alone, and fails ("no PostgreSQL user name specified in
 * startup packet") where it is unset (systemd services, containers). pg lays the parsed URL
 * over its other options, so the name goes into the URL itself.
 */
export function withDefaultUser(connectionString: string): string {
  if (process.env.PGUSER || process.env.USER) return connectionString;
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    return connectionString; // not a URL (pg's other forms): leave it to pg
  }
  if (url.username !== '' || !/^postgres(ql)?:$/.test(url.protocol)) return connectionString;
  let name: string;
  try {
    name = userInfo().username;
  } catch {
    return connectionString; // no passwd entry for this uid
  }
  url.username = name;
  return url.toString();
}

/**
 * Runs `fn` in one transaction on a pooled connection: COMMIT when it resolves, ROLLBACK
 * when it throws; a connection whose ROLLBACK failed is not given back to the pool.
 */
export async function pgTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>, mode: '' | ' READ ONLY' = ''): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  // The server may end the session while it is checked out (idle_in_transaction_session_timeout
  // after a stall): without a listener that 'error' event would end the process.
  const lost = () => {
    broken = true;
  };
  client.on('error', lost);
  try {
    await client.query(`BEGIN${mode}`);
    try {
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw e;
    }
  } finally {
    client.off('error', lost);
    client.release(broken);
  }
}

/** PostgreSQL's SQL where it differs from SQLite's. */
export const POSTGRES_DIALECT: SqlDialect = {
  identityPk: 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
  // An identity never gives a value twice.
  neverReusedPk: 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
  tableDefinition: undefined,
  foreignKey: 'BIGINT',
  // Several nodes (and pool connections) write at once: lock the row read before changing it.
  forUpdate: ' FOR UPDATE',
  // Router nodes claiming queue entries take different rows instead of queueing on the same ones.
  skipLocked: ' FOR UPDATE SKIP LOCKED',
  nowMs: '(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint',
  // CREATE TABLE IF NOT EXISTS is not safe against a concurrent one: nodes starting together take turns.
  schemaLock: 'SELECT pg_advisory_xact_lock(hashtext($1))',
  distinctList: (col, from) => `(SELECT string_agg(DISTINCT ${col}, '\\' ORDER BY ${col}) ${from})`,
  caseInsensitiveLike: 'ILIKE',
  tableColumns: 'SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1',
};

class PgRunner implements SqlRunner {
  readonly dialect = POSTGRES_DIALECT;
  constructor(private readonly client: pg.Pool | pg.PoolClient) {}
  async all(sql: string, params: readonly SqlValue[] = []): Promise<SqlRow[]> {
    return (await this.client.query(sql, params as SqlValue[])).rows as SqlRow[];
  }
  async run(sql: string, params: readonly SqlValue[] = []): Promise<void> {
    await this.client.query(sql, params as SqlValue[]);
  }
}

/** How long a session may sit inside a transaction between statements (see node-table.ts, "Fencing"). */
export const STALLED_TRANSACTION_MS = 10_000;

export class PostgresIndex extends BaseIndex {
  readonly dialect = POSTGRES_DIALECT;
  readonly schema: string;
  private readonly pool: pg.Pool;
  private fence?: WriteFence;

  private constructor(pool: pg.Pool, schema: string) {
    super();
    this.pool = pool;
    this.schema = schema;
  }

  static async open(opts: PostgresIndexOptions): Promise<PostgresIndex> {
    const schema = opts.schema ?? 'pacs';
    if (!SCHEMA_RE.test(schema)) throw new Error(`invalid PostgreSQL schema name '${schema}'`);
    const pool = new pg.Pool({
      connectionString: withDefaultUser(opts.connectionString),
      max: opts.maxConnections ?? 4,
      // A node stalled inside a transaction (paused, frozen) loses its session and with it
      // its locks: the other nodes' writes and the fence of its lease wait no longer than this.
      options: `-c search_path="${schema}" -c idle_in_transaction_session_timeout=${STALLED_TRANSACTION_MS}`,
    });
    pool.on('error', () => undefined); // idle client errors surface on the next query
    const index = new PostgresIndex(pool, schema);
    try {
      const pending = await index.transaction('', async (client) => {
        // Serialize schema creation between nodes starting together.
        await client.query(POSTGRES_DIALECT.schemaLock!, [`pacs-schema:${schema}`]);
        await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
        const hadMeta = (await client.query(`SELECT to_regclass('archive_meta') AS t`)).rows[0].t !== null;
        for (const ddl of schemaDdl(POSTGRES_DIALECT)) await client.query(ddl);
        const stored = hadMeta ? (await client.query(`SELECT value FROM archive_meta WHERE key = 'schema_version'`)).rows[0]?.value : undefined;
        // Version 3 keys patients by (patient_id, issuer): an older table loses its UNIQUE (patient_id).
        const hasIssuer =
          (
            await client.query(`SELECT 1 FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'patients' AND column_name = 'issuer'`, [
              schema,
            ])
          ).rows.length > 0;
        if (!hasIssuer) {
          await client.query(`ALTER TABLE patients ADD COLUMN issuer TEXT NOT NULL DEFAULT ''`);
          await client.query(`ALTER TABLE patients DROP CONSTRAINT IF EXISTS patients_patient_id_key`);
          await client.query(`CREATE UNIQUE INDEX IF NOT EXISTS patients_patient_id_issuer ON patients (patient_id, issuer)`);
        }
        for (const c of ADDED_COLUMNS) await client.query(`ALTER TABLE ${c.table} ADD COLUMN IF NOT EXISTS ${c.column} ${c.type}`);
        for (const ddl of lateIndexDdl()) await client.query(ddl);
        for (const ddl of studyStampDdl()) await client.query(ddl);
        const pendingMigration = stored !== undefined && Number(stored) < 3;
        await client.query(
          `INSERT INTO archive_meta (key, value) VALUES ('schema_version', $1)
           ON CONFLICT (key) DO UPDATE SET value = excluded.value
           WHERE CAST(archive_meta.value AS INTEGER) < CAST(excluded.value AS INTEGER)`,
          [String(pendingMigration ? Number(stored) : SCHEMA_VERSION)],
        );
        return pendingMigration;
      });
      // The data of an index before version 3 (migrateToPatientIdentity checks the version again, under a row lock).
      if (pending) await index.write((tx) => migrateToPatientIdentity(tx));
    } catch (e) {
      await pool.end();
      throw e;
    }
    return index;
  }

  private transaction<T>(mode: '' | ' READ ONLY', fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return pgTransaction(this.pool, fn, mode);
  }

  read<T>(fn: (tx: SqlReader) => Promise<T>): Promise<T> {
    return this.transaction(' READ ONLY', (c) => fn(new SqlIndexReader(new PgRunner(c))));
  }

  setWriteFence(fence: WriteFence): void {
    this.fence = fence;
  }

  async write<T>(fn: (tx: SqlWriter) => Promise<T>): Promise<T> {
    const fence = this.fence;
    const r = await this.transaction('', async (c) => {
      // First, and share-locking this node's row until the commit: see node-table.ts, "Fencing".
      if (fence && (await c.query(fence.sql, fence.params as string[])).rowCount === 0) throw fence.error();
      return fn(new SqlIndexWriter(new PgRunner(c)));
    });
    this.writeTransactions++;
    return r;
  }

  /** One statement in autocommit mode: no BEGIN/COMMIT round trips. */
  protected override single<T>(fn: (tx: SqlReader) => Promise<T>): Promise<T> {
    return fn(new SqlIndexReader(new PgRunner(this.pool)));
  }

  /** Drops the schema and everything in it (tests). */
  async dropSchema(): Promise<void> {
    await this.pool.query(`DROP SCHEMA IF EXISTS "${this.schema}" CASCADE`);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

const NEW_STAMP = `replace(gen_random_uuid()::text, '-', '')`;

/**
 * The study change stamp's triggers (index-sql.ts STUDY_STAMP_COLUMNS), replaced at every
 * start under the schema lock (CREATE OR REPLACE: nodes of this version starting together
 * take turns; a running node of an older version keeps writing and its writes fire them
 * too), and a stamp for every study that has none. The functions keep the schema's
 * search path, whichever connection fires them.
 */
export function studyStampDdl(): string[] {
  const changed = (cols: readonly string[]) => cols.map((c) => `OLD.${c} IS DISTINCT FROM NEW.${c}`).join(' OR ');
  const bump = (series: string) => `UPDATE studies SET change_stamp = ${NEW_STAMP} WHERE pk IN (SELECT study_fk FROM series WHERE pk IN (${series}));`;
  return [
    `CREATE OR REPLACE FUNCTION instances_stamp() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $f$
     BEGIN
       IF TG_OP = 'INSERT' THEN ${bump('NEW.series_fk')}
       ELSIF TG_OP = 'UPDATE' THEN ${bump('OLD.series_fk, NEW.series_fk')}
       ELSE ${bump('OLD.series_fk')}
       END IF;
       RETURN NULL;
     END $f$`,
    `CREATE OR REPLACE TRIGGER instances_stamp_insert AFTER INSERT ON instances FOR EACH ROW EXECUTE FUNCTION instances_stamp()`,
    `CREATE OR REPLACE TRIGGER instances_stamp_update AFTER UPDATE OF ${INSTANCE_STAMP_COLUMNS.join(', ')} ON instances FOR EACH ROW
       WHEN (${changed(INSTANCE_STAMP_COLUMNS)}) EXECUTE FUNCTION instances_stamp()`,
    `CREATE OR REPLACE TRIGGER instances_stamp_delete AFTER DELETE ON instances FOR EACH ROW EXECUTE FUNCTION instances_stamp()`,
    `CREATE OR REPLACE FUNCTION series_stamp() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $f$
     BEGIN
       UPDATE studies SET change_stamp = ${NEW_STAMP} WHERE pk IN (OLD.study_fk, NEW.study_fk);
       RETURN NULL;
     END $f$`,
    `CREATE OR REPLACE TRIGGER series_stamp_update AFTER UPDATE OF study_fk ON series FOR EACH ROW
       WHEN (OLD.study_fk IS DISTINCT FROM NEW.study_fk) EXECUTE FUNCTION series_stamp()`,
    // Before the row is written: the study's own change sets its stamp in the same row version.
    `CREATE OR REPLACE FUNCTION studies_stamp() RETURNS trigger LANGUAGE plpgsql AS $f$
     BEGIN
       NEW.change_stamp := ${NEW_STAMP};
       RETURN NEW;
     END $f$`,
    `CREATE OR REPLACE TRIGGER studies_stamp_update BEFORE UPDATE OF ${STUDY_STAMP_COLUMNS.join(', ')} ON studies FOR EACH ROW
       WHEN (${changed(STUDY_STAMP_COLUMNS)}) EXECUTE FUNCTION studies_stamp()`,
    `UPDATE studies SET change_stamp = ${NEW_STAMP} WHERE change_stamp IS NULL`,
  ];
}
