/**
 * Users in headless chromium against `pacs serve`: the admin adds a reader (a refused
 * short password shown next to the field first), resets a password, is told the last
 * admin cannot be demoted, removes a user. The reader logs in: no Users page, and the
 * admin-only controls (upload, delete, export, send, configuration changes, rule
 * changes) are not shown; the reader changes their own password.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCtSeries, type CtSeriesResult } from '../../scripts/gen-test-data.js';
import { REPO_ROOT, startPacsServe, stopAllPeers, storescu } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { launchChromium, launchChromiumWithWebGL } from './browser.js';

const PASSWORD = 'e2e-admin-password';
let browser: Browser;
let page: Page;
let webUrl: string;
let study: CtSeriesResult;

beforeAll(async () => {
  const dir = await makeTempDir('pacs-e2e-users-');
  study = await writeCtSeries({ dir: join(dir, 'ct'), count: 2, rows: 32, cols: 32, patientName: 'READER^VIEW', patientId: 'E2E-RV' });
  await build({ root: join(REPO_ROOT, 'ui'), logLevel: 'warn' });
  const served = await startPacsServe(join(dir, 'pacs'), PASSWORD);
  const r = await storescu({ port: served.pacs.port, calledAet: 'PACS', files: study.files });
  expect(r.code, r.stderr).toBe(0);
  webUrl = `${served.base}/`;
  browser = await launchChromium();
  page = await browser.newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stopAllPeers();
  await removeTempDirs();
});

async function logIn(user: string, password: string): Promise<void> {
  await page.goto(webUrl);
  await page.fill('#login-user', user);
  await page.fill('#login-password', password);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#q-search');
}

const userRow = (name: string) => `#users-table tr[data-user="${name}"]`;

describe('Users page', () => {
  it('lets the admin add a reader, reset a password, and remove a user; the last admin stays', async () => {
    await logIn('admin', PASSWORD);
    expect(await page.isVisible('a[data-page=users]')).toBe(true);
    await page.click('a[data-page=users]');
    await page.waitForSelector(userRow('admin'));

    await page.fill('#user-name', 'rita');
    await page.fill('#user-password', 'short');
    await page.click('#user-add');
    await expect.poll(() => page.textContent('#user-password-error')).toMatch(/at least 8 characters/);
    await page.fill('#user-password', 'rita-password');
    await page.click('#user-add');
    await page.waitForSelector(userRow('rita'));
    expect(await page.textContent(`${userRow('rita')} .user-role`)).toBe('reader');
    expect(await page.textContent('#users-message')).toBe('added rita (reader)');

    await page.fill('#user-name', 'temp');
    await page.fill('#user-password', 'temp-password');
    await page.selectOption('#user-role', 'admin');
    await page.click('#user-add');
    await page.waitForSelector(userRow('temp'));
    expect(await page.textContent(`${userRow('temp')} .user-role`)).toBe('admin');

    await page.click(`${userRow('rita')} .user-reset`);
    await page.fill(`${userRow('rita')} .user-new-password`, 'rita-password-2');
    await page.click(`${userRow('rita')} .user-reset-save`);
    await expect.poll(() => page.textContent('#users-message')).toBe('new password set for rita');

    await page.click(`${userRow('temp')} .user-remove`);
    await page.click('#confirm-ok'); // the in-page confirmation
    await expect.poll(() => page.textContent('#toast .toast-text')).toBe('removed the user temp');
    await expect.poll(() => page.locator(userRow('temp')).count()).toBe(0);
    await page.click(`${userRow('admin')} .user-role-change`);
    await expect.poll(() => page.textContent('#users-message')).toMatch(/last admin/);
    expect(await page.textContent(`${userRow('admin')} .user-role`)).toBe('admin');
    await page.click('#logout');
  });

  it('shows a reader no Users page and none of the admin-only actions', async () => {
    await logIn('rita', 'rita-password-2');
    expect(await page.textContent('#who')).toBe('rita');
    expect(await page.isVisible('a[data-page=users]')).toBe(false);
    expect(await page.isVisible('.card.upload')).toBe(false);

    await page.fill('#q-patient-name', 'READER');
    await page.click('#q-search button[type=submit]');
    const row = `#study-results tr[data-study="${study.studyUid}"]`;
    await page.waitForSelector(row);
    await page.click(`${row} td:nth-child(1)`);
    await page.waitForSelector(`#series-list tr[data-series="${study.seriesUid}"]`);
    expect(await page.isVisible('#open-viewer')).toBe(true);
    expect(await page.isVisible(`#series-list tr[data-series="${study.seriesUid}"] .show-instances`)).toBe(true);
    for (const adminOnly of ['#delete-study', '#download-study', '#send-study', '.delete-series', '.send-series', '#series-list a[href$="archive.zip"]']) {
      expect(await page.isVisible(adminOnly), adminOnly).toBe(false);
    }

    await page.click('a[data-page=config]');
    await page.waitForSelector('#local-aes tr[data-ae="PACS"]');
    for (const adminOnly of ['#ae-form', '#local-aes button.edit', 'button.echo']) expect(await page.isVisible(adminOnly), adminOnly).toBe(false);

    await page.click('a[data-page=router-rules]');
    await page.waitForSelector('#rule-list li');
    expect(await page.isVisible('#rule-new')).toBe(false);
    expect(await page.isVisible('#dry-run')).toBe(false);

    // typing the address of the Users page gets the server's refusal, not the page
    await page.goto(`${webUrl}#/users`);
    await expect.poll(() => page.textContent('#app')).toMatch(/needs the admin role/);
  });

  it('lets the reader change their own password', async () => {
    await page.click('a[data-page=password]');
    await page.fill('#own-old-password', 'wrong-password');
    await page.fill('#own-new-password', 'rita-password-3');
    await page.fill('#own-new-password-again', 'rita-password-3');
    await page.click('#own-password-save');
    await expect.poll(() => page.textContent('#own-password-error')).toMatch(/old password is wrong/);
    await page.fill('#own-old-password', 'rita-password-2');
    await page.click('#own-password-save');
    await expect.poll(() => page.textContent('#own-password-done')).toMatch(/password changed/);
    await page.click('#logout');
    await logIn('rita', 'rita-password-3');
  });

  it('shows a reader the images in the viewer, without storing, retrieving or sending', async () => {
    const webgl = await launchChromiumWithWebGL();
    try {
      const viewer = await webgl.newPage();
      await viewer.addInitScript(() => {
        (globalThis as { __name?: unknown }).__name = (f: unknown) => f;
      });
      await viewer.goto(`${webUrl}viewer?StudyInstanceUIDs=${study.studyUid}`);
      await viewer.fill('#login-user', 'rita');
      await viewer.fill('#login-password', 'rita-password-3');
      await viewer.click('#login-form button[type=submit]');
      await viewer.waitForFunction(() => (globalThis as { __viewer?: { ready: boolean } }).__viewer?.ready === true, null, { timeout: 120_000 });
      expect(await viewer.isVisible('#save-measurements')).toBe(false);
      await viewer.click('#qr-toggle');
      await viewer.waitForSelector('#qr-send-dest', { state: 'attached' });
      expect(await viewer.isVisible('#qr-send')).toBe(false);
      // the panel stays open for queries: a reader may C-FIND remote AEs
      expect(await viewer.isVisible('#qr-panel')).toBe(true);
    } finally {
      await webgl.close();
    }
  });
});
