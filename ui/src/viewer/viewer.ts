// The viewer: a series panel, a toolbar and a grid of stack viewports over one or more
// studies read through DICOMweb. State lives on this instance (one per page).
import { cache, Enums, eventTarget, RenderingEngine, utilities as csUtils, type StackViewport, type Types } from '@cornerstonejs/core';
import { annotation as annotationApi, utilities as toolUtils } from '@cornerstonejs/tools';
import { wadors } from '@cornerstonejs/dicom-image-loader';
import type { HangingProtocol } from '../api.js';
import { backHref } from './request.js';
import { h } from '../dom.js';
import { str, TAG, type DicomJson } from '../dicom-json.js';
import { archiveRoot, DicomWebClient } from '../dicomweb.js';
import { applyWindow, flip, invert, reset, rotate } from './image-ops.js';
import { ViewportGrid } from './layout.js';
import { BUILT_IN_PROTOCOLS, hangingOrder, hangsAsImages, layoutFor, planHanging, type HangingPlan, type StudyFacts } from './hanging.js';
import { findPrior, priorModality, studyIdentity } from './prior-study.js';
import { adminProtocols, studySearch, type EarlyTimings } from './early.js';
import type { Preview } from './preview.js';
import { displaySetFromSeries, prefetchStack, type DisplaySet, type StackTimeline } from './loader.js';
import { Navigation } from './navigation.js';
import { renderSeriesPanel, SERIES_MIME } from './series-panel.js';
import { QrPanel } from './qr-panel.js';
import { Toolbar, type ToolbarActions } from './toolbar.js';
import type { ArchiveName } from './request.js';
import { ViewerTools } from './tools.js';
import { describe, failureOf, type ViewportCell } from './viewport-cell.js';
import { showContextMenu } from './context-menu.js';
import { MeasurementList } from './measurement-list.js';
import { presetForm, UserPresets } from './user-presets.js';
import { ReadingSession } from './reading.js';
import { headerPresets, modalityPresets, userPresetsFor, type WindowPreset } from './window-presets.js';
import { DERIVED_MODALITIES, DerivedObjects, type DerivedSeries } from './derived-objects.js';

/** Reading and writing measurement reports (dcmjs, about 1 MB): loaded after the first image, not before it. */
const measurementsModule = () => import('./measurements.js');

export interface ViewerOptions {
  studyUids: string[];
  archive: ArchiveName;
}

/** Times since the page started (performance.now()), for the report and the tests. */
export interface ViewerTimings {
  /** The page's modules evaluated (main.ts starts). */
  scriptsLoaded?: number;
  /** The session checked (or the login done). */
  loggedIn?: number;
  /** Cornerstone initialised. */
  cornerstoneReady?: number;
  /** open() called (scripts loaded, Cornerstone initialised). */
  open?: number;
  /** The studies' series listed (QIDO-RS). */
  seriesListed?: number;
  /** The first series' metadata read (WADO-RS). */
  metadata?: number;
  /** setStack done for the first series shown (its render is requested, not yet drawn). */
  firstImage?: number;
  /** The first image drawn on its canvas (Cornerstone's IMAGE_RENDERED after setStack). */
  firstDrawn?: number;
  /** The first image drawn as a preview on a plain canvas before Cornerstone had loaded (preview.ts). */
  firstPreview?: number;
  /** The early requests' answers (early.ts), filled as they come. */
  early?: EarlyTimings;
  stackCached?: Record<string, number>;
  /** The first stack's loading, batch by batch (loader.ts). */
  stack?: StackTimeline;
}

export class Viewer {
  static readonly renderingEngineId = 'viewer';
  readonly engine: RenderingEngine;
  readonly grid: ViewportGrid;
  readonly tools: ViewerTools;
  readonly nav: Navigation;
  readonly toolbar: Toolbar;
  readonly client: DicomWebClient;
  readonly panel: HTMLElement;
  readonly qrPanel: QrPanel;
  readonly measurementList: MeasurementList;
  displaySets: DisplaySet[] = [];
  /** Studies with a measurement report in the archive: a deletion there is saved at once (a newer report). */
  private readonly reportedStudies = new Set<string>();
  active = 0;
  readonly timings: ViewerTimings = { stackCached: {} };
  private readonly prefetched = new Set<string>();
  readonly userPresets = new UserPresets();
  /** Presentation states and key images (reading.ts). */
  readonly reading: ReadingSession;
  /** Segmentations, structure sets and reports of the open studies (derived-objects.ts). */
  readonly derived: DerivedObjects;
  /** The first image drawn before Cornerstone had loaded (main.ts): replaced by the first render of its series. */
  preview?: Preview;

  constructor(
    readonly root: HTMLElement,
    readonly options: ViewerOptions,
    client?: DicomWebClient,
  ) {
    this.client = client ?? new DicomWebClient(archiveRoot(options.archive));
    this.engine = new RenderingEngine(Viewer.renderingEngineId);
    this.tools = new ViewerTools('viewer-tools', Viewer.renderingEngineId);
    this.nav = new Navigation('viewer-scroll-sync', Viewer.renderingEngineId);
    this.qrPanel = new QrPanel(options);
    this.toolbar = new Toolbar(this.actions());
    this.reading = new ReadingSession(this);
    this.toolbar.addGroup(this.reading.root);
    this.panel = h('aside', { class: 'series-panel', id: 'series-panel' });
    this.derived = new DerivedObjects(this);
    this.measurementList = new MeasurementList({
      displaySets: () => this.displaySets,
      show: (ds, imageId) => this.showImage(ds, imageId),
      delete: (uids) => void this.deleteMeasurements(uids),
    });
    const gridRoot = h('div', { class: 'viewport-grid', id: 'viewport-grid' });
    root.replaceChildren(this.toolbar.root, h('div', { class: 'viewer-body' }, this.panel, gridRoot, this.qrPanel.root, this.derived.srPanel));
    this.grid = new ViewportGrid(gridRoot, this.engine, {
      added: (cell) => this.cellAdded(cell),
      removing: (cell) => {
        this.tools.removeViewport(cell.viewportId);
        this.nav.remove(cell);
      },
    });
    this.toolbar.setActiveTool(this.tools.primary);
    this.toolbar.addImageControl(
      presetForm(this.userPresets, {
        current: () => this.currentWindow(),
        saved: (message) => {
          this.toolbar.status.textContent = message;
          this.refreshPresets();
        },
      }),
    );
    void this.userPresets.load((message) => (this.toolbar.status.textContent = message)).then(() => this.refreshPresets());
    document.addEventListener('keydown', (e) => this.onKey(e));
    eventTarget.addEventListener(Enums.Events.IMAGE_LOAD_ERROR, (e: Event) => this.onLoadError(e as CustomEvent));
  }

  get activeCell(): ViewportCell | undefined {
    return this.grid.cells[this.active];
  }

  /**
   * Reads the studies' series and hangs them by the first hanging protocol that applies to
   * the first study (hanging.ts), with the patient's prior beside it when the protocol asks
   * for one; else in acquisition order, one per viewport.
   */
  async open(): Promise<void> {
    this.timings.open = performance.now();
    const adminProtocols = this.adminProtocols();
    const sets: DisplaySet[] = [];
    const problems: string[] = [];
    const derived: DerivedSeries[] = [];
    let currentAnswer: DicomJson | undefined;
    for (const [i, study] of this.options.studyUids.entries()) {
      try {
        const series = await this.client.series(study);
        if (!series.length) problems.push(`study ${study}: not found or empty`);
        if (i === 0) currentAnswer = series[0];
        // Reports (SR, key objects, presentation states) are read, not hung.
        const images = series.filter((s) => hangsAsImages(str(s, TAG.Modality)));
        sets.push(...images.map((s) => displaySetFromSeries(this.client, study, s)).sort(hangingOrder));
        derived.push(...series.filter((s) => DERIVED_MODALITIES.has(str(s, TAG.Modality))).map((s) => ({ studyUid: study, series: s })));
      } catch (e) {
        problems.push(`study ${study}: ${describe(e)}`);
      }
    }
    const opened = [...sets];
    const currentUid = this.options.studyUids[0];
    const current = sets.filter((d) => d.studyUid === currentUid);
    const protocols = [...(await adminProtocols), ...BUILT_IN_PROTOCOLS];
    const currentFacts: StudyFacts = { description: currentAnswer ? str(currentAnswer, TAG.StudyDescription) : '', series: current };
    const prior = await this.priorOf(currentAnswer, currentFacts, protocols, sets, problems);
    for (const ds of prior) if (!sets.includes(ds)) sets.push(ds);
    const plan = planHanging(protocols, currentFacts, prior.length ? { description: '', series: prior } : undefined);
    this.displaySets = sets;
    this.timings.seriesListed = performance.now();
    renderSeriesPanel(this.panel, sets, (ds) => {
      const cell = this.activeCell;
      if (cell) void this.assign(cell, ds);
    });
    this.panel.prepend(h('div', { class: 'hanging-protocol', id: 'hanging-protocol' }, `Hanging: ${plan.protocol ?? 'series in order'}`));
    // At the top of the series panel (its width is fixed): in the toolbar it moved the tools and the images.
    this.panel.prepend(
      h('a', { id: 'viewer-back', class: 'button back-link', href: backHref(location.search), title: 'back to the study list' }, '← Study list'),
    );
    this.grid.root.dataset.protocol = plan.protocol ?? '';
    this.panel.append(this.measurementList.root);
    this.measurementList.render();
    if (problems.length) this.panel.prepend(h('div', { class: 'panel-error', role: 'alert' }, ...problems.map((p) => h('div', {}, p))));
    const placed = this.placement(plan, opened, current, prior);
    // Without a protocol: every opened study's series (planHanging's default counts the first study's).
    const [rows, cols] = plan.protocol ? [plan.rows, plan.cols] : layoutFor(opened.length);
    this.setLayout(rows, cols, false);
    this.linkComparisons(placed);
    await Promise.all(this.grid.cells.map((cell, i) => (placed[i] ? this.assign(cell, placed[i]) : Promise.resolve())));
    await this.restoreMeasurements();
    await this.reading.afterOpen();
    await this.derived.open(derived);
  }

  /**
   * The display set of each cell: the protocol's (labelled current and prior when it shows
   * a prior), its empty cells taking the other opened studies' series; without a protocol,
   * the opened series in order in a layout sized to them.
   */
  private placement(plan: HangingPlan, opened: DisplaySet[], current: DisplaySet[], prior: DisplaySet[]): Array<DisplaySet | undefined> {
    if (!plan.protocol)
      return opened.slice(
        0,
        layoutFor(opened.length).reduce((r, c) => r * c),
      );
    if (plan.viewports.some((v) => v?.study === 'prior')) {
      for (const ds of current) ds.comparison = 'current';
      for (const ds of prior) ds.comparison = 'prior';
    }
    const byKey = new Map([...opened, ...prior].map((d) => [d.key, d]));
    const placed = plan.viewports.map((v) => v && byKey.get(v.key));
    const rest = opened.filter((d) => !placed.includes(d));
    return placed.map((d) => d ?? rest.shift());
  }

  /** The administrators' protocols (tried before the built-in ones); none when they cannot be read, said in the status line. */
  private async adminProtocols(): Promise<HangingProtocol[]> {
    try {
      return await adminProtocols(); // asked early (early.ts), with the series
    } catch (e) {
      this.toolbar.status.textContent = `the hanging protocols could not be read (built-in ones used): ${describe(e)}`;
      return [];
    }
  }

  /**
   * The display sets of the current study's prior when a protocol that applies asks for one
   * (prior-study.ts): the same patient's newest study of an earlier date with the study's
   * main modality. Reused when it is open already; none when there is no such study.
   */
  private async priorOf(
    currentAnswer: DicomJson | undefined,
    current: StudyFacts,
    protocols: readonly HangingProtocol[],
    sets: readonly DisplaySet[],
    problems: string[],
  ): Promise<DisplaySet[]> {
    const modality = currentAnswer && priorModality(protocols, current);
    if (!currentAnswer || !modality) return [];
    try {
      // The same search early.ts started with the series: its answer if it came.
      const uid = await findPrior(studySearch(this.client), studyIdentity(currentAnswer, this.options.studyUids[0]), modality);
      if (!uid) return [];
      const open = sets.filter((d) => d.studyUid === uid);
      if (open.length) return open;
      const series = await this.client.series(uid);
      return series
        .filter((s) => hangsAsImages(str(s, TAG.Modality)))
        .map((s) => displaySetFromSeries(this.client, uid, s))
        .sort(hangingOrder);
    } catch (e) {
      problems.push(`the prior study could not be searched: ${describe(e)}`);
      return [];
    }
  }

  /** A prior and a current shown side by side scroll together by position (navigation.ts). */
  private linkComparisons(placed: ReadonlyArray<DisplaySet | undefined>): void {
    this.nav.unlinkAll();
    const cells = this.grid.cells;
    for (const [i, a] of placed.entries()) {
      if (a?.comparison !== 'prior') continue;
      for (const [j, b] of placed.entries()) if (b?.comparison === 'current' && cells[i] && cells[j]) this.nav.linkByPosition(cells[i], cells[j]);
    }
  }

  /** Draws the newest measurement report of each open study onto its images. */
  async restoreMeasurements(): Promise<void> {
    try {
      const { restoreMeasurements } = await measurementsModule();
      const r = await restoreMeasurements(
        this.displaySets,
        this.options.studyUids.map((studyUid) => ({ client: this.client, studyUid })),
      );
      for (const study of r.reported) this.reportedStudies.add(study);
      if (r.restored || r.skipped)
        this.toolbar.status.textContent = `${r.restored} saved measurement(s) restored${r.skipped ? `, ${r.skipped} could not be placed` : ''}`;
      for (const c of this.grid.cells) if (c.viewport?.getImageIds().length) c.viewport.render();
    } catch (e) {
      this.toolbar.status.textContent = `saved measurements could not be read: ${describe(e)}`;
    }
  }

  async saveMeasurements(): Promise<void> {
    this.toolbar.status.textContent = 'saving measurements...';
    try {
      const { saveMeasurements } = await measurementsModule();
      const n = await saveMeasurements(this.displaySets);
      for (const ds of this.displaySets) if (ds.imageIds) this.reportedStudies.add(ds.studyUid);
      this.toolbar.status.textContent = `${n} measurement(s) saved`;
    } catch (e) {
      this.toolbar.status.textContent = describe(e);
    }
  }

  /**
   * Deletes measurements. In a study whose measurements are in the archive, the deletion is
   * saved at once as a newer report (the newest one is what opens): what was deleted does
   * not come back. Elsewhere there is nothing stored to correct.
   */
  async deleteMeasurements(uids: string[]): Promise<void> {
    const studies = new Set<string>();
    for (const uid of uids) {
      const a = annotationApi.state.getAnnotation(uid) as { metadata?: { referencedImageId?: string } } | undefined;
      const imageId = a?.metadata?.referencedImageId;
      const ds = imageId ? this.displaySets.find((d) => d.imageIds?.includes(imageId)) : undefined;
      if (ds && this.reportedStudies.has(ds.studyUid)) studies.add(ds.studyUid);
      annotationApi.state.removeAnnotation(uid);
    }
    annotationApi.selection.deselectAnnotation();
    for (const c of this.grid.cells) if (c.viewport?.getImageIds().length) c.viewport.render();
    toolUtils.triggerAnnotationRenderForViewportIds(this.grid.cells.map((c) => c.viewportId));
    if (!uids.length) return;
    if (!studies.size) {
      this.toolbar.status.textContent = `${uids.length} measurement(s) deleted`;
      return;
    }
    this.toolbar.status.textContent = 'saving the deletion...';
    try {
      const { saveMeasurements } = await measurementsModule();
      const n = await saveMeasurements(this.displaySets, { studies, allowEmpty: true });
      this.toolbar.status.textContent = `${uids.length} measurement(s) deleted; report saved with ${n} measurement(s)`;
    } catch (e) {
      this.toolbar.status.textContent = `the deletion could not be saved: ${describe(e)}`;
    }
  }

  /** The image of a measurement: in the viewport showing its series, else in the active one. */
  private showImage(ds: DisplaySet, imageId: string): void {
    const cell = this.grid.cells.find((c) => c.displaySet === ds) ?? this.activeCell;
    if (!cell) return;
    const index = ds.imageIds?.indexOf(imageId) ?? -1;
    void (async () => {
      if (cell.displaySet !== ds) await this.assign(cell, ds);
      this.setActive(cell.index);
      if (index >= 0 && cell.viewport?.getCurrentImageIdIndex() !== index) await csUtils.jumpToSlice(cell.element, { imageIndex: index });
    })();
  }

  /** A right click (no drag: a drag zooms) on a measurement offers to delete it. */
  private contextMenu(cell: ViewportCell, e: PointerEvent): void {
    const rect = cell.element.getBoundingClientRect();
    const near = toolUtils.getAnnotationNearPoint(cell.element, [e.clientX - rect.left, e.clientY - rect.top] as Types.Point2, 8);
    if (!near?.annotationUID) return;
    const uid = near.annotationUID;
    annotationApi.selection.setAnnotationSelected(uid, true, false);
    showContextMenu(e.clientX, e.clientY, [{ id: 'delete-measurement', label: 'Delete measurement', run: () => void this.deleteMeasurements([uid]) }]);
  }

  /** `fill`: empty cells take the series not shown yet (a layout chosen in the toolbar); open() places its own. */
  setLayout(rows: number, cols: number, fill = true): void {
    try {
      this.grid.setLayout(rows, cols);
    } catch (e) {
      this.toolbar.status.textContent = describe(e);
      return;
    }
    this.toolbar.setLayout(rows, cols);
    if (this.active >= this.grid.cells.length) this.setActive(0);
    // New empty cells take the next series not shown yet.
    if (!fill) return this.setActive(this.active);
    const shown = new Set(this.grid.cells.map((c) => c.displaySet?.key));
    const unshown = this.displaySets.filter((d) => !shown.has(d.key));
    for (const cell of this.grid.cells) {
      if (!cell.displaySet && unshown.length) void this.assign(cell, unshown.shift()!);
    }
    this.setActive(this.active);
  }

  async assign(cell: ViewportCell, ds: DisplaySet): Promise<void> {
    this.nav.stopCine(cell);
    this.toolbar.setCinePlaying(false);
    const ok = await cell.show(ds, () => {
      this.timings.metadata ??= performance.now();
    });
    // Cornerstone's first render of the series replaces the preview drawn before it had loaded
    // (which may still come before that render: its frame is the one the loader waits for).
    const preview = this.preview;
    const previewed = preview && (preview.seriesUid ?? ds.seriesUid) === ds.seriesUid;
    if (!ok || !ds.imageIds) {
      if (previewed && preview.seriesUid) preview.close();
      return;
    }
    if (previewed) preview.replaceOn(cell.element, Enums.Events.IMAGE_RENDERED, ds.seriesUid);
    if (cell.index === this.active) this.refreshPresets();
    this.reading.shown(cell, ds);
    if (this.prefetched.has(ds.key)) return;
    this.prefetched.add(ds.key);
    if (this.timings.firstImage === undefined) {
      this.timings.firstImage = performance.now();
      // The stack starts with the first render asked for, not after it: its requests are read
      // and inflated in the fetch workers (batch-fetch.ts), and the first image is on screen
      // already when the preview drew it; waiting held the stack back by 0.15-0.45 s.
      void drawn(cell.element).then(() => (this.timings.firstDrawn = performance.now()));
    }
    const from = cell.viewport?.getCurrentImageIdIndex() ?? 0;
    // The count on screen changes at most every 100 ms: each change repaints the viewport (300 times for a CT stack otherwise).
    let shownAt = 0;
    const failed = await prefetchStack(
      ds.imageIds,
      (done, total) => {
        const now = performance.now();
        if (done < total && now - shownAt < 100) return;
        shownAt = now;
        for (const c of this.grid.cells) if (c.displaySet === ds) c.showProgress(done < total ? `cached ${done}/${total}` : '');
      },
      { from, pixelDataUrl: ds.client.pixelDataUrl(ds.studyUid, ds.seriesUid), ...(this.timings.stack ? {} : { timeline: (this.timings.stack = {}) }) },
    );
    this.timings.stackCached![ds.seriesUid] = performance.now();
    for (const f of failed) this.recordFailure(ds, ds.imageIds[f.index], f.error);
  }

  /** Notes an image that failed: the cells showing its series name it when it is the one shown. */
  private recordFailure(ds: DisplaySet, imageId: string | undefined, error: unknown): void {
    if (!imageId) return;
    (ds.failures ??= new Map()).set(imageId, failureOf(error));
    for (const c of this.grid.cells) if (c.displaySet === ds) c.refresh();
  }

  setActive(index: number): void {
    this.active = index;
    for (const c of this.grid.cells) c.root.classList.toggle('active', c.index === index);
    const cell = this.activeCell;
    if (!cell) return;
    this.refreshPresets();
    this.reading.listPresentations(cell.displaySet);
    this.toolbar.setCinePlaying(this.nav.isPlaying(cell));
    this.tools.setReferenceSource(cell.viewportId);
  }

  /** The presets for the active viewport's image: its modality's, its header's, the user's. */
  refreshPresets(): void {
    const cell = this.activeCell;
    const vp = cell?.viewport;
    const modality = cell?.displaySet?.modality;
    const imageId = vp?.getImageIds().length ? vp.getCurrentImageId() : undefined;
    const image = imageId ? cache.getImage(imageId) : undefined;
    const range = image ? { min: image.minPixelValue, max: image.maxPixelValue } : undefined;
    const inst = imageId ? (wadors.metaDataManager.get(imageId) as unknown as DicomJson | undefined) : undefined;
    this.toolbar.setPresets([...modalityPresets(modality, range), ...(inst ? headerPresets(inst) : []), ...userPresetsFor(this.userPresets.all, modality)]);
  }

  /** The window shown in the active viewport (PS3.3 C.11.2.1.2 center and width). */
  currentWindow(): { center: number; width: number; modality?: string } | undefined {
    const cell = this.activeCell;
    const voi = cell?.viewport?.getImageIds().length ? cell.viewport.getProperties().voiRange : undefined;
    if (!voi) return undefined;
    const { windowCenter, windowWidth } = csUtils.windowLevel.toWindowLevel(voi.lower, voi.upper);
    return { center: windowCenter, width: windowWidth, modality: cell?.displaySet?.modality };
  }

  private cellAdded(cell: ViewportCell): void {
    this.tools.addViewport(cell.viewportId);
    this.reading.cellAdded(cell);
    this.derived.cellAdded(cell);
    this.nav.add(cell);
    cell.root.addEventListener('pointerdown', () => {
      if (this.active !== cell.index) this.setActive(cell.index);
    });
    // The context menu opens on a right click that did not move (a right drag zooms).
    let rightDown: { x: number; y: number } | undefined;
    cell.element.addEventListener(
      'pointerdown',
      (e) => {
        rightDown = e.button === 2 ? { x: e.clientX, y: e.clientY } : undefined;
      },
      true,
    );
    cell.element.addEventListener(
      'pointerup',
      (e) => {
        if (e.button === 2 && rightDown && Math.hypot(e.clientX - rightDown.x, e.clientY - rightDown.y) < 4) this.contextMenu(cell, e);
        rightDown = undefined;
      },
      true,
    );
    cell.root.addEventListener('dragover', (e) => {
      if (e.dataTransfer?.types.includes(SERIES_MIME)) {
        e.preventDefault();
        cell.root.classList.add('drop-target');
      }
    });
    cell.root.addEventListener('dragleave', () => cell.root.classList.remove('drop-target'));
    cell.root.addEventListener('drop', (e) => {
      cell.root.classList.remove('drop-target');
      const key = e.dataTransfer?.getData(SERIES_MIME);
      const ds = this.displaySets.find((d) => d.key === key);
      if (!ds) return;
      e.preventDefault();
      this.setActive(cell.index);
      void this.assign(cell, ds);
    });
  }

  private onKey(e: KeyboardEvent): void {
    // Fields that use the arrow keys themselves keep them (checkboxes and buttons do not).
    const target = e.target as HTMLElement | null;
    if (target instanceof HTMLInputElement && !['checkbox', 'button'].includes(target.type)) return;
    if (target && (target.tagName === 'SELECT' || target.tagName === 'TEXTAREA')) return;
    if (e.key === 'Delete' || e.key === 'Backspace') {
      const selected = [...annotationApi.selection.getAnnotationsSelected()];
      if (selected.length) {
        e.preventDefault();
        void this.deleteMeasurements(selected);
      }
      return;
    }
    const cell = this.activeCell;
    if (!cell) return;
    void this.nav.key(cell, e.key).then((handled) => handled && e.preventDefault());
    if (['ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'PageUp', 'PageDown', 'Home', 'End'].includes(e.key)) e.preventDefault();
  }

  private onLoadError(e: CustomEvent): void {
    const { imageId, error } = (e.detail ?? {}) as { imageId?: string; error?: unknown };
    if (!imageId) return;
    for (const ds of new Set(this.grid.cells.map((c) => c.displaySet))) {
      if (ds?.imageIds?.includes(imageId)) this.recordFailure(ds, imageId, error);
    }
  }

  private withActive(fn: (vp: StackViewport, cell: ViewportCell) => void): void {
    const cell = this.activeCell;
    const vp = cell?.viewport;
    if (cell && vp?.getImageIds().length) fn(vp, cell);
  }

  private actions(): ToolbarActions {
    return {
      layout: (r, c) => this.setLayout(r, c),
      tool: (name) => {
        this.tools.setPrimary(name);
        this.toolbar.setActiveTool(name);
      },
      preset: (p: WindowPreset) => this.withActive((vp) => applyWindow(vp, p.center, p.width)),
      op: (name) =>
        this.withActive((vp) => {
          if (name === 'rotate-left') rotate(vp, -90);
          else if (name === 'rotate-right') rotate(vp, 90);
          else if (name === 'flip-h') flip(vp, 'horizontal');
          else if (name === 'flip-v') flip(vp, 'vertical');
          else if (name === 'invert') invert(vp);
          else reset(vp);
        }),
      cine: (play, fps) =>
        this.withActive((_vp, cell) => {
          if (play) this.nav.playCine(cell, fps);
          else this.nav.stopCine(cell);
          this.toolbar.setCinePlaying(this.nav.isPlaying(cell));
        }),
      sync: (on) => this.nav.setSync(on),
      saveMeasurements: () => void this.saveMeasurements(),
      queryRetrieve: () => this.qrPanel.toggle(),
      mpr: () => {
        const ds = this.activeCell?.displaySet;
        if (!ds) return;
        const q = new URLSearchParams(location.search);
        q.set('StudyInstanceUIDs', ds.studyUid);
        q.set('mode', 'mpr');
        q.set('series', ds.seriesUid);
        location.assign(`${location.pathname}?${q}`);
      },
      referenceLines: (on) => {
        const cell = this.activeCell;
        if (cell) this.tools.setReferenceLines(on, cell.viewportId);
      },
    };
  }
}

/** The element's next IMAGE_RENDERED, or at most FIRST_DRAW_WAIT_MS (a render that never comes must not hold the stack). */
const FIRST_DRAW_WAIT_MS = 500;
function drawn(element: HTMLElement): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      element.removeEventListener(Enums.Events.IMAGE_RENDERED, done);
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(done, FIRST_DRAW_WAIT_MS);
    element.addEventListener(Enums.Events.IMAGE_RENDERED, done);
  });
}
