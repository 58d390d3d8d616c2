// The viewer's heavy part (Cornerstone, vtk.js, the tools), loaded by main.ts while the
// session is checked and the study read: the 2D viewer, or the MPR / 3D layout on demand.
// Named imports only: a namespace import (import * as) would bring all of Cornerstone, its
// volume, segmentation and contour code included, into the 2D viewer's bundle.
import { cache, utilities } from '@cornerstonejs/core';
import { annotation } from '@cornerstonejs/tools';
import type { DicomWebClient } from '../dicomweb.js';
import type { Preview } from './preview.js';
import { initCornerstone } from './loader.js';
import type { ViewerRequest } from './request.js';
import { Viewer, type ViewerTimings } from './viewer.js';

declare global {
  interface Window {
    /** Test and debugging hook: the viewer instance and the parts of Cornerstone the tests read. */
    __viewer?: {
      viewer: Viewer;
      core: { cache: typeof cache; utilities: typeof utilities };
      tools: { annotation: typeof annotation };
      ready: boolean;
      error?: string;
    };
  }
}

/** The MPR / 3D layout (ui/src/viewer3d), its code loaded only when asked for. */
export async function startMpr(root: HTMLElement, request: ViewerRequest, client: DicomWebClient): Promise<void> {
  initCornerstone();
  const { startVolumeViewer } = await import('../viewer3d/main.js');
  return startVolumeViewer(root, request, client);
}

/**
 * The 2D viewer over the studies; `timings` are main.ts's (scripts loaded, logged in);
 * `preview`, the first image drawn before Cornerstone, which the viewer's first render replaces.
 */
export async function startViewer(root: HTMLElement, request: ViewerRequest, client: DicomWebClient, timings: ViewerTimings, preview?: Preview): Promise<void> {
  initCornerstone();
  const viewer = new Viewer(root, request, client);
  Object.assign(viewer.timings, timings, { cornerstoneReady: performance.now() });
  if (preview) {
    viewer.preview = preview;
    if (preview.drawnAt !== undefined) viewer.timings.firstPreview = preview.drawnAt;
    else preview.onDrawn = (at) => (viewer.timings.firstPreview = at);
  }
  window.__viewer = { viewer, core: { cache, utilities }, tools: { annotation }, ready: false };
  try {
    await viewer.open();
  } catch (e) {
    window.__viewer.error = (e as Error).message;
    throw e;
  } finally {
    preview?.settle();
    window.__viewer.ready = true;
  }
}
