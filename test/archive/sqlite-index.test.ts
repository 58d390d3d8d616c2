import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { schemaDdl, SCHEMA_VERSION } from '../../src/archive/index-sql.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SQLITE_DIALECT, SqliteIndex } from '../../src/archive/sqlite-index.js';
import { registerIndexConformance } from './index-conformance.js';

let dir: string | undefined;
registerIndexConformance('sqlite', {
  async open() {
    dir ??= mkdtempSync(join(tmpdir(), 'pacs-sqlite-'));
    return SqliteIndex.open(join(dir, 'index.sqlite'));
  },
  async destroy() {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  },
});

describe('sqlite schema migration', () => {
  it('adds instances.file_crc32 to a version 1 database and keeps its rows', async () => {
    const d = mkdtempSync(join(tmpdir(), 'pacs-sqlite-v1-'));
    try {
      const file = join(d, 'index.sqlite');
      const v1 = new Database(file);
      for (const ddl of schemaDdl(SQLITE_DIALECT)) v1.exec(ddl.replace('file_crc32 BIGINT,', ''));
      v1.exec(`INSERT INTO archive_meta (key, value) VALUES ('schema_version', '1')`);
      v1.close();
      const index = await SqliteIndex.open(file);
      try {
        await index.insertInstances([{
          sopInstanceUid: '1.2.3', sopClassUid: '1.2.840.10008.5.1.4.1.1.2', studyInstanceUid: '1.2', seriesInstanceUid: '1.2.1',
          transferSyntaxUid: '1.2.840.10008.1.2.1', fileKey: 'ab/cd/k.dcm', fileSize: 10, fileCrc32: 0xdeadbeef,
          receivedAt: new Date().toISOString(), callingAeTitle: 'X', json: '{}',
        }]);
        expect(await index.fileCheck('ab/cd/k.dcm')).toEqual({ sopInstanceUid: '1.2.3', fileSize: 10, fileCrc32: 0xdeadbeef });
      } finally {
        await index.close();
      }
      const db = new Database(file, { readonly: true });
      expect(db.prepare(`SELECT value FROM archive_meta WHERE key = 'schema_version'`).pluck().get()).toBe(String(SCHEMA_VERSION));
      db.close();
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('sqlite prepared-statement cache', () => {
  it('holds at most 256 statements per connection, whatever the number of distinct SQL texts', async () => {
    const d = mkdtempSync(join(tmpdir(), 'pacs-sqlite-cache-'));
    const index = await SqliteIndex.open(join(d, 'index.sqlite'));
    try {
      // Distinct texts, as queries with different keys plan them (3,000 here).
      for (let i = 0; i < 3000; i++) {
        const rows = await index.read((tx) => tx.select(`SELECT $1 + ${i} AS n`, [1]));
        expect(rows[0].n).toBe(i + 1);
      }
      expect(index.statementCacheSize().reader).toBe(256);
      // A text evicted long ago is prepared again and still answers; a recent one is still held.
      expect((await index.read((tx) => tx.select('SELECT $1 + 0 AS n', [5])))[0].n).toBe(5);
      expect((await index.read((tx) => tx.select('SELECT $1 + 2999 AS n', [1])))[0].n).toBe(3000);
      expect(index.statementCacheSize().reader).toBe(256);
      // The writer's cache is bounded the same way, and writes still work.
      await index.insertInstances([{
        sopInstanceUid: '1.2.3', sopClassUid: '1.2.840.10008.5.1.4.1.1.2', studyInstanceUid: '1.2', seriesInstanceUid: '1.2.1',
        transferSyntaxUid: '1.2.840.10008.1.2.1', fileKey: 'k.dcm', fileSize: 10, receivedAt: new Date().toISOString(), callingAeTitle: 'X', json: '{}',
      }]);
      expect(await index.countInstances()).toBe(1);
      expect(index.statementCacheSize().writer).toBeLessThanOrEqual(256);
    } finally {
      await index.close();
      rmSync(d, { recursive: true, force: true });
    }
  });
});
