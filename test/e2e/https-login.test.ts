/**
 * HTTPS login in headless chromium against `pacs serve --web-tls`, with the local CA of
 * `pacs tls init` trusted the way a user's desktop would trust it: imported into the NSS
 * database of the browser's HOME (certutil, Debian's libnss3-tools), not by switching off
 * certificate checks. The session cookie is Secure. A browser without the CA refuses the
 * site, which shows the trust comes from the CA and the certificate is checked.
 */
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tlsInit } from '../../src/cli/tls-commands.js';
import { freePort, REPO_ROOT, startPacs, stopAllPeers, waitForPort } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { launchChromium } from './browser.js';

const run = promisify(execFile);
const PASSWORD = 'e2e-https-password';
let trusting: Browser;
let untrusting: Browser;
let url: string;

beforeAll(async () => {
  const dir = await makeTempDir('pacs-e2e-https-');
  const data = join(dir, 'pacs', 'data');
  await tlsInit(data, { host: 'localhost' });
  // A HOME whose NSS database trusts the local CA for web sites.
  const home = join(dir, 'home');
  const nssdb = join(home, '.pki', 'nssdb');
  await mkdir(nssdb, { recursive: true });
  await run('certutil', ['-N', '-d', `sql:${nssdb}`, '--empty-password']);
  await run('certutil', ['-A', '-d', `sql:${nssdb}`, '-n', 'open-pacs local CA', '-t', 'C,,', '-i', join(data, 'tls', 'ca.pem')]);

  await build({ root: join(REPO_ROOT, 'ui'), logLevel: 'warn' });
  const web = await freePort();
  const pacs = await startPacs({
    dir: join(dir, 'pacs'),
    args: [join(REPO_ROOT, 'bin/pacs.js'), 'serve', '--data', '{data}', '--port', '{port}', '--web-port', String(web), '--web-tls'],
    env: { PACS_ADMIN_PASSWORD: PASSWORD },
  });
  await waitForPort(web, { peer: pacs });
  url = `https://localhost:${web}/`;
  trusting = await launchChromium({ ...(process.env as Record<string, string>), HOME: home });
  untrusting = await launchChromium({ ...(process.env as Record<string, string>), HOME: join(dir, 'empty-home') });
}, 120_000);

afterAll(async () => {
  await trusting?.close();
  await untrusting?.close();
  await stopAllPeers();
  await removeTempDirs();
});

describe('HTTPS login', () => {
  it('logs in over HTTPS with the local CA trusted, with a Secure session cookie', async () => {
    const context = await trusting.newContext();
    const page = await context.newPage();
    await page.goto(url);
    expect(page.url()).toBe(url);
    await page.fill('#login-password', PASSWORD);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#q-search');
    expect(await page.textContent('#who')).toBe('admin');
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'pacs_session')).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Strict' });
    // the session works across a reload (the Secure cookie is sent back over HTTPS)
    await page.reload();
    await page.waitForSelector('#q-search');
    await context.close();
  });

  it('is refused by a browser that does not trust the local CA', async () => {
    const page = await untrusting.newPage();
    await expect(page.goto(url)).rejects.toThrow(/ERR_CERT_AUTHORITY_INVALID/);
    await page.close();
  });
});
