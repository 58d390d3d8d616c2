// The readouts of an MPR plane: orientation markers at its edges (from its camera, so an
// oblique or double-oblique plane gets the mixed directions, "AR" and the like), its window
// and its slab (thickness and blend mode). Updated on every render of the plane.
import { Enums, type Types } from '@cornerstonejs/core';
import { h } from '../dom.js';
import { round, viewportEdgeLabels, windowReadout } from '../viewer/readouts.js';

const BLEND_NAMES: Partial<Record<Enums.BlendModes, string>> = {
  [Enums.BlendModes.MAXIMUM_INTENSITY_BLEND]: 'MIP',
  [Enums.BlendModes.MINIMUM_INTENSITY_BLEND]: 'MinIP',
  [Enums.BlendModes.AVERAGE_INTENSITY_BLEND]: 'Average',
};

/** "Slab: MIP 20 mm", or "Slab: thin" for a plane without blending. */
export function slabReadout(blendMode: Enums.BlendModes | undefined, halfThickness: number | undefined): string {
  const name = blendMode === undefined ? undefined : BLEND_NAMES[blendMode];
  // Cornerstone's slab thickness reaches that far on EACH side of the plane (mpr-tools.ts setSlab).
  const mm = (halfThickness ?? 0) * 2;
  return name && mm > 0.2 ? `Slab: ${name} ${round(mm, 1)} mm` : 'Slab: thin';
}

export class PlaneOverlay {
  readonly root: HTMLDivElement;
  private readonly br: HTMLDivElement;
  private readonly edges: Record<'left' | 'right' | 'top' | 'bottom', HTMLDivElement>;

  constructor() {
    const edge = (e: string) => h('div', { class: `orientation ${e}`, 'data-edge': e });
    this.edges = { left: edge('left'), right: edge('right'), top: edge('top'), bottom: edge('bottom') };
    this.br = h('div', { class: 'overlay-corner br' });
    this.root = h('div', { class: 'overlay plane-overlay', style: 'inset: 0' }, this.br, ...Object.values(this.edges));
  }

  /** Follows the plane: redrawn whenever it renders (camera, window, slab and volume changes all render). */
  attach(viewport: Types.IVolumeViewport): void {
    const update = () => this.update(viewport);
    viewport.element.addEventListener(Enums.Events.IMAGE_RENDERED, update);
    viewport.element.addEventListener(Enums.Events.VOI_MODIFIED, update);
    viewport.element.addEventListener(Enums.Events.CAMERA_MODIFIED, update);
    update();
  }

  update(viewport: Types.IVolumeViewport): void {
    const labels = viewportEdgeLabels(viewport);
    for (const k of ['left', 'right', 'top', 'bottom'] as const) this.edges[k].textContent = labels?.[k] ?? '';
    const wl = windowReadout(viewport.getProperties()?.voiRange);
    const slab = slabReadout(viewport.getBlendMode(), viewport.getSlabThickness());
    this.br.replaceChildren(...[wl, slab].filter(Boolean).map((t) => h('div', { class: t.startsWith('Slab') ? 'slab-readout' : 'wl-readout' }, t)));
  }
}
