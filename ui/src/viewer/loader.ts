// Cornerstone3D start-up and series loading: WADO-RS metadata registered with the
// dicom-image-loader (wadors: image ids, one per frame), slices in spatial order, and the
// whole stack prefetched into Cornerstone's cache after the first image.
import { cache, Enums, getWebWorkerManager, imageLoader, init as coreInit, utilities as csUtils } from '@cornerstonejs/core';
import { init as dicomImageLoaderInit, wadors } from '@cornerstonejs/dicom-image-loader';
import { init as toolsInit } from '@cornerstonejs/tools';
import { formatDate, num, str, TAG, withPaletteValues, type DicomJson } from '../dicom-json.js';
import type { DicomWebClient } from '../dicomweb.js';
import { batchesOf, fetchBatch, outwardOrder, startStackWorkers, type BatchTiming, type FrameRequest } from './bulk-frames.js';
import { shapeOf } from './batch-request.js';
import { BATCH_INSTANCES, BATCHES_AT_ONCE } from './fetch-order.js';
import { FrameError, frameProblem } from './frame-check.js';
import { decodeOnPage, decodesOnPage, type DecodeTaskArgs } from './raw-decode.js';
import { holdsPixels, orderSlices } from './slice-order.js';
import { registerSuv } from './suv-readout.js';

let initialized = false;

export function initCornerstone(): void {
  if (initialized) return;
  initialized = true;
  coreInit();
  toolsInit();
  const cores = navigator.hardwareConcurrency || 2;
  dicomImageLoaderInit({ maxWebWorkers: Math.max(1, Math.min(4, cores - 1)), beforeProcessing: checkFrame });
  decodeRawFramesOnPage();
  startStackWorkers();
}

/**
 * The image loader's decode tasks that raw-decode.ts takes (uncompressed little-endian
 * grey frames) are done on the page; the rest go to its worker as before. The loader
 * asks the worker manager for every decode (decodeImageFrame.js), so this is where.
 */
function decodeRawFramesOnPage(): void {
  const manager = getWebWorkerManager() as unknown as {
    executeTask: (worker: string, method: string, args?: unknown, opts?: unknown) => Promise<unknown>;
  };
  const viaWorker = manager.executeTask.bind(manager);
  manager.executeTask = (worker, method, args, opts) => {
    if (worker === 'dicomImageLoader' && method === 'decodeTask' && args && decodesOnPage(args as DecodeTaskArgs)) {
      try {
        return Promise.resolve(decodeOnPage(args as DecodeTaskArgs));
      } catch (e) {
        return Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
    }
    return viaWorker(worker, method, args, opts);
  };
}

/**
 * The loader's hook between a frame's arrival and its decoding: a JPEG 2000 frame whose
 * codestream is damaged is refused here (frame-check.ts), its reason on the request object
 * the loader rejects with (failureOf in viewport-cell.ts reads it).
 */
function checkFrame(xhr: XMLHttpRequest): Promise<ArrayBuffer> {
  const body = xhr.response as ArrayBuffer;
  const inst = wadors.metaDataManager.get(`wadors:${xhr.responseURL}`) as unknown as DicomJson | undefined;
  const shape = inst ? shapeOf(inst) : {};
  const problem = body instanceof ArrayBuffer ? frameProblem(body, xhr.getResponseHeader('content-type') ?? '', shape) : undefined;
  if (!problem) return Promise.resolve(body);
  Object.assign(xhr, { frameProblem: problem });
  return Promise.reject(new FrameError(problem));
}

/** One series as the viewer shows it: its frames in display order. */
export interface DisplaySet {
  readonly key: string; // client root + series UID: unique across archives
  readonly studyUid: string;
  readonly seriesUid: string;
  readonly modality: string;
  readonly description: string;
  readonly seriesNumber: number | undefined;
  readonly instanceCount: number;
  /** Body Part Examined (hanging protocols match it). */
  readonly bodyPart: string;
  /** Study Date (DA, YYYYMMDD) as the archive has it; empty when none. */
  readonly studyDate: string;
  /** Set when a hanging protocol shows it beside the patient's other study: its viewport says which. */
  comparison?: 'current' | 'prior';
  /** The study as the series panel heads it: date and description. */
  readonly studyLabel: string;
  readonly thumbnailUrl: string;
  readonly client: DicomWebClient;
  /** Filled by loadDisplaySet. */
  imageIds?: string[];
  frameOfReferenceUid?: string;
  /** Why the series cannot be shown (metadata failed, no images, missing geometry...). */
  error?: string;
  /** Set when the metadata loaded but the slices have no usable geometry (ordered by Instance Number). */
  warning?: string;
  /** Images (by image id) that could not be loaded or decoded, and why: each viewport showing the series names them. */
  failures?: Map<string, ImageFailure>;
}

/** Why one image cannot be shown: it never arrived ('load') or its pixels cannot be read ('decode'). */
export interface ImageFailure {
  kind: 'load' | 'decode';
  reason: string;
}

/** Modalities whose images are slices of a volume: their order matters, and without geometry it is a guess. */
const SLICE_MODALITIES = new Set(['CT', 'MR', 'PT']);

export function displaySetFromSeries(client: DicomWebClient, studyUid: string, s: DicomJson): DisplaySet {
  const seriesUid = str(s, TAG.SeriesInstanceUID);
  return {
    key: `${client.root}|${seriesUid}`,
    studyUid,
    seriesUid,
    modality: str(s, TAG.Modality),
    description: str(s, TAG.SeriesDescription),
    seriesNumber: num(s, TAG.SeriesNumber),
    instanceCount: num(s, TAG.NumberOfSeriesRelatedInstances) ?? 0,
    bodyPart: str(s, TAG.BodyPartExamined),
    studyDate: str(s, TAG.StudyDate),
    studyLabel: [formatDate(str(s, TAG.StudyDate)), str(s, TAG.StudyDescription)].filter(Boolean).join(' ') || studyUid,
    thumbnailUrl: client.thumbnailUrl(studyUid, seriesUid),
    client,
  };
}

const pending = new Map<string, Promise<DisplaySet>>();

/** Fetches the series' metadata once and builds its image ids (idempotent). */
export function loadDisplaySet(ds: DisplaySet): Promise<DisplaySet> {
  let p = pending.get(ds.key);
  if (!p) {
    p = fillDisplaySet(ds);
    pending.set(ds.key, p);
  }
  return p;
}

/** A display set whose image ids are known already (key images picked from listed series): loadDisplaySet gives it as it is. */
export function preloadedDisplaySet(ds: DisplaySet): DisplaySet {
  pending.set(ds.key, Promise.resolve(ds));
  return ds;
}

async function fillDisplaySet(ds: DisplaySet): Promise<DisplaySet> {
  let instances: DicomJson[];
  try {
    instances = await ds.client.seriesMetadata(ds.studyUid, ds.seriesUid);
  } catch (e) {
    ds.error = `cannot read the series metadata: ${(e as Error).message}`;
    return ds;
  }
  const images = instances.filter(holdsPixels);
  if (images.length === 0) {
    ds.error = 'the series holds no images';
    return ds;
  }
  const { ordered, geometry } = orderSlices(images);
  // A US clip or a whole-body NM has no position, and needs none: only slices are warned about.
  if (!geometry && images.length > 1 && SLICE_MODALITIES.has(ds.modality)) ds.warning = 'no image position/orientation: ordered by instance number';
  const ids: string[] = [];
  const idsByInstance: string[][] = [];
  for (const inst of ordered) {
    const sop = str(inst, TAG.SOPInstanceUID);
    const frames = Math.max(1, num(inst, TAG.NumberOfFrames) ?? 1);
    let forLoader: DicomJson;
    try {
      forLoader = withPaletteValues(withImagerSpacing(inst));
    } catch (e) {
      ds.error = `cannot read the palette of instance ${sop}: ${(e as Error).message}`;
      return ds;
    }
    idsByInstance.push([]);
    for (let f = 1; f <= frames; f++) {
      const id = ds.client.frameImageId(ds.studyUid, ds.seriesUid, sop, f);
      idsByInstance[idsByInstance.length - 1].push(id);
      wadors.metaDataManager.add(id, forLoader as never);
      if (usesImagerSpacing(inst)) csUtils.calibratedPixelSpacingMetadataProvider.add(id, { type: Enums.CalibrationTypes.PROJECTION });
      ids.push(id);
    }
  }
  ds.imageIds = ids;
  if (ds.modality === 'PT') registerSuv(ordered, idsByInstance);
  ds.frameOfReferenceUid = str(ordered[0], TAG.FrameOfReferenceUID) || undefined;
  return ds;
}

/** A projection image with Imager Pixel Spacing (at the detector) and no Pixel Spacing. */
function usesImagerSpacing(inst: DicomJson): boolean {
  return !inst[TAG.PixelSpacing]?.Value?.length && (inst[TAG.ImagerPixelSpacing]?.Value?.length ?? 0) >= 2;
}

/**
 * The instance as the image loader sees it: Imager Pixel Spacing stands in for a missing
 * Pixel Spacing (measurements in mm at the detector), and the PROJECTION calibration set
 * beside it makes the tools label them so ("mm Proj").
 */
function withImagerSpacing(inst: DicomJson): DicomJson {
  return usesImagerSpacing(inst) ? { ...inst, [TAG.PixelSpacing]: { ...inst[TAG.ImagerPixelSpacing], vr: 'DS' } } : inst;
}

/** An image of a stack that could not be loaded or decoded. */
export interface LoadFailure {
  index: number;
  error: unknown;
}

export interface PrefetchOptions {
  /** The slice on screen: loading goes outwards from it. */
  from: number;
  /** The series' Pixel Data URL: frames in a few multipart responses. Without it, one request per frame. */
  pixelDataUrl?: string;
  /** Filled in as the stack loads: where its time goes (bench/viewer-open.ts prints it). */
  timeline?: StackTimeline;
}

/** performance.now() times of one stack's loading. */
export interface StackTimeline {
  start?: number;
  batches?: BatchTiming[];
  /** The last frame's arrival (its part read) and the last image in the cache. */
  lastArrived?: number;
  lastCached?: number;
}

/**
 * Loads every image of the stack into the cache, the slices nearest `from` first: their
 * frames in batches of whole instances through the series' Pixel Data resource
 * (bulk-frames.ts), anything a batch did not deliver one request per frame. Resolves with
 * the failures, in stack order, when all are settled.
 */
export async function prefetchStack(imageIds: string[], onProgress: (done: number, total: number) => void, opts: PrefetchOptions): Promise<LoadFailure[]> {
  let done = 0;
  const failed: LoadFailure[] = [];
  const timeline = opts.timeline;
  if (timeline) {
    timeline.start = performance.now();
    timeline.batches = [];
  }
  const indexOf = new Map(imageIds.map((id, i) => [id, i]));
  const settled: Promise<void>[] = [];
  const track = (id: string, image: Promise<unknown>) => {
    settled.push(
      image
        .then(
          () => undefined,
          (error: unknown) => void failed.push({ index: indexOf.get(id)!, error }),
        )
        .finally(() => {
          if (timeline) timeline.lastCached = performance.now();
          onProgress(++done, imageIds.length);
        }),
    );
  };
  const load = (id: string) => track(id, imageLoader.loadAndCacheImage(id, { priority: 5, requestType: Enums.RequestType.Prefetch }));
  const order = outwardOrder(imageIds.length, opts.from).map((i) => imageIds[i]);
  // What is loading or loaded already (the image on screen) keeps its own request.
  const wanted: FrameRequest[] = [];
  for (const id of order) {
    const inst = wadors.metaDataManager.get(id) as unknown as DicomJson | undefined;
    if (!opts.pixelDataUrl || cache.getImageLoadObject(id) || cache.getImage(id) || !inst) load(id);
    else wanted.push({ imageId: id, sopUid: str(inst, TAG.SOPInstanceUID), instance: inst });
  }
  const batches = batchesOf(wanted, BATCH_INSTANCES);
  const pixelDataUrl = opts.pixelDataUrl;
  const worker = async () => {
    for (let batch = batches.shift(); batch && pixelDataUrl; batch = batches.shift()) {
      const timing: BatchTiming = { frames: batch.length, start: performance.now(), bytes: 0 };
      timeline?.batches?.push(timing);
      const missed = await fetchBatch(batch, {
        pixelDataUrl,
        timing,
        onFrame: (id, refused) => {
          // The worker's time of the part (timing.end), not when this busy page read its message.
          if (timeline) timeline.lastArrived = timing.end ?? performance.now();
          if (refused) track(id, Promise.reject(refused));
          else load(id);
        },
        needed: (id) => !cache.getImageLoadObject(id) && !cache.getImage(id),
      });
      for (const id of missed) load(id);
    }
  };
  await Promise.all(Array.from({ length: BATCHES_AT_ONCE }, worker));
  await Promise.all(settled);
  return failed.sort((a, b) => a.index - b.index);
}
