// A study's segmentations (SEG), structure sets (RTSTRUCT) and reports (SR) in the viewer.
// Each is listed in the series panel under its study; a SEG or RTSTRUCT is read after the
// first images and drawn over the image series it was made on (derived-overlay.ts), with a
// switch per segment or ROI; an SR opens as text in a panel beside the images. What cannot
// be read is named in the panel and over the images of its study, never thrown.
import { Enums } from '@cornerstonejs/core';
import { str, TAG, type DicomJson } from '../dicom-json.js';
import { background, h } from '../dom.js';
import type { DicomWebClient } from '../dicomweb.js';
import { DerivedOverlay, type DerivedObject } from './derived-overlay.js';
import { loadDisplaySet, type DisplaySet } from './loader.js';
import type { StructureSet } from './rtstruct-parse.js';
import type { Segmentation } from './seg-parse.js';
import { describe, type ViewportCell } from './viewport-cell.js';

const loadModule = () => import('./derived-load.js');
const srViewModule = () => import('./sr-view.js');

/** What this part uses of the viewer (viewer.ts; an interface, not an import of it). */
export interface DerivedHost {
  readonly grid: { readonly cells: ViewportCell[] };
  readonly activeCell: ViewportCell | undefined;
  readonly displaySets: DisplaySet[];
  readonly client: DicomWebClient;
  readonly panel: HTMLElement;
  assign(cell: ViewportCell, ds: DisplaySet): Promise<void>;
}

/** A series that holds no images to hang but is shown another way. */
export interface DerivedSeries {
  studyUid: string;
  series: DicomJson;
}

/** Modalities shown here rather than hung as images. */
export const DERIVED_MODALITIES = new Set(['SEG', 'RTSTRUCT', 'SR']);

export class DerivedObjects {
  readonly objects: DerivedObject[] = [];
  private readonly overlays = new Map<ViewportCell, DerivedOverlay>();
  /** Problems per study, shown over its images. */
  private readonly problems = new Map<string, string[]>();
  readonly srPanel: HTMLElement;
  private readonly srBody: HTMLElement;

  constructor(private readonly viewer: DerivedHost) {
    this.srBody = h('div', { class: 'sr-body' });
    const close = h('button', { type: 'button', class: 'sr-close', title: 'close the report' }, 'Close');
    close.addEventListener('click', () => (this.srPanel.hidden = true));
    this.srPanel = h('aside', { id: 'sr-panel', class: 'sr-panel', hidden: true, 'aria-label': 'structured report' }, close, this.srBody);
  }

  cellAdded(cell: ViewportCell): void {
    const overlay = new DerivedOverlay();
    this.overlays.set(cell, overlay);
    cell.element.after(overlay.canvas);
    const problem = h('div', { class: 'derived-problem', role: 'alert' });
    overlay.canvas.after(problem);
    const redraw = () => {
      overlay.draw(cell.viewport, this.objects, cell.displaySet?.seriesUid);
      problem.textContent = (cell.displaySet && this.problems.get(cell.displaySet.studyUid)?.join('; ')) ?? '';
    };
    cell.element.addEventListener(Enums.Events.IMAGE_RENDERED, redraw);
    cell.element.addEventListener(Enums.Events.STACK_NEW_IMAGE, redraw);
  }

  /** Redraws every viewport's overlay (after a switch or a load). */
  redraw(): void {
    for (const c of this.viewer.grid.cells) c.viewport?.render();
  }

  /** Lists the series in the panel and reads the segmentations and structure sets. */
  async open(series: DerivedSeries[]): Promise<void> {
    const loads: Promise<void>[] = [];
    for (const s of series) {
      const modality = str(s.series, TAG.Modality);
      const item = this.panelItem(s, modality);
      if (modality === 'SR')
        item.addEventListener(
          'click',
          background(() => this.showReport(s)),
        );
      else if (modality === 'SEG' || modality === 'RTSTRUCT') loads.push(this.loadOverlay(s, modality, item));
    }
    await Promise.all(loads);
    this.redraw();
  }

  private panelItem(s: DerivedSeries, modality: string): HTMLElement {
    const seriesUid = str(s.series, TAG.SeriesInstanceUID);
    const description = str(s.series, TAG.SeriesDescription);
    const item = h(
      'li',
      { class: `series-item derived-item derived-${modality.toLowerCase()}`, 'data-series': seriesUid, 'data-modality': modality },
      h(
        'div',
        { class: 'series-text' },
        h('div', { class: 'series-title' }, `${str(s.series, TAG.SeriesNumber) || '-'} ${description || `(${modality})`}`),
        h('div', { class: 'muted derived-state' }, modality === 'SR' ? 'SR - click to read' : `${modality} - reading...`),
      ),
    );
    const list = this.viewer.panel.querySelector('.series-list');
    const studyItems = list ? [...list.querySelectorAll(`.series-item`)].filter((e) => this.studyOf(e) === s.studyUid) : [];
    const last = studyItems[studyItems.length - 1];
    if (last) last.after(item);
    else list?.append(item);
    return item;
  }

  /** The study of a panel item: the heading before it. */
  private studyOf(e: Element): string | undefined {
    for (let p = e.previousElementSibling; p; p = p.previousElementSibling) if (p.classList.contains('study-heading')) return (p as HTMLElement).dataset.study;
    return undefined;
  }

  private problem(studyUid: string, text: string): void {
    this.problems.set(studyUid, [...(this.problems.get(studyUid) ?? []), text]);
  }

  private async loadOverlay(s: DerivedSeries, modality: 'SEG' | 'RTSTRUCT', item: HTMLElement): Promise<void> {
    const state = item.querySelector('.derived-state')!;
    const seriesUid = str(s.series, TAG.SeriesInstanceUID);
    const name = str(s.series, TAG.SeriesDescription) || modality;
    const what = modality === 'SEG' ? 'segmentation' : 'structure set';
    try {
      const { loadOverlays } = await loadModule();
      for (const r of await loadOverlays(this.viewer.client, s.studyUid, seriesUid, modality)) {
        if ('error' in r) {
          const text = `Cannot show ${what} "${name}": ${r.error}`;
          item.append(h('div', { class: 'derived-error', role: 'alert' }, text));
          this.problem(s.studyUid, text);
          continue;
        }
        const target = await this.imageSeriesOf(s.studyUid, r.value);
        if (!target) {
          const text = `Cannot show ${what} "${name}": the image series it was made on is not in this study`;
          item.append(h('div', { class: 'derived-error', role: 'alert' }, text));
          this.problem(s.studyUid, text);
          continue;
        }
        const object: DerivedObject =
          modality === 'SEG'
            ? { kind: 'SEG', seg: r.value as Segmentation, hidden: new Set(), seriesUid: target.seriesUid }
            : { kind: 'RTSTRUCT', rt: r.value as StructureSet, hidden: new Set(), seriesUid: target.seriesUid };
        this.objects.push(object);
        // A series without a description is titled by what it holds (a structure set's label).
        if (!str(s.series, TAG.SeriesDescription))
          item.querySelector('.series-title')!.textContent = `${str(s.series, TAG.SeriesNumber) || '-'} ${r.value.label}`;
        item.append(this.toggles(object, target));
        item.querySelector('.series-text')!.addEventListener('click', () => {
          const cell = this.viewer.grid.cells.find((c) => c.displaySet === target) ?? this.viewer.activeCell;
          if (cell && cell.displaySet !== target) void this.viewer.assign(cell, target);
        });
      }
      state.textContent = `${modality} - over series ${[...new Set(this.objects.filter((o) => o.seg?.seriesUid === seriesUid || o.rt?.seriesUid === seriesUid).map((o) => this.viewer.displaySets.find((d) => d.seriesUid === o.seriesUid)?.seriesNumber ?? '?'))].join(', ') || '-'}`;
    } catch (e) {
      const text = `Cannot show ${what} "${name}": ${describe(e)}`;
      state.textContent = modality;
      item.append(h('div', { class: 'derived-error', role: 'alert' }, text));
      this.problem(s.studyUid, text);
    }
  }

  /** The display set a SEG or RTSTRUCT is drawn over: a series it references, else one in its frame of reference. */
  private async imageSeriesOf(studyUid: string, v: Segmentation | StructureSet): Promise<DisplaySet | undefined> {
    const sets = this.viewer.displaySets.filter((d) => d.studyUid === studyUid);
    const referenced = sets.find((d) => v.referencedSeriesUids.includes(d.seriesUid));
    if (referenced) return referenced;
    const frameOfReference = 'frameOfReferenceUid' in v ? v.frameOfReferenceUid : v.rois[0]?.frameOfReferenceUid;
    if (!frameOfReference) return undefined;
    await Promise.all(sets.map((d) => loadDisplaySet(d)));
    return sets.find((d) => d.frameOfReferenceUid === frameOfReference);
  }

  private toggles(o: DerivedObject, target: DisplaySet): HTMLElement {
    const entries = o.seg
      ? o.seg.segments.map((s) => ({ n: s.number, label: s.label, colour: s.colour }))
      : o.rt!.rois.map((r) => ({ n: r.number, label: r.name, colour: r.colour }));
    return h(
      'ul',
      {
        class: 'derived-toggles',
        'data-sop': o.seg?.sopInstanceUid ?? o.rt!.sopInstanceUid,
        title: `over series ${target.seriesNumber ?? ''} ${target.description}`,
      },
      ...entries.map((e) => {
        const box = h('input', { type: 'checkbox', checked: true, 'data-number': String(e.n), 'aria-label': `show ${e.label}` });
        box.addEventListener('change', () => {
          if (box.checked) o.hidden.delete(e.n);
          else o.hidden.add(e.n);
          this.redraw();
        });
        box.addEventListener('click', (ev) => ev.stopPropagation());
        return h(
          'li',
          { class: 'derived-toggle', 'data-label': e.label },
          h('label', {}, box, h('span', { class: 'swatch', style: `background: rgb(${e.colour.join(',')})` }), ` ${e.label}`),
        );
      }),
    );
  }

  private async showReport(s: DerivedSeries): Promise<void> {
    const seriesUid = str(s.series, TAG.SeriesInstanceUID);
    this.srBody.replaceChildren(h('div', { class: 'muted' }, 'reading the report...'));
    this.srPanel.hidden = false;
    try {
      const [{ loadReports }, { renderSrDocument }] = await Promise.all([loadModule(), srViewModule()]);
      const docs = await loadReports(this.viewer.client, s.studyUid, seriesUid);
      this.srBody.replaceChildren(
        ...docs.map((d) =>
          'error' in d
            ? h('div', { class: 'derived-error', role: 'alert' }, `Cannot show report ${d.sopInstanceUid}: ${d.error}`)
            : renderSrDocument(d.value, d.sopInstanceUid),
        ),
      );
      if (!docs.length) this.srBody.replaceChildren(h('div', { class: 'muted' }, 'the series holds no report'));
    } catch (e) {
      this.srBody.replaceChildren(h('div', { class: 'derived-error', role: 'alert' }, `Cannot show the report: ${describe(e)}`));
    }
  }
}
