// The viewer page: /viewer?StudyInstanceUIDs=uid1,uid2[&archive=workstation]. Same login
// as the web app (its session cookie); without one, the app's login form first.
import * as csCore from '@cornerstonejs/core';
import * as csTools from '@cornerstonejs/tools';
import { api, type Me } from '../api.js';
import { h } from '../dom.js';
import { renderLogin } from '../login.js';
import { applyRole } from '../role.js';
import { num, str, TAG, type DicomJson } from '../dicom-json.js';
import { archiveRoot, DicomWebClient } from '../dicomweb.js';
import { hangingOrder } from './hanging.js';
import { initCornerstone } from './loader.js';
import { parseRequest } from './request.js';
import { Viewer } from './viewer.js';

declare global {
  interface Window {
    /** Test and debugging hook: the viewer instance and the Cornerstone modules it runs on. */
    __viewer?: { viewer: Viewer; core: typeof csCore; tools: typeof csTools; ready: boolean; error?: string };
  }
}

const hangingKey = (s: DicomJson) => ({ seriesNumber: num(s, TAG.SeriesNumber), description: str(s, TAG.SeriesDescription) });

async function loggedIn(root: HTMLElement): Promise<void> {
  let me: Me;
  try {
    me = await api<Me>('GET', '/api/me');
  } catch {
    await new Promise<void>((resolve) => renderLogin(root, () => resolve()));
    me = await api<Me>('GET', '/api/me');
  }
  // A reader views; storing measurements, retrieving and sending are an admin's (403 anyway).
  applyRole(me.role);
}

async function start(): Promise<void> {
  const scriptsLoaded = performance.now();
  const root = document.getElementById('viewer-root')!;
  const request = parseRequest(location.search);
  if ('error' in request) {
    root.replaceChildren(h('div', { class: 'viewer-error', role: 'alert' }, request.error));
    return;
  }
  await loggedIn(root);
  if (new URLSearchParams(location.search).get('mode') === 'mpr') {
    // The MPR / 3D layout (ui/src/viewer3d), loaded only when asked for.
    initCornerstone();
    const { startVolumeViewer } = await import('../viewer3d/main.js');
    return startVolumeViewer(root, request, new DicomWebClient(archiveRoot(request.archive)));
  }
  // The series lists, and the first series' metadata, are asked for while Cornerstone starts.
  const client = new DicomWebClient(archiveRoot(request.archive));
  void client.series(request.studyUids[0]).then((list) => {
    const first = [...list].sort((a, b) => hangingOrder(hangingKey(a), hangingKey(b)))[0];
    if (first) void client.seriesMetadata(request.studyUids[0], str(first, TAG.SeriesInstanceUID)).catch(() => undefined);
  }, () => undefined);
  for (const uid of request.studyUids.slice(1)) void client.series(uid).catch(() => undefined);
  const initStart = performance.now();
  initCornerstone();
  const viewer = new Viewer(root, request, client);
  Object.assign(viewer.timings, { scriptsLoaded, loggedIn: initStart, cornerstoneReady: performance.now() });
  window.__viewer = { viewer, core: csCore, tools: csTools, ready: false };
  try {
    await viewer.open();
  } catch (e) {
    window.__viewer.error = (e as Error).message;
    throw e;
  } finally {
    window.__viewer.ready = true;
  }
}

void start();
