/**
 * The viewer's Query/Retrieve panel in headless chromium against `pacs serve` and a remote
 * Orthanc holding a CT study (stored with storescu): the panel's query (C-FIND as
 * WS_CLIENT through the server) finds it, Retrieve (C-MOVE to WORKSTATION) runs to done
 * with its progress bar, Open shows it in the viewer from the workstation archive with
 * a non-blank viewport, and "Send study" stores the open study in the Main Server.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCtSeries, type CtSeriesResult } from '../../scripts/gen-test-data.js';
import { freePort, REPO_ROOT, startOrthanc, startPacsServe, stopAllPeers, storescu, type OrthancPeer } from '../support/peers.js';
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
let orthanc: OrthancPeer;
let local: CtSeriesResult; // in the Main Server: the study the viewer starts on
let remote: CtSeriesResult; // only at Orthanc until retrieved

/** Series UIDs of a study in one of our archives' DICOMweb (QIDO-RS). */
async function qidoSeries(prefix: '/dicomweb' | '/workstation/dicomweb', study: string): Promise<string[]> {
  const r = await fetch(`${base}${prefix}/studies/${study}/series`, { headers: basic });
  if (r.status === 204) return [];
  const body = (await r.json()) as Array<Record<string, { Value: string[] }>>;
  return body.map((s) => s['0020000E'].Value[0]);
}

/** The fraction of viewport 0's canvas pixels brighter than 8 (grey = mean of R, G, B). */
function nonBlack(): Promise<number> {
  return page.evaluate(() => {
    const canvas = window.__viewer!.viewer.grid.cells[0].element.querySelector('canvas')!;
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    let bright = 0;
    for (let p = 0; p < data.length; p += 4) if ((data[p] + data[p + 1] + data[p + 2]) / 3 > 8) bright++;
    return bright / (data.length / 4);
  });
}

const viewerReady = () => page.waitForFunction(() => window.__viewer?.ready === true, null, { timeout: 60_000 });

beforeAll(async () => {
  const dir = await makeTempDir('pacs-viewer-qr-e2e-');
  await build({ root: join(REPO_ROOT, 'ui'), logLevel: 'warn' });
  local = await writeCtSeries({ dir: join(dir, 'local'), count: 3, rows: 128, cols: 128, patientName: 'LOCAL^ANN', patientId: 'QR-L' });
  remote = await writeCtSeries({
    dir: join(dir, 'remote'),
    count: 5,
    rows: 128,
    cols: 128,
    patientName: 'REMOTE^VIC',
    patientId: 'QR-R',
    seriesDescription: 'remote ct',
  });
  const ws = await freePort();
  const [served, orth] = await Promise.all([
    startPacsServe(join(dir, 'pacs'), PASSWORD, { workstation: ws }),
    startOrthanc({
      dir: join(dir, 'orthanc'),
      // Orthanc answers C-FIND/C-MOVE from known AEs only (the viewer calls as WS_CLIENT) and moves to known AEs.
      config: { DicomModalities: { WORKSTATION: ['WORKSTATION', '127.0.0.1', ws], WS_CLIENT: ['WS_CLIENT', '127.0.0.1', 1] } },
    }),
  ]);
  orthanc = orth;
  const { pacs } = served;
  base = served.base;
  for (const r of [
    await storescu({ port: pacs.port, calledAet: 'PACS', files: local.files }),
    await storescu({ port: orthanc.dicomPort, calledAet: orthanc.aet, files: remote.files }),
  ])
    expect(r.code, r.stderr).toBe(0);
  const added = await fetch(`${base}/api/aes`, {
    method: 'POST',
    headers: { ...basic, 'content-type': 'application/json' },
    body: JSON.stringify({ aeTitle: orthanc.aet, connection: { host: '127.0.0.1', port: orthanc.dicomPort } }),
  });
  expect(added.status, await added.text()).toBe(201);
  browser = await launchChromiumWithWebGL();
  page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  page.on('pageerror', (e) => console.error('page error:', e.message));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stopAllPeers();
  await removeTempDirs();
});

describe("viewer's Query/Retrieve panel", () => {
  it('queries Orthanc, retrieves the study into the Workstation Server with progress, and opens it there', async () => {
    await page.goto(`${base}/viewer?StudyInstanceUIDs=${local.studyUid}`);
    await page.fill('#login-password', PASSWORD);
    await page.click('#login-form button[type=submit]');
    await viewerReady();
    expect(await qidoSeries('/workstation/dicomweb', remote.studyUid)).toEqual([]);

    await page.click('#qr-toggle');
    await page.waitForSelector('#qr-ae');
    // Our own Main Server first, then the remote AEs; the other local roles are not offered.
    expect(await page.$$eval('#qr-ae option', (os) => os.map((o) => o.getAttribute('value')))).toEqual(['PACS', orthanc.aet]);
    await page.selectOption('#qr-ae', orthanc.aet);
    await page.fill('#qr-patient-name', 'nobody');
    await page.click('#qr-search button[type=submit]');
    await expect.poll(() => page.textContent('#qr-status')).toMatch(new RegExp(`^0 match\\(es\\) from ${orthanc.aet}`));
    expect(await page.textContent('#qr-results tbody')).toBe('No studies found.');
    await page.fill('#qr-patient-name', 'remote');
    await page.click('#qr-search button[type=submit]');
    const row = `#qr-results tr[data-study="${remote.studyUid}"]`;
    await page.waitForSelector(row);
    expect(await page.$$eval('#qr-results tbody tr', (rows) => rows.length)).toBe(1);
    expect(await page.textContent(`${row} td:nth-child(2)`)).toBe('QR-R');
    await expect.poll(() => page.textContent('#qr-status')).toMatch(new RegExp(`1 match\\(es\\) from ${orthanc.aet}`));

    await page.click(`${row} button.qr-retrieve`);
    await page.waitForSelector('#qr-job[data-state="done"]', { timeout: 60_000 });
    expect(await page.textContent('#qr-job .job-label')).toBe(`study ${remote.studyUid} from ${orthanc.aet} to WORKSTATION`);
    expect(await page.textContent('#qr-job .job-status')).toMatch(/done: C-MOVE status 0x0000: 5 completed, 0 failed/);
    // The bar is full: 5 of 5 sub-operations.
    expect(
      await page.$eval('#qr-job progress', (p) => {
        const bar = p as unknown as { value: number; max: number };
        return [bar.value, bar.max];
      }),
    ).toEqual([5, 5]);
    // Into the workstation archive only.
    expect(await qidoSeries('/workstation/dicomweb', remote.studyUid)).toEqual([remote.seriesUid]);
    expect(await qidoSeries('/dicomweb', remote.studyUid)).toEqual([]);

    const open = `#qr-job a.qr-open-study[data-study="${remote.studyUid}"]`;
    expect(await page.getAttribute(open, 'href')).toBe(`/viewer?StudyInstanceUIDs=${remote.studyUid}&archive=workstation`);
    await Promise.all([page.waitForURL(/archive=workstation/), page.click(open)]);
    await viewerReady();
    expect(await page.evaluate(() => window.__viewer!.error ?? null)).toBeNull();
    expect(await page.evaluate(() => window.__viewer!.viewer.options)).toEqual({ studyUids: [remote.studyUid], archive: 'workstation' });
    await page.waitForFunction(() => (window.__viewer!.viewer.grid.cells[0].viewport?.getImageIds().length ?? 0) > 0, null, { timeout: 60_000 });
    expect(await page.evaluate(() => window.__viewer!.viewer.grid.cells[0].viewport!.getImageIds().length)).toBe(5);
    expect(await page.evaluate(() => window.__viewer!.viewer.grid.cells[0].viewport!.getImageIds()[0])).toContain('/workstation/dicomweb/');
    await expect.poll(nonBlack, { timeout: 30_000 }).toBeGreaterThan(0.2);
  });

  it('sends the open study (from the workstation archive) to the Main Server with progress', async () => {
    expect(await qidoSeries('/dicomweb', remote.studyUid)).toEqual([]);
    await page.click('#qr-toggle');
    await page.waitForSelector('#qr-send-dest');
    const targets = await page.$$eval('#qr-send-dest option', (os) => os.map((o) => o.getAttribute('value')));
    expect(targets).toContain('PACS');
    expect(targets).not.toContain('WORKSTATION');
    await page.selectOption('#qr-send-dest', 'PACS');
    await page.click('#qr-send');
    await page.waitForSelector('#qr-send-job[data-state="done"]', { timeout: 60_000 });
    expect(await page.textContent('#qr-send-job .job-status')).toMatch(/done: 5 of 5 instance\(s\) sent to PACS/);
    expect(await qidoSeries('/dicomweb', remote.studyUid)).toEqual([remote.seriesUid]);
  });
});
