/**
 * PET SUV (body weight) in the viewer, headless chromium against `pacs serve`: a synthetic
 * PET series (scripts/gen-test-data/pet-series.ts) whose hot square is 6250 Bq/ml, 370 MBq
 * injected one half-life before the series, 74 kg: SUV 2.50 there and 1.00 outside, read
 * from the text the probe and the ROIs draw on the image. The same series without a
 * Patient Weight says why there is no SUV, on the image.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePetSeries, type PetSeriesResult } from '../../scripts/gen-test-data.js';
import { makeTempDir } from '../support/tmp.js';
import { startViewer, stopViewer, type ViewerHook, type ViewerPage } from './viewer-fixture.js';

interface TextNode {
  querySelectorAll(s: string): ArrayLike<{ textContent: string | null }>;
}
declare const window: { __viewer?: ViewerHook & { viewer: { grid: { cells: Array<{ element: TextNode }> } } } };

let v: ViewerPage;
let page: Page;
let pet: PetSeriesResult;
let noWeight: PetSeriesResult;

/** The lines of every text box drawn over viewport 0 (one array per box). */
const textBoxes = () =>
  page.evaluate(() => {
    const cell = window.__viewer!.viewer.grid.cells[0].element;
    return Array.from(cell.querySelectorAll('svg text') as unknown as ArrayLike<TextNode>).map((t) =>
      Array.from(t.querySelectorAll('tspan')).map((s) => s.textContent ?? ''),
    );
  });

/** The box that has a line starting with `start`. */
async function boxWith(start: string): Promise<string[] | undefined> {
  return (await textBoxes()).find((lines) => lines.some((l) => l.startsWith(start)));
}

/** Page point of pixel (row, col) of `s` in viewport 0 (the axial stack: z does not move it). */
const pixel = (s: PetSeriesResult, row: number, col: number) => v.pagePoint(0, s.position(row, col, 0));

async function open(uid: string): Promise<void> {
  await page.goto(`${v.base}/viewer?StudyInstanceUIDs=${uid}`);
  await page.waitForFunction(() => window.__viewer?.ready === true, null, { timeout: 180_000 });
  await expect.poll(async () => (await v.canvasStats(0)).nonBlack, { timeout: 60_000 }).toBeGreaterThan(0.05);
}

beforeAll(async () => {
  const dir = await makeTempDir('pacs-viewer-suv-e2e-');
  pet = await writePetSeries({ dir: join(dir, 'pet') });
  noWeight = await writePetSeries({ dir: join(dir, 'pet-no-weight'), weightKg: null, patientId: 'PHANTOM-PET-NW' });
  v = await startViewer({ dir, files: [...pet.files, ...noWeight.files] });
  page = v.page;
  await page.goto(`${v.base}/viewer?StudyInstanceUIDs=${pet.studyUid}`);
  await page.waitForSelector('#login-password', { timeout: 120_000 });
  await v.login();
  await page.waitForFunction(() => window.__viewer?.ready === true, null, { timeout: 180_000 });
}, 400_000);

afterAll(() => stopViewer(v));

describe('PET SUV', { timeout: 300_000 }, () => {
  it('shows SUV 2.50 in the hot square and 1.00 outside beside the raw Bq/ml in the probe', async () => {
    await open(pet.studyUid);
    await v.selectTool('Probe');
    const hot = await pixel(pet, 24, 24);
    await page.mouse.click(hot.x, hot.y);
    await expect.poll(() => boxWith('SUV '), { timeout: 30_000 }).toBeDefined();
    const lines = (await boxWith('SUV '))!;
    expect(lines).toContain('6250 BQML');
    expect(lines).toContain('SUV 2.50');
    const cold = await pixel(pet, 5, 5);
    await page.mouse.click(cold.x, cold.y);
    await expect.poll(async () => (await textBoxes()).filter((l) => l.includes('SUV 1.00')).length, { timeout: 30_000 }).toBe(1);
    expect((await textBoxes()).find((l) => l.includes('SUV 1.00'))).toContain('2500 BQML');
  });

  it('shows SUVmax and SUVmean beside the raw statistics of a rectangle and an ellipse', async () => {
    await open(pet.studyUid);
    // Inside the hot square (rows and columns 16..47): every pixel 6250 Bq/ml.
    await v.selectTool('RectangleROI');
    await v.drag(await pixel(pet, 20, 20), await pixel(pet, 30, 30));
    await expect.poll(() => boxWith('SUVmax'), { timeout: 30_000 }).toBeDefined();
    const rect = (await boxWith('SUVmax'))!;
    expect(rect).toContain('Max: 6250 BQML');
    expect(rect).toContain('Mean: 6250 BQML');
    expect(rect).toContain('SUVmax 2.50 SUVmean 2.50');
    // An ellipse over the background only, above the square (rows 0..12 whether drawn from a corner or the centre): SUV 1.00.
    await v.selectTool('EllipticalROI');
    await v.drag(await pixel(pet, 6, 52), await pixel(pet, 12, 58));
    await expect.poll(async () => (await textBoxes()).filter((l) => l.some((line) => line.startsWith('SUVmax'))).length, { timeout: 30_000 }).toBe(2);
    const ellipse = (await textBoxes()).find((l) => l.some((line) => line.startsWith('SUVmax')) && !l.includes('Mean: 6250 BQML'));
    expect(ellipse).toContain('Mean: 2500 BQML');
    expect(ellipse).toContain('SUVmax 1.00 SUVmean 1.00');
  });

  it('says why there is no SUV when the series has no Patient Weight', async () => {
    await open(noWeight.studyUid);
    await v.selectTool('Probe');
    const hot = await pixel(noWeight, 24, 24);
    await page.mouse.click(hot.x, hot.y);
    await expect.poll(() => boxWith('SUV'), { timeout: 30_000 }).toBeDefined();
    const lines = (await boxWith('SUV'))!;
    expect(lines).toContain('6250 BQML');
    expect(lines).toContain('SUV n/a: no Patient Weight (0010,1030)');
    await v.selectTool('RectangleROI');
    await v.drag(await pixel(noWeight, 20, 20), await pixel(noWeight, 30, 30));
    await expect
      .poll(async () => (await textBoxes()).filter((l) => l.includes('Mean: 6250 BQML') && l.includes('SUV n/a: no Patient Weight (0010,1030)')).length, {
        timeout: 30_000,
      })
      .toBe(1);
  });
});
