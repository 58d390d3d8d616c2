// Entry of the MPR / 3D layout: the 2D viewer's page hands over here with `&mode=mpr`
// (after its login and Cornerstone's start-up). `&series=uid` picks the series; else the
// study's series with most instances.
import * as csCore from '@cornerstonejs/core';
import * as csTools from '@cornerstonejs/tools';
import { h } from '../dom.js';
import type { DicomWebClient } from '../viewer/dicomweb.js';
import type { ViewerRequest } from '../viewer/request.js';
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
  q.delete('mode');
  q.delete('series');
  const page = new VolumePage(root, client, request.studyUids[0], seriesUid, `${location.pathname}?${q.toString()}`);
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
