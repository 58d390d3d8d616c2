// Grayscale Softcopy Presentation State (PS3.3 A.33.1) as dcmjs naturalized data sets:
// written from what a viewport shows (window, inversion, rotation and flip, the displayed
// area, annotations as graphic and text objects) and read back, also when another system
// wrote it (DCMTK's dcmpsmk, a workstation). No DOM, no Cornerstone.
//
// Coordinates: Graphic Data and Anchor Points in PIXEL units (0\0 the top left corner of
// the top left pixel, C.10.5.1.2); the displayed area's corners are 1-based pixels
// (1\1 the top left pixel, C.10.4). Spatial transformation: rotate clockwise, then flip
// horizontally (C.10.6.1: Image Horizontal Flip applies "after any rotation").

export const GSPS_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.11.1';

export type Point2 = [number, number];
export type GraphicType = 'POINT' | 'POLYLINE' | 'INTERPOLATED' | 'CIRCLE' | 'ELLIPSE' | 'MULTIPOINT';

export interface GspsImageRef {
  sopClassUid: string;
  sopInstanceUid: string;
  seriesUid: string;
  /** 1-based frame of a multi-frame image. */
  frame?: number;
}

export interface GspsGraphic {
  type: GraphicType;
  points: Point2[];
  filled?: boolean;
}

export interface GspsText {
  text: string;
  anchor?: Point2;
  /** The text's box (PIXEL) when it has one instead of, or with, an anchor. */
  box?: [Point2, Point2];
}

/** The annotations of one layer on one image. */
export interface GspsAnnotation {
  image: GspsImageRef;
  layer: string;
  graphics: GspsGraphic[];
  texts: GspsText[];
}

export interface DisplayedArea {
  /** 1-based pixel column\row of the top left and bottom right displayed pixels (after the spatial transformation). */
  tlhc: Point2;
  brhc: Point2;
  sizeMode: 'SCALE TO FIT' | 'TRUE SIZE' | 'MAGNIFY';
  magnification?: number;
  pixelSpacing?: Point2;
}

/** Something that applies to some of the images (refs) or to all of them (none). */
export interface PerImage<T> {
  refs?: Array<{ sopInstanceUid: string; frames?: number[] }>;
  value: T;
}

export interface GspsDisplay {
  images: GspsImageRef[];
  windows: Array<PerImage<{ center: number; width: number }>>;
  areas: Array<PerImage<DisplayedArea>>;
  invert: boolean;
  rotation: 0 | 90 | 180 | 270;
  horizontalFlip: boolean;
  annotations: GspsAnnotation[];
  /** Graphic layers in display order (with their order numbers). */
  layers: string[];
  label: string;
  description: string;
  creator?: string;
}

export interface GspsIdentity {
  seriesUid: string;
  sopInstanceUid: string;
  seriesNumber: number;
  now: Date;
}

/** Patient and study attributes copied from the referenced images. */
export interface GspsStudy {
  StudyInstanceUID: string;
  [keyword: string]: unknown;
}

type Item = Record<string, unknown>;

const da = (d: Date) => `${d.getFullYear()}${String(d.getMonth() + 1).padStart(2, '0')}${String(d.getDate()).padStart(2, '0')}`;
const tm = (d: Date) => `${String(d.getHours()).padStart(2, '0')}${String(d.getMinutes()).padStart(2, '0')}${String(d.getSeconds()).padStart(2, '0')}`;

/** A DS value: at most 16 characters. */
export function roundDs(v: number): number {
  for (let digits = 6; digits >= 0; digits--) {
    const r = Number(v.toFixed(digits));
    if (String(r).length <= 16) return r;
  }
  return Math.round(v);
}

/** A Code String for Content Label and Graphic Layer: upper case letters, digits, _ and space, at most 16. */
export function codeString(s: string, fallback: string): string {
  const cs = s
    .toUpperCase()
    .replace(/[^A-Z0-9_ ]+/g, '_')
    .slice(0, 16)
    .trim();
  return cs || fallback;
}

const imageRefItem = (r: GspsImageRef): Item => ({
  ReferencedSOPClassUID: r.sopClassUid,
  ReferencedSOPInstanceUID: r.sopInstanceUid,
  ...(r.frame !== undefined ? { ReferencedFrameNumber: r.frame } : {}),
});

const closed = (g: GspsGraphic) =>
  g.type === 'CIRCLE' ||
  g.type === 'ELLIPSE' ||
  ((g.type === 'POLYLINE' || g.type === 'INTERPOLATED') &&
    g.points.length > 2 &&
    g.points[0][0] === g.points[g.points.length - 1][0] &&
    g.points[0][1] === g.points[g.points.length - 1][1]);

function graphicItem(g: GspsGraphic): Item {
  return {
    GraphicAnnotationUnits: 'PIXEL',
    GraphicDimensions: 2,
    NumberOfGraphicPoints: g.points.length,
    GraphicData: g.points.flat().map((v) => Math.fround(v)),
    GraphicType: g.type,
    // Required for closed shapes (C.10.5.1.2); open ones leave it out.
    ...(closed(g) ? { GraphicFilled: g.filled ? 'Y' : 'N' } : {}),
  };
}

function textItem(t: GspsText): Item {
  return {
    UnformattedTextValue: t.text.slice(0, 1024),
    ...(t.box
      ? {
          BoundingBoxAnnotationUnits: 'PIXEL',
          BoundingBoxTopLeftHandCorner: t.box[0].map((v) => Math.fround(v)),
          BoundingBoxBottomRightHandCorner: t.box[1].map((v) => Math.fround(v)),
          BoundingBoxTextHorizontalJustification: 'LEFT',
        }
      : {}),
    ...(t.anchor ? { AnchorPointAnnotationUnits: 'PIXEL', AnchorPoint: t.anchor.map((v) => Math.fround(v)), AnchorPointVisibility: 'N' } : {}),
  };
}

const refsItem = (images: GspsImageRef[], refs: PerImage<unknown>['refs']): Item =>
  refs
    ? {
        ReferencedImageSequence: refs.flatMap((r) => {
          const img = images.find((i) => i.sopInstanceUid === r.sopInstanceUid);
          if (!img) return [];
          return r.frames?.length ? r.frames.map((f) => imageRefItem({ ...img, frame: f })) : [imageRefItem({ ...img, frame: undefined })];
        }),
      }
    : {};

/**
 * The presentation state as a naturalized data set (dcmjs): the modules of the GSPS IOD
 * with what `d` holds; `modalityLut` the referenced images' rescale (CT), repeated as the
 * IOD asks (C.11.1) so a GSPS reader applies the same one.
 */
export function buildGsps(study: GspsStudy, id: GspsIdentity, d: GspsDisplay, modalityLut?: { intercept: number; slope: number; type: string }): Item {
  const bySeries = new Map<string, GspsImageRef[]>();
  for (const img of d.images) bySeries.set(img.seriesUid, [...(bySeries.get(img.seriesUid) ?? []), img]);
  const layers = [...new Set([...d.layers, ...d.annotations.map((a) => a.layer)])];
  const ds: Item = {
    SOPClassUID: GSPS_SOP_CLASS,
    SOPInstanceUID: id.sopInstanceUid,
    SpecificCharacterSet: 'ISO_IR 192',
    InstanceCreationDate: da(id.now),
    InstanceCreationTime: tm(id.now),
    Modality: 'PR',
    Manufacturer: 'open PACS viewer',
    SeriesInstanceUID: id.seriesUid,
    SeriesNumber: id.seriesNumber,
    SeriesDescription: 'Presentation state',
    SeriesDate: da(id.now),
    SeriesTime: tm(id.now),
    InstanceNumber: 1,
    ContentLabel: codeString(d.label, 'DISPLAY'),
    ContentDescription: d.description.slice(0, 64),
    PresentationCreationDate: da(id.now),
    PresentationCreationTime: tm(id.now),
    ContentCreatorName: d.creator ?? '',
    PatientName: '',
    PatientID: '',
    PatientBirthDate: '',
    PatientSex: '',
    StudyDate: '',
    StudyTime: '',
    StudyID: '',
    AccessionNumber: '',
    ReferringPhysicianName: '',
    ...study,
    ReferencedSeriesSequence: [...bySeries].map(([seriesUid, refs]) => ({
      SeriesInstanceUID: seriesUid,
      ReferencedImageSequence: refs.map(imageRefItem),
    })),
    DisplayedAreaSelectionSequence: d.areas.map((a) => ({
      ...refsItem(d.images, a.refs),
      DisplayedAreaTopLeftHandCorner: a.value.tlhc.map(Math.round),
      DisplayedAreaBottomRightHandCorner: a.value.brhc.map(Math.round),
      PresentationSizeMode: a.value.sizeMode,
      ...(a.value.pixelSpacing ? { PresentationPixelSpacing: a.value.pixelSpacing.map(roundDs) } : { PresentationPixelAspectRatio: [1, 1] }),
      ...(a.value.sizeMode === 'MAGNIFY' ? { PresentationPixelMagnificationRatio: roundDs(a.value.magnification ?? 1) } : {}),
    })),
    ImageRotation: d.rotation,
    ImageHorizontalFlip: d.horizontalFlip ? 'Y' : 'N',
    PresentationLUTShape: d.invert ? 'INVERSE' : 'IDENTITY',
  };
  if (modalityLut) {
    ds.RescaleIntercept = roundDs(modalityLut.intercept);
    ds.RescaleSlope = roundDs(modalityLut.slope);
    ds.RescaleType = modalityLut.type || 'US';
  }
  if (d.windows.length) {
    ds.SoftcopyVOILUTSequence = d.windows.map((w) => ({
      ...refsItem(d.images, w.refs),
      WindowCenter: roundDs(w.value.center),
      WindowWidth: roundDs(w.value.width),
    }));
  }
  const annotations = d.annotations.filter((a) => a.graphics.length || a.texts.length);
  if (annotations.length) {
    ds.GraphicAnnotationSequence = annotations.map((a) => ({
      ReferencedImageSequence: [imageRefItem(a.image)],
      GraphicLayer: a.layer,
      ...(a.texts.length ? { TextObjectSequence: a.texts.map(textItem) } : {}),
      ...(a.graphics.length ? { GraphicObjectSequence: a.graphics.map(graphicItem) } : {}),
    }));
  }
  if (layers.length) ds.GraphicLayerSequence = layers.map((l, i) => ({ GraphicLayer: l, GraphicLayerOrder: i + 1 }));
  return ds;
}

/** Thrown for a presentation state this viewer cannot read: the message is for the user. */
export class GspsError extends Error {
  override readonly name = 'GspsError';
}

/** A sequence as dcmjs naturalizes it: an array, a single item, or absent. */
function items(v: unknown): Item[] {
  if (Array.isArray(v)) return v as Item[];
  return v && typeof v === 'object' ? [v as Item] : [];
}
const first = (v: unknown) => (Array.isArray(v) ? v[0] : v);
const numbers = (v: unknown): number[] => (Array.isArray(v) ? v : v === undefined || v === null || v === '' ? [] : [v]).map(Number);
const text = (v: unknown) => String(first(v) ?? '').trim();

function pairs(v: unknown, what: string): Point2[] {
  const n = numbers(v);
  if (n.length % 2 || !n.every(Number.isFinite)) throw new GspsError(`${what}: ${n.length} values, not column/row pairs`);
  const out: Point2[] = [];
  for (let k = 0; k < n.length; k += 2) out.push([n[k], n[k + 1]]);
  return out;
}

function refsOf(item: Item): PerImage<unknown>['refs'] {
  const seq = items(item.ReferencedImageSequence);
  if (!seq.length) return undefined;
  return seq.map((r) => {
    const frames = numbers(r.ReferencedFrameNumber).filter(Number.isFinite);
    return { sopInstanceUid: text(r.ReferencedSOPInstanceUID), ...(frames.length ? { frames } : {}) };
  });
}

/**
 * Reads a GSPS: the images it applies to, its windows and displayed areas (per image or
 * for all), inversion, rotation and flip, and the annotations in PIXEL units (DISPLAY
 * units, relative to the displayed area, are converted with it).
 */
export function readGsps(ds: Item): GspsDisplay & { sopInstanceUid: string; created: string } {
  if (text(ds.SOPClassUID) !== GSPS_SOP_CLASS) throw new GspsError(`not a grayscale softcopy presentation state (SOP class ${text(ds.SOPClassUID)})`);
  const images: GspsImageRef[] = [];
  for (const s of items(ds.ReferencedSeriesSequence)) {
    const seriesUid = text(s.SeriesInstanceUID);
    for (const r of items(s.ReferencedImageSequence)) {
      images.push({ sopClassUid: text(r.ReferencedSOPClassUID), sopInstanceUid: text(r.ReferencedSOPInstanceUID), seriesUid });
    }
  }
  if (!images.length) throw new GspsError('the presentation state references no images');
  const windows = items(ds.SoftcopyVOILUTSequence).flatMap((w) => {
    const center = numbers(w.WindowCenter)[0];
    const width = numbers(w.WindowWidth)[0];
    return Number.isFinite(center) && width >= 1 ? [{ refs: refsOf(w), value: { center, width } }] : [];
  });
  const areas = items(ds.DisplayedAreaSelectionSequence).map((a) => {
    const [tlhc] = pairs(a.DisplayedAreaTopLeftHandCorner, 'Displayed Area Top Left Hand Corner');
    const [brhc] = pairs(a.DisplayedAreaBottomRightHandCorner, 'Displayed Area Bottom Right Hand Corner');
    if (!tlhc || !brhc) throw new GspsError('a displayed area without its corners');
    const mode = text(a.PresentationSizeMode);
    const sizeMode: DisplayedArea['sizeMode'] = mode === 'TRUE SIZE' || mode === 'MAGNIFY' ? mode : 'SCALE TO FIT';
    const spacing = numbers(a.PresentationPixelSpacing);
    const magnification = numbers(a.PresentationPixelMagnificationRatio)[0];
    return {
      refs: refsOf(a),
      value: {
        tlhc,
        brhc,
        sizeMode,
        ...(spacing.length === 2 && spacing.every((s) => s > 0) ? { pixelSpacing: spacing as Point2 } : {}),
        ...(magnification > 0 ? { magnification } : {}),
      },
    };
  });
  const rotation = numbers(ds.ImageRotation)[0] ?? 0;
  if (![0, 90, 180, 270].includes(rotation)) throw new GspsError(`Image Rotation ${rotation}: only 0, 90, 180 or 270`);
  const annotations: GspsAnnotation[] = [];
  for (const g of items(ds.GraphicAnnotationSequence)) {
    const layer = text(g.GraphicLayer);
    const graphics: GspsGraphic[] = [];
    const texts: GspsText[] = [];
    const toPixel = (p: Point2[], units: string, image: GspsImageRef): Point2[] =>
      units === 'DISPLAY' ? p.map((q) => displayToPixel(q, areaFor(areas, image))) : p;
    const targets = (refsOf(g) ?? images.map((i): { sopInstanceUid: string; frames?: number[] } => ({ sopInstanceUid: i.sopInstanceUid }))).flatMap((r) => {
      const img = images.find((i) => i.sopInstanceUid === r.sopInstanceUid);
      if (!img) return [];
      return r.frames?.length ? r.frames.map((f) => ({ ...img, frame: f })) : [img];
    });
    for (const image of targets) {
      graphics.length = 0;
      texts.length = 0;
      for (const o of items(g.GraphicObjectSequence)) {
        const type = text(o.GraphicType) as GraphicType;
        const points = toPixel(pairs(o.GraphicData, 'Graphic Data'), text(o.GraphicAnnotationUnits), image);
        if (points.length) graphics.push({ type, points, filled: text(o.GraphicFilled) === 'Y' });
      }
      for (const t of items(g.TextObjectSequence)) {
        const value = String(first(t.UnformattedTextValue) ?? '');
        const anchor = t.AnchorPoint !== undefined ? toPixel(pairs(t.AnchorPoint, 'Anchor Point'), text(t.AnchorPointAnnotationUnits), image)[0] : undefined;
        const boxPoints =
          t.BoundingBoxTopLeftHandCorner !== undefined && t.BoundingBoxBottomRightHandCorner !== undefined
            ? toPixel(
                [...pairs(t.BoundingBoxTopLeftHandCorner, 'Bounding Box'), ...pairs(t.BoundingBoxBottomRightHandCorner, 'Bounding Box')],
                text(t.BoundingBoxAnnotationUnits),
                image,
              )
            : undefined;
        if (value && (anchor || boxPoints?.length === 2))
          texts.push({
            text: value,
            ...(anchor ? { anchor } : {}),
            ...(boxPoints?.length === 2 ? { box: [boxPoints[0], boxPoints[1]] as [Point2, Point2] } : {}),
          });
      }
      annotations.push({ image, layer, graphics: [...graphics], texts: [...texts] });
    }
  }
  const layers = items(ds.GraphicLayerSequence)
    .map((l) => ({ name: text(l.GraphicLayer), order: numbers(l.GraphicLayerOrder)[0] ?? 0 }))
    .sort((a, b) => a.order - b.order)
    .map((l) => l.name);
  return {
    sopInstanceUid: text(ds.SOPInstanceUID),
    created: `${text(ds.PresentationCreationDate)}${text(ds.PresentationCreationTime).padEnd(6, '0')}`,
    images,
    windows,
    areas,
    invert: text(ds.PresentationLUTShape) === 'INVERSE',
    rotation: rotation as GspsDisplay['rotation'],
    horizontalFlip: text(ds.ImageHorizontalFlip) === 'Y',
    annotations,
    layers,
    label: text(ds.ContentLabel),
    description: text(ds.ContentDescription),
    creator: text(ds.ContentCreatorName) || undefined,
  };
}

/** The item of a per-image list that applies to an image: the one naming it, else one for all. */
export function forImage<T>(list: Array<PerImage<T>>, sopInstanceUid: string, frame?: number): T | undefined {
  const named = list.find((e) => e.refs?.some((r) => r.sopInstanceUid === sopInstanceUid && (!r.frames || frame === undefined || r.frames.includes(frame))));
  return (named ?? list.find((e) => !e.refs))?.value;
}

function areaFor(areas: Array<PerImage<DisplayedArea>>, image: GspsImageRef): DisplayedArea | undefined {
  return forImage(areas, image.sopInstanceUid, image.frame);
}

/** DISPLAY units (0..1 across the displayed area) to PIXEL units of the image. */
function displayToPixel(p: Point2, area: DisplayedArea | undefined): Point2 {
  if (!area) throw new GspsError('an annotation in DISPLAY units without a displayed area');
  const x0 = Math.min(area.tlhc[0], area.brhc[0]) - 1;
  const y0 = Math.min(area.tlhc[1], area.brhc[1]) - 1;
  const w = Math.abs(area.brhc[0] - area.tlhc[0]) + 1;
  const hgt = Math.abs(area.brhc[1] - area.tlhc[1]) + 1;
  return [x0 + p[0] * w, y0 + p[1] * hgt];
}

/** The newest first, by Presentation Creation Date and Time. */
export function newestPresentation<T extends { created: string }>(list: T[]): T[] {
  return [...list].sort((a, b) => b.created.localeCompare(a.created));
}
