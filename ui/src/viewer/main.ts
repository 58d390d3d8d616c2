// The viewer page: /viewer?StudyInstanceUIDs=uid1,uid2[&archive=workstation]. Same login
// as the web app (its session cookie); without one, the app's login form first.
import * as csCore from '@cornerstonejs/core';
import * as csTools from '@cornerstonejs/tools';
import { api } from '../api.js';
import { h } from '../dom.js';
import { renderLogin } from '../login.js';
import type { ArchiveName } from './dicomweb.js';
import { initCornerstone } from './loader.js';
import { Viewer } from './viewer.js';

const UID = /^[0-9]+(\.[0-9]+)*$/;

export interface ViewerRequest {
  studyUids: string[];
  archive: ArchiveName;
}

/** The query string's studies and archive, or the reason it cannot be opened. */
export function parseRequest(search: string): ViewerRequest | { error: string } {
  const q = new URLSearchParams(search);
  const uids = q
    .getAll('StudyInstanceUIDs')
    .flatMap((v) => v.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  if (!uids.length) return { error: 'no study given: open /viewer?StudyInstanceUIDs=uid1,uid2' };
  const bad = uids.find((u) => u.length > 64 || !UID.test(u));
  if (bad) return { error: `not a study instance UID: "${bad.slice(0, 80)}" (digits and dots, at most 64 characters)` };
  const archive = q.get('archive') ?? 'main';
  if (archive !== 'main' && archive !== 'workstation') return { error: `unknown archive "${archive}": main or workstation` };
  return { studyUids: [...new Set(uids)], archive };
}

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
