// Overlay text in the four corners of a viewport and the orientation markers at its edges.
import type { StackViewport } from '@cornerstonejs/core';
import { wadors } from '@cornerstonejs/dicom-image-loader';
import { h } from '../dom.js';
import { formatDate, num, str, TAG, type DicomJson } from '../dicom-json.js';
import { locationOf, orientationOf } from './geometry.js';
import { round, viewportEdgeLabels, windowReadout } from './readouts.js';

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
    const index = viewport.getCurrentImageIdIndex();
    const total = viewport.getImageIds().length;
    const lines = (el: HTMLDivElement, ...ls: string[]) => el.replaceChildren(...ls.filter(Boolean).map((l) => h('div', {}, l)));
    lines(
      this.corners.tl,
      str(ds, TAG.PatientName).replace(/\^/g, ' '),
      str(ds, TAG.PatientID),
      formatDate(str(ds, TAG.StudyDate)),
      str(ds, TAG.StudyDescription),
    );
    const frame = /\/frames\/(\d+)$/.exec(imageId)?.[1];
    const frameNumber = Number(frame ?? 1);
    const frames = num(ds, TAG.NumberOfFrames) ?? 1;
    lines(
      this.corners.tr,
      `Se: ${str(ds, TAG.SeriesNumber)} ${str(ds, TAG.SeriesDescription)}`.trim(),
      `Im: ${index + 1}/${total}`,
      `Instance: ${str(ds, TAG.InstanceNumber)}${frames > 1 ? ` frame ${frame}/${frames}` : ''}`,
    );
    // From the position, not Slice Location: that one goes stale when a series is edited or reformatted.
    const loc = locationOf(ds, frameNumber);
    const thick = num(ds, TAG.SliceThickness);
    lines(this.corners.bl, loc !== undefined ? `Loc: ${round(loc, 2)} mm` : '', thick !== undefined ? `Thick: ${round(thick, 2)} mm` : '');
    const wl = failed ? '' : windowReadout(viewport.getProperties().voiRange);
    lines(this.corners.br, wl, `Zoom: ${round(viewport.getZoom() * 100, 0)}%`);
    // Markers only from the image's own orientation: Cornerstone assumes an axial one when
    // the header has none, and markers from that would be a guess shown as a fact.
    const labels = orientationOf(ds, frameNumber) ? viewportEdgeLabels(viewport) : undefined;
    for (const k of ['left', 'right', 'top', 'bottom'] as const) this.edges[k].textContent = labels?.[k] ?? '';
  }
}
