import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { schemaDdl, SCHEMA_VERSION } from '../../src/archive/index-sql.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SQLITE_DIALECT, SqliteIndex } from '../../src/archive/sqlite-index.js';
import { SqlForwardQueue } from '../../src/archive/forward-queue-sql.js';
import { registerIndexConformance } from './index-conformance.js';
import type { InstanceRecord } from '../../src/archive/index-types.js';

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
        await index.insertInstances([
          {
            sopInstanceUid: '1.2.3',
            sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
            studyInstanceUid: '1.2',
            seriesInstanceUid: '1.2.1',
            transferSyntaxUid: '1.2.840.10008.1.2.1',
            fileKey: 'ab/cd/k.dcm',
            fileSize: 10,
            fileCrc32: 0xdeadbeef,
            receivedAt: new Date().toISOString(),
            callingAeTitle: 'X',
            json: '{}',
          },
        ]);
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
      await index.insertInstances([
        {
          sopInstanceUid: '1.2.3',
          sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
          studyInstanceUid: '1.2',
          seriesInstanceUid: '1.2.1',
          transferSyntaxUid: '1.2.840.10008.1.2.1',
          fileKey: 'k.dcm',
          fileSize: 10,
          receivedAt: new Date().toISOString(),
          callingAeTitle: 'X',
          json: '{}',
        },
      ]);
      expect(await index.countInstances()).toBe(1);
      expect(index.statementCacheSize().writer).toBeLessThanOrEqual(256);
    } finally {
      await index.close();
      rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('sqlite upsert memo across write transactions', () => {
  const record = (n: number, over: Partial<InstanceRecord> = {}): InstanceRecord => ({
    sopInstanceUid: `1.2.3.${n}`,
    sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
    studyInstanceUid: '1.2',
    seriesInstanceUid: '1.2.1',
    patientId: 'P1',
    patientName: 'DOE^JANE',
    studyDescription: 'CHEST',
    modality: 'CT',
    transferSyntaxUid: '1.2.840.10008.1.2.1',
    fileKey: `ab/cd/k${n}.dcm`,
    fileSize: 10,
    fileCrc32: 1,
    receivedAt: new Date().toISOString(),
    callingAeTitle: 'X',
    json: '{}',
    ...over,
  });
  const withIndex = async (fn: (index: SqliteIndex, file: string) => Promise<void>): Promise<void> => {
    const d = mkdtempSync(join(tmpdir(), 'pacs-sqlite-memo-'));
    const file = join(d, 'index.sqlite');
    const index = await SqliteIndex.open(file);
    try {
      await fn(index, file);
    } finally {
      await index.close();
      rmSync(d, { recursive: true, force: true });
    }
  };

  it('writes the patient, study and series rows of a series once, not once per instance', async () => {
    await withIndex(async (index, file) => {
      const other = new Database(file);
      other.exec(`CREATE TABLE row_writes (tbl TEXT)`);
      for (const t of ['patients', 'studies', 'series']) {
        // The study's change stamp (set by the index's own trigger) is counted apart.
        const upsert = t === 'studies' ? ' WHEN NEW.change_stamp IS OLD.change_stamp' : '';
        other.exec(`CREATE TRIGGER ${t}_u AFTER UPDATE ON ${t}${upsert} BEGIN INSERT INTO row_writes VALUES ('${t}'); END`);
        other.exec(`CREATE TRIGGER ${t}_i AFTER INSERT ON ${t} BEGIN INSERT INTO row_writes VALUES ('${t}'); END`);
      }
      other.exec(
        `CREATE TRIGGER studies_s AFTER UPDATE OF change_stamp ON studies WHEN NEW.change_stamp IS NOT OLD.change_stamp BEGIN INSERT INTO row_writes VALUES ('stamp'); END`,
      );
      for (let n = 1; n <= 5; n++) await index.insertInstances([record(n)]);
      const writes = other.prepare(`SELECT tbl, COUNT(*) AS n FROM row_writes GROUP BY tbl ORDER BY tbl`).all();
      // studies: the insert and the modalities_in_study update of the first instance. The
      // stamp changes with every instance (its metadata changed): one column no index holds,
      // so only the study row's own page is written again.
      expect(writes).toEqual([
        { tbl: 'patients', n: 1 },
        { tbl: 'series', n: 1 },
        { tbl: 'stamp', n: 5 },
        { tbl: 'studies', n: 2 },
      ]);
      // A changed value is written.
      await index.insertInstances([record(6, { studyDescription: 'CHEST 2' })]);
      expect(other.prepare(`SELECT study_description FROM studies`).pluck().get()).toBe('CHEST 2');
      other.close();
      expect(await index.countInstances()).toBe(6);
    });
  });

  it("keeps skipping them across the Router's queue rows written in the same and in other transactions", async () => {
    await withIndex(async (index, file) => {
      const queue = new SqlForwardQueue(index);
      await queue.ensureSchema();
      const other = new Database(file);
      other.exec(`CREATE TABLE row_writes (tbl TEXT)`);
      for (const t of ['patients', 'series']) other.exec(`CREATE TRIGGER ${t}_w AFTER UPDATE ON ${t} BEGIN INSERT INTO row_writes VALUES ('${t}'); END`);
      for (let n = 1; n <= 4; n++) {
        const [entry] = await index.write(async (tx) => {
          await tx.insertInstances([record(n)], 'keep');
          return tx.forwardQueue.enqueue([{ destination: 'D', sopInstanceUid: record(n).sopInstanceUid, rule: 'all', changes: {} }]);
        });
        await queue.delivered([{ id: entry.id, sopInstanceUid: entry.sopInstanceUid }]);
      }
      expect(other.prepare(`SELECT COUNT(*) FROM row_writes`).pluck().get()).toBe(0); // inserted once, never updated
      other.close();
      expect(await queue.list()).toEqual([]);
      expect(await index.countInstances()).toBe(4);
    });
  });

  it('does not skip an upsert after another connection changed the row', async () => {
    await withIndex(async (index, file) => {
      await index.insertInstances([record(1)]);
      const other = new Database(file);
      other.exec(`UPDATE studies SET study_description = 'EDITED', modalities_in_study = NULL`);
      other.close();
      await index.insertInstances([record(2)]);
      const [study] = await index.listStudies();
      expect(study.studyDescription).toBe('CHEST'); // the upsert ran again: last writer wins, as before
      expect(study.modalitiesInStudy).toEqual(['CT']);
    });
  });

  it('creates the series again after its last instance was deleted', async () => {
    await withIndex(async (index) => {
      await index.insertInstances([record(1)]);
      await index.deleteInstance('1.2.3.1');
      expect(await index.listStudies()).toEqual([]);
      await index.insertInstances([record(2)]);
      expect((await index.listSeries('1.2')).map((s) => s.seriesInstanceUid)).toEqual(['1.2.1']);
      expect((await index.listInstances('1.2.1')).map((i) => i.sopInstanceUid)).toEqual(['1.2.3.2']);
    });
  });

  it('forgets the rows of a rolled-back transaction', async () => {
    await withIndex(async (index) => {
      await expect(
        index.write(async (tx) => {
          await tx.insertInstances([record(1)], 'keep');
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      await index.insertInstances([record(2)]);
      expect((await index.listSeries('1.2')).map((s) => s.seriesInstanceUid)).toEqual(['1.2.1']);
      expect((await index.listInstances('1.2.1')).map((i) => i.sopInstanceUid)).toEqual(['1.2.3.2']);
    });
  });
});
