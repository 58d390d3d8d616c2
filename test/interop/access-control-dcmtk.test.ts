/**
 * Access control against DCMTK: a strict-mode Main Server refuses an unregistered
 * echoscu with A-ASSOCIATE-RJ reason 3 (logged with the peer's address) and accepts it
 * once `pacs config ae add` has registered it, without a restart.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigStore, setAe } from '../../src/config/index.js';
import { echoscu, freePort, REPO_ROOT, startPacs, stopAllPeers, type PacsPeer } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

let pacs: PacsPeer;

beforeAll(async () => {
  const dir = await makeTempDir('pacs-access-');
  const store = await ConfigStore.open(join(dir, 'data'));
  await store.update((r) => setAe(r, 'PACS', { policy: { strict: true } }));
  const [ws, router] = await Promise.all([freePort(), freePort()]);
  pacs = await startPacs({
    dir,
    args: [
      join(REPO_ROOT, 'bin/pacs.js'),
      'serve',
      '--data',
      '{data}',
      '--port',
      '{port}',
      '--workstation-port',
      String(ws),
      '--router-port',
      String(router),
      '--no-web',
    ],
  });
});

afterAll(async () => {
  await stopAllPeers();
  await removeTempDirs();
});

describe('access control with DCMTK', () => {
  it('strict mode: refuses an unregistered echoscu with reason 3, accepts it after `pacs config ae add`', async () => {
    const refused = await echoscu({ port: pacs.port, calledAet: 'PACS', callingAet: 'ECHOSCU' });
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).toMatch(/Calling AE Title Not Recognized/i);
    await expect
      .poll(() => readFileSync(pacs.logFile, 'utf8'), { timeout: 5000 })
      .toMatch(/"address":"(::ffff:)?127\.0\.0\.1".*calling AE title \\"ECHOSCU\\" is not registered/);

    const add = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/pacs.js'), 'config', 'ae', 'add', 'ECHOSCU', '--host', '127.0.0.1', '--data', pacs.dataDir], {
      encoding: 'utf8',
    });
    expect(add.status, add.stderr).toBe(0);
    // The running server follows the registry file; give it a moment to notice.
    await expect
      .poll(async () => (await echoscu({ port: pacs.port, calledAet: 'PACS', callingAet: 'ECHOSCU' })).code, { timeout: 10_000, interval: 200 })
      .toBe(0);
    const wrongCalled = await echoscu({ port: pacs.port, calledAet: 'NOT_PACS', callingAet: 'ECHOSCU' });
    expect(wrongCalled.stdout + wrongCalled.stderr).toMatch(/Called AE Title Not Recognized/i);
  });
});
