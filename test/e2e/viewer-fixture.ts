// The 2D viewer's browser-test set-up, shared by viewer.test.ts and viewer-tools.test.ts:
// the web app built, `pacs serve` started with the given files stored into it (storescu),
// headless chromium with software WebGL, and helpers that read the page through its test
// hook (window.__viewer) and drive the mouse on world coordinates.
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { expect } from 'vitest';
import { REPO_ROOT, startPacsServe, stopAllPeers, storescu } from '../support/peers.js';
import { removeTempDirs } from '../support/tmp.js';
import { launchChromiumWithWebGL } from './browser.js';
import { canvasStatsOf, type CanvasStats } from './canvas-stats.js';
import { settledRead } from './settled.js';

// The page's test hook, typed as far as the tests use it (no DOM lib here).
export interface CanvasLike {
  width: number;
  height: number;
  getContext(type: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
  getBoundingClientRect(): { left: number; top: number; width: number; height: number };
}
export interface StackViewportLike {
  canvas: CanvasLike;
  getImageIds(): string[];
  getCurrentImageIdIndex(): number;
  getProperties(): { voiRange?: { lower: number; upper: number }; invert?: boolean };
  worldToCanvas(world: [number, number, number]): [number, number];
  setZoom(zoom: number): void;
  render(): void;
}
export interface CellLike {
  viewportId: string;
  element: { querySelector(selector: string): CanvasLike | null; querySelectorAll(selector: string): ArrayLike<{ getAttribute(name: string): string | null }> };
  viewport?: StackViewportLike;
}
export interface AnnotationLike {
  metadata: { toolName: string };
  data: {
    label?: string;
    handles: { points: Array<[number, number, number]> };
    contour?: { polyline: Array<[number, number, number]>; closed: boolean };
    cachedStats?: Record<string, Record<string, number | string>>;
  };
}
export interface ViewerHook {
  ready: boolean;
  viewer: { grid: { cells: CellLike[] }; active: number; timings?: { stackCached?: Record<string, number> } };
  tools: { annotation: { state: { getAllAnnotations(): AnnotationLike[] } } };
}
declare const window: { __viewer?: ViewerHook };
declare function requestAnimationFrame(callback: () => void): number;

export interface Point {
  x: number;
  y: number;
}

/** The viewer page and what the tests do with it. */
export class ViewerPage {
  constructor(
    readonly browser: Browser,
    readonly page: Page,
    readonly base: string,
  ) {}

  /** Opens a study and waits for the viewer to be ready (logs in on the first call). */
  async open(studyUid: string): Promise<void> {
    await this.page.goto(`${this.base}/viewer?StudyInstanceUIDs=${studyUid}`);
    if (await this.page.waitForSelector('#login-password', { timeout: 5_000 }).catch(() => null)) await this.login();
    await this.waitReady();
  }

  async login(): Promise<void> {
    await this.page.fill('#login-password', PASSWORD);
    await this.page.click('#login-form button[type=submit]');
  }

  waitReady(): Promise<unknown> {
    return this.page.waitForFunction(() => window.__viewer?.ready === true, null, { timeout: 60_000 });
  }

  /** Pixel statistics of viewport `i`'s canvas (grey = mean of R, G, B). */
  async canvasStats(i: number): Promise<CanvasStats> {
    const canvas = await this.page.evaluateHandle((index) => window.__viewer!.viewer.grid.cells[index].element.querySelector('canvas'), i);
    const stats = await canvasStatsOf(canvas);
    if (!stats) throw new Error(`viewport ${i} has no 2D canvas with pixels`);
    return stats;
  }

  /** Canvas coordinates of a world point (mm, patient LPS) in viewport `i`. */
  canvasPoint(i: number, world: [number, number, number]): Promise<Point> {
    return this.page.evaluate(
      ({ index, w }) => {
        const [x, y] = window.__viewer!.viewer.grid.cells[index].viewport!.worldToCanvas(w);
        return { x, y };
      },
      { index: i, w: world },
    );
  }

  /** Page coordinates of a world point (mm, patient LPS) in viewport `i`. */
  pagePoint(i: number, world: [number, number, number]): Promise<Point> {
    return this.page.evaluate(
      ({ index, w }) => {
        const cell = window.__viewer!.viewer.grid.cells[index];
        const [cx, cy] = cell.viewport!.worldToCanvas(w);
        const r = cell.viewport!.canvas.getBoundingClientRect();
        return { x: r.left + cx, y: r.top + cy };
      },
      { index: i, w: world },
    );
  }

  /** Two animation frames of the page: moves queued before are handled by then. */
  frames(): Promise<void> {
    return this.page.evaluate(() => new Promise<void>((done) => requestAnimationFrame(() => requestAnimationFrame(() => done()))));
  }

  /** A press, moves through `path` (10 steps per leg), and a release. */
  async drag(from: Point, ...path: Point[]): Promise<void> {
    const { mouse } = this.page;
    await mouse.move(from.x, from.y);
    await mouse.down();
    await this.frames();
    let at = from;
    for (const to of path) {
      for (let k = 1; k <= 10; k++) await mouse.move(at.x + ((to.x - at.x) * k) / 10, at.y + ((to.y - at.y) * k) / 10);
      at = to;
    }
    // Chromium coalesces mouse moves per frame: let the last one reach the tool before the button is released.
    await this.frames();
    await mouse.up();
    await this.frames();
  }

  async sessionCookie(): Promise<string> {
    return (await this.page.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
  }

  sliceIndex(i: number): Promise<number> {
    return this.page.evaluate((index) => window.__viewer!.viewer.grid.cells[index].viewport!.getCurrentImageIdIndex(), i);
  }

  /** The cached statistics of the annotations a tool made (one object per annotation). */
  toolStats(toolName: string): Promise<Array<Record<string, number | string>>> {
    return this.page.evaluate((name) => {
      const all = window.__viewer!.tools.annotation.state.getAllAnnotations();
      return all.filter((a) => a.metadata.toolName === name).map((a) => Object.values(a.data.cachedStats ?? {})[0] ?? {});
    }, toolName);
  }

  /** toolStats() once the tool has settled (settled.ts) and `ready` holds. */
  settledToolStats(toolName: string, ready: (stats: Array<Record<string, number | string>>) => boolean): Promise<Array<Record<string, number | string>>> {
    return settledRead(() => this.toolStats(toolName), ready);
  }

  /** The annotations of a tool: handles and contour (world coordinates), label. */
  annotations(toolName: string): Promise<Array<Pick<AnnotationLike['data'], 'label' | 'handles' | 'contour'>>> {
    return this.page.evaluate((name) => {
      const all = window.__viewer!.tools.annotation.state.getAllAnnotations();
      return all
        .filter((a) => a.metadata.toolName === name)
        .map((a) => ({
          label: a.data.label,
          handles: { points: a.data.handles.points.map((p) => [...p] as [number, number, number]) },
          contour: a.data.contour && { polyline: a.data.contour.polyline.map((p) => [...p] as [number, number, number]), closed: a.data.contour.closed },
        }));
    }, toolName);
  }

  async selectTool(name: string): Promise<void> {
    await this.page.click(`#toolbar button[data-tool="${name}"]`);
  }

  async zoom(i: number, zoom: number): Promise<void> {
    await this.page.evaluate(
      ({ index, z }) => {
        const vp = window.__viewer!.viewer.grid.cells[index].viewport!;
        vp.setZoom(z);
        vp.render();
      },
      { index: i, z: zoom },
    );
  }

  /** Saves the measurements (SR), reloads the page and waits for `restored` of them to come back. */
  async saveAndReopen(restored: number): Promise<void> {
    await this.page.click('#save-measurements');
    await expect.poll(() => this.page.textContent('#viewer-status'), { timeout: 30_000 }).toMatch(/^\d+ measurement\(s\) saved$/);
    await this.page.reload();
    await this.waitReady();
    await expect
      .poll(() => this.page.textContent('#viewer-status'), { timeout: 30_000 })
      .toMatch(new RegExp(`^${restored} saved measurement\\(s\\) restored$`));
  }
}

export const PASSWORD = 'e2e-password';

/**
 * Builds the web app, starts `pacs serve` in `dir` (web port free), stores `files` into
 * it (and `losslessFiles` proposing only their lossless JPEG transfer syntax), and opens
 * a chromium page of 1600 x 1000.
 */
export async function startViewer(o: { dir: string; files: string[]; losslessFiles?: string[] }): Promise<ViewerPage> {
  await build({ root: join(REPO_ROOT, 'ui'), logLevel: 'warn' });
  const { pacs, base } = await startPacsServe(join(o.dir, 'pacs'), PASSWORD);
  const stored = await storescu({ port: pacs.port, calledAet: pacs.aet, files: o.files });
  expect(stored.code, stored.stderr).toBe(0);
  if (o.losslessFiles?.length) {
    const lossless = await storescu({ port: pacs.port, calledAet: pacs.aet, files: o.losslessFiles, args: ['--propose-lossless'] });
    expect(lossless.code, lossless.stderr).toBe(0);
  }
  const browser = await launchChromiumWithWebGL();
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  page.on('pageerror', (e) => console.error('page error:', e.message));
  return new ViewerPage(browser, page, base);
}

/** For afterAll: closes the browser (if it started), stops `pacs serve` and removes the temporary directories. */
export async function stopViewer(v: ViewerPage | undefined): Promise<void> {
  await v?.browser.close();
  await stopAllPeers();
  await removeTempDirs();
}
