/**
 * The SQLite index gives space back after deletions (issue 15 item 6): a study stored and
 * deleted leaves the database no larger than it was before it came (pages reclaimed by
 * incremental auto-vacuum, in bounded steps), and a database made before this change is
 * switched to incremental auto-vacuum by a one-time VACUUM at open, its rows kept.
 */
import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { Archive } from '../../src/archive/archive.js';
import { SCHEMA_VERSION, schemaDdl } from '../../src/archive/index-sql.js';
import { SQLITE_DIALECT, SqliteIndex } from '../../src/archive/sqlite-index.js';
import { Dataset } from '../../src/dicom/dataset.js';
import { putString, writeDataset } from '../../src/dicom/dataset-writer.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { CT_IMAGE, EXPLICIT_LE, pixelDataHeader, storeRequest } from './helpers.js';

afterAll(removeTempDirs);

const STUDY = '1.2.826.0.1.3680043.10.90.1';

/** An instance whose index row is large: an 8 KB comment (kept in the row's DICOM JSON). */
function bigRowInstance(uid: string): Buffer {
  const ds = new Dataset();
  putString(ds, 0x00080016, 'UI', CT_IMAGE);
  putString(ds, 0x00080018, 'UI', uid);
  putString(ds, 0x00080060, 'CS', 'CT');
  putString(ds, 0x00100010, 'PN', 'Space^Test');
  putString(ds, 0x00100020, 'LO', 'SPACE1');
  putString(ds, 0x0020000d, 'UI', STUDY);
  putString(ds, 0x0020000e, 'UI', `${STUDY}.1`);
  putString(ds, 0x00204000, 'LT', 'x'.repeat(8000));
  return Buffer.concat([writeDataset(ds, EXPLICIT_LE), pixelDataHeader(16), Buffer.alloc(16)]);
}

function pages(file: string): { pageCount: number; freelist: number } {
  const db = new Database(file, { readonly: true });
  try {
    return { pageCount: Number(db.pragma('page_count', { simple: true })), freelist: Number(db.pragma('freelist_count', { simple: true })) };
  } finally {
    db.close();
  }
}

describe('SQLite index space', () => {
  it('shrinks back after a stored study is deleted', async () => {
    const dataDir = await makeTempDir('pacs-space-');
    const file = join(dataDir, 'index.sqlite');
    let archive = await Archive.open({ dataDir });
    const empty = pages(file).pageCount;
    const uids = Array.from({ length: 300 }, (_, i) => `${STUDY}.1.${i + 1}`);
    for (const uid of uids) {
      const sink = archive.beginStore(storeRequest({ sopInstanceUid: uid }));
      await sink.write(bigRowInstance(uid));
      await sink.end();
    }
    const full = pages(file).pageCount;
    expect(full).toBeGreaterThan(empty + 500); // 300 rows of over 8 KB
    for (const uid of uids) expect(await archive.deleteInstance(uid)).toBe(true);
    await archive.idle();
    const after = pages(file);
    expect(
      after.pageCount,
      `page_count ${after.pageCount} (free ${after.freelist}) after deleting the study; ${full} with it, ${empty} before it`,
    ).toBeLessThan(empty + 50);
    expect(after.freelist).toBeLessThan(50);
    await archive.close();
    // Closed (checkpointed): the file itself is that small again.
    expect(statSync(file).size).toBeLessThan((empty + 50) * 4096);
    archive = await Archive.open({ dataDir });
    expect(await archive.index.countInstances()).toBe(0);
    await archive.close();
  });

  it('switches a database made without auto-vacuum with one VACUUM at open, keeping its rows, and says so', async () => {
    const dir = await makeTempDir('pacs-space-old-');
    const file = join(dir, 'index.sqlite');
    const old = new Database(file);
    old.pragma('journal_mode = WAL');
    for (const ddl of schemaDdl(SQLITE_DIALECT)) old.exec(ddl);
    // The current schema (made without auto-vacuum, as before that pragma existed): no migration runs, only the VACUUM.
    old.exec(`INSERT INTO archive_meta (key, value) VALUES ('schema_version', '${SCHEMA_VERSION}')`);
    old.exec(`INSERT INTO patients (patient_id) VALUES ('P1')`);
    expect(Number(old.pragma('auto_vacuum', { simple: true }))).toBe(0);
    old.close();
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
    const index = await SqliteIndex.open(file, { logger });
    await index.close();
    const db = new Database(file, { readonly: true });
    expect(Number(db.pragma('auto_vacuum', { simple: true })), 'auto_vacuum (2 = INCREMENTAL)').toBe(2);
    expect(db.prepare(`SELECT patient_id FROM patients`).pluck().all()).toEqual(['P1']);
    db.close();
    expect(lines.join('')).toMatch(/one-time VACUUM/);
    // Once: the next open does not vacuum again.
    lines.length = 0;
    await (await SqliteIndex.open(file, { logger })).close();
    expect(lines.join('')).not.toMatch(/VACUUM/);
  });
});
