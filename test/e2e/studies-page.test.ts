/**
 * The Studies page in headless chromium against `pacs serve` (DICOMweb, REST) with DCMTK's
 * storescp and Orthanc as peers: search finds a stored study and its series show
 * thumbnails; a folder upload (STOW-RS from the browser) reaches 100% and the new study
 * is listed; a study is sent to storescp; a series and an instance are deleted (gone from
 * QIDO and from the counts too); a study is found at Orthanc (C-FIND) and retrieved into
 * the archive (C-MOVE).
 */
import { zipSync } from 'fflate';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCtSeries, type CtSeriesResult } from '../../scripts/gen-test-data.js';
import {
  freePort,
  REPO_ROOT,
  startOrthanc,
  startPacsServe,
  startStorescp,
  stopAllPeers,
  storescu,
  type OrthancPeer,
  type StorescpPeer,
} from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { launchChromium } from './browser.js';

// DOM shapes read in the page (the test's tsconfig has no DOM library).
type Img = { complete: boolean; naturalWidth: number };
type Bar = { value: number; max: number };

const PASSWORD = 'e2e-password';
const basic = { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` };
let browser: Browser;
let page: Page;
let storescp: StorescpPeer;
let orthanc: OrthancPeer;
let webUrl: string;
let stored: CtSeriesResult;
let stored2: CtSeriesResult;
let uploadDir: string;
let uploaded: CtSeriesResult;
let atOrthanc: CtSeriesResult;
let zipped: CtSeriesResult;

async function rest(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(new URL(path, webUrl), {
    method,
    headers: { ...basic, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
}

async function qidoSeries(study: string): Promise<string[]> {
  const r = await rest('GET', `/dicomweb/studies/${study}/series`);
  if (r.status === 204) return [];
  return ((await r.json()) as Record<string, { Value: string[] }>[]).map((s) => s['0020000E'].Value[0]);
}

beforeAll(async () => {
  const dir = await makeTempDir('pacs-e2e-studies-');
  const pacsPort = await freePort();
  const data = join(dir, 'data');
  stored = await writeCtSeries({
    dir: join(data, 'a'),
    count: 4,
    rows: 64,
    cols: 64,
    patientName: 'BROWSER^ALICE',
    patientId: 'E2E-A',
    studyDescription: 'Browser test head',
  });
  stored2 = await writeCtSeries({
    dir: join(data, 'a2'),
    count: 2,
    rows: 64,
    cols: 64,
    patientName: 'BROWSER^ALICE',
    patientId: 'E2E-A',
    studyUid: stored.studyUid,
    seriesNumber: 2,
  });
  uploadDir = join(data, 'upload');
  uploaded = await writeCtSeries({ dir: join(uploadDir, 'nested', 'series'), count: 5, rows: 64, cols: 64, patientName: 'UPLOAD^BOB', patientId: 'E2E-U' });
  atOrthanc = await writeCtSeries({ dir: join(data, 'orthanc'), count: 3, rows: 64, cols: 64, patientName: 'REMOTE^CAROL', patientId: 'E2E-R' });
  zipped = await writeCtSeries({ dir: join(data, 'zip'), count: 3, rows: 32, cols: 32, patientName: 'ZIPPED^DAN', patientId: 'E2E-Z' });
  await build({ root: join(REPO_ROOT, 'ui'), logLevel: 'warn' });
  const [served, scp, orth] = await Promise.all([
    startPacsServe(join(dir, 'pacs'), PASSWORD, { main: pacsPort }),
    startStorescp({ dir: join(dir, 'storescp') }),
    startOrthanc({
      dir: join(dir, 'orthanc'),
      // Orthanc answers C-FIND/C-MOVE from known AEs only and moves to known AEs.
      config: { DicomModalities: { PACS: ['PACS', '127.0.0.1', pacsPort], PACS_CLIENT: ['PACS_CLIENT', '127.0.0.1', 1] } },
    }),
  ]);
  storescp = scp;
  orthanc = orth;
  const { pacs } = served;
  webUrl = `${served.base}/`;
  for (const r of [
    await storescu({ port: pacs.port, calledAet: 'PACS', files: [...stored.files, ...stored2.files] }),
    await storescu({ port: orthanc.dicomPort, calledAet: orthanc.aet, files: atOrthanc.files }),
  ])
    expect(r.code, r.stderr).toBe(0);
  for (const ae of [
    { aeTitle: storescp.aet, connection: { host: '127.0.0.1', port: storescp.port } },
    { aeTitle: orthanc.aet, connection: { host: '127.0.0.1', port: orthanc.dicomPort }, queryRetrieve: true },
  ])
    expect((await rest('POST', '/api/aes', ae)).status).toBe(201);
  browser = await launchChromium();
  page = await browser.newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stopAllPeers();
  await removeTempDirs();
});

const row = (uid: string) => `#study-results tr[data-study="${uid}"]`;

describe('Studies page', () => {
  it('is the page after login; a search finds the stored study; its series show thumbnails', async () => {
    await page.goto(webUrl);
    await page.fill('#login-password', PASSWORD);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#q-search');
    await page.fill('#q-patient-name', 'browser');
    await page.click('#q-search button[type=submit]');
    await page.waitForSelector(row(stored.studyUid));
    expect(await page.textContent(`${row(stored.studyUid)} td:nth-child(2)`)).toBe('E2E-A');
    expect(await page.textContent(`${row(stored.studyUid)} td:nth-child(11)`)).toBe('6');
    await page.click(`${row(stored.studyUid)} td:nth-child(1)`);
    await page.waitForSelector(`#series-list tr[data-series="${stored2.seriesUid}"]`);
    expect(await page.getAttribute('#open-viewer', 'href')).toBe(
      `/viewer?StudyInstanceUIDs=${stored.studyUid}&back=${encodeURIComponent(`#/studies?name=browser&study=${stored.studyUid}`)}`,
    );
    for (const se of [stored.seriesUid, stored2.seriesUid]) {
      const img = `#series-list tr[data-series="${se}"] img.thumb`;
      await page.locator(img).scrollIntoViewIfNeeded();
      await expect
        .poll(() => page.$eval(img, (el) => (el as unknown as Img).complete && (el as unknown as Img).naturalWidth), { timeout: 20_000 })
        .toBeGreaterThan(0);
    }
    // A search that matches nothing.
    await page.fill('#q-patient-name', 'nobody-by-that-name');
    await page.click('#q-search button[type=submit]');
    await expect.poll(() => page.textContent('#study-results tbody')).toMatch(/No studies found/);
  });

  it('uploads a folder by STOW-RS with progress to 100%, then lists the new study', async () => {
    await page.setInputFiles('#upload-folder', uploadDir);
    await expect.poll(() => page.textContent('#upload-status'), { timeout: 30_000 }).toMatch(/^5 stored, 0 failed or skipped \(100%\)$/);
    expect(await page.$eval('#upload-progress', (p) => [(p as unknown as Bar).value, (p as unknown as Bar).max])).toEqual([5, 5]);
    await page.fill('#q-patient-name', 'UPLOAD');
    await page.click('#q-search button[type=submit]');
    await page.waitForSelector(row(uploaded.studyUid));
    expect(await page.textContent(`${row(uploaded.studyUid)} td:nth-child(11)`)).toBe('5');
  });

  it('unzips a dropped .zip in the browser, stores its DICOM files and lists what is not DICOM', async () => {
    const zip = zipSync({
      ...Object.fromEntries(zipped.files.map((f, i) => [`dir/${i}.dcm`, new Uint8Array(readFileSync(f))])),
      'dir/readme.txt': new TextEncoder().encode('not DICOM'),
    });
    const dt = await page.evaluateHandle((b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      // Runs in the page: DataTransfer and File are the browser's.
      const g = globalThis as unknown as {
        DataTransfer: new () => { items: { add(f: unknown): void } };
        File: new (parts: unknown[], name: string, o: object) => unknown;
      };
      const t = new g.DataTransfer();
      t.items.add(new g.File([bytes], 'export.zip', { type: 'application/zip' }));
      return t;
    }, Buffer.from(zip).toString('base64'));
    await page.dispatchEvent('#upload-drop', 'drop', { dataTransfer: dt });
    await expect.poll(() => page.textContent('#upload-status'), { timeout: 30_000 }).toMatch(/^3 stored, 1 failed or skipped \(100%\)$/);
    expect(await page.textContent('#upload-failures')).toBe('export.zip/dir/readme.txt: not a DICOM Part 10 file');
    expect(await qidoSeries(zipped.studyUid)).toEqual([zipped.seriesUid]);
  });

  it('sends a study to storescp and shows the job complete', async () => {
    await page.fill('#q-patient-name', 'BROWSER');
    await page.click('#q-search button[type=submit]');
    await page.click(`${row(stored.studyUid)} td:nth-child(1)`);
    await page.waitForSelector(`#series-list tr[data-series="${stored.seriesUid}"]`);
    await page.selectOption('#send-dest', storescp.aet);
    await page.click('#send-study');
    await page.waitForSelector('#send-job[data-state=done]', { timeout: 30_000 });
    expect(await page.textContent('#send-job .job-status')).toBe(`done: 6 of 6 instance(s) sent to ${storescp.aet}`);
    expect(await page.$eval('#send-job progress', (p) => (p as unknown as Bar).value)).toBe(6);
    expect(await storescp.countFiles()).toBe(6);
  });

  it('deletes a series after confirmation: gone from the page and from QIDO', async () => {
    expect(await qidoSeries(stored.studyUid)).toContain(stored2.seriesUid);
    await page.click(`#series-list tr[data-series="${stored2.seriesUid}"] .delete-series`);
    await page.click('#confirm-ok');
    await page.waitForSelector(`#series-list tr[data-series="${stored2.seriesUid}"]`, { state: 'detached' });
    expect(await page.textContent('#detail-message')).toMatch(/deleted series 2 \(2 instance\(s\)\)/);
    expect(await qidoSeries(stored.studyUid)).toEqual([stored.seriesUid]);
    expect(await page.textContent('#toast .toast-text')).toBe('deleted series 2 (2 instance(s))');
    // The study list's counts follow (4 of 6 instances left), the open study stays open.
    await expect.poll(() => page.textContent(`${row(stored.studyUid)} td:nth-child(11)`)).toBe('4');
    expect(await page.textContent('#detail-message')).toMatch(/deleted series 2/);
    // A dismissed confirmation deletes nothing.
    await page.click(`#series-list tr[data-series="${stored.seriesUid}"] .delete-series`);
    await page.click('#confirm-cancel');
    await page.waitForSelector('#confirm-dialog', { state: 'detached' });
    expect(await qidoSeries(stored.studyUid)).toEqual([stored.seriesUid]);
  });

  it('deletes one instance: gone from its series row, the study list and QIDO', async () => {
    const seriesRow = `#series-list tr[data-series="${stored.seriesUid}"]`;
    const victim = stored.sopInstanceUids[3];
    await page.click(`${seriesRow} .show-instances`);
    await page.click(`${seriesRow} li[data-instance="${victim}"] .delete-instance`);
    await page.click('#confirm-ok');
    await page.waitForSelector(`${seriesRow} li[data-instance="${victim}"]`, { state: 'detached' });
    expect(await page.textContent(`${seriesRow} .instance-count`)).toBe('3');
    expect(await page.textContent('#detail-message')).toBe(`deleted instance ${victim} (1 instance(s))`);
    await expect.poll(() => page.textContent(`${row(stored.studyUid)} td:nth-child(11)`)).toBe('3');
    const left = await rest('GET', `/dicomweb/studies/${stored.studyUid}/series/${stored.seriesUid}/instances`);
    const uids = ((await left.json()) as Record<string, { Value: string[] }>[]).map((i) => i['00080018'].Value[0]);
    expect(uids.sort()).toEqual(stored.sopInstanceUids.slice(0, 3).sort());
  });

  it('queries Orthanc from the Remote tab and retrieves a study into the archive', async () => {
    expect(await qidoSeries(atOrthanc.studyUid)).toEqual([]);
    await page.click('#tab-remote');
    await page.waitForSelector('#r-search');
    await page.selectOption('#remote-ae', orthanc.aet);
    await page.fill('#r-patient-name', 'REMOTE');
    await page.click('#r-search button[type=submit]');
    const remoteRow = `#remote-results tr[data-study="${atOrthanc.studyUid}"]`;
    await page.waitForSelector(remoteRow, { timeout: 20_000 });
    expect(await page.textContent('#remote-status')).toMatch(/^1 match\(es\) from ORTHANC/);
    await page.click(`${remoteRow} button.retrieve`);
    await page.waitForSelector('#remote-job[data-state=done]', { timeout: 30_000 });
    expect(await page.textContent('#remote-job .job-status')).toMatch(/^done: C-MOVE status 0x0000: 3 completed, 0 failed/);
    expect(await page.$eval('#remote-job progress', (p) => [(p as unknown as Bar).value, (p as unknown as Bar).max])).toEqual([3, 3]);
    expect(await qidoSeries(atOrthanc.studyUid)).toEqual([atOrthanc.seriesUid]);
  });
});
