// One cell of the grid: the Cornerstone element, its overlay, its scrollbar, a message
// line for what went wrong, and the series it shows.
import { Enums, type RenderingEngine, type StackViewport } from '@cornerstonejs/core';
import { h } from '../dom.js';
import { loadDisplaySet, type DisplaySet } from './loader.js';
import { Overlay } from './overlay.js';

export class ViewportCell {
  readonly root: HTMLDivElement;
  readonly element: HTMLDivElement;
  readonly overlay = new Overlay();
  readonly scrollbar: HTMLInputElement;
  private readonly message: HTMLDivElement;
  private readonly progress: HTMLDivElement;
  displaySet?: DisplaySet;
  /** Set for each setStack: a later assignment wins over a slower earlier one. */
  private generation = 0;

  constructor(
    readonly viewportId: string,
    readonly index: number,
    private readonly engine: RenderingEngine,
  ) {
    this.element = h('div', { class: 'cs-element', 'data-viewport-id': viewportId });
    this.element.addEventListener('contextmenu', (e) => e.preventDefault());
    this.scrollbar = h('input', { type: 'range', class: 'scrollbar', min: '0', max: '0', value: '0', step: '1', 'aria-label': 'slice', disabled: true });
    this.message = h('div', { class: 'viewport-message', role: 'alert' });
    this.progress = h('div', { class: 'viewport-progress' });
    this.root = h('div', { class: 'viewport-cell', 'data-index': String(index) }, this.element, this.overlay.root, this.scrollbar, this.progress, this.message);
    this.scrollbar.addEventListener('input', () => {
      const vp = this.viewport;
      if (vp?.getImageIds().length) void vp.setImageIdIndex(Number(this.scrollbar.value));
    });
    const update = () => this.refresh();
    this.element.addEventListener(Enums.Events.STACK_NEW_IMAGE, update);
    this.element.addEventListener(Enums.Events.IMAGE_RENDERED, update);
    this.element.addEventListener(Enums.Events.VOI_MODIFIED, update);
    this.element.addEventListener(Enums.Events.CAMERA_MODIFIED, update);
  }

  get viewport(): StackViewport | undefined {
    return this.engine.getViewport<StackViewport | undefined>(this.viewportId);
  }

  showMessage(text: string): void {
    this.message.textContent = text;
    this.message.hidden = !text;
  }

  showProgress(text: string): void {
    this.progress.textContent = text;
  }

  /** Shows a series: its metadata first (once), then the stack from its first image. */
  async show(ds: DisplaySet, metadataRead?: () => void): Promise<boolean> {
    const generation = ++this.generation;
    this.displaySet = ds;
    this.root.dataset.series = ds.seriesUid;
    this.showMessage('');
    this.showProgress('loading...');
    await loadDisplaySet(ds);
    metadataRead?.();
    if (generation !== this.generation) return false;
    this.showProgress('');
    if (ds.error || !ds.imageIds) {
      this.showMessage(`Series ${ds.seriesNumber ?? ''} ${ds.description}: ${ds.error ?? 'no images'}`.replace(/\s+/g, ' '));
      return false;
    }
    if (ds.warning) this.showMessage(ds.warning);
    const vp = this.viewport;
    if (!vp) return false;
    this.scrollbar.max = String(ds.imageIds.length - 1);
    this.scrollbar.value = '0';
    this.scrollbar.disabled = ds.imageIds.length < 2;
    try {
      await vp.setStack(ds.imageIds, 0);
      vp.render();
      return true;
    } catch (e) {
      if (generation === this.generation) this.showMessage(`Cannot display this image: ${describe(e)}`);
      return false;
    }
  }

  refresh(): void {
    const vp = this.viewport;
    if (!vp || !vp.getImageIds().length) return;
    this.scrollbar.value = String(vp.getCurrentImageIdIndex());
    this.overlay.update(vp);
  }
}

export function describe(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (e && typeof e === 'object') {
    const o = e as { error?: unknown; message?: string; status?: number };
    if (o.message) return o.message;
    if (o.error) return describe(o.error);
    if (o.status === 404) return 'not in the archive any more (HTTP 404)';
    if (o.status) return `HTTP ${o.status}`;
  }
  return String(e);
}
