import { describe, it } from 'vitest';
import { PostgresIndex } from '../../src/archive/postgres-index.js';
import { registerQueryConformance } from './query-conformance.js';
import { dropSchema, freshSchemaName, PG_URL, postgresAvailable } from './pg-support.js';

if (await postgresAvailable()) {
  let schema: string | undefined;
  registerQueryConformance('postgres', {
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
  describe.skip('Query conformance: postgres (no server at ' + PG_URL + ')', () => {
    it('skipped', () => undefined);
  });
}
