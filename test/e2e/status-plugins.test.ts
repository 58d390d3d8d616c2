/**
 * The Status page in headless chromium shows the add-ins: one failed at load with its
 * error, one that throws on every stored instance with its error count and last error,
 * while the roles listen and store.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addPlugin, ConfigStore } from '../../src/config/index.js';
import { writeInstances } from '../interop/instance-files.js';
import { REPO_ROOT, startPacsServe, stopAllPeers, storescu } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { launchChromium } from './browser.js';

const PASSWORD = 'e2e-admin-password';
const FIXTURES = join(REPO_ROOT, 'test/roles/fixtures/plugins');
let browser: Browser;
let page: Page;
let webUrl: string;

beforeAll(async () => {
  const dir = await makeTempDir('pacs-e2e-plugins-');
  const config = await ConfigStore.open(join(dir, 'pacs', 'data'));
  await config.update((reg) =>
    [{ module: join(FIXTURES, 'throws-at-load.ts') }, { module: join(FIXTURES, 'throws-on-instance.ts') }].reduce((r, e) => addPlugin(r, e), reg),
  );
  config.close();
  await build({ root: join(REPO_ROOT, 'ui'), logLevel: 'warn' });
  const served = await startPacsServe(join(dir, 'pacs'), PASSWORD);
  const files = writeInstances(dir, '1.2.826.0.1.3680043.10.99.11', 2);
  const r = await storescu({ port: served.pacs.port, calledAet: 'PACS', files: files.map((f) => f.path) });
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

describe('Status page: add-ins', () => {
  it('shows the add-in that failed at load and the one that fails on every instance', async () => {
    await page.goto(webUrl);
    await page.fill('#login-user', 'admin');
    await page.fill('#login-password', PASSWORD);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#q-search');
    await page.click('a[data-page=status]');
    const failed = page.locator('#status-plugins tr[data-plugin="throws-at-load"] td');
    await failed.first().waitFor();
    expect(await failed.nth(2).textContent()).toBe('failed: create() threw: boom at load');
    expect(await failed.nth(3).textContent()).toBe('1');
    const thrower = page.locator('#status-plugins tr[data-plugin="throws-on-instance"] td');
    expect(await thrower.nth(2).textContent()).toBe('loaded');
    expect(await thrower.nth(3).textContent()).toBe('2');
    expect(await thrower.nth(4).textContent()).toMatch(
      /stored instance 1\.2\.826\.0\.1\.3680043\.10\.99\.11\.\d: boom on 1\.2\.826\.0\.1\.3680043\.10\.99\.11\.\d$/,
    );
    expect(await page.locator('#status-roles tr[data-role="main"] td').nth(3).textContent()).toBe('listening');
    expect(await page.locator('#status-roles tr[data-role="main"] td').nth(5).textContent()).toBe('2');
  });
});
