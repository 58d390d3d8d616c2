/**
 * The Patients page in headless chromium against `pacs serve`: two studies of one Patient
 * ID under two names are listed as a conflict; "Use for patient" and Update give the whole
 * patient one name (the conflict is gone); a merge moves the studies to another patient,
 * which QIDO-RS and WADO-RS metadata then show; both changes are listed.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCtSeries } from '../../scripts/gen-test-data.js';
import { REPO_ROOT, startPacsServe, stopAllPeers, storescu } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { launchChromium } from './browser.js';

const PASSWORD = 'e2e-admin-password';
let browser: Browser;
let page: Page;
let webUrl: string;

beforeAll(async () => {
  const dir = await makeTempDir('pacs-e2e-patients-');
  const older = await writeCtSeries({ dir: join(dir, 'a'), count: 1, rows: 16, cols: 16, patientName: 'MAIDEN^ANNA', patientId: 'E2E-P' });
  const newer = await writeCtSeries({ dir: join(dir, 'b'), count: 1, rows: 16, cols: 16, patientName: 'MARRIED^ANNA', patientId: 'E2E-P' });
  const target = await writeCtSeries({ dir: join(dir, 'c'), count: 1, rows: 16, cols: 16, patientName: 'TARGET^ANNA', patientId: 'E2E-Q' });
  await build({ root: join(REPO_ROOT, 'ui'), logLevel: 'warn' });
  const served = await startPacsServe(join(dir, 'pacs'), PASSWORD);
  for (const s of [older, newer, target]) {
    const r = await storescu({ port: served.pacs.port, calledAet: 'PACS', files: s.files });
    expect(r.code, r.stderr).toBe(0);
  }
  webUrl = `${served.base}/`;
  browser = await launchChromium();
  page = await browser.newPage();
}, 180_000);

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

describe('Patients page', () => {
  it('lists the conflict, updates the patient from one study, merges, and shows the changes', async () => {
    await logIn('admin', PASSWORD);
    await page.click('a[data-page=patients]');
    await page.waitForSelector('#patient-conflicts tr[data-patient="E2E-P"]');
    expect((await page.locator('#patient-conflicts .conflict-name').allTextContents()).sort()).toEqual(['MAIDEN^ANNA', 'MARRIED^ANNA']);

    const married = page.locator('#patient-conflicts tr', { hasText: 'MARRIED^ANNA' });
    await married.locator('.patient-use').click();
    expect(await page.inputValue('#patient-update input[name=name]')).toBe('MARRIED^ANNA');
    await page.fill('#patient-update input[name=reason]', 'name changed at marriage');
    await page.click('#patient-update button[type=submit]');
    await expect.poll(() => page.textContent('#patients-message')).toBe('patient E2E-P updated: 2 studies corrected');
    expect(await page.textContent('p#patient-conflicts')).toMatch(/No patient has studies that disagree/);

    await page.fill('#patient-merge input[name=fromId]', 'E2E-P');
    await page.fill('#patient-merge input[name=intoId]', 'E2E-Q');
    await page.fill('#patient-merge input[name=mergeReason]', 'duplicate registration');
    await page.click('#patient-merge button[type=submit]');
    expect(await page.textContent('#confirm-question')).toMatch(/^Merge patient E2E-P into E2E-Q\?/);
    await page.click('#confirm-ok');
    await expect.poll(() => page.textContent('#patients-message')).toBe('E2E-P merged into E2E-Q: 2 studies moved');
    const changes = await page.locator('#patient-changes li').allTextContents();
    expect(changes).toHaveLength(2);
    expect(changes[0]).toMatch(/merge E2E-P into E2E-Q \(2 studies\): duplicate registration$/);
    expect(changes[1]).toMatch(/update E2E-P .*MARRIED\^ANNA.*\(2 studies\): name changed at marriage$/);

    const names = await page.evaluate(async () => {
      const r = await fetch('/dicomweb/studies?PatientID=E2E-Q&includefield=00100010');
      const body = (await r.json()) as Record<string, { Value?: { Alphabetic?: string }[] }>[];
      return body.map((s) => s['00100010']?.Value?.[0]?.Alphabetic).sort();
    });
    expect(names).toEqual(['TARGET^ANNA', 'TARGET^ANNA', 'TARGET^ANNA']);
    // WADO-RS metadata of every study: the corrected patient module, though the stored files keep the old one.
    const metadata = await page.evaluate(async () => {
      const studies = (await (await fetch('/dicomweb/studies?PatientID=E2E-Q')).json()) as Record<string, { Value?: string[] }>[];
      const out: string[] = [];
      for (const s of studies) {
        const uid = s['0020000D'].Value![0];
        const inst = (await (await fetch(`/dicomweb/studies/${uid}/metadata`)).json()) as Record<string, { Value?: unknown[] }>[];
        for (const i of inst) out.push(`${String(i['00100020'].Value![0])}|${(i['00100010'].Value![0] as { Alphabetic: string }).Alphabetic}`);
      }
      return out;
    });
    expect(metadata).toEqual(['E2E-Q|TARGET^ANNA', 'E2E-Q|TARGET^ANNA', 'E2E-Q|TARGET^ANNA']);
  }, 120_000);
});
