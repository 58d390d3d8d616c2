// Presentation states in the viewer: what a viewport shows captured as a GSPS (gsps.ts)
// and stored with STOW-RS, and the newest GSPS of a series applied when it opens: window,
// inversion, rotation and flip, the displayed area (zoom and pan) and the annotations as
// the viewer's own tools. Loaded on demand with dcmjs (after the first image).
import { utilities as csUtils, type StackViewport, type Types } from '@cornerstonejs/core';
import { wadors } from '@cornerstonejs/dicom-image-loader';
import {
  annotation as annotationApi,
  AngleTool,
  ArrowAnnotateTool,
  BidirectionalTool,
  CobbAngleTool,
  EllipticalROITool,
  LabelTool,
  LengthTool,
  PlanarFreehandROITool,
  ProbeTool,
  RectangleROITool,
  type Types as ToolTypes,
} from '@cornerstonejs/tools';
import dcmjs from 'dcmjs';
import { num, nums, str, TAG, type DicomJson } from '../dicom-json.js';
import type { DicomWebClient } from '../dicomweb.js';
import {
  buildGsps,
  forImage,
  GSPS_SOP_CLASS,
  GspsError,
  newestPresentation,
  readGsps,
  type DisplayedArea,
  type GspsAnnotation,
  type GspsDisplay,
  type GspsGraphic,
  type GspsImageRef,
  type GspsText,
  type Point2,
} from './gsps.js';
import { addToolAnnotation } from './annotation-add.js';
import type { DisplaySet } from './loader.js';
import { part10 } from './measurements.js';
import { PolylineTool } from './reading-tools.js';

const { DicomMetaDictionary } = dcmjs.data;

/** Graphic layers of the viewer's tools: a GSPS this viewer wrote comes back as the same tools. */
const LAYER_OF_TOOL: Record<string, string> = {
  [LengthTool.toolName]: 'LENGTH',
  [AngleTool.toolName]: 'ANGLE',
  [CobbAngleTool.toolName]: 'COBB',
  [BidirectionalTool.toolName]: 'BIDIRECTIONAL',
  [ArrowAnnotateTool.toolName]: 'ARROW',
  [ProbeTool.toolName]: 'PROBE',
  [EllipticalROITool.toolName]: 'ELLIPSE',
  [RectangleROITool.toolName]: 'RECTANGLE',
  [PlanarFreehandROITool.toolName]: 'FREEHAND',
  [LabelTool.toolName]: 'TEXT',
  [PolylineTool.toolName]: 'POLYLINE',
};
const TOOL_OF_LAYER = Object.fromEntries(Object.entries(LAYER_OF_TOOL).map(([t, l]) => [l, t]));

type Annotation = ToolTypes.Annotation & {
  metadata: { toolName: string; referencedImageId?: string };
  data: { label?: string; text?: string; handles: { points: Types.Point3[] }; contour?: { polyline: Types.Point3[]; closed: boolean } };
};

const instanceJson = (imageId: string) => wadors.metaDataManager.get(imageId) as unknown as DicomJson | undefined;
const frameOf = (imageId: string) => Number(/\/frames\/(\d+)$/.exec(imageId)?.[1] ?? 1);

function imageRef(imageId: string): GspsImageRef | undefined {
  const inst = instanceJson(imageId);
  if (!inst) return undefined;
  const multiframe = (num(inst, TAG.NumberOfFrames) ?? 1) > 1;
  return {
    sopClassUid: str(inst, TAG.SOPClassUID),
    sopInstanceUid: str(inst, TAG.SOPInstanceUID),
    seriesUid: str(inst, TAG.SeriesInstanceUID),
    ...(multiframe ? { frame: frameOf(imageId) } : {}),
  };
}

// --- The on-screen transform ---------------------------------------------------------

type Axes = [number, number, number, number]; // screen direction of image +x (dx, dy) and +y (dx, dy), each -1, 0 or 1

/** Where the image's column (+x) and row (+y) directions point on screen for a GSPS rotation and flip. */
function gspsAxes(rotation: number, flip: boolean): Axes {
  const turn = ([x, y]: Point2): Point2 => [-y, x]; // a quarter clockwise (screen y down)
  let ax: Point2 = [1, 0];
  let ay: Point2 = [0, 1];
  for (let k = 0; k < rotation / 90; k++) [ax, ay] = [turn(ax), turn(ay)];
  if (flip)
    [ax, ay] = [
      [-ax[0], ax[1]],
      [-ay[0], ay[1]],
    ];
  return [ax[0], ax[1], ay[0], ay[1]];
}

/** Where the image's axes point on this viewport's canvas now (measured, whatever Cornerstone's order of rotation and flip). */
function viewportAxes(vp: StackViewport, imageId: string): Axes {
  const c = (p: Point2) => vp.worldToCanvas(csUtils.imageToWorldCoords(imageId, p) as Types.Point3);
  const o = c([0, 0]);
  const x = c([1, 0]);
  const y = c([0, 1]);
  const s = (v: number) => (Math.abs(v) < 1e-6 ? 0 : Math.sign(v));
  return [s(x[0] - o[0]), s(x[1] - o[1]), s(y[0] - o[0]), s(y[1] - o[1])];
}

const sameAxes = (a: Axes, b: Axes) => a.every((v, i) => v === b[i]);
const TRANSFORMS = [0, 90, 180, 270].flatMap((rotation) => [false, true].map((flip) => ({ rotation: rotation as GspsDisplay['rotation'], flip })));

function currentTransform(vp: StackViewport, imageId: string): { rotation: GspsDisplay['rotation']; flip: boolean } {
  const axes = viewportAxes(vp, imageId);
  return TRANSFORMS.find((t) => sameAxes(gspsAxes(t.rotation, t.flip), axes)) ?? { rotation: 0, flip: false };
}

/** Sets Cornerstone's presentation that shows the image as the GSPS rotation and flip do. */
function setTransform(vp: StackViewport, imageId: string, rotation: number, flip: boolean): void {
  const want = gspsAxes(rotation, flip);
  for (const t of TRANSFORMS) {
    vp.setViewPresentation({ rotation: t.rotation, flipHorizontal: t.flip, flipVertical: false });
    if (sameAxes(viewportAxes(vp, imageId), want)) return;
  }
}

// --- Capture ----------------------------------------------------------------------

function spacingOf(imageId: string): Point2 {
  const inst = instanceJson(imageId);
  const s = inst ? nums(inst, TAG.PixelSpacing) : undefined;
  return s && s.length >= 2 && s[0] > 0 && s[1] > 0 ? [s[0], s[1]] : [1, 1]; // row spacing, column spacing
}

/** The visible canvas as the displayed area: its top left and bottom right corners' image pixels (1-based). */
/** The canvas size in CSS pixels as Cornerstone's camera sees it (its drawing buffer over the device pixel ratio). */
function cameraCanvasSize(vp: StackViewport): { w: number; hgt: number } {
  const ratio = vp.canvas.clientWidth > 0 ? vp.canvas.width / vp.canvas.clientWidth : 1;
  return { w: vp.canvas.width / ratio, hgt: vp.canvas.height / ratio };
}

function displayedArea(vp: StackViewport, imageId: string): DisplayedArea {
  const { w, hgt } = cameraCanvasSize(vp);
  const img = (x: number, y: number) => csUtils.worldToImageCoords(imageId, vp.canvasToWorld([x, y])) as Point2;
  const tl = img(0, 0);
  const br = img(w, hgt);
  // The pixel a corner point lies in (1-based); the bottom right corner's is the one just before the edge.
  const pixelAt = (p: number, end: boolean) => (end ? Math.ceil(p - 1e-6) : Math.floor(p + 1e-6) + 1);
  const spacing = spacingOf(imageId);
  return {
    tlhc: [pixelAt(tl[0], tl[0] > br[0]), pixelAt(tl[1], tl[1] > br[1])],
    brhc: [pixelAt(br[0], br[0] >= tl[0]), pixelAt(br[1], br[1] >= tl[1])],
    sizeMode: 'SCALE TO FIT',
    pixelSpacing: spacing,
  };
}

/** The graphic and text objects of one annotation of the viewer's tools, in image pixels. */
function toGsps(a: Annotation, imageId: string): { graphics: GspsGraphic[]; texts: GspsText[] } | undefined {
  const px = (w: Types.Point3) => csUtils.worldToImageCoords(imageId, w) as Point2;
  const pts = a.data.handles.points.map(px);
  const label = a.data.label || a.data.text || '';
  switch (a.metadata.toolName) {
    case LabelTool.toolName:
      return pts.length && label ? { graphics: [], texts: [{ text: label, anchor: pts[0] }] } : undefined;
    case ArrowAnnotateTool.toolName:
      return pts.length >= 2
        ? { graphics: [{ type: 'POLYLINE', points: [pts[0], pts[1]] }], texts: label ? [{ text: label, anchor: pts[1] }] : [] }
        : undefined;
    case RectangleROITool.toolName:
      // Corners top left, top right, bottom left, bottom right: a closed outline.
      return pts.length === 4 ? { graphics: [{ type: 'POLYLINE', points: [pts[0], pts[1], pts[3], pts[2], pts[0]] }], texts: [] } : undefined;
    case EllipticalROITool.toolName: {
      if (pts.length !== 4) return undefined;
      const d = (p: Point2, q: Point2) => Math.hypot(p[0] - q[0], p[1] - q[1]);
      // ELLIPSE lists the major axis first (C.10.5.1.2).
      const points = d(pts[0], pts[1]) >= d(pts[2], pts[3]) ? pts : [pts[2], pts[3], pts[0], pts[1]];
      return { graphics: [{ type: 'ELLIPSE', points }], texts: [] };
    }
    case PlanarFreehandROITool.toolName: {
      const contour = a.data.contour;
      if (!contour?.polyline.length) return undefined;
      const line = contour.polyline.map(px);
      return { graphics: [{ type: 'POLYLINE', points: contour.closed ? [...line, line[0]] : line }], texts: [] };
    }
    case PolylineTool.toolName:
    case LengthTool.toolName:
    case AngleTool.toolName:
      return pts.length >= 2 ? { graphics: [{ type: 'POLYLINE', points: pts }], texts: [] } : undefined;
    case CobbAngleTool.toolName:
    case BidirectionalTool.toolName:
      return pts.length === 4
        ? {
            graphics: [
              { type: 'POLYLINE', points: [pts[0], pts[1]] },
              { type: 'POLYLINE', points: [pts[2], pts[3]] },
            ],
            texts: [],
          }
        : undefined;
    case ProbeTool.toolName:
      return pts.length ? { graphics: [{ type: 'POINT', points: [pts[0]] }], texts: [] } : undefined;
    default:
      return undefined;
  }
}

export class PresentationError extends Error {
  override readonly name = 'PresentationError';
}

/** What the viewport shows of its series, as a GSPS stored into the study. Resolves with the new instance's UID. */
export async function savePresentation(vp: StackViewport, ds: DisplaySet, creator: string): Promise<{ sopInstanceUid: string; annotations: number }> {
  const imageId = vp.getCurrentImageId();
  const ids = ds.imageIds ?? [];
  const first = imageId && instanceJson(imageId);
  if (!imageId || !first) throw new PresentationError('no image shown');
  const images = ids.map(imageRef).filter((r): r is GspsImageRef => !!r);
  // Multi-frame images are referenced once (all frames).
  const unique = [...new Map(images.map((r) => [r.sopInstanceUid, { ...r, frame: undefined }])).values()];
  const voi = vp.getProperties().voiRange;
  const window = voi && csUtils.windowLevel.toWindowLevel(voi.lower, voi.upper);
  const { rotation, flip } = currentTransform(vp, imageId);
  const inSeries = new Set(ids);
  const annotations: GspsAnnotation[] = [];
  let count = 0;
  for (const a of annotationApi.state.getAllAnnotations() as Annotation[]) {
    const id = a.metadata.referencedImageId;
    const layer = LAYER_OF_TOOL[a.metadata.toolName];
    const ref = id && inSeries.has(id) ? imageRef(id) : undefined;
    const objects = ref && layer ? toGsps(a, id!) : undefined;
    if (!ref || !objects) continue;
    count++;
    const entry = annotations.find((e) => e.layer === layer && e.image.sopInstanceUid === ref.sopInstanceUid && e.image.frame === ref.frame);
    if (entry) {
      entry.graphics.push(...objects.graphics);
      entry.texts.push(...objects.texts);
    } else annotations.push({ image: ref, layer, ...objects });
  }
  const display: GspsDisplay = {
    images: unique,
    windows: window ? [{ value: { center: window.windowCenter, width: window.windowWidth } }] : [],
    areas: [{ value: displayedArea(vp, imageId) }],
    invert: vp.getProperties().invert ?? false,
    rotation,
    horizontalFlip: flip,
    annotations,
    layers: [...new Set(annotations.map((a) => a.layer))],
    label: 'VIEWER',
    description: `${ds.description || 'series'} as displayed`,
    creator,
  };
  const existing = await ds.client.seriesOfModality(ds.studyUid, 'PR').catch(() => []);
  const seriesNumber = Math.max(800, ...existing.map((s) => (num(s, TAG.SeriesNumber) ?? 0) + 1));
  const natural = DicomMetaDictionary.naturalizeDataset(first) as Record<string, unknown>;
  const study: Record<string, unknown> = { StudyInstanceUID: ds.studyUid };
  for (const k of [
    'PatientName',
    'PatientID',
    'PatientBirthDate',
    'PatientSex',
    'StudyDate',
    'StudyTime',
    'StudyID',
    'AccessionNumber',
    'ReferringPhysicianName',
  ])
    if (natural[k] !== undefined) study[k] = natural[k];
  const intercept = num(first, TAG.RescaleIntercept);
  const slope = num(first, TAG.RescaleSlope);
  const sopInstanceUid = DicomMetaDictionary.uid();
  const ps = buildGsps(
    study as { StudyInstanceUID: string },
    { seriesUid: DicomMetaDictionary.uid(), sopInstanceUid, seriesNumber, now: new Date() },
    display,
    intercept !== undefined && slope !== undefined
      ? { intercept, slope, type: str(first, TAG.RescaleType) || (ds.modality === 'CT' ? 'HU' : 'US') }
      : undefined,
  );
  try {
    await ds.client.store(ds.studyUid, part10(ps));
  } catch (e) {
    throw new PresentationError(`storing the presentation state failed: ${(e as Error).message}`);
  }
  return { sopInstanceUid, annotations: count };
}

// --- Apply ------------------------------------------------------------------------

export interface StoredPresentation {
  sopInstanceUid: string;
  label: string;
  description: string;
  created: string;
  display: ReturnType<typeof readGsps>;
}

/** The GSPS of the study that reference images of this series, newest first; unreadable ones are named in `problems`. */
export async function presentationsOf(client: DicomWebClient, ds: DisplaySet, problems: string[] = []): Promise<StoredPresentation[]> {
  const sops = new Set((ds.imageIds ?? []).map((id) => (instanceJson(id) ? str(instanceJson(id)!, TAG.SOPInstanceUID) : '')));
  const out: StoredPresentation[] = [];
  for (const s of await client.seriesOfModality(ds.studyUid, 'PR')) {
    for (const json of await client.freshSeriesMetadata(ds.studyUid, str(s, TAG.SeriesInstanceUID))) {
      if (str(json, TAG.SOPClassUID) !== GSPS_SOP_CLASS) continue;
      try {
        const display = readGsps(DicomMetaDictionary.naturalizeDataset(json));
        if (!display.images.some((i) => sops.has(i.sopInstanceUid))) continue;
        out.push({ sopInstanceUid: display.sopInstanceUid, label: display.label, description: display.description, created: display.created, display });
      } catch (e) {
        problems.push(`presentation state ${str(json, TAG.SOPInstanceUID)}: ${(e as Error).message}`);
      }
    }
  }
  return newestPresentation(out);
}

/** The image's displayed area on the canvas: centred, zoomed as its size mode says. */
function applyArea(vp: StackViewport, imageId: string, area: DisplayedArea, rotation: number): void {
  const [rowSpacing, colSpacing] = spacingOf(imageId);
  const x0 = Math.min(area.tlhc[0], area.brhc[0]) - 1;
  const x1 = Math.max(area.tlhc[0], area.brhc[0]);
  const y0 = Math.min(area.tlhc[1], area.brhc[1]) - 1;
  const y1 = Math.max(area.tlhc[1], area.brhc[1]);
  const centre = csUtils.imageToWorldCoords(imageId, [(x0 + x1) / 2, (y0 + y1) / 2]) as Types.Point3;
  // The size Cornerstone's camera works in (set at its last resize), not the element's now.
  const { w, hgt } = cameraCanvasSize(vp);
  if (!(w > 0 && hgt > 0)) return;
  let mmPerPx: number;
  if (area.sizeMode === 'TRUE SIZE')
    mmPerPx = 25.4 / 96; // CSS pixels: 96 per inch
  else if (area.sizeMode === 'MAGNIFY') mmPerPx = rowSpacing / (area.magnification ?? 1);
  else {
    const quarter = rotation === 90 || rotation === 270;
    const widthMm = (x1 - x0) * colSpacing;
    const heightMm = (y1 - y0) * rowSpacing;
    mmPerPx = Math.max((quarter ? heightMm : widthMm) / w, (quarter ? widthMm : heightMm) / hgt);
  }
  const cam = vp.getCamera();
  const offset = [cam.position![0] - cam.focalPoint![0], cam.position![1] - cam.focalPoint![1], cam.position![2] - cam.focalPoint![2]];
  vp.setCamera({
    focalPoint: centre,
    position: [centre[0] + offset[0], centre[1] + offset[1], centre[2] + offset[2]] as Types.Point3,
    parallelScale: (mmPerPx * hgt) / 2,
  });
}

/** Shows the image as the presentation state says (window, inversion, rotation, flip, area); its annotations are added separately. */
export function applyPresentation(vp: StackViewport, p: StoredPresentation): void {
  const imageId = vp.getCurrentImageId();
  const ref = imageId ? imageRef(imageId) : undefined;
  if (!imageId || !ref) return;
  const d = p.display;
  vp.resetCamera();
  setTransform(vp, imageId, d.rotation, d.horizontalFlip);
  const window = forImage(d.windows, ref.sopInstanceUid, ref.frame);
  const props: Record<string, unknown> = { invert: d.invert };
  if (window) props.voiRange = csUtils.windowLevel.toLowHighRange(window.width, window.center);
  vp.setProperties(props);
  const area = forImage(d.areas, ref.sopInstanceUid, ref.frame);
  if (area) applyArea(vp, imageId, area, d.rotation);
  vp.render();
}

/** An annotation equal to one already there (restored from the SR too): same tool, image and points. */
function exists(toolName: string, imageId: string, pixels: Point2[]): boolean {
  return (annotationApi.state.getAllAnnotations() as Annotation[]).some((a) => {
    if (a.metadata.toolName !== toolName || a.metadata.referencedImageId !== imageId) return false;
    const pts = (a.data.handles.points.length ? a.data.handles.points : (a.data.contour?.polyline ?? [])).map(
      (w) => csUtils.worldToImageCoords(imageId, w) as Point2,
    );
    return pts.length >= 1 && pixels.length >= 1 && Math.hypot(pts[0][0] - pixels[0][0], pts[0][1] - pixels[0][1]) < 0.01;
  });
}

/** Circle (centre, a point on it) as the ellipse tool's four points: bottom, top, left, right. */
function circleAsEllipse([c, e]: Point2[]): Point2[] {
  const r = Math.hypot(e[0] - c[0], e[1] - c[1]);
  return [
    [c[0], c[1] - r],
    [c[0], c[1] + r],
    [c[0] - r, c[1]],
    [c[0] + r, c[1]],
  ];
}

/** Ellipse (major axis, then minor) as the ellipse tool's bottom, top, left, right. */
function ellipseForTool(p: Point2[]): Point2[] {
  const vertical = (a: Point2, b: Point2) => Math.abs(a[1] - b[1]) >= Math.abs(a[0] - b[0]);
  const [v, h] = vertical(p[0], p[1])
    ? [
        [p[0], p[1]],
        [p[2], p[3]],
      ]
    : [
        [p[2], p[3]],
        [p[0], p[1]],
      ];
  const [bottom, top] = v[0][1] <= v[1][1] ? [v[0], v[1]] : [v[1], v[0]];
  const [left, right] = h[0][0] <= h[1][0] ? [h[0], h[1]] : [h[1], h[0]];
  return [bottom, top, left, right];
}

const isClosed = (p: Point2[]) => p.length > 2 && p[0][0] === p[p.length - 1][0] && p[0][1] === p[p.length - 1][1];

/**
 * The presentation state's annotations on the series' images as the viewer's tools: its
 * own layers as the tools that made them, anything else by shape (a line of two points a
 * length, other polylines a polyline, ellipses and circles an ellipse, points a probe,
 * text a text label). Resolves with how many were added and how many could not be.
 */
export function addPresentationAnnotations(p: StoredPresentation, ds: DisplaySet): { added: number; skipped: number } {
  const idOf = new Map<string, string>();
  for (const id of ds.imageIds ?? []) {
    const inst = instanceJson(id);
    if (inst) idOf.set(`${str(inst, TAG.SOPInstanceUID)}/${frameOf(id)}`, id);
  }
  let added = 0;
  let skipped = 0;
  const add = (tool: string, imageId: string, pixels: Point2[], extra?: { label?: string; closed?: boolean }) => {
    if (exists(tool, imageId, pixels)) return;
    if (addToolAnnotation(tool, imageId, pixels, extra)) added++;
    else skipped++;
  };
  for (const a of p.display.annotations) {
    const imageId = idOf.get(`${a.image.sopInstanceUid}/${a.image.frame ?? 1}`);
    if (!imageId) continue; // another series' image
    const own = TOOL_OF_LAYER[a.layer];
    if (own === RectangleROITool.toolName && a.graphics.length === 1 && a.graphics[0].points.length === 5) {
      const [tl, tr, br, bl] = a.graphics[0].points;
      add(own, imageId, [tl, tr, bl, br]);
      continue;
    }
    if ((own === CobbAngleTool.toolName || own === BidirectionalTool.toolName) && a.graphics.length === 2) {
      add(own, imageId, [...a.graphics[0].points, ...a.graphics[1].points]);
      continue;
    }
    if (own === ArrowAnnotateTool.toolName && a.graphics.length === 1) {
      add(own, imageId, a.graphics[0].points, { label: a.texts[0]?.text ?? '' });
      continue;
    }
    for (const g of a.graphics) {
      const closed = isClosed(g.points);
      if (own === PlanarFreehandROITool.toolName) add(own, imageId, closed ? g.points.slice(0, -1) : g.points, { closed });
      else if (own && own !== LabelTool.toolName && own !== EllipticalROITool.toolName) add(own, imageId, g.points);
      else if (g.type === 'ELLIPSE' && g.points.length === 4) add(EllipticalROITool.toolName, imageId, ellipseForTool(g.points));
      else if (g.type === 'CIRCLE' && g.points.length === 2) add(EllipticalROITool.toolName, imageId, circleAsEllipse(g.points));
      else if (g.type === 'POINT' || g.type === 'MULTIPOINT') for (const q of g.points) add(ProbeTool.toolName, imageId, [q]);
      else if ((g.type === 'POLYLINE' || g.type === 'INTERPOLATED') && g.points.length === 2) add(LengthTool.toolName, imageId, g.points);
      else if ((g.type === 'POLYLINE' || g.type === 'INTERPOLATED') && g.points.length > 2)
        add(PolylineTool.toolName, imageId, closed ? g.points.slice(0, -1) : g.points, { closed });
      else skipped++;
    }
    for (const t of a.texts) {
      const at = t.anchor ?? (t.box ? ([(t.box[0][0] + t.box[1][0]) / 2, (t.box[0][1] + t.box[1][1]) / 2] as Point2) : undefined);
      if (at) add(LabelTool.toolName, imageId, [at], { label: t.text });
      else skipped++;
    }
  }
  return { added, skipped };
}

export { GspsError };
