// The viewer's reading state beyond measurements: presentation states (save what the active
// viewport shows as a GSPS, apply the newest stored one when a series opens, choose
// another) and key images (mark, store as a KOS, show a study's key images as a stack in
// the series panel). Its code (dcmjs) loads after the first image, like measurements.
import { Enums } from '@cornerstonejs/core';
import { wadors } from '@cornerstonejs/dicom-image-loader';
import { api, type Me } from '../api.js';
import { str, TAG, type DicomJson } from '../dicom-json.js';
import { h } from '../dom.js';
import type { StoredPresentation } from './gsps-apply.js';
import { preloadedDisplaySet, type DisplaySet } from './loader.js';
import type { DicomWebClient } from '../dicomweb.js';
import { describe, type ViewportCell } from './viewport-cell.js';
import { readingBar } from './reading-bar.js';

/** What the reading tools use of the viewer (viewer.ts; an interface, not an import of it). */
export interface ReadingHost {
  readonly grid: { readonly cells: ViewportCell[] };
  readonly active: number;
  readonly activeCell: ViewportCell | undefined;
  readonly displaySets: DisplaySet[];
  readonly options: { readonly studyUids: string[] };
  readonly client: DicomWebClient;
  readonly panel: HTMLElement;
  assign(cell: ViewportCell, ds: DisplaySet): Promise<void>;
}

const gspsModule = () => import('./gsps-apply.js');
const keyImagesModule = () => import('./key-images.js');

export class ReadingSession {
  readonly root: HTMLElement;
  /** What happened last (saved, applied, failed): its own line, the toolbar's status stays the measurements'. */
  readonly status: HTMLSpanElement;
  private readonly presentationSelect: HTMLSelectElement;
  private readonly keyButton: HTMLButtonElement;
  /** Stored presentation states of each display set (by key), newest first. */
  private readonly presentations = new Map<string, StoredPresentation[]>();
  /** Marked key images per study. */
  private readonly keys = new Map<string, Set<string>>();
  private opened = false;

  constructor(private readonly viewer: ReadingHost) {
    const bar = readingBar({
      savePresentation: () => this.savePresentation(),
      choosePresentation: (uid) => this.choosePresentation(uid),
      toggleKeyImage: () => this.toggleKeyImage(),
      saveKeyImages: () => this.saveKeyImages(),
    });
    this.root = bar.root;
    this.status = bar.status;
    this.presentationSelect = bar.presentationSelect;
    this.keyButton = bar.keyButton;
  }

  private say(text: string): void {
    this.status.textContent = text;
    this.status.title = text;
  }

  /** After the first series are shown and the measurements restored: their presentation states, the studies' key images. */
  async afterOpen(): Promise<void> {
    for (const cell of this.viewer.grid.cells)
      if (cell.displaySet?.imageIds && cell.viewport?.getImageIds().length) await this.seriesShown(cell, cell.displaySet);
    await this.loadKeyImages();
    this.opened = true;
  }

  /** A series put into a viewport after the page opened. */
  shown(cell: ViewportCell, ds: DisplaySet): void {
    if (this.opened) void this.seriesShown(cell, ds);
  }

  cellAdded(cell: ViewportCell): void {
    const badge = h('div', { class: 'key-badge', hidden: true, title: 'key image' }, '★ Key image');
    cell.root.append(badge);
    const update = () => {
      const id = cell.viewport?.getImageIds().length ? cell.viewport.getCurrentImageId() : undefined;
      const marked = !!id && !!cell.displaySet && !!this.keys.get(cell.displaySet.studyUid)?.has(id);
      badge.hidden = !marked;
      if (cell.index === this.viewer.active) this.keyButton.setAttribute('aria-pressed', String(marked));
    };
    cell.element.addEventListener(Enums.Events.STACK_NEW_IMAGE, update);
    cell.element.addEventListener(Enums.Events.IMAGE_RENDERED, update);
  }

  private async seriesShown(cell: ViewportCell, ds: DisplaySet): Promise<void> {
    try {
      const { presentationsOf, applyPresentation, addPresentationAnnotations } = await gspsModule();
      const problems: string[] = [];
      const list = await presentationsOf(ds.client, ds, problems);
      this.presentations.set(ds.key, list);
      if (cell.index === this.viewer.active) this.listPresentations(ds);
      const newest = list[0];
      if (cell.displaySet !== ds || !cell.viewport) return;
      if (!newest) {
        if (problems.length) this.say(problems[0]);
        return;
      }
      applyPresentation(cell.viewport, newest);
      const { added, skipped } = addPresentationAnnotations(newest, ds);
      cell.viewport.render();
      this.presentationSelect.value = newest.sopInstanceUid;
      this.say(`presentation state "${newest.label}" applied${added ? `, ${added} annotation(s)` : ''}${skipped ? `, ${skipped} could not be shown` : ''}`);
    } catch (e) {
      this.say(`presentation states could not be read: ${describe(e)}`);
    }
  }

  /** The active viewport's series' presentation states in the select. */
  listPresentations(ds: DisplaySet | undefined): void {
    const list = ds ? (this.presentations.get(ds.key) ?? []) : [];
    const current = this.presentationSelect.value;
    this.presentationSelect.replaceChildren(
      h('option', { value: '' }, list.length ? 'presentation state' : 'no presentation states'),
      ...list.map((p) =>
        h(
          'option',
          { value: p.sopInstanceUid },
          `${p.label}${p.description ? ` - ${p.description}` : ''} (${p.created.slice(0, 8)} ${p.created.slice(8, 12)})`,
        ),
      ),
    );
    this.presentationSelect.value = list.some((p) => p.sopInstanceUid === current) ? current : '';
  }

  private async choosePresentation(uid: string): Promise<void> {
    const cell = this.viewer.activeCell;
    const ds = cell?.displaySet;
    const p = ds && this.presentations.get(ds.key)?.find((q) => q.sopInstanceUid === uid);
    if (!cell?.viewport || !ds || !p) return;
    const { applyPresentation, addPresentationAnnotations } = await gspsModule();
    applyPresentation(cell.viewport, p);
    const { added } = addPresentationAnnotations(p, ds);
    cell.viewport.render();
    this.say(`presentation state "${p.label}" applied${added ? `, ${added} annotation(s)` : ''}`);
  }

  private async savePresentation(): Promise<void> {
    const cell = this.viewer.activeCell;
    const ds = cell?.displaySet;
    if (!cell?.viewport?.getImageIds().length || !ds) return this.say('no image to save the display of');
    this.say('saving the display...');
    try {
      const { savePresentation, presentationsOf } = await gspsModule();
      const me = await api<Me>('GET', '/api/me').catch(() => undefined);
      const r = await savePresentation(cell.viewport, ds, me?.user ?? '');
      this.presentations.set(ds.key, await presentationsOf(ds.client, ds));
      this.listPresentations(ds);
      this.presentationSelect.value = r.sopInstanceUid;
      this.say(`display saved as a presentation state${r.annotations ? ` with ${r.annotations} annotation(s)` : ''}`);
    } catch (e) {
      this.say(describe(e));
    }
  }

  private toggleKeyImage(): void {
    const cell = this.viewer.activeCell;
    const ds = cell?.displaySet;
    const id = cell?.viewport?.getImageIds().length ? cell.viewport.getCurrentImageId() : undefined;
    if (!ds || !id || !cell?.viewport) return;
    const set = this.keys.get(ds.studyUid) ?? new Set<string>();
    if (set.has(id)) set.delete(id);
    else set.add(id);
    this.keys.set(ds.studyUid, set);
    cell.viewport.render(); // the badge follows on IMAGE_RENDERED
    this.say(`${set.size} key image(s) marked in this study`);
  }

  private async saveKeyImages(): Promise<void> {
    const ds = this.viewer.activeCell?.displaySet;
    if (!ds) return;
    const marked = [...(this.keys.get(ds.studyUid) ?? [])];
    try {
      const { saveKeyImages } = await keyImagesModule();
      await saveKeyImages(ds.client, ds.studyUid, marked, 'marked in the viewer');
      this.say(`${marked.length} key image(s) saved`);
    } catch (e) {
      this.say(describe(e));
    }
  }

  /** Each open study's key images: marked, and listed as one stack in the series panel. */
  private async loadKeyImages(): Promise<void> {
    const { keyObjectsOf, keyImageIds } = await keyImagesModule();
    for (const studyUid of this.viewer.options.studyUids) {
      try {
        const objects = await keyObjectsOf(this.viewer.client, studyUid);
        if (!objects.length) continue;
        const sets = this.viewer.displaySets.filter((d) => d.studyUid === studyUid);
        const { imageIds, missing } = await keyImageIds(objects, sets);
        if (!imageIds.length) continue;
        this.keys.set(studyUid, new Set(imageIds));
        const firstInst = wadors.metaDataManager.get(imageIds[0]) as unknown as DicomJson;
        const source = sets.find((d) => d.seriesUid === str(firstInst, TAG.SeriesInstanceUID)) ?? sets[0];
        const ds = preloadedDisplaySet({
          ...source,
          key: `${this.viewer.client.root}|key-images|${studyUid}`,
          description: 'Key images',
          seriesNumber: undefined,
          modality: source.modality,
          instanceCount: imageIds.length,
          imageIds,
          warning: missing ? `${missing} key image(s) are not in this study any more` : undefined,
          error: undefined,
        });
        this.addPanelItem(ds);
        this.say(`${imageIds.length} key image(s) in this study`);
      } catch (e) {
        this.say(`key images could not be read: ${describe(e)}`);
      }
    }
    for (const c of this.viewer.grid.cells) c.viewport?.render();
  }

  private addPanelItem(ds: DisplaySet): void {
    const item = h(
      'li',
      { class: 'series-item key-images', 'data-key-images': ds.studyUid, title: 'the study’s key images: click to show them in the active viewport' },
      h('img', { class: 'thumb', src: ds.thumbnailUrl, alt: '', loading: 'lazy', draggable: 'false' }),
      h(
        'div',
        { class: 'series-text' },
        h('div', { class: 'series-title' }, `★ Key images`),
        h('div', { class: 'muted' }, `${ds.instanceCount} image${ds.instanceCount === 1 ? '' : 's'}`),
      ),
    );
    item.addEventListener('click', () => {
      const cell = this.viewer.activeCell;
      if (cell) void this.viewer.assign(cell, ds);
    });
    const list = this.viewer.panel.querySelector('.series-list');
    const heading = list?.querySelector(`.study-heading[data-study="${ds.studyUid}"]`);
    if (heading) heading.after(item);
    else list?.append(item);
  }
}
