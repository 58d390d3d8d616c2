// One cell of the grid: the Cornerstone element, its overlay, its scrollbar, a message
// for what went wrong with the image shown, a note line for the series (a warning, images
// that failed elsewhere in the stack), and the series it shows.
import { Enums, type RenderingEngine, type StackViewport } from '@cornerstonejs/core';
import { h } from '../dom.js';
import { formatDate } from '../dicom-json.js';
import { loadDisplaySet, type DisplaySet, type ImageFailure } from './loader.js';
import { Overlay } from './overlay.js';

export class ViewportCell {
  readonly root: HTMLDivElement;
  readonly element: HTMLDivElement;
  readonly overlay = new Overlay();
  readonly scrollbar: HTMLInputElement;
  private readonly message: HTMLDivElement;
  private readonly note: HTMLDivElement;
  private readonly progress: HTMLDivElement;
  /** "PRIOR 2025-01-15" or "CURRENT ...": which study of a comparison the viewport shows. */
  readonly label: HTMLDivElement;
  /** A message about the series as a whole (it stays while the images change). */
  private seriesMessage = '';
  displaySet?: DisplaySet;
  /** True while a series is being put in (its first image's arrival is no scroll). */
  settingStack = false;
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
    this.note = h('div', { class: 'viewport-note', role: 'status' });
    this.progress = h('div', { class: 'viewport-progress' });
    this.label = h('div', { class: 'viewport-label', hidden: true });
    this.root = h(
      'div',
      { class: 'viewport-cell', 'data-index': String(index) },
      this.element,
      this.overlay.root,
      this.label,
      this.scrollbar,
      this.progress,
      this.note,
      this.message,
    );
    this.scrollbar.addEventListener('input', () => {
      const vp = this.viewport;
      if (vp?.getImageIds().length) void vp.setImageIdIndex(Number(this.scrollbar.value));
    });
    const update = () => this.refresh();
    this.element.addEventListener(Enums.Events.STACK_NEW_IMAGE, (e) => {
      // Shown after all (a retry after a passing network error): no longer a failure.
      this.displaySet?.failures?.delete((e as CustomEvent<{ imageId?: string }>).detail?.imageId ?? '');
      update();
    });
    this.element.addEventListener(Enums.Events.IMAGE_RENDERED, update);
    this.element.addEventListener(Enums.Events.VOI_MODIFIED, update);
    this.element.addEventListener(Enums.Events.CAMERA_MODIFIED, update);
    // Set before the image loads: a move onto an image known to fail says so at once.
    this.element.addEventListener(Enums.Events.PRE_STACK_NEW_IMAGE, update);
  }

  get viewport(): StackViewport | undefined {
    return this.engine.getViewport<StackViewport | undefined>(this.viewportId);
  }

  /** A message over the image for the whole series (it cannot be shown at all, or the stack failed to set). */
  showMessage(text: string): void {
    this.seriesMessage = text;
    this.setMessage(text);
  }

  private setMessage(text: string): void {
    this.message.textContent = text;
    this.message.hidden = !text;
  }

  private setNote(text: string): void {
    this.note.textContent = text;
  }

  /** Names the study of a comparison (current or prior, with its date); nothing outside one. */
  private showLabel(ds: DisplaySet): void {
    const text = ds.comparison ? `${ds.comparison.toUpperCase()} ${formatDate(ds.studyDate)}`.trim() : '';
    this.label.textContent = text;
    this.label.hidden = !text;
    this.label.classList.toggle('prior', ds.comparison === 'prior');
    if (ds.comparison) this.root.dataset.comparison = ds.comparison;
    else delete this.root.dataset.comparison;
  }

  showProgress(text: string): void {
    this.progress.textContent = text;
  }

  /** Shows a series: its metadata first (once), then the stack from its first image. */
  async show(ds: DisplaySet, metadataRead?: () => void): Promise<boolean> {
    const generation = ++this.generation;
    this.displaySet = ds;
    this.root.dataset.series = ds.seriesUid;
    this.showLabel(ds);
    this.showMessage('');
    this.setNote('');
    this.root.classList.remove('image-failed');
    this.showProgress('loading...');
    await loadDisplaySet(ds);
    metadataRead?.();
    if (generation !== this.generation) return false;
    this.showProgress('');
    if (ds.error || !ds.imageIds) {
      this.showMessage(`Series ${ds.seriesNumber ?? ''} ${ds.description}: ${ds.error ?? 'no images'}`.replace(/\s+/g, ' '));
      return false;
    }
    if (ds.warning) this.setNote(ds.warning);
    const vp = this.viewport;
    if (!vp) return false;
    this.scrollbar.max = String(ds.imageIds.length - 1);
    this.scrollbar.value = '0';
    this.scrollbar.disabled = ds.imageIds.length < 2;
    try {
      this.settingStack = true;
      await vp.setStack(ds.imageIds, 0).finally(() => (this.settingStack = false));
      // Smooth when zoomed: linear between pixel centres, never blocks (said here, not left to a default).
      vp.setProperties({ interpolationType: Enums.InterpolationType.LINEAR });
      vp.render();
      return true;
    } catch (e) {
      if (generation === this.generation) this.showMessage(`Cannot display this image: ${describe(e)}`);
      return false;
    }
  }

  /**
   * Brings the cell in line with the image at the viewport's current index. An image that
   * failed is named over an empty viewport (never the previous image's pixels under the
   * failed one's number); a good one is shown plainly, with a note when others failed.
   */
  refresh(): void {
    const vp = this.viewport;
    const ds = this.displaySet;
    if (!vp || !vp.getImageIds().length) return;
    const index = vp.getCurrentImageIdIndex();
    this.scrollbar.value = String(index);
    const failures = ds?.failures;
    const failure = failures?.get(vp.getImageIds()[index]);
    this.root.classList.toggle('image-failed', failure !== undefined);
    this.overlay.update(vp, failure !== undefined);
    if (failure !== undefined) this.setMessage(failureText(index, failure));
    else this.setMessage(this.seriesMessage);
    const others = failures ? [...failures.keys()].filter((id) => vp.getImageIds().includes(id)).length : 0;
    const count = vp.getImageIds().length;
    const failedNote = others ? `${others} of ${count} images cannot be displayed` : '';
    this.setNote([ds?.warning, failedNote].filter(Boolean).join('; '));
  }
}

/** "Cannot decode image 3: <reason>", or "Cannot load image 3: ..." when the image never arrived. */
export function failureText(index: number, failure: ImageFailure): string {
  return `Cannot ${failure.kind} image ${index + 1}: ${failure.reason}`;
}

/** A load error as the cell names it: an HTTP status means the image never arrived; anything else, its pixels could not be read. */
export function failureOf(error: unknown): ImageFailure {
  const o = error as { status?: unknown; error?: { status?: unknown }; frameProblem?: unknown } | undefined;
  // Refused before decoding (frame-check.ts): the request succeeded, the frame is unreadable.
  if (typeof o?.frameProblem === 'string') return { kind: 'decode', reason: o.frameProblem };
  const http = typeof o?.status === 'number' || typeof o?.error?.status === 'number';
  return { kind: http ? 'load' : 'decode', reason: describe(error) };
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
