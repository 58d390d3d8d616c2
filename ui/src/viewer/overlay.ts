// Overlay text in the four corners of a viewport and the orientation markers at its edges.
import { utilities, type StackViewport } from '@cornerstonejs/core';
import { wadors } from '@cornerstonejs/dicom-image-loader';
import { h } from '../dom.js';
import { formatDate, num, str, TAG, type DicomJson } from '../dicom-json.js';
import { edgeLabels, type Vec3 } from './orientation.js';

function round(x: number | undefined, digits = 1): string {
  return x === undefined ? '' : String(Number(x.toFixed(digits)));
}

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

  update(viewport: StackViewport): void {
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
    const frames = num(ds, TAG.NumberOfFrames) ?? 1;
    lines(
      this.corners.tr,
      `Se: ${str(ds, TAG.SeriesNumber)} ${str(ds, TAG.SeriesDescription)}`.trim(),
      `Im: ${index + 1}/${total}`,
      `Instance: ${str(ds, TAG.InstanceNumber)}${frames > 1 ? ` frame ${frame}/${frames}` : ''}`,
    );
    const loc = num(ds, TAG.SliceLocation);
    const thick = num(ds, TAG.SliceThickness);
    lines(this.corners.bl, loc !== undefined ? `Loc: ${round(loc, 2)} mm` : '', thick !== undefined ? `Thick: ${round(thick, 2)} mm` : '');
    const voi = viewport.getProperties().voiRange;
    // Back from the range to the window as PS3.3 C.11.2.1.2 defines it (the linear function
    // spans width - 1 between its end points), so a 400 wide window reads 400, not 399.
    const wlOf = voi && utilities.windowLevel.toWindowLevel(voi.lower, voi.upper);
    const wl = wlOf ? `W: ${round(wlOf.windowWidth, 0)} L: ${round(wlOf.windowCenter, 0)}` : '';
    lines(this.corners.br, wl, `Zoom: ${round(viewport.getZoom() * 100, 0)}%`);
    this.updateOrientation(viewport);
  }

  private updateOrientation(viewport: StackViewport): void {
    const canvas = viewport.canvas;
    const cx = canvas.clientWidth / 2;
    const cy = canvas.clientHeight / 2;
    const c = viewport.canvasToWorld([cx, cy]);
    const r = viewport.canvasToWorld([cx + 10, cy]);
    const d = viewport.canvasToWorld([cx, cy + 10]);
    if (![...c, ...r, ...d].every(Number.isFinite)) return;
    const labels = edgeLabels([r[0] - c[0], r[1] - c[1], r[2] - c[2]] as Vec3, [d[0] - c[0], d[1] - c[1], d[2] - c[2]] as Vec3);
    for (const k of ['left', 'right', 'top', 'bottom'] as const) this.edges[k].textContent = labels[k];
  }
}
