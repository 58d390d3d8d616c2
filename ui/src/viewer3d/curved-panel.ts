// The "Curved" tool of the MPR layout: while it is on, clicks in the axial, sagittal or
// coronal plane add world points (drawn over every plane); a double click or Enter
// finishes the curve, and a panel over the 3D view (the planes keep their size) shows the
// straightened reformat along it and the cross-section perpendicular to it at a position
// a slider (or the wheel over the cross-section) moves along the curve. Both drawn on 2D canvases, one canvas pixel per
// sample, with the planes' window.
import { cache, Enums, type Types } from '@cornerstonejs/core';
import { h } from '../dom.js';
import { crossSection, CurveError, curveFrames, straightenedImage, type CurveFrames, type Point3, type Reformat, type VolumeGrid } from './curved-mpr.js';

const SVG = 'http://www.w3.org/2000/svg';
/** The toolbar's name of the point-clicking tool. */
export const CURVED_TOOL = 'Curved';

/** The sampling grid of a Cornerstone volume, slice by slice from its cached images. */
export function volumeGrid(v: Types.IImageVolume): VolumeGrid {
  const ids = v.imageIds ?? [];
  const [nx, ny] = v.dimensions;
  let whole: ArrayLike<number> | undefined;
  const slice = (k: number): ArrayLike<number> | undefined => {
    try {
      if (ids.length) return cache.getImage(ids[k])?.voxelManager?.getScalarData();
      whole ??= v.voxelManager!.getCompleteScalarDataArray!() as ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> };
      return (whole as Float32Array).subarray(k * nx * ny, (k + 1) * nx * ny);
    } catch {
      return undefined; // not loaded (yet): padding
    }
  };
  return { dimensions: [...v.dimensions] as Point3, spacing: [...v.spacing] as Point3, origin: [...v.origin] as Point3, direction: v.direction, slice };
}

/** Draws a reformat on a canvas (one pixel per sample) with a window; padding (NaN) black. */
function draw(canvas: HTMLCanvasElement, img: Reformat, lower: number, upper: number): void {
  canvas.width = img.columns;
  canvas.height = img.rows;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const out = ctx.createImageData(img.columns, img.rows);
  const scale = 255 / Math.max(1e-9, upper - lower);
  for (let p = 0; p < img.data.length; p++) {
    const v = img.data[p];
    const g = Number.isNaN(v) ? 0 : Math.max(0, Math.min(255, Math.round((v - lower) * scale)));
    out.data[4 * p] = out.data[4 * p + 1] = out.data[4 * p + 2] = g;
    out.data[4 * p + 3] = 255;
  }
  ctx.putImageData(out, 0, 0);
}

export interface CurvedHost {
  viewports(): Types.IVolumeViewport[];
  /** The MPR cell holding each viewport's element (the overlays go in it). */
  cell(id: string): HTMLElement;
  volume(): Types.IImageVolume | undefined;
}

export class CurvedPanel {
  readonly root: HTMLElement;
  readonly points: Point3[] = [];
  active = false;
  frames?: CurveFrames;
  straight?: Reformat;
  section?: Reformat;
  /** Arc length (mm) of the cross-section. */
  arc = 0;
  /** Time (ms) of the last reformat (curve, straightened image and cross-section). */
  lastMs = 0;
  private readonly message: HTMLElement;
  private readonly straightCanvas: HTMLCanvasElement;
  private readonly crossCanvas: HTMLCanvasElement;
  private readonly marker: HTMLElement;
  private readonly position: HTMLInputElement;
  private readonly width: HTMLInputElement;
  private readonly overlays = new Map<string, SVGSVGElement>();

  constructor(private readonly host: CurvedHost) {
    this.message = h('div', { id: 'curved-message', role: 'status' });
    this.straightCanvas = h('canvas', { id: 'curved-straight', 'aria-label': 'straightened curved reformat' });
    this.crossCanvas = h('canvas', { id: 'curved-cross', 'aria-label': 'cross-section of the curve' });
    this.marker = h('div', { class: 'curved-marker', hidden: true });
    this.position = h('input', {
      type: 'range',
      id: 'curved-position',
      min: '0',
      max: '0',
      step: '1',
      value: '0',
      'aria-label': 'cross-section position along the curve (mm)',
    });
    this.position.addEventListener('input', () => this.setArc(Number(this.position.value)));
    this.width = h('input', { type: 'number', id: 'curved-width', min: '10', max: '400', step: '10', value: '80', 'aria-label': 'reformat width (mm)' });
    this.width.addEventListener('change', () => this.frames && this.finish());
    this.crossCanvas.addEventListener('wheel', (e) => {
      if (!this.frames) return;
      e.preventDefault();
      this.setArc(this.arc + Math.sign(e.deltaY) * this.frames.step);
    });
    const button = (id: string, text: string, onclick: () => void) => h('button', { type: 'button', id, onclick }, text);
    this.root = h(
      'div',
      { id: 'curved-panel', class: 'curved-panel', hidden: true },
      h(
        'div',
        { class: 'curved-row' },
        h('strong', {}, 'Curved MPR'),
        button('curved-clear', 'Clear', () => this.clear()),
        h('label', {}, 'width ', this.width, ' mm'),
        button('curved-close', 'Close', () => (this.root.hidden = true)),
      ),
      this.message,
      h(
        'div',
        { class: 'curved-images' },
        h('div', { class: 'curved-image curved-straight-box' }, this.straightCanvas, this.marker),
        h(
          'div',
          { class: 'curved-cross-box' },
          h('div', { class: 'curved-image' }, this.crossCanvas),
          h('label', { class: 'curved-row' }, 'position ', this.position),
        ),
      ),
    );
    document.addEventListener('keydown', (e) => {
      if (!this.active || (e.target as HTMLElement | null)?.closest?.('input, select, textarea')) return;
      if (e.key === 'Enter') this.finish();
      else if (e.key === 'Escape') this.clear();
    });
  }

  /** Hooks the clicks and overlays onto the MPR viewports (once they exist). */
  attach(): void {
    for (const vp of this.host.viewports()) {
      const cell = this.host.cell(vp.id);
      const svg = document.createElementNS(SVG, 'svg');
      svg.setAttribute('class', 'curved-overlay');
      cell.append(svg);
      this.overlays.set(vp.id, svg);
      // Capture on the cell: the tools listening on the viewport element never see these clicks.
      cell.addEventListener('mousedown', (e) => this.active && e.button === 0 && (this.stop(e), this.addAt(vp, e)), true);
      cell.addEventListener('dblclick', (e) => this.active && (this.stop(e), this.finish()), true);
      vp.element.addEventListener(Enums.Events.CAMERA_MODIFIED, () => this.drawOverlay(vp));
    }
    this.host.viewports()[0]?.element.addEventListener(Enums.Events.VOI_MODIFIED, () => this.redraw());
  }

  private stop(e: Event): void {
    e.stopPropagation();
    e.preventDefault();
  }

  setActive(on: boolean): void {
    if (on === this.active) return;
    this.active = on;
    if (on) this.show();
    for (const vp of this.host.viewports()) this.host.cell(vp.id).classList.toggle('curved-drawing', on);
    if (on && !this.frames)
      this.say(
        this.points.length
          ? `${this.points.length} point(s): double-click or Enter to finish`
          : 'click points along the structure in any plane; double-click or Enter to finish',
      );
  }

  private show(): void {
    this.root.hidden = false;
  }

  private say(text: string, error = false): void {
    this.message.textContent = text;
    this.message.classList.toggle('error', error);
  }

  private addAt(vp: Types.IVolumeViewport, e: MouseEvent): void {
    const r = vp.element.getBoundingClientRect();
    this.addPoint(vp.canvasToWorld([e.clientX - r.left, e.clientY - r.top]));
  }

  /** Adds a point (a new curve if the last one was finished). */
  addPoint(p: Point3): void {
    if (this.frames) this.clear();
    const last = this.points[this.points.length - 1];
    if (last && Math.hypot(p[0] - last[0], p[1] - last[1], p[2] - last[2]) < 1e-6) return;
    this.points.push([p[0], p[1], p[2]]);
    this.say(`${this.points.length} point(s): double-click or Enter to finish`);
    this.drawOverlays();
  }

  clear(): void {
    this.points.length = 0;
    this.frames = this.straight = this.section = undefined;
    this.marker.hidden = true;
    for (const c of [this.straightCanvas, this.crossCanvas]) c.width = c.height = 0;
    this.say(this.active ? 'click points along the structure in any plane; double-click or Enter to finish' : '');
    this.drawOverlays();
  }

  /** Builds the curve from the points and shows its reformats; says why not when it cannot. */
  finish(): void {
    const volume = this.host.volume();
    if (!volume) return this.say('no volume loaded', true);
    this.show();
    const t0 = performance.now();
    try {
      const step = Math.min(...volume.spacing);
      this.frames = curveFrames(this.points, { step });
    } catch (e) {
      this.frames = undefined;
      if (!(e instanceof CurveError)) throw e;
      return this.say(`${e.message}: click along the structure in any plane, then double-click or press Enter`, true);
    }
    this.straight = straightenedImage(volumeGrid(volume), this.frames, this.sampling());
    this.position.max = String(this.frames.step * (this.frames.points.length - 1));
    this.position.step = String(this.frames.step);
    this.setArc(Number(this.position.max) / 2);
    this.lastMs = performance.now() - t0;
    this.say(
      `${this.frames.length.toFixed(1)} mm along ${this.points.length} points; rows 0..${this.straight.rows - 1} every ${this.frames.step.toFixed(2)} mm (${this.lastMs.toFixed(0)} ms)`,
    );
  }

  private sampling() {
    return { width: Math.max(10, Number(this.width.value) || 80), pixelSpacing: this.frames!.step, padding: NaN };
  }

  /** Moves the cross-section to `arc` mm along the curve (clamped). */
  setArc(arc: number): void {
    const volume = this.host.volume();
    if (!this.frames || !volume) return;
    const s = Math.min(this.frames.points.length - 1, Math.max(0, Math.round(arc / this.frames.step)));
    this.arc = s * this.frames.step;
    this.position.value = String(this.arc);
    this.section = crossSection(volumeGrid(volume), this.frames, this.arc, this.sampling());
    this.redraw();
  }

  /** Redraws both images with the planes' current window, the marker and the overlays. */
  redraw(): void {
    if (this.straight && this.section && this.frames) {
      const voi = this.host.viewports()[0]?.getProperties()?.voiRange ?? { lower: -160, upper: 240 };
      draw(this.straightCanvas, this.straight, voi.lower, voi.upper);
      draw(this.crossCanvas, this.section, voi.lower, voi.upper);
      // On the canvas as laid out (scaled to fit its box, centred).
      const c = this.straightCanvas;
      this.marker.hidden = false;
      Object.assign(this.marker.style, {
        left: `${c.offsetLeft}px`,
        width: `${c.offsetWidth}px`,
        top: `${c.offsetTop + ((this.arc / this.frames.step + 0.5) / this.straight.rows) * c.offsetHeight}px`,
      });
    }
    this.drawOverlays();
  }

  private drawOverlays(): void {
    for (const vp of this.host.viewports()) this.drawOverlay(vp);
  }

  /** The clicked points, the curve through them and the cross-section's position, projected on the plane. */
  private drawOverlay(vp: Types.IVolumeViewport): void {
    const svg = this.overlays.get(vp.id);
    if (!svg) return;
    const xy = (p: Point3) =>
      vp
        .worldToCanvas(p)
        .map((v) => v.toFixed(1))
        .join(',');
    const line = this.frames ? this.frames.points.filter((_, k) => k % 2 === 0 || k === this.frames!.points.length - 1) : this.points;
    const parts: string[] = [];
    if (line.length > 1) parts.push(`<polyline points="${line.map(xy).join(' ')}" fill="none" stroke="#ffb000" stroke-width="1.5"/>`);
    const circle = (p: Point3, attrs: string) => {
      const [x, y] = vp.worldToCanvas(p);
      return `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" ${attrs}/>`;
    };
    for (const p of this.points) parts.push(circle(p, 'r="3" fill="#ffb000"'));
    if (this.frames) parts.push(circle(this.frames.points[Math.round(this.arc / this.frames.step)], 'r="6" fill="none" stroke="#00e0ff" stroke-width="2"'));
    svg.innerHTML = parts.join('');
  }
}
