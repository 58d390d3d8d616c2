/**
 * The README's first line on an empty data directory: `npm start` builds the web app
 * and brings up the three roles on their default ports and the web server; then
 * `pacs config verify` reports every local role answering.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, startProcess, stopAllPeers, waitForPort } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

afterAll(async () => {
  await stopAllPeers();
  await removeTempDirs();
});

describe('fresh start', () => {
  it('npm start serves all roles and the web app; pacs config verify sees them answer', async () => {
    const dir = await makeTempDir('pacs-fresh-');
    const data = join(dir, 'data');
    const pacs = startProcess({
      name: 'npm-start',
      command: 'npm',
      args: ['start'],
      dir,
      cwd: REPO_ROOT,
      env: { ...process.env, PACS_DATA_DIR: data, PACS_ADMIN_PASSWORD: 'fresh-start-secret' },
    });
    for (const port of [11112, 11113, 11114, 8080]) await waitForPort(port, { peer: pacs, timeoutMs: 120_000 });

    const page = await fetch('http://127.0.0.1:8080/');
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
    const status = await fetch('http://127.0.0.1:8080/api/status', {
      headers: { authorization: `Basic ${Buffer.from('admin:fresh-start-secret').toString('base64')}` },
    });
    expect(status.status).toBe(200);

    const verify = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/pacs.js'), 'config', 'verify', '--data', data], { encoding: 'utf8', timeout: 60_000 });
    expect(verify.status, verify.stdout + verify.stderr).toBe(0);
    for (const ae of ['PACS', 'WORKSTATION', 'ROUTER']) expect(verify.stdout).toMatch(new RegExp(`${ae}\\b.*\\b(ok|success)`, 'i'));
    await pacs.stop();
  }, 240_000);
});
