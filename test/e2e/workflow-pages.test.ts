/**
 * The workflow pages in headless chromium against `pacs serve` (issue 19 item 3):
 * Worklist: a step scheduled in the form is seen by DCMTK `findscu -W`, an MPPS N-CREATE
 * from python3-odil moves it to STARTED on the page, Cancel; Performed steps: the odil step
 * with its state and series; Storage commitment: a request answered on the same
 * association (delivered, counts), and one whose requestor wants its report on a new
 * association at a closed port (pending, attempts and error), retried from the page.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newUid, writeCtSeries, type CtSeriesResult } from '../../scripts/gen-test-data.js';
import { runPacs } from '../cli/run-pacs.js';
import { freePort, REPO_ROOT, runDcmtk, startPacsServe, stopAllPeers, storescu, type PacsPeer } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { launchChromium } from './browser.js';

const PASSWORD = 'e2e-workflow-password';
const ODIL = join(REPO_ROOT, 'test/interop/fixtures/odil-mpps.py');
const auth = { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` };
let browser: Browser;
let page: Page;
let base: string;
let pacs: PacsPeer;
let study: CtSeriesResult;

beforeAll(async () => {
  const dir = await makeTempDir('pacs-e2e-workflow-');
  study = await writeCtSeries({ dir: join(dir, 'ct'), count: 2, rows: 32, cols: 32, patientName: 'FLOW^ANN', patientId: 'E2E-WF' });
  await build({ root: join(REPO_ROOT, 'ui'), logLevel: 'warn' });
  const served = await startPacsServe(join(dir, 'pacs'), PASSWORD);
  pacs = served.pacs;
  base = served.base;
  const r = await storescu({ port: pacs.port, calledAet: 'PACS', files: study.files });
  expect(r.code, r.stderr).toBe(0);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
  await page.goto(`${base}/`);
  await page.fill('#login-user', 'admin');
  await page.fill('#login-password', PASSWORD);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#q-search');
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stopAllPeers();
  await removeTempDirs();
});

/** Scheduled Procedure Step IDs DCMTK's worklist query finds at the Main Server. */
async function findscuW(): Promise<string> {
  const r = await runDcmtk('findscu', [
    '-W',
    '-aet',
    'PACS_CLIENT',
    '-aec',
    'PACS',
    '-k',
    'ScheduledProcedureStepSequence[0].ScheduledProcedureStepID',
    '-k',
    'ScheduledProcedureStepSequence[0].Modality',
    '-k',
    'PatientName',
    '127.0.0.1',
    String(pacs.port),
  ]);
  expect(r.code, r.stderr).toBe(0);
  return r.stderr + r.stdout;
}

const row = (sps: string) => `#worklist-table tr[data-sps="${sps}"]`;

describe('Worklist page', () => {
  it('schedules a step that findscu -W sees, shows it STARTED after an MPPS N-CREATE, and cancels another', async () => {
    await page.click('a[data-page=worklist]');
    await page.waitForSelector('#worklist-form');
    await page.fill('#worklist-patientId', 'E2E-WF');
    await page.fill('#worklist-patientName', 'FLOW^ANN');
    await page.fill('#worklist-modality', 'mr');
    await page.fill('#worklist-stationAeTitle', 'MR01');
    await page.fill('#worklist-startTime', '0930');
    await page.click('#worklist-save');
    await expect.poll(() => page.textContent('#worklist-message')).toMatch(/^Scheduled step SPS[0-9A-F]{12} for FLOW\^ANN\.$/);
    const sps = /step (SPS[0-9A-F]{12})/.exec((await page.textContent('#worklist-message'))!)![1];
    expect(await page.textContent(`${row(sps)} .sps-status`)).toBe('SCHEDULED');
    expect(await page.$$eval(`${row(sps)} td`, (tds) => tds.slice(0, 6).map((td) => td.textContent))).toEqual([
      expect.stringMatching(/^\d{8}$/),
      '0930',
      'FLOW^ANN',
      'E2E-WF',
      'MR',
      'MR01',
    ]);
    const found = await findscuW();
    expect(found).toContain(sps);
    expect(found).toContain('FLOW^ANN');

    // A field the server refuses is named, and nothing is scheduled.
    await page.fill('#worklist-patientId', 'E2E-BAD');
    await page.fill('#worklist-patientName', 'BAD^DATE');
    await page.fill('#worklist-modality', 'CT');
    await page.fill('#worklist-startDate', '20261399');
    await page.click('#worklist-save');
    await expect.poll(() => page.textContent('#worklist-message')).toBe('startDate: must be a date YYYYMMDD');
    expect(await page.$$(`#worklist-table tr:has-text("E2E-BAD")`)).toHaveLength(0);

    const mpps = newUid();
    const steps = [
      {
        op: 'create',
        uid: mpps,
        attrs: {
          PatientName: 'FLOW^ANN',
          PatientID: 'E2E-WF',
          Modality: 'MR',
          PerformedStationAETitle: 'MR01',
          PerformedProcedureStepID: 'PPS-E2E',
          PerformedProcedureStepStartDate: '20261206',
          PerformedProcedureStepStartTime: '0935',
          PerformedProcedureStepStatus: 'IN PROGRESS',
          ScheduledStepAttributesSequence: [{ StudyInstanceUID: newUid(), ScheduledProcedureStepID: sps, AccessionNumber: 'ACC-E2E' }],
        },
      },
    ];
    const odil = await runDcmtk('/usr/bin/python3', [ODIL, '127.0.0.1', String(pacs.port), 'PACS', 'PACS_CLIENT', JSON.stringify(steps)], {
      timeoutMs: 30_000,
    });
    expect(odil.code, odil.stderr).toBe(0);
    expect(JSON.parse(odil.stdout.trim().split('\n').pop()!)[0].status).toBe(0);
    // The page refreshes itself: no reload.
    await expect.poll(() => page.textContent(`${row(sps)} .sps-status`), { timeout: 10_000 }).toBe('STARTED');

    await page.click('a[data-page=mpps]');
    const mppsRow = `#mpps-table tr[data-mpps="${mpps}"]`;
    await page.waitForSelector(mppsRow);
    expect(await page.textContent(`${mppsRow} .mpps-status`)).toBe('IN PROGRESS');
    expect(await page.textContent(`${mppsRow} .mpps-sps`)).toBe(sps);
    expect(await page.$$eval(`${mppsRow} td`, (tds) => tds.slice(0, 5).map((td) => td.textContent))).toEqual([
      '20261206 0935',
      'FLOW^ANN',
      'E2E-WF',
      'MR',
      'PACS_CLIENT',
    ]);

    await page.click('a[data-page=worklist]');
    await page.fill('#worklist-patientId', 'E2E-CANCEL');
    await page.fill('#worklist-patientName', 'CANCEL^ME');
    await page.fill('#worklist-modality', 'CT');
    await page.click('#worklist-save');
    await expect.poll(() => page.textContent('#worklist-message')).toMatch(/^Scheduled step (SPS[0-9A-F]{12}) for CANCEL\^ME\.$/);
    const other = /step (SPS[0-9A-F]{12})/.exec((await page.textContent('#worklist-message'))!)![1];
    await page.click(`${row(other)} .worklist-cancel`);
    await expect.poll(() => page.textContent('#worklist-message')).toBe(`Canceled step ${other}.`);
    // Canceled steps leave the to-do list; "All states" shows them.
    await expect.poll(async () => (await page.$$(row(other))).length).toBe(0);
    await page.selectOption('#worklist-filter-status', 'all');
    await expect.poll(() => page.textContent(`${row(other)} .sps-status`)).toBe('CANCELED');
    expect(await findscuW()).not.toContain(other);
  });
});

describe('Storage commitment page', () => {
  it('shows a delivered report with its counts, and a pending one that Retry attempts again', async () => {
    const items = study.files;
    const same = await runPacs('commit', '127.0.0.1', String(pacs.port), '--data', pacs.dataDir, '--timeout', '20', '--json', ...items);
    expect(same.status, same.stderr).toBe(0);

    // A requestor that wants its report on a new association, at a port where nothing listens.
    const closed = await freePort();
    const added = await fetch(`${base}/api/aes`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        aeTitle: 'FAR_SCU',
        connection: { host: '127.0.0.1', port: closed },
        commitmentReport: 'new',
        permissions: ['echo', 'store', 'commit'],
        checkHost: false,
      }),
    });
    expect(added.status, await added.text()).toBe(201);
    const far = await runPacs('commit', '127.0.0.1', String(pacs.port), '--aet', 'FAR_SCU', '--data', pacs.dataDir, '--timeout', '2', ...items);
    expect(far.status).not.toBe(0);

    await page.click('a[data-page=commitments]');
    await page.waitForSelector('#commitments-table tr[data-transaction]');
    const done = '#commitments-table tr:has(td:text-is("PACS_CLIENT"))';
    // Marked delivered once the requestor's N-EVENT-REPORT response is in: the page catches up on its own.
    await expect.poll(() => page.textContent(`${done} .commit-state`), { timeout: 10_000 }).toBe('delivered');
    expect(await page.textContent(`${done} .commit-requested`)).toBe('2');
    expect(await page.textContent(`${done} .commit-success`)).toBe('2');
    expect(await page.textContent(`${done} .commit-failed`)).toBe('0');
    expect(await page.$$(`${done} .commit-retry`)).toHaveLength(0);

    const pending = '#commitments-table tr:has(td:text-is("FAR_SCU"))';
    await expect.poll(() => page.textContent(`${pending} .commit-attempts`), { timeout: 15_000 }).toBe('1');
    expect(await page.textContent(`${pending} .commit-state`)).toBe('pending');
    expect(await page.textContent(`${pending} .commit-error`)).toMatch(/ECONNREFUSED/);
    await page.click(`${pending} .commit-retry`);
    await expect.poll(() => page.textContent('#commitments-message')).toMatch(/^Report for FAR_SCU not delivered: .*ECONNREFUSED/);
    await expect.poll(() => page.textContent(`${pending} .commit-attempts`)).toBe('2');
  });
});
