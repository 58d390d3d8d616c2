/**
 * The files an Archive, the AE registry and the router's rules create are owner-only by
 * their own explicit modes, also in a process with the usual umask (022, this test's):
 * the `pacs` command sets 077 itself (test/interop/data-permissions.test.ts).
 */
import { chmodSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { Archive } from '../../src/archive/archive.js';
import { ConfigStore, ensureOwnerOnlyDir } from '../../src/config/index.js';
import { RuleStore } from '../../src/router/rule-store.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { datasetBytes, storeRequest } from './helpers.js';

afterAll(removeTempDirs);

function notOwnerOnly(dir: string): string[] {
  return ['', ...readdirSync(dir, { recursive: true }).map(String)].flatMap((rel) => {
    const mode = statSync(join(dir, rel)).mode & 0o777;
    return (mode & 0o077) !== 0 ? [`${rel || '.'} ${mode.toString(8)}`] : [];
  });
}

it('an archive, the registry and the rules file are created owner-only under the usual umask', async () => {
  expect(process.umask() & 0o077).not.toBe(0o077);
  const data = join(await makeTempDir('pacs-owner-'), 'data');
  const config = await ConfigStore.open(data);
  config.close();
  (await RuleStore.open(data)).close();
  const archive = await Archive.open({ dataDir: join(data, 'workstation') });
  try {
    const sink = archive.beginStore(storeRequest({ sopInstanceUid: '1.2.3.9' }));
    await sink.write(datasetBytes({ sopInstanceUid: '1.2.3.9' }));
    await sink.end();
    await archive.thumbnails.put((await archive.index.getInstance('1.2.3.9'))!.fileKey, 'v', Buffer.from('jpeg'));
    await archive.idle();
  } finally {
    await archive.close();
  }
  expect(readdirSync(join(data, 'workstation'))).toEqual(expect.arrayContaining(['blobs', 'index.sqlite', 'thumbnails']));
  expect(notOwnerOnly(data)).toEqual([]);
});

it('tightens a data directory others can read, and says so', async () => {
  const data = await makeTempDir('pacs-owner-wide-');
  chmodSync(data, 0o755);
  const warnings: string[] = [];
  await ensureOwnerOnlyDir(data, { warn: (_o: unknown, msg?: string) => void warnings.push(String(msg)) });
  expect(statSync(data).mode & 0o777).toBe(0o700);
  expect(warnings).toEqual([`data directory ${data} was readable by other users (mode 755): changed to 0700 (owner only)`]);
  await ensureOwnerOnlyDir(data, { warn: () => void warnings.push('again') });
  expect(warnings).toHaveLength(1);
});
