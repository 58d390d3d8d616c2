import { describe, it } from 'vitest';
import { PostgresIndex } from '../../src/archive/postgres-index.js';
import { registerIndexConformance } from './index-conformance.js';
import { dropSchema, freshSchemaName, PG_URL, postgresAvailable } from './pg-support.js';

if (await postgresAvailable()) {
  let schema: string | undefined;
  registerIndexConformance('postgres', {
    async open() {
      schema ??= freshSchemaName();
      return PostgresIndex.open({ connectionString: PG_URL, schema });
    },
    async destroy() {
      if (schema) await dropSchema(schema);
      schema = undefined;
    },
  });
} else {
  // The test machines run PostgreSQL (DESIGN.md): its absence is a failure, not a skip.
  describe('Index conformance: postgres', () => {
    it('needs PostgreSQL at ' + PG_URL + ' (or PACS_TEST_DATABASE_URL)', () => {
      throw new Error(`PostgreSQL is not reachable at ${PG_URL}`);
    });
  });
}
