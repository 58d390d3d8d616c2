/**
 * The web app for daily work (issue 19 item 5), in headless chromium against `pacs serve`:
 *   - the login page shows no navigation and no "Log out" before a login;
 *   - the study list shows study time, sex and birth date;
 *   - a study has an address (search and study in the URL): its detail shows in view, a
 *     reload keeps it, the viewer links back to the same list, and Back restores it;
 *   - an instance's tags: all attributes, a sequence opened to its items, a private
 *     element named from the private dictionary;
 *   - the Remote tab lists only AEs that answer C-FIND (Orthanc, registered as
 *     query/retrieve), not WORKSTATION, the Router or a plain storage SCP;
 *   - a delete asks in the page and says what it did;
 *   - the zip is named by patient, date and description and holds a DICOMDIR.
 */
import { unzipSync } from 'fflate';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCtSeries, type CtSeriesResult } from '../../scripts/gen-test-data.js';
import { Dataset } from '../../src/dicom/dataset.js';
import { putString, writeDataset } from '../../src/dicom/dataset-writer.js';
import { buildMetaHeader, readPart10 } from '../../src/dicom/part10.js';
import { freePort, REPO_ROOT, startOrthanc, startPacsServe, startStorescp, stopAllPeers, storescu, type OrthancPeer } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { launchChromiumWithWebGL } from './browser.js';

type Rect = { top: number; bottom: number };

const PASSWORD = 'e2e-password';
const basic = { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` };
let browser: Browser;
let page: Page;
let webUrl: string;
let orthanc: OrthancPeer;
let storescpAet: string;
let study: CtSeriesResult;
let tagged: string;
const others: CtSeriesResult[] = [];

async function rest(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(new URL(path, webUrl), {
    method,
    headers: { ...basic, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
}

/** A copy of `file` in ISO_IR 100 (its Latin-1 text says so), changed by `edit`. */
async function rewrite(file: string, out: string, edit: (ds: Dataset) => void = () => undefined): Promise<void> {
  const { meta, dataset } = readPart10(await readFile(file));
  putString(dataset, 0x00080005, 'CS', 'ISO_IR 100');
  edit(dataset);
  const sorted = new Dataset();
  for (const el of dataset.sorted()) sorted.put(el);
  const sop = Buffer.from(dataset.get(0x00080018)!.value!).toString('latin1').replace(/\0+$/, '');
  const header = buildMetaHeader({ sopClassUid: meta.mediaStorageSopClassUid, sopInstanceUid: sop, transferSyntaxUid: meta.transferSyntaxUid });
  await writeFile(out, Buffer.concat([header, writeDataset(sorted, meta.transferSyntaxUid)]));
}

/** A private block of Siemens' CSA header creator, a sequence with a nested sequence, and a new SOP Instance UID. */
function addTags(dataset: Dataset, sopInstanceUid: string): void {
  putString(dataset, 0x00080018, 'UI', sopInstanceUid);
  putString(dataset, 0x00290010, 'LO', 'SIEMENS CSA HEADER');
  dataset.put({ tag: 0x00291008, vr: 'CS', length: 8, value: Buffer.from('IMAGE NUM 4'.slice(0, 8)) });
  const inner = new Dataset();
  putString(inner, 0x00080100, 'SH', 'T-D1100');
  putString(inner, 0x00080104, 'LO', 'Nested code meaning');
  const item = new Dataset();
  putString(item, 0x00081150, 'UI', '1.2.840.10008.5.1.4.1.1.2');
  putString(item, 0x00081155, 'UI', '1.2.3.4.5.6.7');
  item.put({ tag: 0x0040a170, vr: 'SQ', length: 0, items: [inner] });
  dataset.put({ tag: 0x00081140, vr: 'SQ', length: 0, items: [item] });
}

beforeAll(async () => {
  const dir = await makeTempDir('pacs-e2e-daily-');
  const pacsPort = await freePort();
  const data = join(dir, 'data');
  study = await writeCtSeries({
    dir: join(data, 'a'),
    count: 3,
    rows: 32,
    cols: 32,
    patientName: 'DAILY^ANNA',
    patientId: 'E2E-D',
    studyDescription: 'Tête/cou: contrôle',
  });
  tagged = `${study.sopInstanceUids[0]}.9`;
  const studyFiles = study.files.map((_, i) => join(data, `latin1-${i}.dcm`));
  for (const [i, f] of study.files.entries()) await rewrite(f, studyFiles[i]);
  await rewrite(study.files[0], join(data, 'tagged.dcm'), (ds) => addTags(ds, tagged));
  // 25 more studies of other patients: the list fills its page and the detail would be below it.
  for (let i = 0; i < 25; i++)
    others.push(await writeCtSeries({ dir: join(data, `o${i}`), count: 1, rows: 16, cols: 16, patientName: `DAILY^OTHER${i}`, patientId: `E2E-O${i}` }));
  await build({ root: join(REPO_ROOT, 'ui'), logLevel: 'warn' });
  const [served, scp, orth] = await Promise.all([
    startPacsServe(join(dir, 'pacs'), PASSWORD, { main: pacsPort }),
    startStorescp({ dir: join(dir, 'storescp') }),
    startOrthanc({ dir: join(dir, 'orthanc'), config: { DicomModalities: { PACS_CLIENT: ['PACS_CLIENT', '127.0.0.1', 1] } } }),
  ]);
  orthanc = orth;
  storescpAet = scp.aet;
  webUrl = `${served.base}/`;
  const r = await storescu({ port: served.pacs.port, calledAet: 'PACS', files: [...studyFiles, join(data, 'tagged.dcm'), ...others.flatMap((o) => o.files)] });
  expect(r.code, r.stderr).toBe(0);
  for (const ae of [
    { aeTitle: scp.aet, connection: { host: '127.0.0.1', port: scp.port } },
    { aeTitle: orthanc.aet, connection: { host: '127.0.0.1', port: orthanc.dicomPort }, queryRetrieve: true },
  ])
    expect((await rest('POST', '/api/aes', ae)).status).toBe(201);
  browser = await launchChromiumWithWebGL();
  page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stopAllPeers();
  await removeTempDirs();
});

/** QIDO-RS: how many studies have this UID (no match: 200 with [] or 204). */
async function studiesWithUid(uid: string): Promise<number> {
  const r = await rest('GET', `/dicomweb/studies?StudyInstanceUID=${uid}`);
  return r.status === 204 ? 0 : ((await r.json()) as unknown[]).length;
}

const row = (uid: string) => `#study-results tr[data-study="${uid}"]`;
const hashParams = (p: Page) => new URLSearchParams(new URL(p.url()).hash.split('?')[1] ?? '');

describe('daily work in the web app', () => {
  it('shows neither the navigation nor "Log out" before a login, both after', async () => {
    await page.goto(webUrl);
    await page.waitForSelector('#login-form');
    expect(await page.isVisible('#nav')).toBe(false);
    expect(await page.isVisible('#logout')).toBe(false);
    expect(await page.isVisible('a[href="#/config"]')).toBe(false);
    await page.fill('#login-password', PASSWORD);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#q-search');
    expect(await page.isVisible('#logout')).toBe(true);
    expect(await page.isVisible('a[href="#/config"]')).toBe(true);
  });

  it('lists study time, sex and birth date', async () => {
    await page.fill('#q-patient-name', 'daily^anna');
    await page.click('#q-search button[type=submit]');
    await page.waitForSelector(row(study.studyUid));
    const headers = await page.$$eval('#study-results thead th', (ths) => ths.map((th) => th.textContent));
    expect(headers).toEqual([
      'Patient name',
      'Patient ID',
      'Sex',
      'Birth date',
      'Study date',
      'Time',
      'Modalities',
      'Accession',
      'Description',
      'Series',
      'Instances',
    ]);
    const cells = await page.$$eval(`${row(study.studyUid)} td`, (tds) => tds.map((td) => td.textContent));
    const { dataset } = readPart10(await readFile(study.files[0]));
    const time = Buffer.from(dataset.get(0x00080030)!.value!).toString('latin1').trim();
    expect(cells.slice(0, 6)).toEqual([
      'DAILY ANNA',
      'E2E-D',
      'O',
      '1970-01-01',
      expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
      `${time.slice(0, 2)}:${time.slice(2, 4)}:${time.slice(4, 6)}`,
    ]);
    expect(cells[10]).toBe('4');
  });

  it('gives a study an address, shows it in view, keeps it on reload and comes back from the viewer to the same search', async () => {
    // A search for every DAILY patient: 26 studies, a full page of 25 rows.
    await page.fill('#q-patient-name', 'DAILY');
    await page.click('#q-search button[type=submit]');
    await expect.poll(() => page.$$eval('#study-results tbody tr', (rs) => rs.length)).toBe(25);
    expect(hashParams(page).get('name')).toBe('DAILY');
    const uid = await page.$eval('#study-results tbody tr:last-child', (tr) => tr.getAttribute('data-study'));
    await page.click('#study-results tbody tr:last-child td:nth-child(1)');
    await page.waitForSelector('#study-detail h3');
    expect(hashParams(page).get('study')).toBe(uid);
    expect(hashParams(page).get('name')).toBe('DAILY');
    // In view: the detail's top is inside the window.
    const inView = async () => {
      const r = await page.$eval('#study-detail', (el) => (el as unknown as { getBoundingClientRect(): Rect }).getBoundingClientRect());
      return r.top > -1 && r.top < 720 ? 'in view' : `top at ${r.top}`;
    };
    expect(await inView()).toBe('in view');
    // Reload: the same search (in the form too) and the same study, in view.
    await page.reload();
    await page.waitForSelector(`#study-detail h3`);
    expect(await page.inputValue('#q-patient-name')).toBe('DAILY');
    expect(await page.$$eval('#study-results tbody tr', (rs) => rs.length)).toBe(25);
    expect(await page.$eval('#study-results tr.selected', (tr) => tr.getAttribute('data-study'))).toBe(uid);
    expect(await inView()).toBe('in view');
    // To the viewer, and back with the browser's Back button.
    const listUrl = page.url();
    await page.click('#open-viewer');
    await page.waitForURL(/\/viewer\?/);
    await page.waitForSelector('#viewer-back');
    await page.goBack();
    await page.waitForSelector('#study-detail h3');
    expect(page.url()).toBe(listUrl);
    expect(await page.inputValue('#q-patient-name')).toBe('DAILY');
    // And with the viewer's own link back to the list.
    await page.click('#open-viewer');
    await page.waitForSelector('#viewer-back');
    expect(await page.textContent('#viewer-back')).toBe('← Study list');
    await page.click('#viewer-back');
    await page.waitForSelector('#study-detail h3');
    expect(page.url()).toBe(listUrl);
    expect(await page.$$eval('#study-results tbody tr', (rs) => rs.length)).toBe(25);
    // A link to a study opens it by itself (the Patients and Activity pages link so).
    await page.goto(`${webUrl}#/studies?study=${study.studyUid}`);
    await expect.poll(() => page.textContent('#study-detail h3')).toMatch(/^DAILY ANNA - Tête\/cou: contrôle/);
  });

  it('browses an instance’s tags: names, a sequence opened to its nested items, a private element named', async () => {
    await page.goto(`${webUrl}#/studies?name=DAILY%5EANNA&study=${study.studyUid}`);
    await page.waitForSelector(`#series-list tr[data-series="${study.seriesUid}"]`);
    await page.click(`#series-list tr[data-series="${study.seriesUid}"] .show-instances`);
    await page.click(`li[data-instance="${tagged}"] .show-tags`);
    await page.waitForSelector('#tag-table');
    const cells = (tag: string, depth = 0) =>
      page.$$eval(`#tag-table tr[data-tag="${tag}"][data-depth="${depth}"] td`, (tds) => tds.map((td) => td.textContent));
    expect(await cells('00100010')).toEqual(['(0010,0010)', 'PN', 'Patient Name', 'DAILY^ANNA']);
    expect(await cells('00290010')).toEqual(['(0029,0010)', 'LO', 'Private Creator', 'SIEMENS CSA HEADER']);
    expect((await cells('00291008'))[2]).toBe('CSAImageHeaderType');
    expect(await cells('00081140')).toEqual(['(0008,1140)', 'SQ', '+Referenced Image Sequence', '1 item(s)']);
    expect(await page.$('#tag-table tr[data-tag="00081155"]')).toBeNull();
    await page.click('#tag-table tr[data-tag="00081140"] .tag-toggle');
    expect(await cells('00081155', 1)).toEqual(['(0008,1155)', 'UI', 'Referenced SOP Instance UID', '1.2.3.4.5.6.7']);
    await page.click('#tag-table tr[data-tag="0040A170"][data-depth="1"] .tag-toggle');
    expect(await cells('00080104', 2)).toEqual(['(0008,0104)', 'LO', 'Code Meaning', 'Nested code meaning']);
    // Closing the outer sequence closes what was open inside it.
    await page.click('#tag-table tr[data-tag="00081140"] .tag-toggle');
    expect(await page.$$('#tag-table tr[data-depth="1"], #tag-table tr[data-depth="2"]')).toHaveLength(0);
    expect(await page.$$eval('#tag-table tbody tr', (rs) => rs.length)).toBeGreaterThan(40);
    await page.click('#tag-browser-close');
    await page.waitForSelector('#tag-browser', { state: 'detached' });
  });

  it('offers only AEs that answer C-FIND on the Remote tab, starting on one that does', async () => {
    await page.goto(`${webUrl}#/studies`);
    await page.click('#tab-remote');
    await page.waitForSelector('#remote-ae');
    expect(await page.$$eval('#remote-ae option', (os) => os.map((o) => o.getAttribute('value')))).toEqual([orthanc.aet]);
    expect(await page.inputValue('#remote-ae')).toBe(orthanc.aet);
    // The registry still has the others; a storage SCP is a send destination, not a query target.
    const aes = (await (await rest('GET', '/api/aes')).json()) as { aeTitle: string }[];
    expect(aes.map((a) => a.aeTitle)).toEqual(expect.arrayContaining(['WORKSTATION', 'ROUTER', storescpAet, orthanc.aet]));
    await page.fill('#r-patient-name', 'NOBODY');
    await page.click('#r-search button[type=submit]');
    await expect.poll(() => page.textContent('#remote-status'), { timeout: 20_000 }).toBe(`0 match(es) from ${orthanc.aet}`);
  });

  it('asks in the page before a delete and says afterwards what was deleted', async () => {
    const victim = others[0];
    let nativeDialogs = 0;
    page.on('dialog', (d) => {
      nativeDialogs++;
      void d.dismiss();
    });
    await page.goto(`${webUrl}#/studies?study=${victim.studyUid}`);
    await page.waitForSelector(`#series-list tr[data-series="${victim.seriesUid}"]`);
    await page.click('#delete-study');
    await page.waitForSelector('#confirm-dialog', { state: 'visible' });
    expect(await page.textContent('#confirm-question')).toBe('Delete this study? The files are removed from the archive.');
    await page.click('#confirm-cancel');
    await page.waitForSelector('#confirm-dialog', { state: 'detached' });
    expect(await studiesWithUid(victim.studyUid)).toBe(1);
    await page.click('#delete-study');
    await page.click('#confirm-ok');
    await expect.poll(() => page.textContent('#toast .toast-text')).toBe('deleted this study (1 instance(s))');
    expect(await page.isVisible('#toast')).toBe(true);
    expect(await studiesWithUid(victim.studyUid)).toBe(0);
    expect(hashParams(page).get('study')).toBeNull();
    expect(nativeDialogs).toBe(0);
  });

  it('downloads a zip named by patient, date and description, with a folder per series and a DICOMDIR', async () => {
    await page.goto(`${webUrl}#/studies?study=${study.studyUid}`);
    await page.waitForSelector(`#series-list tr[data-series="${study.seriesUid}"]`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-study')]);
    const { dataset } = readPart10(await readFile(study.files[0]));
    const date = Buffer.from(dataset.get(0x00080020)!.value!).toString('latin1').trim();
    expect(download.suggestedFilename()).toBe(`DAILY_ANNA_E2E-D_${date}_Tete_cou_controle.zip`);
    const zip = unzipSync(new Uint8Array(await readFile(await download.path())));
    expect(Object.keys(zip).sort()).toEqual([
      'DICOM/S0000001/I0000001',
      'DICOM/S0000001/I0000002',
      'DICOM/S0000001/I0000003',
      'DICOM/S0000001/I0000004',
      'DICOMDIR',
    ]);
    // The de-identified one: its new identity only.
    await page.check('#download-anonymize');
    const [anon] = await Promise.all([page.waitForEvent('download'), page.click('#download-study')]);
    expect(anon.suggestedFilename()).toMatch(/^ANONYMOUS_ANON[0-9A-F]{10}_anonymized\.zip$/);
    expect(anon.suggestedFilename()).not.toContain(study.studyUid);
  });
});
