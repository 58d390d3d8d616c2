/** Backend selection, written once (open-index.ts): SQLite in the data directory by default, PostgreSQL when given. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IndexMissingError, openIndex } from '../../src/archive/open-index.js';
import { PostgresIndex } from '../../src/archive/postgres-index.js';
import { SqliteIndex } from '../../src/archive/sqlite-index.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { dropSchema, freshSchemaName, PG_URL } from './pg-support.js';

afterAll(() => removeTempDirs());

describe('openIndex', () => {
  it('opens (creating) index.sqlite in the data directory; with create: false refuses a missing one', async () => {
    const dir = await makeTempDir('pacs-open-index-');
    const empty = join(dir, 'empty');
    await expect(openIndex(empty, 'sqlite', { create: false })).rejects.toBeInstanceOf(IndexMissingError);
    expect(existsSync(join(empty, 'index.sqlite'))).toBe(false);
    const index = await openIndex(dir);
    expect(index).toBeInstanceOf(SqliteIndex);
    await index.close();
    expect(existsSync(join(dir, 'index.sqlite'))).toBe(true);
    const again = await openIndex(dir, 'sqlite', { create: false });
    expect(await again.countInstances()).toBe(0);
    await again.close();
  });

  it('opens PostgreSQL in the named schema when given a connection string', async () => {
    const schema = freshSchemaName();
    const index = await openIndex('/nonexistent', { postgres: PG_URL, schema });
    try {
      expect(index).toBeInstanceOf(PostgresIndex);
      expect((index as PostgresIndex).schema).toBe(schema);
      expect(await index.countInstances()).toBe(0);
    } finally {
      await index.close();
      await dropSchema(schema);
    }
  });
});
