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
  // With the session check, not after it: the early requests say X-Requested-With, so
  // without a session they get a plain 401 (no Basic challenge, no browser password
  // dialog), are dropped, and the viewer asks again once logged in.
  const preview = mpr ? undefined : new Preview();
  const early: EarlyTimings = {};
  const firstImage = mpr ? Promise.resolve() : askEarly(client, request.studyUids, preview, early);
  // The viewer's code (Cornerstone): viewer.html has the browser fetch and compile it from
  // the start (scripts/preload-viewer-code.ts); it runs once the first image's early part is
  // over (its preview handed over, or known not to come; at most PREVIEW_FIRST_MS). Running
  // it and Cornerstone's start-up hold the page's main thread for 0.3-2 s on these
  // machines, and the early answers waited behind them.
  const app = Promise.race([firstImage, delay(PREVIEW_FIRST_MS)]).then(() => import('./app.js'));
  let scriptsLoaded = 0;
  void app.then(
    () => (scriptsLoaded = performance.now()),
    () => undefined,
  );
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

/** The longest the viewer's code waits for the first image's early part (see start()). */
const PREVIEW_FIRST_MS = 1000;

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

void start();
