/**
 * Each user's viewer settings with several nodes on PostgreSQL (web/user-settings.ts over
 * archive/shared-documents.ts): what one node saves the other reads, a user without a row
 * still gets the data directory's file, a removed user's row goes, and a damaged row is
 * an error naming the user.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SharedDatabase } from '../../src/archive/shared-database.js';
import { SharedDocuments } from '../../src/archive/shared-documents.js';
import { USER_SETTINGS_FILE, UserSettingsStore } from '../../src/web/user-settings.js';
import { dropSchema, freshSchemaName, PG_URL } from '../archive/pg-support.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

const schema = freshSchemaName();
const dbs: SharedDatabase[] = [];
afterAll(async () => {
  for (const db of dbs) await db.close();
  await dropSchema(schema);
  await removeTempDirs();
});

async function node(id: string, dataDir: string): Promise<{ db: SharedDatabase; settings: UserSettingsStore }> {
  const db = await SharedDatabase.open({ connectionString: PG_URL, schema });
  dbs.push(db);
  return { db, settings: UserSettingsStore.shared(dataDir, new SharedDocuments(db, id)) };
}

describe('per-user settings shared in PostgreSQL', () => {
  it("one node's saved presets are the other's; a user with no row reads the file; forget removes the row", async () => {
    const dir = await makeTempDir('user-settings-pg');
    const fromFile = [{ label: 'Old lung', center: -600, width: 1500 }];
    await writeFile(join(dir, USER_SETTINGS_FILE), JSON.stringify({ users: { carol: { windowPresets: fromFile } } }));
    const a = await node('n1', dir);
    const b = await node('n2', dir);

    expect(await b.settings.windowPresets('carol')).toEqual(fromFile);
    expect(await b.settings.windowPresets('dave')).toEqual([]);

    const presets = [{ label: 'Brain', center: 40, width: 80, modality: 'CT' }];
    await a.settings.setWindowPresets('dave', presets);
    expect(await b.settings.windowPresets('dave')).toEqual(presets);
    // The file is not written: the row is the settings now.
    expect(await UserSettingsStore.forDataDir(dir).windowPresets('dave')).toEqual([]);

    await b.settings.setWindowPresets('carol', []);
    expect(await a.settings.windowPresets('carol')).toEqual([]);

    await a.settings.forget('dave');
    expect(await b.settings.windowPresets('dave')).toEqual([]);
    const rows = await a.db.pool.query(`SELECT name FROM shared_documents WHERE name LIKE 'user-settings:%' ORDER BY name`);
    expect(rows.rows.map((r: { name: string }) => r.name)).toEqual(['user-settings:carol']);
  });

  it('a damaged row is an error naming the user, and the other users still read theirs', async () => {
    const dir = await makeTempDir('user-settings-pg');
    const a = await node('n1', dir);
    await new SharedDocuments(a.db, 'test').put('user-settings:erin', { windowPresets: [{ label: '', center: 'x', width: 0 }] });
    await expect(a.settings.windowPresets('erin')).rejects.toThrow(/settings of user erin in PostgreSQL/);
    await a.settings.setWindowPresets('frank', [{ label: 'Bone', center: 300, width: 1500 }]);
    expect(await a.settings.windowPresets('frank')).toHaveLength(1);
  });
});
