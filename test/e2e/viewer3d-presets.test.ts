/**
 * The 3D view's renderings against absolute expectations, on a small CT body phantom
 * (scripts/gen-body-phantom.ts: soft tissue 40 HU in air, a lung -800 HU, a 300 HU vessel
 * running head to foot, a 1,000 HU bone sphere), seen from the front in headless chromium
 * with software WebGL: in VRT bone the sphere is near white and the vessel a bright bar
 * with the soft tissue in front of them transparent; the lung shows in VRT lung and the
 * vessel in angio; the skin in VRT soft tissue, shaded; the MIP is grey (R = G = B) with its own window, whatever preset came
 * before it; the SSD surface is closed where the vessel leaves the volume; on an MR
 * angiogram of the same body the MR angio preset shows the vessel alone. Not brighter
 * than something else: bright, dark and grey as a reader would call them.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBodyPhantom, type BodyPhantom } from '../../scripts/gen-body-phantom.js';
import { REPO_ROOT, startPacsServe, stopAllPeers, storescu } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { launchChromiumWithWebGL } from './browser.js';

type Point3 = [number, number, number];
type Rgb = [number, number, number];
interface CanvasLike {
  width: number;
  height: number;
  getContext(type: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
  getBoundingClientRect(): { width: number };
}
interface ViewportLike {
  element: { addEventListener(type: string, listener: () => void, options?: { once: boolean }): void };
  canvas: CanvasLike;
  worldToCanvas(world: Point3): [number, number];
  getCamera(): { parallelScale?: number };
  setCamera(c: { focalPoint: Point3; position: Point3; viewUp: Point3; parallelProjection: boolean; parallelScale?: number }): void;
  render(): void;
}
type Mode = { kind: 'vrt'; preset: string } | { kind: 'mip'; lower: number; upper: number } | { kind: 'ssd'; threshold: number };
interface Hook {
  ready: boolean;
  error?: string;
  page: { viewport(id: string): ViewportLike; render3d(mode: Mode): Promise<void>; renderer?: { triangles: number } };
}
declare const window: { __viewer3d?: Hook };

let browser: Browser;
let page: Page;
let body: BodyPhantom;
let base: string;
let mrStudyUid: string;
const V3D = 'volume3d';

/** The volume's centre (mm). */
const centre = (): Point3 => [0, 0, ((body.count - 1) * body.sliceSpacing) / 2];

/** Colours (R, G, B) of the 3D viewport at world points (mm), after it has drawn a frame. */
async function rgbAt(worlds: Point3[]): Promise<Rgb[]> {
  return page
    .evaluate(
      async ({ id, worlds }) => {
        const vp = window.__viewer3d!.page.viewport(id);
        await new Promise<void>((resolve) => {
          vp.element.addEventListener('CORNERSTONE_IMAGE_RENDERED', () => resolve(), { once: true });
          vp.render();
        });
        const canvas = vp.canvas;
        const ratio = canvas.width / canvas.getBoundingClientRect().width;
        const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
        // The mean over 5 x 5 device pixels: what a reader sees there, not one sample's aliasing.
        return worlds.map((w) => {
          const [x, y] = vp.worldToCanvas(w);
          const [cx, cy] = [Math.round(x * ratio), Math.round(y * ratio)];
          const sum = [0, 0, 0];
          for (let dy = -2; dy <= 2; dy++) {
            for (let dx = -2; dx <= 2; dx++) {
              const o = ((cy + dy) * canvas.width + cx + dx) * 4;
              for (let c = 0; c < 3; c++) sum[c] += data[o + c];
            }
          }
          return sum.map((v) => Math.round(v / 25)) as [number, number, number];
        });
      },
      { id: V3D, worlds },
    )
    .finally(() =>
      // SHOT_DIR=dir: each reading's 3D view saved as a PNG there, to look at what was measured.
      process.env.SHOT_DIR
        ? page.locator('.viewport-cell[data-viewport="volume3d"]').screenshot({ path: join(process.env.SHOT_DIR, `${Date.now()}.png`) })
        : undefined,
    );
}

const grey = (c: Rgb) => (c[0] + c[1] + c[2]) / 3;

/** Looks at the volume's centre from `side` (a unit vector from the centre to the eye), parallel projection. */
async function lookFrom(side: Point3, viewUp: Point3): Promise<void> {
  const f = centre();
  await page.evaluate(
    ({ id, f, side, viewUp }) => {
      const vp = window.__viewer3d!.page.viewport(id);
      const position: Point3 = [f[0] + 500 * side[0], f[1] + 500 * side[1], f[2] + 500 * side[2]];
      vp.setCamera({ focalPoint: f, position, viewUp, parallelProjection: true, parallelScale: 140 });
    },
    { id: V3D, f, side, viewUp },
  );
}
/** From the front: the patient's anterior (-y) towards the eye, head (+z) up. */
const fromFront = () => lookFrom([0, -1, 0], [0, 0, 1]);

const render3d = (mode: Mode) => page.evaluate((mode) => window.__viewer3d!.page.render3d(mode), mode);

/** Points seen from the front: the sphere's centre, the vessel at heights along it, soft tissue alone, the lung's centre. */
function frontPoints() {
  const [, , zc] = centre();
  const { sphere, vessel, lung } = body;
  const top = (body.count - 1) * body.sliceSpacing;
  return {
    sphere: sphere.center,
    vessel: [0.1, 0.3, 0.5, 0.7, 0.9].map((f): Point3 => [vessel.x, vessel.y, f * top]),
    // x = -85: the ray from the front crosses only soft tissue (the sphere ends at x = -65).
    tissue: [-85, 0, zc] as Point3,
    lung: [lung.x, lung.y, zc] as Point3,
  };
}

beforeAll(async () => {
  const dir = await makeTempDir('pacs-viewer3d-presets-');
  await build({ root: join(REPO_ROOT, 'ui'), logLevel: 'warn' });
  const written = await writeBodyPhantom({ dir: join(dir, 'body') });
  body = written.body;
  const mr = await writeBodyPhantom({ dir: join(dir, 'mr'), mrAngio: true });
  mrStudyUid = mr.studyUid;
  const started = await startPacsServe(join(dir, 'pacs'), 'e2e-password');
  const { pacs } = started;
  base = started.base;
  const stored = await storescu({ port: pacs.port, calledAet: pacs.aet, files: [...written.files, ...mr.files] });
  expect(stored.code, stored.stderr).toBe(0);
  browser = await launchChromiumWithWebGL();
  page = await (await browser.newContext({ viewport: { width: 1000, height: 800 } })).newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  page.on('console', (m) => m.type() === 'error' && console.error('console:', m.text()));
  await page.goto(`${base}/viewer?StudyInstanceUIDs=${written.studyUid}&mode=mpr`, { timeout: 180_000 });
  await page.fill('#login-password', 'e2e-password');
  await page.click('#login-form button[type=submit]');
  await page.waitForFunction(() => window.__viewer3d?.ready === true, null, { timeout: 300_000 });
  expect(await page.evaluate(() => window.__viewer3d!.error)).toBeUndefined();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await stopAllPeers();
  await removeTempDirs();
});

describe('3D view presets on a CT body phantom, absolute', () => {
  it('VRT CT bone: the bone sphere near white, the vessel a bright bar head to foot, soft tissue and lung transparent', async () => {
    await render3d({ kind: 'vrt', preset: 'CT-Bone' });
    await fromFront();
    const p = frontPoints();
    const [sphere, tissue, lung, ...vessel] = await rgbAt([p.sphere, p.tissue, p.lung, ...p.vessel]);
    const seen = JSON.stringify({ sphere, tissue, lung, vessel });
    // Near white: every channel bright (not a dim or coloured glow).
    expect(Math.min(...sphere), seen).toBeGreaterThan(190);
    for (const v of vessel) expect(grey(v), seen).toBeGreaterThan(120);
    expect(grey(tissue), seen).toBeLessThan(25);
    expect(grey(lung), seen).toBeLessThan(25);
    // The bar is the vessel's width (16 mm) across: bright at its axis, dark 8 mm beyond its wall.
    const [zc] = [centre()[2]];
    const [left, right] = await rgbAt([
      [body.vessel.x - body.vessel.radius - 8, body.vessel.y, zc],
      [body.vessel.x + body.vessel.radius + 8, body.vessel.y, zc],
    ]);
    expect(grey(left), JSON.stringify([left, right])).toBeLessThan(25);
    expect(grey(right), JSON.stringify([left, right])).toBeLessThan(25);
  }, 600_000);

  it('VRT CT lung: the lung shows, the soft tissue around it transparent', async () => {
    await render3d({ kind: 'vrt', preset: 'CT-Lung' });
    await fromFront();
    const p = frontPoints();
    const [lung, tissue] = await rgbAt([p.lung, p.tissue]);
    expect(grey(lung), JSON.stringify({ lung, tissue })).toBeGreaterThan(80);
    expect(grey(tissue), JSON.stringify({ lung, tissue })).toBeLessThan(25);
  }, 600_000);

  it('VRT CT angio: the contrast-filled vessel bright, the soft tissue transparent', async () => {
    await render3d({ kind: 'vrt', preset: 'CT-Chest-Contrast-Enhanced' });
    await fromFront();
    const p = frontPoints();
    const [tissue, lung, ...vessel] = await rgbAt([p.tissue, p.lung, ...p.vessel]);
    const seen = JSON.stringify({ tissue, lung, vessel });
    for (const v of vessel) expect(grey(v), seen).toBeGreaterThan(120);
    expect(grey(tissue), seen).toBeLessThan(25);
    expect(grey(lung), seen).toBeLessThan(25);
  }, 600_000);

  it("VRT CT soft tissue: the body's surface shows, shaded (not a flat grey)", async () => {
    await render3d({ kind: 'vrt', preset: 'CT-Soft-Tissue' });
    await fromFront();
    const [, , zc] = centre();
    // Where the skin faces the eye (x = 0) and near the body's side (x = -100: 65° off).
    const [facing, side] = await rgbAt([
      [0, 0, zc],
      [-100, 0, zc],
    ]);
    const seen = JSON.stringify({ facing, side });
    expect(grey(facing), seen).toBeGreaterThan(120);
    expect(grey(facing) - grey(side), seen).toBeGreaterThan(30);
  }, 600_000);

  it('MIP: a grey map over its own window, set in the toolbar, also right after a coloured preset', async () => {
    await render3d({ kind: 'vrt', preset: 'CT-Soft-Tissue' });
    await fromFront();
    // Chosen in the toolbar, the MIP starts at the planes' window (soft tissue: 40/400).
    await page.selectOption('#render-mode', 'mip');
    const p = frontPoints();
    const readings = async () => {
      const [sphere, tissue, ...vessel] = await rgbAt([p.sphere, p.tissue, ...p.vessel]);
      return { sphere, tissue, vessel };
    };
    const isGrey = (c: Rgb) => Math.max(...c) - Math.min(...c) <= 3;
    let r = await readings();
    let seen = JSON.stringify(r);
    for (const c of [r.sphere, r.tissue, ...r.vessel]) expect(isGrey(c), seen).toBe(true);
    // -160..240 HU: soft tissue (40 HU) mid grey, vessel (300 HU) and bone white.
    expect(Math.abs(grey(r.tissue) - 127.5), seen).toBeLessThan(15);
    expect(grey(r.sphere), seen).toBeGreaterThan(245);
    for (const v of r.vessel) expect(grey(v), seen).toBeGreaterThan(245);
    // A window for bone in the MIP's own W/L: 500/1000 (0..1000 HU): soft tissue dark, the
    // vessel (300 HU) dark grey, bone white.
    await page.fill('#mip-center', '500');
    await page.fill('#mip-width', '1000');
    await page.dispatchEvent('#mip-width', 'change');
    r = await readings();
    seen = JSON.stringify(r);
    for (const c of [r.sphere, r.tissue, ...r.vessel]) expect(isGrey(c), seen).toBe(true);
    expect(grey(r.tissue), seen).toBeLessThan(25);
    for (const v of r.vessel) expect(Math.abs(grey(v) - 76.5), seen).toBeLessThan(15);
    expect(grey(r.sphere), seen).toBeGreaterThan(245);
    // The toolbar's bone window 480/2500 (-770..1730 HU): each on the ramp where its HU puts it.
    await page.fill('#mip-center', '480');
    await page.fill('#mip-width', '2500');
    await page.dispatchEvent('#mip-center', 'change');
    r = await readings();
    seen = JSON.stringify(r);
    const onRamp = (hu: number) => ((hu + 770) / 2500) * 255;
    expect(Math.abs(grey(r.tissue) - onRamp(40)), seen).toBeLessThan(12);
    for (const v of r.vessel) expect(Math.abs(grey(v) - onRamp(300)), seen).toBeLessThan(12);
    expect(Math.abs(grey(r.sphere) - onRamp(1000)), seen).toBeLessThan(12);
    // The planes keep their own window.
    expect(
      await page.evaluate(
        () =>
          (window.__viewer3d!.page.viewport('axial') as unknown as { getProperties(): { voiRange: { lower: number; upper: number } } }).getProperties()
            .voiRange,
      ),
    ).toEqual({ lower: -160, upper: 239 }); // W 400 L 40 (PS3.3 C.11.2.1.2)
  }, 600_000);

  it("SSD: the vessel's surface is capped where it leaves the volume (seen end-on from above)", async () => {
    await render3d({ kind: 'ssd', threshold: 150 });
    expect(await page.evaluate(() => window.__viewer3d!.page.renderer!.triangles)).toBeGreaterThan(100);
    // From above (head), the vessel end-on: a lit cap facing the eye, not a view down an open tube.
    await lookFrom([0, 0, 1], [0, -1, 0]);
    const top = (body.count - 1) * body.sliceSpacing;
    const [cap] = await rgbAt([[body.vessel.x, body.vessel.y, top]]);
    expect(grey(cap), JSON.stringify(cap)).toBeGreaterThan(150);
  }, 600_000);
});

describe('3D view on an MR angiogram of the body phantom, absolute', () => {
  it('opens in VRT MR angio: the vessel bright, the stationary tissue transparent', async () => {
    await page.goto(`${base}/viewer?StudyInstanceUIDs=${mrStudyUid}&mode=mpr`, { timeout: 180_000 });
    await page.waitForFunction(() => window.__viewer3d?.ready === true, null, { timeout: 300_000 });
    expect(await page.evaluate(() => window.__viewer3d!.error)).toBeUndefined();
    expect(await page.inputValue('#render-mode')).toBe('vrt:MR-Angio');
    await fromFront();
    const p = frontPoints();
    const [tissue, lung, ...vessel] = await rgbAt([p.tissue, p.lung, ...p.vessel]);
    const seen = JSON.stringify({ tissue, lung, vessel });
    for (const v of vessel) expect(grey(v), seen).toBeGreaterThan(120);
    expect(grey(tissue), seen).toBeLessThan(25);
    expect(grey(lung), seen).toBeLessThan(25);
  }, 600_000);
});
