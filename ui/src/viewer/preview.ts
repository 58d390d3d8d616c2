// The first image on a plain 2D canvas while Cornerstone (about 3 MB of script) is still
// loading: drawn from the frame and metadata early.ts fetched (preview-image.ts), over the
// viewport cell where Cornerstone will draw the same image, with the cell's overlay text;
// removed when Cornerstone has drawn it (the viewer calls replaceOn). Part of the small
// entry chunk: no Cornerstone, no vtk.js.
//
// Before the viewer's page exists the preview draws into a skeleton of it (the toolbar's
// row, the series panel, one cell); then over the viewer's grid; then over the cell that
// shows its series. It follows its target each animation frame (a fixed layer over the
// page: the viewer replaces the page's contents and lays its grid out when it likes), and
// goes away when no cell shows its series or that cell names a failure.
import { h } from '../dom.js';
import { str, TAG, type DicomJson } from '../dicom-json.js';
import { orientationOf } from './geometry.js';
import { edgeLabels, type Vec3 } from './orientation.js';
import { overlayCorners } from './overlay-text.js';
import { fitRect, type PreviewImage } from './preview-image.js';
import { readingBar } from './reading-bar.js';
import { Toolbar } from './toolbar.js';
import { presetForm, UserPresets } from './user-presets.js';
import { headerPresets, modalityPresets } from './window-presets.js';

/** Dispatched on the preview's element when it has drawn its image (bench/viewer-open.ts listens). */
export const PREVIEW_RENDERED = 'viewer-preview-rendered';

interface Shown {
  seriesUid: string;
  ds: DicomJson;
  image: PreviewImage;
  /** Frames in the series' stack ("Im: 1/N"). */
  total: number;
}

export class Preview {
  /** performance.now() of the first draw. */
  drawnAt?: number;
  /** Called once, at the first draw. */
  onDrawn?: (at: number) => void;
  private shown?: Shown;
  private allowed = false;
  private closed = false;
  private bound = false;
  /** The series the viewer's first render will show, once it has bound the preview to a cell. */
  private expected?: string;
  private host?: HTMLDivElement;
  private canvas?: HTMLCanvasElement;
  private source?: HTMLCanvasElement;
  private skeleton?: HTMLElement;
  private frame = 0;
  private drawnRect = '';

  /** The series the preview shows, once it has an image. */
  get seriesUid(): string | undefined {
    return this.shown?.seriesUid;
  }

  /** The page may draw (the session is checked: no preview over the login form). */
  allow(): void {
    this.allowed = true;
    this.start();
  }

  /** The image to show (early.ts); nothing once the viewer has drawn or given up. */
  show(seriesUid: string, ds: DicomJson, image: PreviewImage, total: number): void {
    if (this.closed || this.shown) return;
    if (this.expected !== undefined && this.expected !== seriesUid) return this.close();
    this.shown = { seriesUid, ds, image, total };
    this.start();
  }

  /**
   * The viewer shows `seriesUid` in `element`: the preview goes at that element's next
   * `event` (Cornerstone's IMAGE_RENDERED). Until then a preview of that series may still
   * come (the viewer's metadata can be quicker than the early frame), of another one not.
   */
  replaceOn(element: HTMLElement, event: string, seriesUid: string): void {
    this.bound = true;
    this.expected ??= seriesUid;
    const done = () => {
      element.removeEventListener(event, done);
      this.close();
    };
    element.addEventListener(event, done);
  }

  /** The viewer has opened: without a cell bound to it, the preview has nothing to wait for. */
  settle(): void {
    if (!this.bound) this.close();
  }

  close(): void {
    if (this.host) rememberToolbar(); // the viewer's own, complete by now
    this.closed = true;
    cancelAnimationFrame(this.frame);
    this.host?.remove();
    this.skeleton?.remove();
    this.host = this.canvas = this.source = this.skeleton = undefined;
  }

  private start(): void {
    if (!this.allowed || !this.shown || this.closed || this.host) return;
    const { image, ds, total } = this.shown;
    // The image at its own size once; each draw scales it into the target (smoothly, as the viewer's linear interpolation).
    this.source = document.createElement('canvas');
    this.source.width = image.cols;
    this.source.height = image.rows;
    const rgba = new Uint8ClampedArray(image.grey.length * 4);
    for (let i = 0, j = 0; i < image.grey.length; i++, j += 4) {
      const g = image.grey[i];
      rgba[j] = rgba[j + 1] = rgba[j + 2] = g;
      rgba[j + 3] = 255;
    }
    this.source.getContext('2d')!.putImageData(new ImageData(rgba, image.cols, image.rows), 0, 0);
    this.canvas = h('canvas', {});
    this.host = h('div', { class: 'viewer-preview', id: 'viewer-preview', 'data-series': this.shown.seriesUid }, this.canvas, overlayOf(ds, image, total));
    document.body.append(this.host);
    this.follow();
  }

  /** Each animation frame: onto the target's rectangle, redrawn when it changed size. */
  private follow(): void {
    if (this.closed || !this.host || !this.canvas || !this.source) return;
    const target = this.target();
    if (target === null) return this.close();
    const r = target.getBoundingClientRect();
    const key = `${r.left},${r.top},${r.width},${r.height}`;
    if (key !== this.drawnRect && r.width > 0 && r.height > 0) {
      this.drawnRect = key;
      Object.assign(this.host.style, { left: `${r.left}px`, top: `${r.top}px`, width: `${r.width}px`, height: `${r.height}px` });
      this.draw(r.width, r.height);
    }
    this.frame = requestAnimationFrame(() => this.follow());
  }

  private draw(w: number, h: number): void {
    const canvas = this.canvas!;
    const image = this.shown!.image;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    const ctx = canvas.getContext('2d')!;
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'low'; // bilinear: the viewer's linear interpolation
    const fit = fitRect(image, canvas.width, canvas.height);
    ctx.drawImage(this.source!, fit.x, fit.y, fit.w, fit.h);
    if (this.drawnAt === undefined) {
      this.drawnAt = performance.now();
      this.onDrawn?.(this.drawnAt);
      this.host!.dispatchEvent(new CustomEvent(PREVIEW_RENDERED));
    }
  }

  /**
   * Where the image goes: the element of the cell showing its series; the viewer's grid while
   * it has no cells; a skeleton of the page before the viewer has one. null: nowhere (no cell
   * shows the series, or the one that does names a failure).
   */
  private target(): HTMLElement | null {
    const uid = this.shown!.seriesUid;
    const cell = [...document.querySelectorAll<HTMLElement>('#viewport-grid > .viewport-cell')].find((c) => c.dataset.series === uid);
    if (cell) {
      const failed = cell.classList.contains('image-failed') || !!cell.querySelector('.viewport-message:not([hidden])')?.textContent;
      return failed ? null : cell.querySelector<HTMLElement>('.cs-element');
    }
    const grid = document.getElementById('viewport-grid');
    if (grid) {
      this.skeleton?.remove();
      const assigned = [...grid.querySelectorAll<HTMLElement>(':scope > .viewport-cell')].some((c) => c.dataset.series);
      return assigned ? null : grid;
    }
    return this.skeletonCell();
  }

  /** The page as the viewer will lay it out (viewer.css): a toolbar row, the series panel and one cell. */
  private skeletonCell(): HTMLElement | null {
    const root = document.getElementById('viewer-root');
    if (!root) return null;
    if (!this.skeleton) {
      // Something else is on the page (an error): no skeleton over it.
      if (root.childElementCount) return null;
      const element = h('div', { class: 'cs-element' });
      this.skeleton = h(
        'div',
        { class: 'viewer-skeleton' },
        skeletonToolbar(this.shown!.ds),
        h(
          'div',
          { class: 'viewer-body' },
          h('aside', { class: 'series-panel' }),
          h('div', { class: 'viewport-grid' }, h('div', { class: 'viewport-cell' }, element)),
        ),
      );
      root.append(this.skeleton);
    }
    return this.skeleton.querySelector<HTMLElement>('.cs-element');
  }
}

/**
 * The viewer's toolbar (toolbar.ts) with the presets the image's header gives, inert and
 * without ids: it wraps to as many rows (3 at 1280 px, 5 at 760) as the viewer's will,
 * so that the preview does not move when the viewer's page replaces the skeleton. Where the
 * viewer's toolbar had another height at this window width the last time (the user's own
 * presets widen its preset list), the skeleton's takes that.
 */
function skeletonToolbar(ds: DicomJson): HTMLElement {
  const none = (): void => undefined;
  const later = (): Promise<void> => Promise.resolve();
  const toolbar = new Toolbar({
    layout: none,
    tool: none,
    preset: none,
    op: none,
    cine: none,
    sync: none,
    referenceLines: none,
    saveMeasurements: none,
    queryRetrieve: none,
    mpr: none,
  });
  toolbar.setPresets([...modalityPresets(str(ds, TAG.Modality) || undefined), ...headerPresets(ds)]);
  // As viewer.ts completes it: the user's preset form, the reading group.
  toolbar.addImageControl(presetForm(new UserPresets(), { current: () => undefined, saved: none }));
  toolbar.addGroup(readingBar({ savePresentation: later, choosePresentation: later, toggleKeyImage: none, saveKeyImages: later }).root);
  const root = toolbar.root;
  root.inert = true;
  for (const el of [root, ...root.querySelectorAll('[id]')]) el.removeAttribute('id');
  const height = rememberedToolbarHeight();
  if (height !== undefined) Object.assign(root.style, { height: `${height}px`, boxSizing: 'border-box' });
  return root;
}

/** The viewer's toolbar's height at this window width the last time (nothing stored: undefined). */
const TOOLBAR_KEY = 'viewer-toolbar-height';
function rememberedToolbarHeight(): number | undefined {
  try {
    const [w, h] = (localStorage.getItem(TOOLBAR_KEY) ?? '').split(' ').map(Number);
    return w === window.innerWidth && h > 0 ? h : undefined;
  } catch {
    return undefined; // no storage (a privacy setting)
  }
}
function rememberToolbar(): void {
  const toolbar = document.getElementById('toolbar');
  if (!toolbar) return;
  try {
    const value = `${window.innerWidth} ${toolbar.getBoundingClientRect().height}`;
    if (localStorage.getItem(TOOLBAR_KEY) !== value) localStorage.setItem(TOOLBAR_KEY, value);
  } catch {
    // no storage: the skeleton's toolbar wraps as the viewer's does, without the user's presets
  }
}

/** The cell's overlay (overlay.ts's corners and markers) for the first image at the fitted zoom. */
function overlayOf(ds: DicomJson, image: PreviewImage, total: number): HTMLElement {
  const text = overlayCorners(ds, { index: 0, total, frame: 1, voi: image.voi, zoom: 1 });
  const corner = (k: 'tl' | 'tr' | 'bl' | 'br') => h('div', { class: `overlay-corner ${k}` }, ...text[k].map((l) => h('div', {}, l)));
  // Unrotated, the image's rows run to the right and its columns down.
  const iop = orientationOf(ds);
  const labels = iop ? edgeLabels(iop.slice(0, 3) as Vec3, iop.slice(3, 6) as Vec3) : undefined;
  const edge = (e: 'left' | 'right' | 'top' | 'bottom') => h('div', { class: `orientation ${e}`, 'data-edge': e }, labels?.[e] ?? '');
  return h('div', { class: 'overlay' }, corner('tl'), corner('tr'), corner('bl'), corner('br'), edge('left'), edge('right'), edge('top'), edge('bottom'));
}
