/** Which index a `pacs serve` under test keeps: its embedded SQLite, or a fresh PostgreSQL schema dropped afterwards. */
import pg from 'pg';
import { dropSchema, freshSchemaName, PG_URL, postgresAvailable } from '../archive/pg-support.js';

export interface ServeIndex {
  name: string;
  /** Extra `pacs serve` arguments (fails when PostgreSQL is wanted and not reachable). */
  args(): Promise<string[]>;
  /** Drops what args() created; for PostgreSQL, fails if the server stored nothing there. */
  cleanup(): Promise<void>;
}

export const sqliteIndex = (): ServeIndex => ({ name: 'SQLite index', args: async () => [], cleanup: async () => undefined });

export function postgresIndex(): ServeIndex {
  const schema = freshSchemaName();
  let used = false;
  return {
    name: 'PostgreSQL index',
    async args() {
      if (!(await postgresAvailable())) throw new Error(`PostgreSQL is not reachable at ${PG_URL} (or set PACS_TEST_DATABASE_URL)`);
      used = true;
      return ['--database-url', PG_URL, '--database-schema', schema];
    },
    async cleanup() {
      if (!used) return;
      // The suites store instances: none in the schema would mean the server did not use it.
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      let n: number;
      try {
        n = Number((await c.query(`SELECT count(*) AS n FROM "${schema}".instances`)).rows[0].n);
      } finally {
        await c.end();
        await dropSchema(schema);
      }
      if (!(n > 0)) throw new Error(`the PostgreSQL schema ${schema} holds no instances: the server did not index into it`);
    },
  };
}
