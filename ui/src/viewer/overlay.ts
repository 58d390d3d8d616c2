// Overlay text in the four corners of a viewport and the orientation markers at its edges.
import type { StackViewport } from '@cornerstonejs/core';
import { wadors } from '@cornerstonejs/dicom-image-loader';
import { h } from '../dom.js';
import type { DicomJson } from '../dicom-json.js';
import { orientationOf } from './geometry.js';
import { overlayCorners } from './overlay-text.js';
import { viewportEdgeLabels } from './readouts.js';

export class Overlay {
  readonly root: HTMLDivElement;
  private readonly corners: Record<'tl' | 'tr' | 'bl' | 'br', HTMLDivElement>;
  private readonly edges: Record<'left' | 'right' | 'top' | 'bottom', HTMLDivElement>;

  constructor() {
    const corner = (c: string) => h('div', { class: `overlay-corner ${c}` });
    const edge = (e: string) => h('div', { class: `orientation ${e}`, 'data-edge': e });
    this.corners = { tl: corner('tl'), tr: corner('tr'), bl: corner('bl'), br: corner('br') };
    this.edges = { left: edge('left'), right: edge('right'), top: edge('top'), bottom: edge('bottom') };
    this.root = h('div', { class: 'overlay' }, ...Object.values(this.corners), ...Object.values(this.edges));
  }

  clear(): void {
    for (const el of [...Object.values(this.corners), ...Object.values(this.edges)]) el.replaceChildren();
  }

  /** `failed`: the current image could not be loaded or decoded (its cell says why): no window to show. */
  update(viewport: StackViewport, failed = false): void {
    const imageId = viewport.getCurrentImageId();
    if (!imageId) return this.clear();
    const ds = (wadors.metaDataManager.get(imageId) ?? {}) as unknown as DicomJson;
    const frame = Number(/\/frames\/(\d+)$/.exec(imageId)?.[1] ?? 1);
    const text = overlayCorners(ds, {
      index: viewport.getCurrentImageIdIndex(),
      total: viewport.getImageIds().length,
      frame,
      voi: viewport.getProperties().voiRange,
      zoom: viewport.getZoom(),
      failed,
    });
    for (const k of ['tl', 'tr', 'bl', 'br'] as const) this.corners[k].replaceChildren(...text[k].map((l) => h('div', {}, l)));
    // Markers only from the image's own orientation: Cornerstone assumes an axial one when
    // the header has none, and markers from that would be a guess shown as a fact.
    const labels = orientationOf(ds, frame) ? viewportEdgeLabels(viewport) : undefined;
    for (const k of ['left', 'right', 'top', 'bottom'] as const) this.edges[k].textContent = labels?.[k] ?? '';
  }
}
