/**
 * The Workstation Server's own studies in headless chromium against `pacs serve`: two
 * studies pushed to WORKSTATION with DCMTK storescu are listed on the Studies page's
 * Workstation tab (and a study of the Main Server is not), one opens in the viewer from the
 * workstation archive, Delete (asked in the page) removes the other (gone from QIDO too,
 * recorded in the activity log). The viewer's Query/Retrieve panel offers our own Main
 * Server: its query finds a study stored only there, Retrieve brings it into the
 * Workstation and it opens there, and the Workstation tab then lists it.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCtSeries, type CtSeriesResult } from '../../scripts/gen-test-data.js';
import type { ActivityPage } from '../../src/api-types/index.js';
import { REPO_ROOT, startPacsServe, stopAllPeers, storescu } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { launchChromiumWithWebGL } from './browser.js';

interface CanvasLike {
  width: number;
  height: number;
  getContext(type: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
}
interface ViewerHook {
  ready: boolean;
  error?: string;
  viewer: {
    options: { studyUids: string[]; archive: string };
    grid: { cells: Array<{ element: { querySelector(s: string): CanvasLike | null }; viewport?: { getImageIds(): string[] } }> };
  };
}
declare const window: { __viewer?: ViewerHook };

const PASSWORD = 'e2e-password';
const basic = { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` };
let browser: Browser;
let page: Page;
let base: string;
let wsAnn: CtSeriesResult; // pushed to the Workstation: opened
let wsBen: CtSeriesResult; // pushed to the Workstation: deleted
let inMain: CtSeriesResult; // only in the Main Server until retrieved

async function qidoSeries(prefix: '/dicomweb' | '/workstation/dicomweb', study: string): Promise<string[]> {
  const r = await fetch(`${base}${prefix}/studies/${study}/series`, { headers: basic });
  if (r.status === 204) return [];
  return ((await r.json()) as Array<Record<string, { Value: string[] }>>).map((s) => s['0020000E'].Value[0]);
}

/** The fraction of viewport 0's canvas pixels brighter than 8. */
function nonBlack(): Promise<number> {
  return page.evaluate(() => {
    const canvas = window.__viewer!.viewer.grid.cells[0].element.querySelector('canvas')!;
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    let bright = 0;
    for (let p = 0; p < data.length; p += 4) if ((data[p] + data[p + 1] + data[p + 2]) / 3 > 8) bright++;
    return bright / (data.length / 4);
  });
}

/** The viewer shows `count` images of `study` from the workstation archive, not blank. */
async function expectViewerShows(study: string, count: number): Promise<void> {
  await page.waitForFunction(() => window.__viewer?.ready === true, null, { timeout: 60_000 });
  expect(await page.evaluate(() => window.__viewer!.error ?? null)).toBeNull();
  expect(await page.evaluate(() => window.__viewer!.viewer.options)).toEqual({ studyUids: [study], archive: 'workstation' });
  await page.waitForFunction(() => (window.__viewer!.viewer.grid.cells[0].viewport?.getImageIds().length ?? 0) > 0, null, { timeout: 60_000 });
  expect(await page.evaluate(() => window.__viewer!.viewer.grid.cells[0].viewport!.getImageIds().length)).toBe(count);
  expect(await page.evaluate(() => window.__viewer!.viewer.grid.cells[0].viewport!.getImageIds()[0])).toContain('/workstation/dicomweb/');
  await expect.poll(nonBlack, { timeout: 30_000 }).toBeGreaterThan(0.2);
}

const wsRow = (uid: string) => `#ws-results tr[data-study="${uid}"]`;

async function openWorkstationTab(): Promise<void> {
  await page.goto(base);
  await page.waitForSelector('#tab-workstation');
  await page.click('#tab-workstation');
  await page.waitForSelector('#ws-results');
}

beforeAll(async () => {
  const dir = await makeTempDir('pacs-ws-studies-e2e-');
  await build({ root: join(REPO_ROOT, 'ui'), logLevel: 'warn' });
  wsAnn = await writeCtSeries({
    dir: join(dir, 'ann'),
    count: 4,
    rows: 128,
    cols: 128,
    patientName: 'WSTAB^ANN',
    patientId: 'WS-1',
    studyDescription: 'ws head',
  });
  wsBen = await writeCtSeries({ dir: join(dir, 'ben'), count: 2, rows: 64, cols: 64, patientName: 'WSTAB^BEN', patientId: 'WS-2' });
  inMain = await writeCtSeries({ dir: join(dir, 'main'), count: 5, rows: 128, cols: 128, patientName: 'MAINONLY^CLARA', patientId: 'MS-1' });
  const served = await startPacsServe(join(dir, 'pacs'), PASSWORD);
  base = served.base;
  for (const r of [
    await storescu({ port: served.workstationPort, calledAet: 'WORKSTATION', files: [...wsAnn.files, ...wsBen.files] }),
    await storescu({ port: served.pacs.port, calledAet: 'PACS', files: inMain.files }),
  ])
    expect(r.code, r.stderr).toBe(0);
  browser = await launchChromiumWithWebGL();
  page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(base);
  await page.fill('#login-password', PASSWORD);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#q-search');
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stopAllPeers();
  await removeTempDirs();
});

describe("the Studies page's Workstation tab", () => {
  it('lists the studies pushed to the Workstation Server, and only those, with the archive size against the cap', async () => {
    await openWorkstationTab();
    await page.waitForSelector(wsRow(wsAnn.studyUid));
    expect(await page.$$eval('#ws-results tbody tr', (rows) => rows.map((r) => r.getAttribute('data-study')).sort())).toEqual(
      [wsAnn.studyUid, wsBen.studyUid].sort(),
    );
    expect(await page.textContent(`${wsRow(wsAnn.studyUid)} td:nth-child(1)`)).toBe('WSTAB ANN');
    expect(await page.textContent(`${wsRow(wsAnn.studyUid)} td:nth-child(2)`)).toBe('WS-1');
    expect(await page.textContent(`${wsRow(wsAnn.studyUid)} td:nth-child(11)`)).toBe('4'); // Instances
    await expect.poll(() => page.textContent('#ws-usage')).toMatch(/^Workstation archive: \d+\.\d KiB of 20\.0 GiB \(6 instance\(s\)\)/);

    await page.fill('#ws-patient-name', 'wstab^b');
    await page.click('#ws-search button[type=submit]');
    await expect.poll(() => page.$$eval('#ws-results tbody tr', (rows) => rows.map((r) => r.getAttribute('data-study')))).toEqual([wsBen.studyUid]);
    await page.fill('#ws-patient-name', 'mainonly');
    await page.click('#ws-search button[type=submit]');
    await expect.poll(() => page.textContent('#ws-results tbody')).toBe('No studies found.');
  });

  it('opens a study in the viewer from the workstation archive', async () => {
    await openWorkstationTab();
    const open = `${wsRow(wsAnn.studyUid)} a.ws-open`;
    await page.waitForSelector(open);
    expect(await page.getAttribute(open, 'href')).toBe(`/viewer?StudyInstanceUIDs=${wsAnn.studyUid}&archive=workstation`);
    await Promise.all([page.waitForURL(/\/viewer\?/), page.click(open)]);
    await expectViewerShows(wsAnn.studyUid, 4);
  });

  it('deletes a study after a confirmation in the page: gone from the tab, from QIDO, and in the activity log', async () => {
    await openWorkstationTab();
    const row = wsRow(wsBen.studyUid);
    await page.waitForSelector(row);
    // "No" keeps it.
    await page.click(`${row} button.ws-delete`);
    expect(await page.textContent(`${row} .ws-delete-box`)).toBe('Delete this study? Yes, delete No');
    await page.click(`${row} button.ws-delete-no`);
    expect(await page.textContent(`${row} .ws-delete-box`)).toBe('Delete');
    expect(await qidoSeries('/workstation/dicomweb', wsBen.studyUid)).toEqual([wsBen.seriesUid]);

    await page.click(`${row} button.ws-delete`);
    await page.click(`${row} button.ws-delete-yes`);
    await expect.poll(() => page.textContent('#ws-message')).toBe(`Deleted study ${wsBen.studyUid} from the Workstation Server (2 instance(s)).`);
    await page.waitForSelector(row, { state: 'detached' });
    expect(await page.$$eval('#ws-results tbody tr', (rows) => rows.map((r) => r.getAttribute('data-study')))).toEqual([wsAnn.studyUid]);
    await expect.poll(() => page.textContent('#ws-usage')).toMatch(/\(4 instance\(s\)\)/);
    expect(await qidoSeries('/workstation/dicomweb', wsBen.studyUid)).toEqual([]);
    expect(await qidoSeries('/workstation/dicomweb', wsAnn.studyUid)).toEqual([wsAnn.seriesUid]);

    const activity = (await (await fetch(`${base}/api/activity?kind=delete&studyUid=${wsBen.studyUid}`, { headers: basic })).json()) as ActivityPage;
    expect(activity.events).toHaveLength(1);
    expect(activity.events[0]).toMatchObject({
      kind: 'delete',
      outcome: 'success',
      user: 'admin',
      role: 'workstation',
      patientIds: ['WS-2'],
      message: `admin: deleted study ${wsBen.studyUid} from the Workstation Server: 2 instance(s)`,
    });
  });
});

describe("the viewer's Query/Retrieve panel with the Main Server as the source", () => {
  it('finds a study stored only in the Main Server, retrieves it into the Workstation, opens it there', async () => {
    expect(await qidoSeries('/workstation/dicomweb', inMain.studyUid)).toEqual([]);
    await page.goto(`${base}/viewer?StudyInstanceUIDs=${wsAnn.studyUid}&archive=workstation`);
    await page.waitForFunction(() => window.__viewer?.ready === true, null, { timeout: 60_000 });
    await page.click('#qr-toggle');
    await page.waitForSelector('#qr-ae');
    // No remote AE is registered: our own Main Server is the one source.
    expect(await page.$$eval('#qr-ae option', (os) => os.map((o) => [o.getAttribute('value'), o.textContent]))).toEqual([
      ['PACS', "PACS (this server's Main Server)"],
    ]);
    await page.fill('#qr-patient-name', 'mainonly');
    await page.click('#qr-search button[type=submit]');
    const row = `#qr-results tr[data-study="${inMain.studyUid}"]`;
    await page.waitForSelector(row);
    expect(await page.$$eval('#qr-results tbody tr', (rows) => rows.length)).toBe(1);
    expect(await page.textContent(`${row} td:nth-child(2)`)).toBe('MS-1');
    await expect.poll(() => page.textContent('#qr-status')).toBe('1 match(es) from PACS');

    await page.click(`${row} button.qr-retrieve`);
    await page.waitForSelector('#qr-job[data-state="done"]', { timeout: 60_000 });
    expect(await page.textContent('#qr-job .job-label')).toBe(`study ${inMain.studyUid} from PACS to WORKSTATION`);
    expect(await page.textContent('#qr-job .job-status')).toMatch(/done: C-MOVE status 0x0000: 5 completed, 0 failed/);
    expect(await qidoSeries('/workstation/dicomweb', inMain.studyUid)).toEqual([inMain.seriesUid]);
    // Still in the Main Server: a retrieve copies.
    expect(await qidoSeries('/dicomweb', inMain.studyUid)).toEqual([inMain.seriesUid]);

    const open = `#qr-job a.qr-open-study[data-study="${inMain.studyUid}"]`;
    await Promise.all([page.waitForURL(new RegExp(`StudyInstanceUIDs=${inMain.studyUid.replaceAll('.', '\\.')}&archive=workstation`)), page.click(open)]);
    await expectViewerShows(inMain.studyUid, 5);

    await openWorkstationTab();
    await page.waitForSelector(wsRow(inMain.studyUid));
    expect(await page.textContent(`${wsRow(inMain.studyUid)} td:nth-child(2)`)).toBe('MS-1');
  });
});
