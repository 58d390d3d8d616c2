/**
 * The web app in headless chromium against `pacs serve`: log in; add a peer with an
 * invalid AE title and see the error next to the field; fix it and save; Echo a running
 * DCMTK storescp and see success; reload and the peer is still there. Then the Status page.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, startPacsServe, startStorescp, stopAllPeers, type StorescpPeer } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { launchChromium } from './browser.js';

let browser: Browser;
let page: Page;
let storescp: StorescpPeer;
let webUrl: string;

beforeAll(async () => {
  const dir = await makeTempDir('pacs-e2e-');
  await build({ root: join(REPO_ROOT, 'ui'), logLevel: 'warn' });
  const [served, scp] = await Promise.all([startPacsServe(join(dir, 'pacs'), 'e2e-password'), startStorescp({ dir: join(dir, 'storescp') })]);
  storescp = scp;
  webUrl = `${served.base}/`;
  browser = await launchChromium();
  page = await browser.newPage();
});

afterAll(async () => {
  await browser?.close();
  await stopAllPeers();
  await removeTempDirs();
});

describe('web app', () => {
  it('refuses a wrong password, then logs in', async () => {
    await page.goto(webUrl);
    await page.fill('#login-password', 'wrong-password');
    await page.click('#login-form button[type=submit]');
    await expect.poll(() => page.textContent('#login-error')).toMatch(/wrong user name or password/);
    await page.fill('#login-password', 'e2e-password');
    await page.click('#login-form button[type=submit]');
    // The Studies page comes first after a login.
    await page.waitForSelector('#q-search');
    await page.click('a[data-page=config]');
    await page.waitForSelector('#local-aes tr[data-ae="PACS"]');
    expect(await page.textContent('#who')).toBe('admin');
  });

  it('shows the error next to the field, saves once fixed, echoes the peer, keeps it after a reload', async () => {
    await page.fill('#ae-title', 'STORE SCP');
    await page.fill('#ae-host', '127.0.0.1');
    await page.fill('#ae-port', String(storescp.port));
    await page.click('#ae-save');
    await expect.poll(() => page.textContent('#ae-title-error')).toMatch(/may not contain spaces/);
    expect(await page.getAttribute('#ae-title', 'class')).toMatch(/invalid/);
    expect(await page.textContent('#ae-port-error')).toBe('');

    await page.fill('#ae-title', storescp.aet);
    await page.click('#ae-save');
    const row = `#peer-aes tr[data-ae="${storescp.aet}"]`;
    await page.waitForSelector(row);
    expect(await page.textContent('#ae-form-done')).toBe(`saved ${storescp.aet}`);

    await page.click(`${row} button.echo`);
    await expect.poll(() => page.textContent(`${row} .echo-result`), { timeout: 15_000 }).toMatch(/^success \([\d.]+ ms\)$/);

    await page.reload();
    await page.waitForSelector(row);
    expect(await page.textContent(`${row} td:nth-child(4)`)).toBe(String(storescp.port));
  });

  it('shows the Status page with the three roles listening', async () => {
    await page.click('a[data-page=status]');
    await page.waitForSelector('#status-roles tr[data-role=router]');
    for (const role of ['main', 'workstation', 'router']) {
      expect(await page.textContent(`#status-roles tr[data-role=${role}] td:nth-child(4)`)).toBe('listening');
    }
  });
});
