// Clipping of the 3D viewport (VRT, MIP and SSD alike): a box cropping the volume along
// its axes (two sliders per axis) and two free cut planes, each of any orientation (two
// angles, or a patient plane or the view as a start), position and side, each on or off.
// vtk.js clipping planes on every actor's mapper.
import { Enums, type Types } from '@cornerstonejs/core';
import vtkPlane from '@kitware/vtk.js/Common/DataModel/Plane';
import { h } from '../dom.js';
import { anglesOfNormal, clipPlanes, FULL_BOX, normalFromAngles, type ClipSettings, type CutPlane, type PlaneSpec, type Vec3 } from './clip-planes.js';

/** Orientations a cut plane starts from: a patient plane (LPS), 'view' (facing the viewer: the near side is cut), or 'oblique' (the angles as typed). */
export const CLIP_ORIENTATIONS = ['off', 'axial', 'coronal', 'sagittal', 'view', 'oblique'] as const;
export type ClipOrientation = (typeof CLIP_ORIENTATIONS)[number];
/** Azimuth and elevation (degrees) of the patient planes' normals (normalFromAngles). */
const PATIENT_ANGLES: Record<string, [number, number]> = { axial: [0, 90], coronal: [90, 0], sagittal: [0, 0] };
const AXIS_NAMES = ['R-L', 'A-P', 'I-S'];
/** The cut planes offered; the first keeps the element ids it had when it was the only plane. */
const CUTS = ['', '-2'];

interface CutInputs {
  orientation: HTMLSelectElement;
  azimuth: HTMLInputElement;
  elevation: HTMLInputElement;
  offset: HTMLInputElement;
  flip: HTMLInputElement;
}

interface MapperLike {
  addClippingPlane?(plane: vtkPlane): void;
  removeAllClippingPlanes(): void;
  getClippingPlanes(): vtkPlane[];
}

export class Clip3d {
  readonly element: HTMLDetailsElement;
  settings: ClipSettings = { box: { lo: [...FULL_BOX.lo], hi: [...FULL_BOX.hi] } };
  private planes: PlaneSpec[] = [];
  private readonly inputs: { lo: HTMLInputElement[]; hi: HTMLInputElement[]; cuts: CutInputs[] };

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
    const cuts = CUTS.map((sfx, k) => this.cutInputs(sfx, k + 1, half));
    this.inputs = { lo, hi, cuts };
    const names = [0, 1, 2].map((a) => this.axisName(a));
    this.element = h(
      'details',
      {
        class: 'clip-panel',
        style: 'position: absolute; top: 4px; right: 4px; z-index: 5; background: rgba(0, 0, 0, 0.75); padding: 2px 6px; font-size: 12px',
      },
      h('summary', {}, 'Clip'),
      ...[0, 1, 2].map((a) => h('div', {}, h('span', { style: 'display: inline-block; width: 3em' }, names[a]), lo[a], hi[a])),
      ...cuts.map((c, k) =>
        h(
          'div',
          { class: 'clip-cut' },
          `cut ${k + 1} `,
          c.orientation,
          h('label', { title: 'azimuth: from patient left (0°) towards posterior (90°)' }, ' az ', c.azimuth),
          h('label', { title: 'elevation: towards superior (90°)' }, ' el ', c.elevation),
          c.offset,
          h('label', {}, c.flip, 'flip'),
        ),
      ),
      h('button', { type: 'button', id: 'clip-reset', onclick: () => this.reset() }, 'Reset'),
    );
    for (const el of [...lo, ...hi]) el.addEventListener('input', () => this.fromInputs());
    for (const c of cuts) {
      // A patient plane or the view fills in its angles; typed angles make the plane oblique.
      c.orientation.addEventListener('input', () => {
        this.anglesFor(c);
        this.fromInputs();
      });
      for (const el of [c.azimuth, c.elevation]) {
        el.addEventListener('input', () => {
          if (c.orientation.value !== 'off') c.orientation.value = 'oblique';
          this.fromInputs();
        });
      }
      for (const el of [c.offset, c.flip]) el.addEventListener('input', () => this.fromInputs());
    }
  }

  private cutInputs(sfx: string, n: number, half: number): CutInputs {
    const orientation = h(
      'select',
      { id: `clip-plane${sfx}`, 'aria-label': `cut plane ${n}` },
      ...CLIP_ORIENTATIONS.map((o) => h('option', { value: o }, o === 'off' ? 'off' : o === 'view' ? 'facing me' : o)),
    );
    const angle = (id: string, label: string, limit: number) =>
      h('input', { type: 'number', id, min: String(-limit), max: String(limit), step: '1', value: '0', style: 'width: 4em', 'aria-label': label });
    return {
      orientation,
      azimuth: angle(`clip-azimuth${sfx}`, `cut plane ${n} azimuth (degrees)`, 180),
      elevation: angle(`clip-elevation${sfx}`, `cut plane ${n} elevation (degrees)`, 90),
      offset: h('input', {
        type: 'range',
        id: `clip-offset${sfx}`,
        min: String(-half),
        max: String(half),
        step: '1',
        value: '0',
        'aria-label': `cut plane ${n} offset (mm)`,
      }),
      flip: h('input', { type: 'checkbox', id: `clip-flip${sfx}`, 'aria-label': `cut plane ${n}: keep the other side` }),
    };
  }

  /** The angles of a cut's chosen patient plane or of the view direction (the far side kept). */
  private anglesFor(c: CutInputs): void {
    const o = c.orientation.value as ClipOrientation;
    let angles: [number, number] | undefined = PATIENT_ANGLES[o];
    if (o === 'view') {
      const vpn = this.viewport.getCamera().viewPlaneNormal ?? [0, 0, 1];
      const { azimuth, elevation } = anglesOfNormal([-vpn[0], -vpn[1], -vpn[2]]);
      angles = [azimuth, elevation];
    }
    if (!angles) return;
    c.azimuth.value = String(Number(angles[0].toFixed(1)));
    c.elevation.value = String(Number(angles[1].toFixed(1)));
  }

  /** Sets the box and the cut planes, or says why not. */
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
    for (const c of this.inputs.cuts) {
      c.orientation.value = 'off';
      c.azimuth.value = '0';
      c.elevation.value = '0';
      c.offset.value = '0';
      c.flip.checked = false;
    }
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
    const { lo, hi, cuts } = this.inputs;
    const planes: CutPlane[] = [];
    for (const c of cuts) {
      if (c.orientation.value === 'off') continue;
      const n = normalFromAngles(Number(c.azimuth.value) || 0, Number(c.elevation.value) || 0);
      const sign = c.flip.checked ? -1 : 1;
      // The offset runs along the unflipped normal: flipping keeps the plane where it is.
      planes.push({ normal: [sign * n[0], sign * n[1], sign * n[2]], offset: sign * Number(c.offset.value) });
    }
    const fractions = (els: HTMLInputElement[]) => els.map((el) => Number(el.value) / 100) as Vec3;
    this.set({ box: { lo: fractions(lo), hi: fractions(hi) }, planes });
  }

  /** The patient axis a volume axis mostly runs along. */
  private axisName(a: number): string {
    const d = this.volume.direction.slice(3 * a, 3 * a + 3).map(Math.abs);
    return AXIS_NAMES[d.indexOf(Math.max(...d))];
  }
}
