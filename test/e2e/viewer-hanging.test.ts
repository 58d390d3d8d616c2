/**
 * Hanging protocols in the viewer (headless chromium against `pacs serve`):
 * - a CT whose patient (same Patient ID) has two older CTs: the study opens 1x2 with its
 *   axial series beside the newest prior's axial series (not the prior's scout, not the
 *   oldest study), labelled CURRENT and PRIOR with their dates; scrolling the current
 *   (1.25 mm slices from z = 0) moves the prior (2.5 mm slices from z = 3, another frame of
 *   reference) to its slice nearest in position, and the current stays where it was put;
 * - an MR study of five series laid out 2x2 by series description (T1, T2, FLAIR, DWI);
 * - a protocol saved by an admin on the Hanging protocols page (PUT /api/hanging-protocols)
 *   takes effect on the next open; a bad one is refused with the server's message.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCtSeries, type CtSeriesResult } from '../../scripts/gen-test-data.js';
import { runDcmtk } from '../support/peers.js';
import { makeTempDir } from '../support/tmp.js';
import { startViewer, stopViewer, type ViewerHook, type ViewerPage } from './viewer-fixture.js';

declare const window: { __viewer?: ViewerHook };

let v: ViewerPage;
let page: Page;
const PATIENT = 'HANG-CT-1';
let currentScout: CtSeriesResult;
let currentAxial: CtSeriesResult; // 24 slices, 1.25 mm, z = 0 .. 28.75
let priorScout: CtSeriesResult;
let priorAxial: CtSeriesResult; // 8 slices, 2.5 mm, z = 3 .. 20.5, 2025-01-15
let oldest: CtSeriesResult; // 2020-06-01: older than the prior, not chosen
const mr: Record<'t1' | 'flair' | 't2' | 'dwi' | 'localizer', CtSeriesResult> = {} as never;
let today: string;

beforeAll(async () => {
  const dir = await makeTempDir('pacs-viewer-hanging-e2e-');
  const small = { rows: 128, cols: 128, patientId: PATIENT, patientName: 'HANGING^CT' };
  currentScout = await writeCtSeries({ dir: join(dir, 'cur'), ...small, count: 1, seriesNumber: 1, seriesDescription: 'Scout' });
  currentAxial = await writeCtSeries({
    dir: join(dir, 'cur'),
    ...small,
    count: 24,
    sliceThickness: 1.25,
    studyUid: currentScout.studyUid,
    seriesNumber: 2,
    seriesDescription: 'Body Axial 1.25',
  });
  const prior = { ...small, studyDate: '20250115' };
  priorScout = await writeCtSeries({ dir: join(dir, 'prior'), ...prior, count: 1, seriesNumber: 1, seriesDescription: 'Scout' });
  priorAxial = await writeCtSeries({
    dir: join(dir, 'prior'),
    ...prior,
    count: 8,
    sliceThickness: 2.5,
    firstZ: 3,
    studyUid: priorScout.studyUid,
    seriesNumber: 2,
    seriesDescription: 'Body Axial 1.25',
  });
  oldest = await writeCtSeries({ dir: join(dir, 'oldest'), ...small, studyDate: '20200601', count: 2, seriesDescription: 'Body Axial 1.25' });
  const mrStudy = { rows: 64, cols: 64, count: 2, modality: 'MR' as const, patientId: 'HANG-MR-1', patientName: 'HANGING^MR' };
  mr.localizer = await writeCtSeries({ dir: join(dir, 'mr'), ...mrStudy, seriesNumber: 1, seriesDescription: 'Localizer' });
  const inStudy = { ...mrStudy, studyUid: mr.localizer.studyUid };
  mr.dwi = await writeCtSeries({ dir: join(dir, 'mr'), ...inStudy, seriesNumber: 2, seriesDescription: 'DWI b1000' });
  mr.flair = await writeCtSeries({ dir: join(dir, 'mr'), ...inStudy, seriesNumber: 3, seriesDescription: 'AX T2 FLAIR' });
  mr.t2 = await writeCtSeries({ dir: join(dir, 'mr'), ...inStudy, seriesNumber: 4, seriesDescription: 'AX T2 TSE' });
  mr.t1 = await writeCtSeries({ dir: join(dir, 'mr'), ...inStudy, seriesNumber: 5, seriesDescription: 'SAG T1' });
  const date = await runDcmtk('dcmdump', ['+P', '0008,0020', currentAxial.files[0]]);
  const da = /\[(\d{8})\]/.exec(date.stdout)![1];
  today = `${da.slice(0, 4)}-${da.slice(4, 6)}-${da.slice(6)}`;
  v = await startViewer({
    dir,
    files: [currentScout, currentAxial, priorScout, priorAxial, oldest, ...Object.values(mr)].flatMap((s) => s.files),
  });
  page = v.page;
}, 400_000);

afterAll(() => stopViewer(v));

/** What each viewport shows: series UID, comparison label, and its overlay's image and location lines. */
async function viewports(): Promise<Array<{ series: string | null; label: string; im: string; loc: string }>> {
  return page.$$eval('#viewport-grid .viewport-cell', (cells) =>
    cells.map((c) => {
      const label = c.querySelector('.viewport-label') as { hidden: boolean; textContent: string } | null;
      const lines = (corner: string) =>
        Array.from(c.querySelectorAll(`.overlay-corner.${corner} div`)).map((d) => (d as { textContent: string | null }).textContent ?? '');
      return {
        series: c.getAttribute('data-series'),
        label: label && !label.hidden ? label.textContent : '',
        im: lines('tr').find((l) => l.startsWith('Im: ')) ?? '',
        loc: lines('bl').find((l) => l.startsWith('Loc: ')) ?? '',
      };
    }),
  );
}

/** The readouts of the current (0) and prior (1) viewports as "Im: n/N Loc: x mm". */
async function readouts(): Promise<string[]> {
  return (await viewports()).map((c) => `${c.im} ${c.loc}`);
}

async function press(key: string, times = 1): Promise<void> {
  for (let k = 0; k < times; k++) await page.keyboard.press(key);
}

describe('current and prior CT', { timeout: 400_000 }, () => {
  it('opens 1x2: the axial series beside the newest prior\u2019s, labelled with their dates', async () => {
    await page.goto(`${v.base}/viewer?StudyInstanceUIDs=${currentAxial.studyUid}`);
    await page.waitForSelector('#login-password', { timeout: 120_000 });
    await v.login();
    await page.waitForFunction(() => window.__viewer?.ready === true, null, { timeout: 180_000 });
    expect(await page.getAttribute('#viewport-grid', 'data-layout')).toBe('1x2');
    expect(await page.textContent('#hanging-protocol')).toBe('Hanging: CT current and prior');
    const shown = await viewports();
    expect(shown.map((c) => [c.series, c.label])).toEqual([
      [currentAxial.seriesUid, `CURRENT ${today}`],
      [priorAxial.seriesUid, 'PRIOR 2025-01-15'],
    ]);
    expect(shown.map((c) => c.series)).not.toContain(oldest.seriesUid);
    await expect.poll(readouts, { timeout: 60_000 }).toEqual(['Im: 1/24 Loc: 0 mm', 'Im: 1/8 Loc: 3 mm']);
    // The prior's study is listed in the series panel, so its other series can be dragged in.
    expect(await page.$$eval('#series-panel .series-list .study-heading', (hs) => hs.map((x) => x.textContent))).toEqual([
      `${today} Synthetic CT phantom`,
      '2025-01-15 Synthetic CT phantom',
    ]);
  });

  it('scrolls the prior to the slice nearest in position, not index', async () => {
    const cur = await v.pagePoint(0, [0, 0, 0]);
    await page.mouse.click(cur.x, cur.y);
    // z = 10 mm (index 8): the prior's slices lie at 3, 5.5, 8, 10.5 ...: 10.5 is nearest (index 3, not 8 * 8/24).
    await press('ArrowDown', 8);
    await expect.poll(readouts).toEqual(['Im: 9/24 Loc: 10 mm', 'Im: 4/8 Loc: 10.5 mm']);
    // z = 16.25 (index 13): 15.5 (d 0.75) beats 18 (d 1.75); the current stays at 16.25 (not
    // pulled back to 15 by the prior's move).
    await press('ArrowDown', 5);
    await expect.poll(readouts).toEqual(['Im: 14/24 Loc: 16.25 mm', 'Im: 6/8 Loc: 15.5 mm']);
    // Past the prior's last slice (z = 28.75): its last (20.5).
    await press('End');
    await expect.poll(readouts).toEqual(['Im: 24/24 Loc: 28.75 mm', 'Im: 8/8 Loc: 20.5 mm']);
    await press('Home');
    await expect.poll(readouts).toEqual(['Im: 1/24 Loc: 0 mm', 'Im: 1/8 Loc: 3 mm']);
  });
});

describe('MR by series description', { timeout: 400_000 }, () => {
  it('lays five series out 2x2: T1, T2, FLAIR, DWI (the localizer left for the panel)', async () => {
    await page.goto(`${v.base}/viewer?StudyInstanceUIDs=${mr.t1.studyUid}`);
    await page.waitForFunction(() => window.__viewer?.ready === true, null, { timeout: 180_000 });
    expect(await page.getAttribute('#viewport-grid', 'data-layout')).toBe('2x2');
    expect(await page.textContent('#hanging-protocol')).toBe('Hanging: MR by sequence');
    const shown = await viewports();
    expect(shown.map((c) => [c.series, c.label])).toEqual([
      [mr.t1.seriesUid, ''],
      [mr.t2.seriesUid, ''],
      [mr.flair.seriesUid, ''],
      [mr.dwi.seriesUid, ''],
    ]);
  });
});

describe('an administrator\u2019s protocol', { timeout: 400_000 }, () => {
  it('is refused with the server\u2019s message when wrong, and used on the next open once saved', async () => {
    await page.goto(`${v.base}/#/hanging`);
    await page.waitForSelector('#hanging-json');
    expect(JSON.parse(await page.inputValue('#hanging-json'))).toEqual({ protocols: [] });
    const mine = {
      name: 'CT prior above',
      match: { modality: 'CT' },
      rows: 2,
      cols: 1,
      viewports: [{ study: 'prior', sameAsViewport: 1 }, { series: { description: '*axial*' } }],
    };
    await page.fill('#hanging-json', JSON.stringify({ protocols: [{ ...mine, rows: 1 }] }));
    await page.click('#hanging-save');
    await expect.poll(() => page.textContent('#hanging-error')).toBe('protocols[0].viewports: 2 viewports do not fit a 1x1 layout');
    await page.fill('#hanging-json', JSON.stringify({ protocols: [mine] }));
    await page.click('#hanging-save');
    await expect.poll(() => page.textContent('#hanging-done')).toBe('1 protocol(s) saved; the viewer uses them from the next study opened');

    await page.goto(`${v.base}/viewer?StudyInstanceUIDs=${currentAxial.studyUid}`);
    await page.waitForFunction(() => window.__viewer?.ready === true, null, { timeout: 180_000 });
    expect(await page.getAttribute('#viewport-grid', 'data-layout')).toBe('2x1');
    expect(await page.textContent('#hanging-protocol')).toBe('Hanging: CT prior above');
    expect((await viewports()).map((c) => [c.series, c.label])).toEqual([
      [priorAxial.seriesUid, 'PRIOR 2025-01-15'],
      [currentAxial.seriesUid, `CURRENT ${today}`],
    ]);
  });
});
