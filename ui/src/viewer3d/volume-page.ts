// The MPR / 3D layout of the viewer (/viewer?StudyInstanceUIDs=...&mode=mpr[&series=uid]):
// axial, sagittal and coronal planes of one volume with crosshairs, slabs and shared W/L,
// and a 3D viewport (VRT presets, MIP, SSD). One instance per page.
import { Enums, RenderingEngine, setVolumesForViewports, utilities as csUtilities, type Types } from '@cornerstonejs/core';
import { h } from '../dom.js';
import { CURVED_TOOL, CurvedPanel } from './curved-panel.js';
import { str, TAG } from '../dicom-json.js';
import type { DicomWebClient } from '../dicomweb.js';
import { Clip3d } from './clip3d.js';
import {
  CrosshairsTool,
  EllipticalROITool,
  LengthTool,
  MPR_VIEWPORTS,
  MprTools,
  PanTool,
  setSlab,
  SLAB_MODES,
  VIEWPORT_3D,
  WindowLevelTool,
  ZoomTool,
  type SlabMode,
} from './mpr-tools.js';
import { PlaneOverlay } from './plane-overlay.js';
import { Renderer3d, RENDER_PRESETS, type RenderMode } from './render3d.js';
import { TransferFunctionEditor } from './tf-editor.js';
import { levelsOf } from './vrt-presets.js';
import {
  buildSeriesVolume,
  correctTilt,
  downsampledVolume,
  downsampleFactors,
  pickSeries,
  volumeParts,
  volumeScalars,
  type SeriesVolume,
} from './volume-build.js';

export interface VolumePageTimings {
  start: number;
  /** The volume object created (metadata read and checked): the planes can draw. */
  volumeCreated?: number;
  /** Every slice in the volume. */
  volumeLoaded?: number;
  /** The 3D viewport has its volume (possibly downsampled). */
  threeDReady?: number;
}

const CT_WINDOWS = [
  { label: 'Soft tissue 40/400', center: 40, width: 400 },
  { label: 'Lung -600/1500', center: -600, width: 1500 },
  { label: 'Bone 480/2500', center: 480, width: 2500 },
  { label: 'Brain 40/80', center: 40, width: 80 },
];

export class VolumePage {
  static readonly engineId = 'viewer3d';
  readonly engine: RenderingEngine;
  readonly tools: MprTools;
  readonly timings: VolumePageTimings = { start: performance.now() };
  readonly status: HTMLSpanElement;
  readonly curved: CurvedPanel;
  series?: SeriesVolume;
  renderer?: Renderer3d;
  /** Box and cut-plane clipping of the 3D viewport. */
  clip?: Clip3d;
  /** The editable opacity curve of the volume rendering. */
  tf?: TransferFunctionEditor;
  /** The volume the 3D viewport renders: the series volume or a downsampled copy. */
  volume3d?: Types.IImageVolume;
  downsample: [number, number, number] = [1, 1, 1];
  private readonly cells = new Map<string, { root: HTMLElement; element: HTMLDivElement; message: HTMLElement }>();
  private readonly toolButtons = new Map<string, HTMLButtonElement>();
  /** Orientation markers, window and slab of each MPR plane. */
  private readonly planeOverlays = new Map<string, PlaneOverlay>();
  private readonly slabMode: HTMLSelectElement;
  private readonly slabThickness: HTMLInputElement;
  private readonly renderMode: HTMLSelectElement;
  private readonly threshold: HTMLInputElement;
  /** The MIP's own window (W/L), shown while the 3D view is a MIP. */
  private readonly mipWl: { group: HTMLElement; center: HTMLInputElement; width: HTMLInputElement };
  /** The MIP's window once chosen; until then a MIP starts at the planes' window. */
  private mipWindow?: { center: number; width: number };

  constructor(
    readonly root: HTMLElement,
    private readonly client: DicomWebClient,
    private readonly studyUid: string,
    private readonly seriesUid: string | null,
    back2d: string,
    /** Voxels the 3D view renders at most (default MAX_3D_VOXELS). */
    private readonly max3dVoxels?: number,
  ) {
    this.engine = new RenderingEngine(VolumePage.engineId);
    this.tools = new MprTools(VolumePage.engineId);
    const label = { axial: 'Axial', sagittal: 'Sagittal', coronal: 'Coronal', [VIEWPORT_3D]: '3D' } as Record<string, string>;
    this.curved = new CurvedPanel({ viewports: () => this.mprViewports, cell: (id) => this.cells.get(id)!.root, volume: () => this.series?.volume });
    const grid = h('div', { class: 'viewport-grid', id: 'mpr-grid', 'data-layout': '2x2', style: 'grid-template: 1fr 1fr / 1fr 1fr' });
    for (const id of [...MPR_VIEWPORTS, VIEWPORT_3D]) {
      const element = h('div', { class: 'cs-element mpr-element', 'data-viewport-id': id, style: 'inset: 0' });
      element.addEventListener('contextmenu', (e) => e.preventDefault());
      const message = h('div', { class: 'viewport-message', role: 'alert', hidden: true });
      const cell = h(
        'div',
        { class: 'viewport-cell', 'data-viewport': id },
        element,
        h('div', { class: 'overlay-corner tl overlay', style: 'inset: auto' }, label[id]),
        message,
      );
      this.cells.set(id, { root: cell, element, message });
      if (id !== VIEWPORT_3D) {
        const overlay = new PlaneOverlay();
        this.planeOverlays.set(id, overlay);
        cell.append(overlay.root);
      }
      grid.append(cell);
    }
    this.cells.get(VIEWPORT_3D)!.root.append(this.curved.root);
    const tool = (name: string, text: string) => {
      const b = h('button', { type: 'button', class: 'tool', 'data-tool': name, onclick: () => this.setTool(name) }, text);
      this.toolButtons.set(name, b);
      return b;
    };
    const wl = h(
      'select',
      { id: 'mpr-wl', 'aria-label': 'window preset' },
      h('option', { value: '' }, 'W/L preset'),
      ...CT_WINDOWS.map((w, i) => h('option', { value: String(i) }, w.label)),
    );
    wl.addEventListener('change', () => {
      const w = CT_WINDOWS[Number(wl.value)];
      if (w) this.setWindow(w.center, w.width);
      wl.value = '';
    });
    this.slabMode = h(
      'select',
      { id: 'slab-mode', 'aria-label': 'slab mode' },
      ...Object.keys(SLAB_MODES).map((m) => h('option', { value: m }, m === 'none' ? 'thin' : m === 'minip' ? 'MinIP' : m === 'mip' ? 'MIP' : 'Average')),
    );
    this.slabThickness = h('input', {
      type: 'number',
      id: 'slab-thickness',
      min: '0',
      max: '500',
      step: '1',
      value: '10',
      'aria-label': 'slab thickness (mm)',
    });
    const applySlab = () => this.setSlab(this.slabMode.value as SlabMode, Number(this.slabThickness.value) || 0);
    this.slabMode.addEventListener('change', applySlab);
    this.slabThickness.addEventListener('change', applySlab);
    this.renderMode = h(
      'select',
      { id: 'render-mode', 'aria-label': '3D rendering' },
      ...RENDER_PRESETS.map((p) => h('option', { value: `vrt:${p.preset}` }, `VRT ${p.label}`)),
      h('option', { value: 'mip' }, 'MIP'),
      h('option', { value: 'ssd' }, 'Surface (SSD)'),
    );
    this.threshold = h('input', { type: 'number', id: 'ssd-threshold', step: '10', value: '300', 'aria-label': 'surface threshold' });
    // render3d shows its own failures in the 3D viewport.
    const applyRender = () => void this.render3d(this.currentMode());
    this.renderMode.addEventListener('change', applyRender);
    this.threshold.addEventListener('change', () => this.renderMode.value === 'ssd' && applyRender());
    const wlInput = (id: string, label: string) => h('input', { type: 'number', id, step: '10', style: 'width: 5em', 'aria-label': label });
    this.mipWl = { group: h('span', { hidden: true }), center: wlInput('mip-center', 'MIP window centre'), width: wlInput('mip-width', 'MIP window width') };
    this.mipWl.group.append(h('span', {}, ' MIP W'), this.mipWl.width, h('span', {}, 'L'), this.mipWl.center);
    const applyMipWindow = () => {
      const center = Number(this.mipWl.center.value);
      const width = Number(this.mipWl.width.value);
      if (!Number.isFinite(center) || !(width > 0)) return;
      this.mipWindow = { center, width };
      if (this.renderMode.value === 'mip') applyRender();
    };
    this.mipWl.center.addEventListener('change', applyMipWindow);
    this.mipWl.width.addEventListener('change', applyMipWindow);
    this.status = h('span', { id: 'viewer-status', class: 'muted' });
    const group = (name: string, ...children: Node[]) => h('div', { class: 'tb-group', role: 'group', 'aria-label': name }, ...children);
    const toolbar = h(
      'div',
      { class: 'toolbar', id: 'toolbar' },
      group('view', h('a', { href: back2d, id: 'back-2d', style: 'color: #9fd0ff' }, '2D viewer')),
      group(
        'tools',
        tool(CrosshairsTool.toolName, 'Crosshairs'),
        tool(WindowLevelTool.toolName, 'W/L'),
        tool(PanTool.toolName, 'Pan'),
        tool(ZoomTool.toolName, 'Zoom'),
        tool(CURVED_TOOL, 'Curved'),
        wl,
      ),
      group('measure', tool(LengthTool.toolName, 'Length'), tool(EllipticalROITool.toolName, 'ROI')),
      group('slab', h('span', {}, 'Slab'), this.slabMode, this.slabThickness, h('span', {}, 'mm')),
      group('3d', h('span', {}, '3D'), this.renderMode, h('span', {}, 'threshold'), this.threshold, h('span', {}, 'HU'), this.mipWl.group),
      this.status,
    );
    root.replaceChildren(toolbar, h('div', { class: 'viewer-body' }, grid));
    this.engine.setViewports([
      ...MPR_VIEWPORTS.map((id) => ({
        viewportId: id,
        type: Enums.ViewportType.ORTHOGRAPHIC,
        element: this.cells.get(id)!.element,
        defaultOptions: {
          orientation: id === 'axial' ? Enums.OrientationAxis.AXIAL : id === 'sagittal' ? Enums.OrientationAxis.SAGITTAL : Enums.OrientationAxis.CORONAL,
        },
      })),
      {
        viewportId: VIEWPORT_3D,
        type: Enums.ViewportType.VOLUME_3D,
        element: this.cells.get(VIEWPORT_3D)!.element,
        // Parallel projection: sizes on screen do not depend on depth (measurable).
        defaultOptions: { background: [0, 0, 0] as Types.Point3, parallelProjection: true },
      },
    ]);
    window.addEventListener('resize', () => this.resized());
    this.setToolButtons(CrosshairsTool.toolName);
  }

  /** The window changed size. */
  private resized(): void {
    this.engine.resize(true, true);
    this.curved.redraw();
  }

  viewport(id: string): Types.IVolumeViewport {
    return this.engine.getViewport<Types.IVolumeViewport>(id);
  }

  get mprViewports(): Types.IVolumeViewport[] {
    return MPR_VIEWPORTS.map((id) => this.viewport(id));
  }

  message(id: string, text: string): void {
    const m = this.cells.get(id)!.message;
    m.textContent = text;
    m.hidden = !text;
  }

  /** Builds the volume and shows it: planes as the slices stream in, 3D when it fits. */
  async open(): Promise<void> {
    const s = await pickSeries(this.client, this.studyUid, this.seriesUid);
    const seriesUid = str(s, TAG.SeriesInstanceUID);
    this.status.textContent = `${str(s, TAG.Modality)} ${str(s, TAG.SeriesDescription)}: reading metadata...`;
    const series = await correctTilt(
      await buildSeriesVolume(this.client, this.studyUid, seriesUid, (done, total) => {
        this.status.textContent = done < total ? `loading ${done}/${total} slices` : `${total} slices loaded`;
      }),
    );
    this.series = series;
    this.timings.volumeCreated = performance.now();
    const dims = series.volume.dimensions;
    const warnings = [...series.check.warnings];
    await setVolumesForViewports(this.engine, [{ volumeId: series.volumeId }], [...MPR_VIEWPORTS]);
    if (series.modality === 'CT') this.setWindow(40, 400);
    for (const [id, overlay] of this.planeOverlays) overlay.attach(this.viewport(id));
    this.tools.attach();
    this.curved.attach();
    this.keepSlabsAligned();
    this.engine.renderViewports([...MPR_VIEWPORTS]);
    const failed = await series.loaded;
    this.timings.volumeLoaded = performance.now();
    if (failed) warnings.push(`${failed} of ${series.imageIds.length} slices could not be loaded (black in the volume)`);
    this.status.textContent = `${dims.join(' x ')} voxels, ${series.volume.spacing.map((x) => x.toFixed(2)).join(' x ')} mm${warnings.length ? ` — ${warnings.join('; ')}` : ''}`;
    await this.open3d(series);
  }

  private async open3d(series: SeriesVolume): Promise<void> {
    this.downsample = downsampleFactors(series.volume.dimensions, this.max3dVoxels);
    try {
      this.volume3d = this.downsample.some((f) => f > 1) ? await downsampledVolume(series.volume, this.downsample) : series.volume;
      await setVolumesForViewports(this.engine, [{ volumeId: this.volume3d.volumeId }], [VIEWPORT_3D]);
    } catch (e) {
      this.message(VIEWPORT_3D, `the volume does not fit for 3D rendering here: ${(e as Error).message}`);
      return;
    }
    const vp = this.viewport(VIEWPORT_3D);
    const volume3d = this.volume3d;
    let parts: ArrayLike<number>[];
    try {
      parts = await volumeParts(volume3d);
    } catch (e) {
      this.message(VIEWPORT_3D, `cannot read the volume for 3D: ${(e as Error).message}`);
      return;
    }
    this.renderer = new Renderer3d(vp, volume3d, () => volumeScalars(volume3d), levelsOf(parts));
    this.clip = new Clip3d(vp, volume3d, (text) => this.message(VIEWPORT_3D, text));
    this.tf = new TransferFunctionEditor(vp, parts);
    this.cells.get(VIEWPORT_3D)!.root.append(this.clip.element, this.tf.element);
    if (series.modality !== 'CT') this.renderMode.value = series.modality === 'PT' ? 'vrt:PET' : series.modality === 'MR' ? 'vrt:MR-Angio' : 'mip';
    void this.render3d(this.currentMode());
    vp.resetCamera();
    vp.render();
    if (this.downsample.some((f) => f > 1)) this.message(VIEWPORT_3D, '');
    this.cells.get(VIEWPORT_3D)!.root.dataset.downsample = this.downsample.join('x');
    this.timings.threeDReady = performance.now();
  }

  /**
   * Cornerstone moves a plane's slab clipping planes only when the focal point leaves the
   * plane or view-up changes: a plane rotated about its own view-up (what rotating the
   * crosshairs in the axial view does to the sagittal and coronal planes) kept rendering
   * the slab of its old orientation, seen obliquely. Re-place them on every new normal.
   */
  private keepSlabsAligned(): void {
    for (const vp of this.mprViewports) {
      let last = vp.getCamera().viewPlaneNormal ?? [0, 0, 0];
      vp.element.addEventListener(Enums.Events.CAMERA_MODIFIED, () => {
        const camera = vp.getCamera();
        const n = camera.viewPlaneNormal ?? [0, 0, 0];
        if (n.every((v, i) => Math.abs(v - last[i]) < 1e-9)) return;
        last = [...n] as Types.Point3;
        (vp as unknown as { updateClippingPlanesForActors(c: Types.ICamera): void }).updateClippingPlanesForActors(camera);
        vp.render();
      });
    }
  }

  currentMode(): RenderMode {
    const v = this.renderMode.value;
    if (v === 'ssd') return { kind: 'ssd', threshold: Number(this.threshold.value) };
    if (v === 'mip') {
      if (this.mipWindow)
        return { kind: 'mip', lower: this.mipWindow.center - this.mipWindow.width / 2, upper: this.mipWindow.center + this.mipWindow.width / 2 };
      const voi = this.mprViewports[0]?.getProperties()?.voiRange;
      return { kind: 'mip', lower: voi?.lower ?? -160, upper: voi?.upper ?? 240 };
    }
    return { kind: 'vrt', preset: v.slice(4) };
  }

  /** Applies a 3D mode; VRT and MIP before it returns, an SSD surface once built (the promise). */
  async render3d(mode: RenderMode): Promise<void> {
    if (!this.renderer) return;
    this.renderMode.value = mode.kind === 'vrt' ? `vrt:${mode.preset}` : mode.kind;
    if (mode.kind === 'ssd') this.threshold.value = String(mode.threshold);
    this.mipWl.group.hidden = mode.kind !== 'mip';
    if (mode.kind === 'mip') {
      this.mipWindow = { center: (mode.lower + mode.upper) / 2, width: mode.upper - mode.lower };
      this.mipWl.center.value = String(Math.round(this.mipWindow.center));
      this.mipWl.width.value = String(Math.round(this.mipWindow.width));
    }
    try {
      if (!(await this.renderer.apply(mode))) return; // another mode was chosen meanwhile
      this.clip?.apply(); // a new SSD surface is clipped too
      this.tf?.load();
      this.message(VIEWPORT_3D, mode.kind === 'ssd' && this.renderer.triangles === 0 ? `no surface at ${mode.threshold}: the volume does not cross it` : '');
    } catch (e) {
      this.message(VIEWPORT_3D, `cannot render: ${(e as Error).message}`);
    }
  }

  /** A Cornerstone tool on the primary button, or the curved MPR's point clicking. */
  setTool(name: string): void {
    this.curved.setActive(name === CURVED_TOOL);
    if (name !== CURVED_TOOL) this.tools.setPrimary(name);
    this.setToolButtons(name);
  }

  private setToolButtons(name: string): void {
    for (const [n, b] of this.toolButtons) b.classList.toggle('active', n === name);
  }

  /**
   * W/L on one plane; the synchronizer carries it to the other two. The range as PS3.3
   * C.11.2.1.2 maps the window (its linear function spans width - 1), as the 2D viewer
   * does: the planes' readout then says the window asked for, 400 and not 401.
   */
  setWindow(center: number, width: number): void {
    const { lower, upper } = csUtilities.windowLevel.toLowHighRange(width, center);
    for (const vp of this.mprViewports) {
      vp.setProperties({ voiRange: { lower, upper } });
      vp.render();
    }
    this.curved.redraw();
  }

  setSlab(mode: SlabMode, thickness: number): void {
    this.slabMode.value = mode;
    this.slabThickness.value = String(thickness);
    setSlab(this.mprViewports, mode, thickness);
  }
}
