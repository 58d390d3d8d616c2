/** The Main Server with its index in PostgreSQL (PACS_DATABASE_URL), fed by DCMTK storescu. */
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { writeCtSeries } from '../../scripts/gen-test-data.js';
import { REPO_ROOT, startPacs, stopAllPeers, storescu } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

const url = process.env.PACS_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `pacs_it_${process.pid}_${Date.now()}`;
const client = new pg.Client({ connectionString: url });

afterAll(async () => {
  await stopAllPeers();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
  await client.end().catch(() => undefined);
  await removeTempDirs();
});

describe('Main Server on PostgreSQL', () => {
  it('indexes what storescu sends, and keeps it across a restart', async () => {
    await client.connect();
    const dir = await makeTempDir('pacs-pg-');
    const series = await writeCtSeries({ dir: join(dir, 'ct'), count: 10, rows: 64, cols: 64 });
    const args = [
      join(REPO_ROOT, 'bin/pacs.js'),
      'serve',
      '--data',
      '{data}',
      '--port',
      '{port}',
      '--aet',
      '{aet}',
      '--database-url',
      url,
      '--database-schema',
      schema,
    ];
    let pacs = await startPacs({ dir, args });
    const r = await storescu({ port: pacs.port, calledAet: 'PACS', files: series.files });
    expect(r.code, r.stderr).toBe(0);
    await pacs.stop();
    const rows = await client.query(`SELECT count(*)::int AS n FROM "${schema}".instances`);
    expect(rows.rows[0].n).toBe(10);
    const study = await client.query(`SELECT study_instance_uid FROM "${schema}".studies`);
    expect(study.rows.map((x) => x.study_instance_uid)).toEqual([series.studyUid]);

    pacs = await startPacs({ dir, args });
    const again = await storescu({ port: pacs.port, calledAet: 'PACS', files: series.files.slice(0, 3) });
    expect(again.code, again.stderr).toBe(0); // duplicates: kept, answered with success
    await pacs.stop();
    expect((await client.query(`SELECT count(*)::int AS n FROM "${schema}".instances`)).rows[0].n).toBe(10);
  }, 120_000);
});
