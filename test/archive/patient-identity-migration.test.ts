/**
 * The move of an index to schema version 3 (patients keyed by Patient ID and issuer, each
 * study with its own patient attributes), on SQLite and PostgreSQL: a version 2 index made
 * with the version 2 DDL is opened, and each study gets the patient attributes of its
 * stored instances back, split by Issuer of Patient ID; opening it again changes nothing.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { Index } from '../../src/archive/index-types.js';
import { PostgresIndex } from '../../src/archive/postgres-index.js';
import { SqliteIndex } from '../../src/archive/sqlite-index.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { dropSchema, freshSchemaName, PG_URL } from './pg-support.js';

afterAll(() => removeTempDirs());

/** The version 2 schema, as index-sql.ts created it before version 3. */
function v2Ddl(pk: string, fk: string): string[] {
  return [
    `CREATE TABLE archive_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
    `CREATE TABLE patients (pk ${pk}, patient_id TEXT NOT NULL UNIQUE, patient_name TEXT, patient_birth_date TEXT, patient_sex TEXT)`,
    `CREATE TABLE studies (pk ${pk}, study_instance_uid TEXT NOT NULL UNIQUE, patient_fk ${fk} NOT NULL REFERENCES patients(pk),
      study_date TEXT, study_time TEXT, accession_number TEXT, study_id TEXT, study_description TEXT, referring_physician_name TEXT,
      modalities_in_study TEXT)`,
    `CREATE TABLE series (pk ${pk}, series_instance_uid TEXT NOT NULL UNIQUE, study_fk ${fk} NOT NULL REFERENCES studies(pk),
      modality TEXT, series_number INTEGER, series_description TEXT, body_part_examined TEXT)`,
    `CREATE TABLE instances (pk ${pk}, sop_instance_uid TEXT NOT NULL UNIQUE, series_fk ${fk} NOT NULL REFERENCES series(pk),
      sop_class_uid TEXT NOT NULL, instance_number INTEGER, transfer_syntax_uid TEXT NOT NULL, file_key TEXT NOT NULL UNIQUE,
      file_size BIGINT NOT NULL, file_crc32 BIGINT, received_at TEXT NOT NULL, calling_ae TEXT NOT NULL, called_ae TEXT, json TEXT NOT NULL)`,
  ];
}

const json = (name: string, issuer?: string) =>
  JSON.stringify({
    '00100010': { vr: 'PN', Value: [{ Alphabetic: name }] },
    '00100020': { vr: 'LO', Value: ['M1'] },
    ...(issuer ? { '00100021': { vr: 'LO', Value: [issuer] } } : {}),
    '00100040': { vr: 'CS', Value: ['F'] },
  });

/** One patient M1 (patient level: the newest name) with three studies: two without issuer (two names), one of HOSP-X. */
const V2_ROWS: [string, unknown[]][] = [
  [`INSERT INTO archive_meta (key, value) VALUES ('schema_version', '2')`, []],
  [`INSERT INTO patients (patient_id, patient_name, patient_sex) VALUES ('M1', 'NEWEST^NAME', 'F')`, []],
  ...[1, 2, 3].flatMap((n): [string, unknown[]][] => [
    [`INSERT INTO studies (study_instance_uid, patient_fk) VALUES ($1, 1)`, [`1.2.7.${n}`]],
    [`INSERT INTO series (series_instance_uid, study_fk, modality) VALUES ($1, $2, 'CT')`, [`1.2.7.${n}.1`, n]],
    [
      `INSERT INTO instances (sop_instance_uid, series_fk, sop_class_uid, transfer_syntax_uid, file_key, file_size, received_at, calling_ae, json)
       VALUES ($1, $2, '1.2.840.10008.5.1.4.1.1.2', '1.2.840.10008.1.2.1', $3, 1, '2026-01-01T00:00:00Z', 'X', $4)`,
      [`1.2.7.${n}.1.1`, n, `k${n}`, n === 1 ? json('OLD^NAME') : n === 2 ? json('NEWEST^NAME') : json('NEWEST^NAME', 'HOSP-X')],
    ],
  ]),
];

async function expectMigrated(index: Index): Promise<void> {
  const studies = await index.listStudies();
  expect(studies.map((s) => `${s.studyInstanceUid}|${s.patientId}|${s.issuerOfPatientId}|${s.patientName}|${s.patientSex}`).sort()).toEqual([
    '1.2.7.1|M1||OLD^NAME|F',
    '1.2.7.2|M1||NEWEST^NAME|F',
    '1.2.7.3|M1|HOSP-X|NEWEST^NAME|F',
  ]);
  const conflicts = await index.patientConflicts();
  expect(conflicts.map((c) => [c.patientId, c.issuer, c.studies.map((s) => s.studyInstanceUid)])).toEqual([['M1', '', ['1.2.7.1', '1.2.7.2']]]);
  // A new instance of the HOSP-X patient lands on the migrated patient row, not a new one.
  await index.insertInstances([
    {
      sopInstanceUid: '1.2.7.3.1.2',
      sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
      studyInstanceUid: '1.2.7.3',
      seriesInstanceUid: '1.2.7.3.1',
      patientId: 'M1',
      issuerOfPatientId: 'HOSP-X',
      patientName: 'NEWEST^NAME',
      transferSyntaxUid: '1.2.840.10008.1.2.1',
      fileKey: 'k3b',
      fileSize: 1,
      receivedAt: '2026-01-02T00:00:00Z',
      callingAeTitle: 'X',
      json: '{}',
    },
  ]);
  expect((await index.listStudies()).filter((s) => s.issuerOfPatientId === 'HOSP-X')).toHaveLength(1);
}

describe('migration to schema version 3', () => {
  it('SQLite: rebuilds the patients table, fills each study from its instances, splits by issuer; idempotent', async () => {
    const file = join(await makeTempDir('pacs-migrate-'), 'index.sqlite');
    const db = new Database(file);
    for (const d of v2Ddl('INTEGER PRIMARY KEY', 'INTEGER')) db.exec(d);
    for (const [sql, params] of V2_ROWS) db.prepare(sql.replace(/\$\d+/g, '?')).run(...params);
    db.close();
    let index = await SqliteIndex.open(file);
    try {
      await expectMigrated(index);
    } finally {
      await index.close();
    }
    index = await SqliteIndex.open(file);
    try {
      expect((await index.listStudies()).map((s) => s.patientName).sort()).toEqual(['NEWEST^NAME', 'NEWEST^NAME', 'OLD^NAME']);
    } finally {
      await index.close();
    }
    const check = new Database(file, { readonly: true });
    expect(check.prepare(`SELECT value FROM archive_meta WHERE key = 'schema_version'`).pluck().get()).toBe('3');
    expect(check.pragma('foreign_key_check')).toEqual([]);
    check.close();
  });

  it('PostgreSQL: alters the patients table, fills each study from its instances, splits by issuer; idempotent', async () => {
    const schema = freshSchemaName();
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    try {
      await c.query(`CREATE SCHEMA "${schema}"`);
      await c.query(`SET search_path = "${schema}"`);
      for (const d of v2Ddl('BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY', 'BIGINT')) await c.query(d);
      for (const [sql, params] of V2_ROWS) await c.query(sql, params);
      let index = await PostgresIndex.open({ connectionString: PG_URL, schema });
      try {
        await expectMigrated(index);
      } finally {
        await index.close();
      }
      index = await PostgresIndex.open({ connectionString: PG_URL, schema });
      await index.close();
      expect((await c.query(`SELECT value FROM archive_meta WHERE key = 'schema_version'`)).rows[0].value).toBe('3');
    } finally {
      await c.end();
      await dropSchema(schema);
    }
  });
});
