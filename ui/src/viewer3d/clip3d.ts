// Clipping of the 3D viewport (VRT, MIP and SSD alike): a box cropping the volume along
// its axes (two sliders per axis) and one plane (axial, coronal, sagittal or facing the
// viewer, with an offset and a side). vtk.js clipping planes on every actor's mapper.
import { Enums, type Types } from '@cornerstonejs/core';
import vtkPlane from '@kitware/vtk.js/Common/DataModel/Plane';
import { h } from '../dom.js';
import { clipPlanes, FULL_BOX, type ClipSettings, type PlaneSpec, type Vec3 } from './clip-planes.js';

/** Plane orientations offered: a patient axis (LPS), or 'view' (facing the viewer: the near side is cut). */
export const CLIP_ORIENTATIONS = ['off', 'axial', 'coronal', 'sagittal', 'view'] as const;
export type ClipOrientation = (typeof CLIP_ORIENTATIONS)[number];
const PATIENT_NORMALS: Record<string, Vec3> = { axial: [0, 0, 1], coronal: [0, 1, 0], sagittal: [1, 0, 0] };
const AXIS_NAMES = ['R-L', 'A-P', 'I-S'];

interface MapperLike {
  addClippingPlane?(plane: vtkPlane): void;
  removeAllClippingPlanes(): void;
  getClippingPlanes(): vtkPlane[];
}

export class Clip3d {
  readonly element: HTMLDetailsElement;
  settings: ClipSettings = { box: { lo: [...FULL_BOX.lo], hi: [...FULL_BOX.hi] } };
  private planes: PlaneSpec[] = [];
  private readonly inputs: { lo: HTMLInputElement[]; hi: HTMLInputElement[]; orientation: HTMLSelectElement; offset: HTMLInputElement; flip: HTMLInputElement };

  constructor(
    private readonly viewport: Types.IVolumeViewport,
    private readonly volume: Types.IImageVolume,
    private readonly onMessage: (text: string) => void,
  ) {
    // Cornerstone re-places a mapper's first two planes as a slab about the focal point
    // when the camera turns: put ours back before the frame is drawn.
    viewport.element.addEventListener(Enums.Events.CLIPPING_PLANES_UPDATED, () => this.planes.length > 0 && this.apply(false));
    const range = (id: string, value: number) => h('input', { type: 'range', id, min: '0', max: '100', step: '1', value: String(value), 'aria-label': id });
    const lo = [0, 1, 2].map((a) => range(`clip-lo-${a}`, 0));
    const hi = [0, 1, 2].map((a) => range(`clip-hi-${a}`, 100));
    const half = Math.ceil(Math.hypot(...[0, 1, 2].map((a) => volume.dimensions[a] * volume.spacing[a])) / 2);
    const orientation = h(
      'select',
      { id: 'clip-plane', 'aria-label': 'clipping plane' },
      ...CLIP_ORIENTATIONS.map((o) => h('option', { value: o }, o === 'off' ? 'no plane' : o === 'view' ? 'facing me' : o)),
    );
    const offset = h('input', {
      type: 'range',
      id: 'clip-offset',
      min: String(-half),
      max: String(half),
      step: '1',
      value: '0',
      'aria-label': 'plane offset (mm)',
    });
    const flip = h('input', { type: 'checkbox', id: 'clip-flip', 'aria-label': 'keep the other side' });
    this.inputs = { lo, hi, orientation, offset, flip };
    const names = [0, 1, 2].map((a) => this.axisName(a));
    this.element = h(
      'details',
      {
        class: 'clip-panel',
        style: 'position: absolute; top: 4px; right: 4px; z-index: 5; background: rgba(0, 0, 0, 0.75); padding: 2px 6px; font-size: 12px',
      },
      h('summary', {}, 'Clip'),
      ...[0, 1, 2].map((a) => h('div', {}, h('span', { style: 'display: inline-block; width: 3em' }, names[a]), lo[a], hi[a])),
      h('div', {}, 'plane ', orientation, offset, h('label', {}, flip, 'flip')),
      h('button', { type: 'button', id: 'clip-reset', onclick: () => this.reset() }, 'Reset'),
    );
    for (const el of [...lo, ...hi, orientation, offset, flip]) el.addEventListener('input', () => this.fromInputs());
  }

  /** Sets the box and plane (and the controls), or says why not. */
  set(settings: ClipSettings): boolean {
    try {
      this.planes = clipPlanes(this.volume, settings);
    } catch (e) {
      this.onMessage(`cannot clip: ${(e as Error).message}`);
      return false;
    }
    this.settings = settings;
    this.onMessage('');
    this.apply();
    return true;
  }

  reset(): void {
    for (const el of this.inputs.lo) el.value = '0';
    for (const el of this.inputs.hi) el.value = '100';
    this.inputs.orientation.value = 'off';
    this.inputs.offset.value = '0';
    this.inputs.flip.checked = false;
    this.fromInputs();
  }

  /** The planes onto every actor of the viewport (the volume, the SSD surface). */
  apply(render = true): void {
    for (const entry of this.viewport.getActors()) {
      const mapper = (entry.actor as unknown as { getMapper?(): MapperLike }).getMapper?.();
      if (!mapper?.addClippingPlane) continue;
      const current = mapper.getClippingPlanes();
      if (current.length === this.planes.length) {
        this.planes.forEach((p, k) => {
          current[k].setOrigin(p.origin);
          current[k].setNormal(p.normal);
        });
      } else {
        mapper.removeAllClippingPlanes();
        for (const p of this.planes) mapper.addClippingPlane(vtkPlane.newInstance({ origin: p.origin, normal: p.normal }));
      }
    }
    if (render) this.viewport.render();
  }

  private fromInputs(): void {
    const { lo, hi, orientation, offset, flip } = this.inputs;
    const o = orientation.value as ClipOrientation;
    let plane: ClipSettings['plane'];
    if (o !== 'off') {
      // Facing the viewer: the plane across the line of sight, the far side kept.
      const vpn = this.viewport.getCamera().viewPlaneNormal ?? [0, 0, 1];
      const n: Vec3 = o === 'view' ? [-vpn[0], -vpn[1], -vpn[2]] : PATIENT_NORMALS[o];
      const sign = flip.checked ? -1 : 1;
      // The offset runs along the unflipped normal: flipping keeps the plane where it is.
      plane = { normal: [sign * n[0], sign * n[1], sign * n[2]], offset: sign * Number(offset.value) };
    }
    const fractions = (els: HTMLInputElement[]) => els.map((el) => Number(el.value) / 100) as Vec3;
    this.set({ box: { lo: fractions(lo), hi: fractions(hi) }, plane });
  }

  /** The patient axis a volume axis mostly runs along. */
  private axisName(a: number): string {
    const d = this.volume.direction.slice(3 * a, 3 * a + 3).map(Math.abs);
    return AXIS_NAMES[d.indexOf(Math.max(...d))];
  }
}
