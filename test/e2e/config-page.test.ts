/**
 * The web app in headless chromium against `pacs serve`: log in; add a peer with an
 * invalid AE title and see the error next to the field; fix it and save; Echo a running
 * DCMTK storescp and see success; reload and the peer is still there. A new peer may
 * echo and store only and is bound to its host; the client AEs have no Remove button;
 * each server role's access policy is set on the page. Then the Status page.
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
    // A new peer may echo and store only, and only from its host.
    expect(await page.textContent(`${row} td.may`)).toBe('echo, store');
    expect(await page.textContent(`${row} td.host-check`)).toBe('only from its host');
  });

  it('offers echo and store only for a new peer, and no Remove button for the client AEs', async () => {
    const checked = await page.$$eval('#ae-permissions input:checked', (inputs) => inputs.map((i) => i.getAttribute('value')));
    expect(checked).toEqual(['echo', 'store']);
    expect(await page.isChecked('#ae-check-host')).toBe(true);
    for (const t of ['PACS_CLIENT', 'WS_CLIENT']) {
      await page.waitForSelector(`#local-aes tr[data-ae="${t}"]`);
      expect(await page.$$(`#local-aes tr[data-ae="${t}"] button.remove`), t).toHaveLength(0);
      expect(await page.textContent(`#local-aes tr[data-ae="${t}"] td.host-check`)).toBe('loopback only');
    }
    expect(await page.$$(`#peer-aes tr[data-ae="${storescp.aet}"] button.remove`)).toHaveLength(1);
  });

  it("sets a server role's access policy: strict, unknown callers, client certificate, host binding", async () => {
    const form = '#policy-main';
    await page.waitForSelector(form);
    // The defaults a person sees first.
    expect(await page.isChecked(`${form} input[name=strict]`)).toBe(false);
    expect(await page.$$eval(`${form} .unknown-callers input:checked`, (inputs) => inputs.map((i) => i.getAttribute('value')))).toEqual(['echo', 'store']);
    expect(await page.isChecked(`${form} input[name=checkCallerHosts]`)).toBe(true);

    await page.uncheck(`${form} .unknown-callers input[value=store]`);
    await page.check(`${form} input[name=strict]`);
    await page.uncheck(`${form} input[name=checkCallerHosts]`);
    await page.click(`${form} button[type=submit]`);
    await expect.poll(() => page.textContent(`${form} .saved`)).toBe('saved');
    await page.reload();
    await page.waitForSelector(form);
    expect(await page.isChecked(`${form} input[name=strict]`)).toBe(true);
    expect(await page.isChecked(`${form} input[name=checkCallerHosts]`)).toBe(false);
    expect(await page.textContent('#local-aes tr[data-ae="PACS"] td.policy')).toBe('strict; host check off');

    // A client certificate needs TLS, which this role does not have: offered once TLS is on.
    expect(await page.isDisabled(`${form} input[name=requireClientCert]`)).toBe(true);
    expect(await page.textContent(`${form} .hint`)).toMatch(/needs TLS/);
  });

  it('shows the Status page with the three roles listening', async () => {
    await page.click('a[data-page=status]');
    await page.waitForSelector('#status-roles tr[data-role=router]');
    for (const role of ['main', 'workstation', 'router']) {
      expect(await page.textContent(`#status-roles tr[data-role=${role}] td:nth-child(4)`)).toBe('listening');
    }
  });
});
