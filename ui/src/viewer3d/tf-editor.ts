// The transfer function editor of the 3D viewport: the volume's histogram with the opacity
// curve over it, its points coloured as the preset colours their value. Drag a point to
// move it, press on the curve's background to add one (and drag it), double-click a point
// to delete it. Applied live to the volume rendering; "Preset" goes back to the preset's curve.
import type { Types } from '@cornerstonejs/core';
import { h } from '../dom.js';
import { addPoint, deletePoint, hitPoint, histogram, movePoint, type TfPoint } from './tf-points.js';

const WIDTH = 300;
const HEIGHT = 110;
const PAD = 5;
const HIT_RADIUS = 7;

interface PiecewiseLike {
  getSize(): number;
  getNodeValue(i: number, node: number[]): number;
  removeAllPoints(): void;
  addPoint(x: number, y: number): number;
}
interface ColorLike {
  getColor(x: number, rgb: number[]): void;
}
interface VolumePropertyLike {
  getScalarOpacity(i: number): PiecewiseLike;
  getRGBTransferFunction(i: number): ColorLike;
}

export class TransferFunctionEditor {
  readonly element: HTMLDetailsElement;
  readonly canvas: HTMLCanvasElement;
  /** The curve as shown and applied. */
  points: TfPoint[] = [];
  private preset: TfPoint[] = [];
  private readonly range: [number, number];
  private readonly counts: Uint32Array;
  private dragging = -1;

  /** `parts`: the volume's voxel values (volumeParts(): slices, or one array). */
  constructor(
    private readonly viewport: Types.IVolumeViewport,
    parts: readonly ArrayLike<number>[],
  ) {
    let [lo, hi] = [Infinity, -Infinity];
    for (const values of parts) {
      for (let i = 0; i < values.length; i++) {
        if (values[i] < lo) lo = values[i];
        if (values[i] > hi) hi = values[i];
      }
    }
    this.range = hi > lo ? [lo, hi] : [lo - 1, lo + 1];
    this.counts = new Uint32Array(WIDTH - 2 * PAD);
    // The same 2 million samples in all, spread over the parts.
    const samples = Math.max(1, Math.floor(2_000_000 / Math.max(1, parts.length)));
    for (const values of parts) {
      histogram(values, WIDTH - 2 * PAD, this.range[0], this.range[1], samples).forEach((c, i) => (this.counts[i] += c));
    }
    this.canvas = h('canvas', {
      id: 'tf-canvas',
      width: WIDTH,
      height: HEIGHT,
      style: `width: ${WIDTH}px; height: ${HEIGHT}px; cursor: crosshair; display: block`,
    });
    this.element = h(
      'details',
      {
        class: 'tf-panel',
        style: 'position: absolute; bottom: 4px; left: 4px; z-index: 5; background: rgba(0, 0, 0, 0.75); padding: 2px 6px; font-size: 12px',
      },
      h('summary', {}, 'Transfer function'),
      this.canvas,
      h('button', { type: 'button', id: 'tf-reset', onclick: () => this.setPoints(this.preset) }, 'Preset'),
      h('span', { class: 'muted' }, ' drag a point, press to add, double-click to delete'),
    );
    this.canvas.addEventListener('mousedown', (e) => this.onDown(e));
    window.addEventListener('mousemove', (e) => this.onMove(e));
    window.addEventListener('mouseup', () => (this.dragging = -1));
    this.canvas.addEventListener('dblclick', (e) => {
      const k = hitPoint(this.points, this.at(e), (p) => this.toCanvas(p), HIT_RADIUS);
      if (k >= 0) this.setPoints(deletePoint(this.points, k));
    });
  }

  /** Reads the curve the rendering has now (after a preset or mode change): the new preset. */
  load(): void {
    const f = this.property()?.getScalarOpacity(0);
    const node = [0, 0, 0, 0];
    const pts: TfPoint[] = [];
    for (let i = 0; i < (f?.getSize() ?? 0); i++) {
      f!.getNodeValue(i, node);
      pts.push({ x: node[0], y: node[1] });
    }
    this.preset = pts;
    this.points = pts.map((p) => ({ ...p }));
    this.draw();
  }

  /** Shows and applies a curve. */
  setPoints(points: readonly TfPoint[]): void {
    this.points = points.map((p) => ({ ...p }));
    const f = this.property()?.getScalarOpacity(0);
    if (f) {
      f.removeAllPoints();
      for (const p of this.points) f.addPoint(p.x, p.y);
      this.viewport.render();
    }
    this.draw();
  }

  /** Canvas position (CSS px) of a curve point. */
  toCanvas(p: TfPoint): [number, number] {
    const [lo, hi] = this.range;
    const x = PAD + ((Math.min(hi, Math.max(lo, p.x)) - lo) / (hi - lo)) * (WIDTH - 2 * PAD);
    return [x, HEIGHT - PAD - p.y * (HEIGHT - 2 * PAD)];
  }

  private fromCanvas([cx, cy]: [number, number]): TfPoint {
    const [lo, hi] = this.range;
    return { x: lo + ((cx - PAD) / (WIDTH - 2 * PAD)) * (hi - lo), y: (HEIGHT - PAD - cy) / (HEIGHT - 2 * PAD) };
  }

  private property(): VolumePropertyLike | undefined {
    return (this.viewport.getDefaultActor()?.actor as unknown as { getProperty?(): VolumePropertyLike } | undefined)?.getProperty?.();
  }

  private at(e: MouseEvent): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }

  private onDown(e: MouseEvent): void {
    if (e.button !== 0) return;
    e.preventDefault();
    const at = this.at(e);
    let k = hitPoint(this.points, at, (p) => this.toCanvas(p), HIT_RADIUS);
    if (k < 0) {
      const added = addPoint(this.points, this.fromCanvas(at));
      this.setPoints(added.points);
      k = added.index;
    }
    this.dragging = k;
  }

  private onMove(e: MouseEvent): void {
    if (this.dragging < 0) return;
    this.setPoints(movePoint(this.points, this.dragging, this.fromCanvas(this.at(e))));
  }

  private draw(): void {
    const g = this.canvas.getContext('2d');
    if (!g) return;
    g.fillStyle = '#111';
    g.fillRect(0, 0, WIDTH, HEIGHT);
    // Histogram, log counts.
    const top = Math.log1p(Math.max(...this.counts));
    g.fillStyle = '#555';
    this.counts.forEach((c, i) => {
      const bar = (Math.log1p(c) / (top || 1)) * (HEIGHT - 2 * PAD);
      g.fillRect(PAD + i, HEIGHT - PAD - bar, 1, bar);
    });
    // The curve and its points.
    g.strokeStyle = '#eee';
    g.beginPath();
    this.points.forEach((p, i) => (i ? g.lineTo(...this.toCanvas(p)) : g.moveTo(...this.toCanvas(p))));
    g.stroke();
    const colors = this.property()?.getRGBTransferFunction(0);
    const rgb = [1, 1, 1];
    for (const p of this.points) {
      colors?.getColor(p.x, rgb);
      g.fillStyle = `rgb(${rgb.map((v) => Math.round(v * 255)).join(', ')})`;
      g.strokeStyle = '#fff';
      g.beginPath();
      g.arc(...this.toCanvas(p), 4, 0, 2 * Math.PI);
      g.fill();
      g.stroke();
    }
  }
}
