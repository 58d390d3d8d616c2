// The viewer page: /viewer?StudyInstanceUIDs=uid1,uid2[&archive=workstation]. Same login
// as the web app (its session cookie); without one, the app's login form first.
import * as csCore from '@cornerstonejs/core';
import * as csTools from '@cornerstonejs/tools';
import { api } from '../api.js';
import { h } from '../dom.js';
import { renderLogin } from '../login.js';
import { initCornerstone } from './loader.js';
import { parseRequest } from './request.js';
import { Viewer } from './viewer.js';

declare global {
  interface Window {
    /** Test and debugging hook: the viewer instance and the Cornerstone modules it runs on. */
    __viewer?: { viewer: Viewer; core: typeof csCore; tools: typeof csTools; ready: boolean; error?: string };
  }
}

async function loggedIn(root: HTMLElement): Promise<void> {
  try {
    await api('GET', '/api/me');
  } catch {
    await new Promise<void>((resolve) => renderLogin(root, () => resolve()));
  }
}

async function start(): Promise<void> {
  const root = document.getElementById('viewer-root')!;
  const request = parseRequest(location.search);
  if ('error' in request) {
    root.replaceChildren(h('div', { class: 'viewer-error', role: 'alert' }, request.error));
    return;
  }
  await loggedIn(root);
  initCornerstone();
  const viewer = new Viewer(root, request);
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
