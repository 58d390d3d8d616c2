/**
 * Which index backend an archive uses, decided in one place: the embedded SQLite file
 * `index.sqlite` in the archive's data directory (the default), or a schema in PostgreSQL.
 * Archive.open and the command-line tools that read a server's index without its archive
 * (worklist, router queue) all open it here.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Index } from './index-types.js';
import { PostgresIndex } from './postgres-index.js';
import { SqliteIndex } from './sqlite-index.js';

/** Embedded SQLite, or a PostgreSQL connection string and schema (default 'pacs'). */
export type IndexSpec = 'sqlite' | { postgres: string; schema?: string };

/**
 * The Router role's index beside a Main Server index: embedded SQLite stays SQLite (its
 * own file in `<data>/router`); on PostgreSQL the schema `<schema>_router`, so that every
 * node of the database shares the Router's archive and forward queue.
 */
export function routerIndexSpec(main: IndexSpec): IndexSpec {
  return main === 'sqlite' ? 'sqlite' : { postgres: main.postgres, schema: `${main.schema ?? 'pacs'}_router` };
}

/**
 * The Workstation role's index, likewise: embedded SQLite in `<data>/workstation`, or on
 * PostgreSQL the schema `<schema>_workstation`, so that every node lists the studies any
 * node's Workstation received (two processes must not share one SQLite file over NFS).
 */
export function workstationIndexSpec(main: IndexSpec): IndexSpec {
  return main === 'sqlite' ? 'sqlite' : { postgres: main.postgres, schema: `${main.schema ?? 'pacs'}_workstation` };
}

/** An embedded index asked for with `create: false` that does not exist. */
export class IndexMissingError extends Error {
  override readonly name = 'IndexMissingError';
  constructor(readonly dataDir: string) {
    super(`no index in ${dataDir}`);
  }
}

/**
 * Opens the index of the archive in `dataDir`. `create: false` refuses to create a new
 * SQLite file (IndexMissingError): a tool reading a server's index must not start an
 * empty one beside it.
 */
export async function openIndex(dataDir: string, spec: IndexSpec = 'sqlite', opts: { logger?: Logger; create?: boolean } = {}): Promise<Index> {
  if (spec !== 'sqlite') return PostgresIndex.open({ connectionString: spec.postgres, schema: spec.schema });
  const file = join(dataDir, 'index.sqlite');
  if (opts.create === false && !existsSync(file)) throw new IndexMissingError(resolve(dataDir));
  return SqliteIndex.open(file, { logger: opts.logger });
}
