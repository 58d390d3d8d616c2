/** PostgreSQL for tests: 127.0.0.1:5432, database `test`, trust auth; a fresh schema per use. */
import pg from 'pg';
import { describe, it } from 'vitest';
import { PostgresIndex } from '../../src/archive/postgres-index.js';

export const PG_URL = process.env.PACS_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export async function postgresAvailable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

export function freshSchemaName(): string {
  return `archive_test_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

export async function dropSchema(schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    // The Router's and the Workstation's schemas beside it, made by pacs serve on PostgreSQL (routerIndexSpec, workstationIndexSpec).
    await c.query(`DROP SCHEMA IF EXISTS "${schema}_router" CASCADE`);
    await c.query(`DROP SCHEMA IF EXISTS "${schema}_workstation" CASCADE`);
  } finally {
    await c.end();
  }
}

/**
 * Registers a conformance suite against PostgreSQL, one fresh schema per `open()`/`destroy()`
 * pair. The test machines run PostgreSQL (DESIGN.md): its absence fails, it does not skip.
 */
export async function registerPostgresSuite(
  title: string,
  register: (factory: { open(): Promise<PostgresIndex>; destroy(): Promise<void> }) => void,
): Promise<void> {
  if (!(await postgresAvailable())) {
    describe(title, () => {
      it('needs PostgreSQL at ' + PG_URL + ' (or PACS_TEST_DATABASE_URL)', () => {
        throw new Error(`PostgreSQL is not reachable at ${PG_URL}`);
      });
    });
    return;
  }
  let schema: string | undefined;
  register({
    async open() {
      schema ??= freshSchemaName();
      return PostgresIndex.open({ connectionString: PG_URL, schema });
    },
    async destroy() {
      if (schema) await dropSchema(schema);
      schema = undefined;
    },
  });
}
