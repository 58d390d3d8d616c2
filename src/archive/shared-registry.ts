/**
 * The AE registry and settings kept in PostgreSQL when several nodes share one database:
 * one row (`shared_registry`, id 1) holding the registry as JSON and its revision. Every
 * change is a read-modify-write under the row's lock and sends NOTIFY `pacs_registry`
 * (payload `<schema>:<revision>`) in the same transaction, so every node, listening on a
 * connection of its own, reads the new revision as soon as it is committed; file watching
 * does not work over NFS. A node whose listening connection broke reconnects and reads the
 * row again (it may have missed a notification).
 *
 * The first node (or `pacs config`) on an empty database imports the data directory's
 * config.json once, or starts from the defaults; config.json is not read after that.
 */
import type pg from 'pg';
import {
  defaultRegistry,
  parseStoredRegistry,
  readRegistryFile,
  CONFIG_FILE,
  type ConfigLogger,
  type Registry,
  type RegistryBackend,
} from '../config/index.js';
import { join } from 'node:path';
import type { SharedDatabase } from './shared-database.js';
import { listenChannel } from './shared-notify.js';

export const REGISTRY_CHANNEL = 'pacs_registry';

export class PostgresRegistryBackend implements RegistryBackend {
  readonly location: string;

  /** `writer` names who changes the registry (a node id, or the command line) in the row. */
  constructor(
    private readonly db: SharedDatabase,
    private readonly dataDir: string,
    private readonly writer: string,
  ) {
    this.location = `PostgreSQL schema "${db.schema}"`;
  }

  async open(logger?: ConfigLogger): Promise<Registry> {
    const stored = await this.read();
    if (stored) return stored;
    return this.db.transaction(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`pacs-registry:${this.db.schema}`]);
      const again = await this.row(c);
      if (again) return again;
      const file = join(this.dataDir, CONFIG_FILE);
      const imported = await readRegistryFile(this.dataDir);
      const reg = imported ?? defaultRegistry();
      await this.store(c, reg, false);
      if (imported)
        logger?.info(
          { file, schema: this.db.schema, revision: reg.revision },
          'imported the AE registry from config.json into PostgreSQL, once: nodes on this database read it from there now',
        );
      else logger?.info({ schema: this.db.schema }, 'created the AE registry in PostgreSQL with the default local AEs');
      return reg;
    });
  }

  async read(): Promise<Registry | undefined> {
    const c = await this.db.pool.connect();
    try {
      return await this.row(c);
    } finally {
      c.release();
    }
  }

  update(change: (latest: Registry) => Registry, known: Registry): Promise<Registry> {
    return this.db.transaction(async (c) => {
      const latest = await this.row(c, ' FOR UPDATE');
      const next = change(latest ?? known);
      await this.store(c, next, latest !== undefined);
      return next;
    });
  }

  watch(changed: () => void, logger?: ConfigLogger): () => void {
    return listenChannel(this.db, REGISTRY_CHANNEL, {
      message: () => changed(),
      // Changes made while we were not listening.
      up: () => changed(),
      down: (err) => logger?.error({ err: err.message }, 'registry notifications lost; reconnecting'),
    });
  }

  /** The database is its opener's to close (the node table shares it). */
  async close(): Promise<void> {}

  private async row(c: pg.PoolClient, lock = ''): Promise<Registry | undefined> {
    const r = (await c.query(`SELECT body FROM shared_registry WHERE id = 1${lock}`)).rows[0] as { body: unknown } | undefined;
    return r && parseStoredRegistry(r.body, this.location);
  }

  private async store(c: pg.PoolClient, reg: Registry, exists: boolean): Promise<void> {
    const body = JSON.stringify(reg);
    if (exists) {
      await c.query(`UPDATE shared_registry SET revision = $1, body = $2, updated_at = now(), updated_by = $3 WHERE id = 1`, [reg.revision, body, this.writer]);
    } else {
      await c.query(`INSERT INTO shared_registry (id, revision, body, updated_by) VALUES (1, $1, $2, $3)`, [reg.revision, body, this.writer]);
    }
    await c.query('SELECT pg_notify($1, $2)', [REGISTRY_CHANNEL, `${this.db.schema}:${reg.revision}`]);
  }
}
