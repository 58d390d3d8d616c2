// The viewer page: /viewer?StudyInstanceUIDs=uid1,uid2[&archive=workstation]. Same login
// as the web app (its session cookie); without one, the app's login form first.
//
// This entry is small: it starts loading the viewer's code (app.ts: Cornerstone, most of
// the page's bytes) at once and, while it loads, checks the session and asks for what the
// first image needs (early.ts), drawing that image as soon as it is in (preview.ts).
// Nothing here imports Cornerstone.
import { api, type Me } from '../api.js';
import { h } from '../dom.js';
import { renderLogin } from '../login.js';
import { applyRole } from '../role.js';
import { archiveRoot, DicomWebClient } from '../dicomweb.js';
import { askEarly, type EarlyTimings } from './early.js';
import { Preview } from './preview.js';
import { parseRequest } from './request.js';

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
  const root = document.getElementById('viewer-root')!;
  const request = parseRequest(location.search);
  if ('error' in request) {
    root.replaceChildren(h('div', { class: 'viewer-error', role: 'alert' }, request.error));
    return;
  }
  const mpr = new URLSearchParams(location.search).get('mode') === 'mpr';
  const client = new DicomWebClient(archiveRoot(request.archive));
  const app = import('./app.js');
  let scriptsLoaded = 0;
  void app.then(
    () => (scriptsLoaded = performance.now()),
    () => undefined,
  );
  // With the session check, not after it: the early requests say X-Requested-With, so
  // without a session they get a plain 401 (no Basic challenge, no browser password
  // dialog), are dropped, and the viewer asks again once logged in.
  const preview = mpr ? undefined : new Preview();
  const early: EarlyTimings = {};
  if (!mpr) askEarly(client, request.studyUids, preview, early);
  await loggedIn(root);
  const loggedInAt = performance.now();
  preview?.allow();
  const { startMpr, startViewer } = await app.catch((e: unknown) => {
    preview?.close();
    throw e;
  });
  if (mpr) return startMpr(root, request, client);
  return startViewer(root, request, client, { scriptsLoaded, loggedIn: loggedInAt, early }, preview);
}

void start();
