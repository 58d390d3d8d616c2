// Segmentations and structure sets drawn over a viewport's image: a canvas above the
// image (below the viewport's texts) redrawn after each render. Segments are filled with
// their colour at half opacity, pixel by pixel in the segmentation's own grid mapped
// through the viewport's camera (zoom, pan, rotation and flips follow); ROIs are outlined.
// A frame or contour is drawn on the image it was made on (its SOP Instance UID) or on
// any image whose plane it lies in (same frame of reference, within half a slice).
import { metaData, type StackViewport, type Types } from '@cornerstonejs/core';
import { wadors } from '@cornerstonejs/dicom-image-loader';
import { str, TAG, type DicomJson } from '../dicom-json.js';
import { h } from '../dom.js';
import type { Rgb } from './cielab.js';
import type { StructureSet } from './rtstruct-parse.js';
import type { FramePlane, Segmentation } from './seg-parse.js';

/** One loaded SEG or RTSTRUCT and what the reader has switched off (segment / ROI numbers). */
export interface DerivedObject {
  readonly kind: 'SEG' | 'RTSTRUCT';
  readonly seg?: Segmentation;
  readonly rt?: StructureSet;
  readonly hidden: Set<number>;
  /** The image series it is shown over. */
  readonly seriesUid: string;
}

/** Fill opacity of a fully inside segment pixel (0-255). */
export const SEG_FILL_ALPHA = 128;
/** Contour width in CSS pixels. */
export const CONTOUR_WIDTH = 2;

type Vec3 = [number, number, number];
const sub = (a: readonly number[], b: readonly number[]): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const dot = (a: readonly number[], b: readonly number[]) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: readonly number[], b: readonly number[]): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const add = (a: readonly number[], b: readonly number[], k: number): Vec3 => [a[0] + b[0] * k, a[1] + b[1] * k, a[2] + b[2] * k];

interface ImagePlane {
  sop: string;
  frame: number;
  frameOfReferenceUid: string;
  plane?: FramePlane;
  normal?: Vec3;
  /** How far (mm) from the image's plane a frame or contour may lie and still be on it. */
  tolerance: number;
}

function imagePlane(imageId: string): ImagePlane {
  const inst = wadors.metaDataManager.get(imageId) as unknown as DicomJson | undefined;
  const m = metaData.get('imagePlaneModule', imageId) as
    | {
        imagePositionPatient?: number[];
        rowCosines?: number[];
        columnCosines?: number[];
        rowPixelSpacing?: number;
        columnPixelSpacing?: number;
        sliceThickness?: number;
        frameOfReferenceUID?: string;
      }
    | undefined;
  const frame = Number(/\/frames\/(\d+)$/.exec(imageId)?.[1] ?? 1);
  const thickness = m?.sliceThickness && m.sliceThickness > 0 ? m.sliceThickness : 1;
  const base = {
    sop: inst ? str(inst, TAG.SOPInstanceUID) : '',
    frame,
    frameOfReferenceUid: m?.frameOfReferenceUID ?? '',
    tolerance: Math.min(0.5, thickness / 2),
  };
  if (!m?.imagePositionPatient || !m.rowCosines || !m.columnCosines || !m.rowPixelSpacing || !m.columnPixelSpacing) return base;
  return {
    ...base,
    plane: {
      position: m.imagePositionPatient as Vec3,
      orientation: [...m.rowCosines, ...m.columnCosines] as FramePlane['orientation'],
      spacing: [m.rowPixelSpacing, m.columnPixelSpacing],
    },
    normal: cross(m.rowCosines, m.columnCosines),
  };
}

/** Does a plane lie in the image's plane (parallel, and its origin within the tolerance)? */
function onPlane(img: ImagePlane, plane: FramePlane): boolean {
  if (!img.plane || !img.normal) return false;
  const n = cross(plane.orientation.slice(0, 3), plane.orientation.slice(3));
  return Math.abs(dot(n, img.normal)) > 0.999 && Math.abs(dot(sub(plane.position, img.plane.position), img.normal)) <= img.tolerance;
}

export class DerivedOverlay {
  readonly canvas: HTMLCanvasElement;
  private scratch?: HTMLCanvasElement;

  constructor() {
    this.canvas = h('canvas', { class: 'derived-overlay', 'aria-hidden': 'true' });
  }

  /** Redraws for the viewport's current image; objects over other series are left out. */
  draw(vp: StackViewport | undefined, objects: readonly DerivedObject[], seriesUid: string | undefined): void {
    const c = this.canvas;
    const shown = vp?.getImageIds().length ? vp.canvas : undefined;
    if (!shown || !vp) {
      c.width = 0;
      return;
    }
    if (c.width !== shown.width || c.height !== shown.height) {
      c.width = shown.width;
      c.height = shown.height;
    }
    const ctx = c.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, c.width, c.height);
    const mine = objects.filter((o) => o.seriesUid === seriesUid);
    if (!mine.length) return;
    const ratio = shown.clientWidth ? shown.width / shown.clientWidth : 1;
    const img = imagePlane(vp.getCurrentImageId());
    const toCanvas = (w: readonly number[]): [number, number] => {
      const [x, y] = vp.worldToCanvas(w as Types.Point3);
      return [x * ratio, y * ratio];
    };
    for (const o of mine) {
      if (o.seg) this.drawSeg(ctx, o.seg, o.hidden, img, toCanvas);
      if (o.rt) drawContours(ctx, o.rt, o.hidden, img, toCanvas, CONTOUR_WIDTH * ratio);
    }
  }

  private drawSeg(
    ctx: CanvasRenderingContext2D,
    seg: Segmentation,
    hidden: Set<number>,
    img: ImagePlane,
    toCanvas: (w: readonly number[]) => [number, number],
  ): void {
    const colours = new Map<number, Rgb>(seg.segments.map((s) => [s.number, s.colour]));
    for (const f of seg.frames) {
      if (hidden.has(f.segment)) continue;
      const bySop = !!f.sourceSop && f.sourceSop === img.sop && (f.sourceFrame ?? 1) === img.frame;
      const byPlane = !!f.plane && (!seg.frameOfReferenceUid || seg.frameOfReferenceUid === img.frameOfReferenceUid) && onPlane(img, f.plane);
      if (!bySop && !byPlane) continue;
      const plane = f.plane ?? img.plane;
      if (!plane) continue;
      const colour = colours.get(f.segment) ?? [255, 0, 0];
      const scratch = (this.scratch ??= document.createElement('canvas'));
      scratch.width = seg.columns;
      scratch.height = seg.rows;
      const sctx = scratch.getContext('2d');
      if (!sctx) return;
      const data = sctx.createImageData(seg.columns, seg.rows);
      for (let i = 0; i < f.mask.length; i++) {
        const a = f.mask[i];
        if (!a) continue;
        data.data[i * 4] = colour[0];
        data.data[i * 4 + 1] = colour[1];
        data.data[i * 4 + 2] = colour[2];
        data.data[i * 4 + 3] = Math.round((a * SEG_FILL_ALPHA) / 255);
      }
      sctx.putImageData(data, 0, 0);
      // Pixel (c, r)'s centre is position + c * column spacing * row direction + r * row spacing * column direction.
      const rowDir = plane.orientation.slice(0, 3);
      const colDir = plane.orientation.slice(3);
      const o = toCanvas(plane.position);
      const ex = toCanvas(add(plane.position, rowDir, plane.spacing[1]));
      const ey = toCanvas(add(plane.position, colDir, plane.spacing[0]));
      const a = ex[0] - o[0];
      const b = ex[1] - o[1];
      const c = ey[0] - o[0];
      const d = ey[1] - o[1];
      ctx.save();
      ctx.imageSmoothingEnabled = false;
      ctx.setTransform(a, b, c, d, o[0] - (a + c) / 2, o[1] - (b + d) / 2);
      ctx.drawImage(scratch, 0, 0);
      ctx.restore();
    }
  }
}

function drawContours(
  ctx: CanvasRenderingContext2D,
  rt: StructureSet,
  hidden: Set<number>,
  img: ImagePlane,
  toCanvas: (w: readonly number[]) => [number, number],
  width: number,
): void {
  for (const roi of rt.rois) {
    if (hidden.has(roi.number)) continue;
    if (roi.frameOfReferenceUid && img.frameOfReferenceUid && roi.frameOfReferenceUid !== img.frameOfReferenceUid) continue;
    ctx.strokeStyle = `rgb(${roi.colour.join(',')})`;
    ctx.fillStyle = ctx.strokeStyle;
    ctx.lineWidth = width;
    ctx.lineJoin = 'round';
    for (const contour of roi.contours) {
      const bySop = !!contour.imageSop && contour.imageSop === img.sop;
      const normal = img.normal;
      const origin = img.plane?.position;
      const byPlane = !!normal && !!origin && contour.points.every((p) => Math.abs(dot(sub(p, origin), normal)) <= img.tolerance);
      if (!bySop && !byPlane) continue;
      const pts = contour.points.map(toCanvas);
      if (contour.type === 'POINT') {
        for (const [x, y] of pts) ctx.fillRect(x - width * 2, y - width * 2, width * 4, width * 4);
        continue;
      }
      ctx.beginPath();
      pts.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
      if (contour.type === 'CLOSED_PLANAR') ctx.closePath();
      ctx.stroke();
    }
  }
}
