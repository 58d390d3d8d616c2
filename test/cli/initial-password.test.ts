/**
 * A first `pacs serve` without PACS_ADMIN_PASSWORD makes up the admin password. With its
 * output going to a file (no terminal) the password must not appear in that output: it
 * goes into `<data>/initial-admin-password` (owner-only), whose path is logged, and it
 * logs in.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, REPO_ROOT, startPacs, stopAllPeers, waitForPort } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

afterAll(async () => {
  await stopAllPeers();
  await removeTempDirs();
});

describe('the generated admin password', () => {
  it('is written to an owner-only file, never to the log, and logs in', async () => {
    const dir = await makeTempDir('pacs-initial-password-');
    const web = await freePort();
    const pacs = await startPacs({
      dir,
      args: [join(REPO_ROOT, 'bin/pacs.js'), 'serve', '--data', '{data}', '--port', '{port}', '--web-port', String(web)],
      env: { PACS_ADMIN_PASSWORD: undefined },
    });
    await waitForPort(web, { peer: pacs });
    const log = await readFile(pacs.logFile, 'utf8');
    expect(log).not.toMatch(/"password"/);
    const file = join(pacs.dataDir, 'initial-admin-password');
    const password = (await readFile(file, 'utf8')).trim();
    expect(password.length).toBeGreaterThanOrEqual(16);
    expect(log).not.toContain(password);
    expect(log).toContain(file);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const login = await fetch(`http://127.0.0.1:${web}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'admin', password }),
    });
    expect(login.status).toBe(200);
    await pacs.stop();
  });
});
