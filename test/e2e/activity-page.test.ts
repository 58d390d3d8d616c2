/**
 * The Activity page in headless chromium against `pacs serve` in strict mode (issue 18):
 * open, live, it shows a registered modality's storescu of 30 instances and an unknown
 * AE's rejected association within 2 s of each, with their details (AEs, peer, TLS,
 * what was stored, contexts, the reason); the filters (AE, outcome, kind, study, patient,
 * time) select rows; an event's study links to the study in the Studies page.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAe, ConfigStore, setAe } from '../../src/config/index.js';
import { writeInstances } from '../interop/instance-files.js';
import { echoscu, REPO_ROOT, startPacsServe, stopAllPeers, storescu, type PacsPeer } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { launchChromium } from './browser.js';

const PASSWORD = 'e2e-activity-password';
const STUDY = '1.2.826.0.1.3680043.10.1.1'; // writeInstances' study, patient PID42
let browser: Browser;
let page: Page;
let pacs: PacsPeer;
let webUrl: string;
let files: string[];

beforeAll(async () => {
  const dir = await makeTempDir('pacs-e2e-activity-');
  mkdirSync(join(dir, 'files'));
  files = writeInstances(join(dir, 'files'), '1.2.826.0.1.3680043.10.78', 30).map((w) => w.path);
  const store = await ConfigStore.open(join(dir, 'pacs', 'data'));
  await store.update((r) => addAe(setAe(r, 'PACS', { policy: { strict: true } }), { aeTitle: 'MODALITY1', connection: { host: '127.0.0.1' } }));
  store.close();
  await build({ root: join(REPO_ROOT, 'ui'), logLevel: 'warn' });
  const served = await startPacsServe(join(dir, 'pacs'), PASSWORD);
  pacs = served.pacs;
  webUrl = `${served.base}/`;
  browser = await launchChromium();
  page = await browser.newPage();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stopAllPeers();
  await removeTempDirs();
});

const rows = (sel = '') => page.locator(`#activity-rows tr${sel}`);

describe('Activity page', () => {
  it('shows the storescu of 30 instances and the rejected association live, with their details', async () => {
    await page.goto(webUrl);
    await page.fill('#login-user', 'admin');
    await page.fill('#login-password', PASSWORD);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#q-search');
    await page.click('a[data-page=activity]');
    await page.waitForSelector('#activity-table');
    // Only this login so far.
    await expect.poll(() => rows().count()).toBe(1);
    expect(await rows('[data-kind=login][data-outcome=success]').count()).toBe(1);
    // The page opens its event stream right after its first page of events.
    await page.waitForTimeout(300);

    const stored = await storescu({ port: pacs.port, calledAet: 'PACS', callingAet: 'MODALITY1', files });
    expect(stored.code, stored.stderr).toBe(0);
    const association = rows('[data-kind=association][data-outcome=released]');
    await association.waitFor({ timeout: 2000 });
    const text = await association.innerText();
    expect(text).toContain('MODALITY1 → PACS');
    expect(text).toMatch(/MODALITY1 -> PACS \((::ffff:)?127\.0\.0\.1\): released after \d+\.\d s; stored 30/);
    expect(text).toMatch(
      /peer (::ffff:)?127\.0\.0\.1 · role main · no TLS · \d+\.\d s · stored 30 · \d+ context\(s\): CT Image Storage, [^·]+ · patient PID42/,
    );
    expect(await association.locator('a.activity-study').getAttribute('href')).toBe(`#/studies?study=${STUDY}`);

    const refused = await echoscu({ port: pacs.port, calledAet: 'PACS', callingAet: 'UNKNOWN1' });
    expect(refused.stdout + refused.stderr).toMatch(/Calling AE Title Not Recognized/i);
    const rejected = rows('[data-kind=association][data-outcome=rejected]');
    await rejected.waitFor({ timeout: 2000 });
    const rejectedText = await rejected.innerText();
    expect(rejectedText).toContain('UNKNOWN1 → PACS');
    expect(rejectedText).toContain('reason: calling AE title "UNKNOWN1" is not registered (strict mode)');
    // Newest first: rejected, released, login.
    expect(await rows().evaluateAll((trs) => trs.map((tr) => `${tr.getAttribute('data-kind')}:${tr.getAttribute('data-outcome')}`))).toEqual([
      'association:rejected',
      'association:released',
      'login:success',
    ]);
  });

  it('filters by AE, outcome, kind, study, patient and time', async () => {
    const apply = async (fill: () => Promise<void>) => {
      await page.fill('#activity-ae', '');
      await page.fill('#activity-patientId', '');
      await page.fill('#activity-studyUid', '');
      await page.fill('#activity-from', '');
      await page.selectOption('#activity-kind', '');
      await page.selectOption('#activity-outcome', '');
      await fill();
      await page.click('#activity-apply');
      await page.waitForTimeout(200);
      await page.waitForLoadState('networkidle').catch(() => undefined);
      return rows().evaluateAll((trs) => trs.map((tr) => `${tr.getAttribute('data-kind')}:${tr.getAttribute('data-outcome')}`));
    };
    await expect.poll(() => apply(() => page.fill('#activity-ae', 'UNKNOWN1'))).toEqual(['association:rejected']);
    expect(await apply(() => page.fill('#activity-ae', 'MODALITY1'))).toEqual(['association:released']);
    expect(await apply(() => page.selectOption('#activity-outcome', 'rejected').then(() => undefined))).toEqual(['association:rejected']);
    expect(await apply(() => page.selectOption('#activity-kind', 'login').then(() => undefined))).toEqual(['login:success']);
    expect(await apply(() => page.fill('#activity-studyUid', STUDY))).toEqual(['association:released']);
    expect(await apply(() => page.fill('#activity-patientId', 'PID42'))).toEqual(['association:released']);
    expect(await apply(() => page.fill('#activity-patientId', 'NOBODY'))).toEqual([]);
    // From one hour ahead (browser local time): nothing yet.
    const ahead = await page.evaluate(() => {
      const d = new Date(Date.now() + 3_600_000 - new Date().getTimezoneOffset() * 60_000);
      return d.toISOString().slice(0, 19);
    });
    expect(await apply(() => page.fill('#activity-from', ahead))).toEqual([]);
    // The filtered live view: a new association of another AE does not appear, one of the filtered AE does.
    expect(await apply(() => page.fill('#activity-ae', 'MODALITY1'))).toEqual(['association:released']);
    await page.waitForTimeout(300);
    expect((await echoscu({ port: pacs.port, calledAet: 'PACS', callingAet: 'OTHER1' })).code).not.toBe(0);
    expect((await echoscu({ port: pacs.port, calledAet: 'PACS', callingAet: 'MODALITY1' })).code).toBe(0);
    await rows('[data-kind=association]').nth(1).waitFor({ timeout: 2000 });
    expect(await rows().evaluateAll((trs) => trs.map((tr) => tr.querySelector('.activity-ae')?.textContent))).toEqual(['MODALITY1 → PACS', 'MODALITY1 → PACS']);
    expect(await rows().first().innerText()).toContain('echoed 1');
  });

  it('links an event to its study', async () => {
    await page.fill('#activity-ae', 'MODALITY1');
    await page.click('#activity-apply');
    await page.locator('#activity-rows tr[data-outcome=released] a.activity-study').first().click();
    await page.waitForURL(/#\/studies\?study=/);
    // The study's detail is open: its UID, and its one series of 30 CT instances.
    await expect.poll(() => page.locator('#study-detail').innerText(), { timeout: 10_000 }).toContain(STUDY);
    expect(await page.locator('#study-detail').innerText()).toMatch(/\bCT\s+3\s+30\s+Instances\b/);
    expect(await page.locator('#study-results tbody tr').count()).toBe(1);
  });
});
