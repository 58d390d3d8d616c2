// Entry of the MPR / 3D layout: the 2D viewer's page hands over here with `&mode=mpr`
// (after its login and Cornerstone's start-up). `&series=uid` picks the series; else the
// study's series with most instances. `&max3d=N` sets the 3D view's voxel budget (larger
// volumes are downsampled for it; see downsample.ts), for a strong GPU or for tests.
import * as csCore from '@cornerstonejs/core';
import * as csTools from '@cornerstonejs/tools';
import { h } from '../dom.js';
import type { DicomWebClient } from '../dicomweb.js';
import type { ViewerRequest } from '../viewer/request.js';
import { MIN_3D_VOXELS } from './downsample.js';
import { VolumePage } from './volume-page.js';

declare global {
  interface Window {
    /** Test and debugging hook of the MPR / 3D layout. */
    __viewer3d?: { page: VolumePage; core: typeof csCore; tools: typeof csTools; ready: boolean; error?: string };
  }
}

const UID = /^[0-9]+(\.[0-9]+)*$/;

export async function startVolumeViewer(root: HTMLElement, request: ViewerRequest, client: DicomWebClient): Promise<void> {
  const q = new URLSearchParams(location.search);
  const seriesUid = q.get('series');
  if (seriesUid !== null && (seriesUid.length > 64 || !UID.test(seriesUid))) {
    root.replaceChildren(h('div', { class: 'viewer-error', role: 'alert' }, `not a series instance UID: "${seriesUid.slice(0, 80)}"`));
    return;
  }
  const max3d = q.get('max3d');
  const max3dVoxels = max3d === null ? undefined : Number(max3d);
  if (max3dVoxels !== undefined && !(Number.isInteger(max3dVoxels) && max3dVoxels >= MIN_3D_VOXELS)) {
    root.replaceChildren(
      h('div', { class: 'viewer-error', role: 'alert' }, `max3d must be a whole number of voxels, at least ${MIN_3D_VOXELS}: "${max3d!.slice(0, 40)}"`),
    );
    return;
  }
  q.delete('mode');
  q.delete('series');
  q.delete('max3d');
  const page = new VolumePage(root, client, request.studyUids[0], seriesUid, `${location.pathname}?${q.toString()}`, max3dVoxels);
  window.__viewer3d = { page, core: csCore, tools: csTools, ready: false };
  try {
    await page.open();
  } catch (e) {
    const text = (e as Error).message;
    window.__viewer3d.error = text;
    page.status.textContent = '';
    for (const id of ['axial', 'sagittal', 'coronal', 'volume3d']) page.message(id, `cannot build a volume: ${text}`);
  } finally {
    window.__viewer3d.ready = true;
  }
}
