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
  describe.skip('Index conformance: postgres (no server at ' + PG_URL + ')', () => {
    it('skipped', () => undefined);
  });
}
