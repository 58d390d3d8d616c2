// The Studies page: the archive (upload, search with paging, a study's series and actions),
// the Remote tab (query a registered AE, retrieve into this archive) and the Workstation
// tab (the Workstation Server's own archive: workstation-studies.ts).
//
// The archive's state is the address: #/studies?name=DOE&from=2024-01-01&offset=25&study=UID
// (the form's fields as typed, the page, the opened study), so a study has a link, a
// reload keeps what is shown, and Back from the viewer comes back to the same search.
// A change of the address within the page updates it in place (the list is not searched
// again when only the opened study changed).
import { ApiError } from './api.js';
import { h } from './dom.js';
import { mainArchive, type DicomJson } from './dicomweb.js';
import { TAG, text } from './dicom-json.js';
import { renderRemote } from './remote.js';
import { renderStudyDetail } from './study-detail.js';
import { FORM_FIELDS, keysOf, PAGE, qidoParams, STUDY_LIST_FIELDS, studySearchForm, studyTable, type FormValues } from './study-table.js';
import { uploadPanel } from './upload.js';
import { renderWorkstation } from './workstation-studies.js';

export interface ArchiveState {
  values: Partial<FormValues>;
  offset: number;
  study?: string;
}

/** The state in a `#/studies?...` address; unknown parameters are ignored. */
export function stateOf(hash: string): ArchiveState {
  const q = new URLSearchParams(hash.split('?')[1] ?? '');
  const values: Partial<FormValues> = {};
  for (const k of FORM_FIELDS) {
    const v = q.get(k);
    if (v) values[k] = v;
  }
  const offset = Number(q.get('offset'));
  return { values, offset: Number.isInteger(offset) && offset > 0 ? offset : 0, study: q.get('study') || undefined };
}

export function hashOf(s: ArchiveState): string {
  const q = new URLSearchParams();
  for (const k of FORM_FIELDS) if (s.values[k]) q.set(k, s.values[k]);
  if (s.offset) q.set('offset', String(s.offset));
  if (s.study) q.set('study', s.study);
  const query = q.toString();
  return `#/studies${query ? `?${query}` : ''}`;
}

/** Same search, same page: the list need not be fetched again. */
const searchOf = (s: ArchiveState): string => hashOf({ ...s, study: undefined });

const problemText = (err: unknown): string => (err instanceof ApiError ? err.problem.detail : (err as Error).message);

/** The page as rendered, kept to update it in place when only the address changed. */
let current: { root: HTMLElement; show: (s: ArchiveState, refresh?: boolean) => Promise<void> } | undefined;

export async function renderStudies(root: HTMLElement): Promise<void> {
  if (current && current.root === root && root.querySelector('#archive-tab')) {
    document.getElementById('tab-archive')?.click();
    await current.show(stateOf(location.hash));
    return;
  }
  const archive = h('div', { id: 'archive-tab' });
  const remote = h('div', { id: 'remote-tab', hidden: true });
  const workstation = h('div', { id: 'workstation-tab', hidden: true });
  const panes = [archive, remote, workstation];
  const tabs = ['Archive', 'Remote', 'Workstation'].map((name, i) => {
    const b = h('button', { type: 'button', class: i === 0 ? 'tab active' : 'tab', id: `tab-${name.toLowerCase()}` }, name);
    b.addEventListener('click', () => {
      panes.forEach((p, j) => (p.hidden = i !== j));
      tabs.forEach((t, j) => t.classList.toggle('active', i === j));
      if (i === 1 && !remote.hasChildNodes()) void renderRemote(remote);
      // Afresh each time: studies come and go there (retrieves, the size cap's clean-up).
      if (i === 2) void renderWorkstation(workstation);
    });
    return b;
  });
  root.replaceChildren(h('h2', {}, 'Studies'), h('div', { class: 'tabs' }, ...tabs), ...panes);
  const show = archiveView(archive);
  current = { root, show };
  await show(stateOf(location.hash));
}

/** Builds the Archive tab; returns what shows a state in it. */
function archiveView(root: HTMLElement): (s: ArchiveState, refresh?: boolean) => Promise<void> {
  let shown: ArchiveState | undefined;
  let listed: string | undefined;
  const results = h('div', { id: 'study-results-box' });
  const detail = h('section', { id: 'study-detail', 'aria-live': 'polite' });
  const pager = h('div', { class: 'pager' });
  const error = h('div', { class: 'fail', id: 'search-error', role: 'alert' });
  const searchBox = studySearchForm('q', (_keys, values) => go({ values, offset: 0 }));

  /** A new address: a history entry, and hashchange shows it. */
  const go = (s: ArchiveState) => {
    const hash = hashOf(s);
    if (hash === location.hash) void show(s, true);
    else location.hash = hash;
  };
  /** The opened study is gone (deleted): the address drops it without a history entry. */
  const closeStudy = () => {
    const s = { ...shown!, study: undefined };
    history.replaceState(history.state, '', hashOf(s));
    void show(s, true);
  };

  const list = async (s: ArchiveState) => {
    error.textContent = '';
    let studies: DicomJson[];
    try {
      studies = await mainArchive.qido('studies', qidoParams(keysOf(s.values), s.offset));
    } catch (err) {
      error.textContent = `search failed: ${problemText(err)}`;
      return;
    }
    results.replaceChildren(studyTable('study-results', studies, { onOpen: (st) => go({ ...shown!, study: text(st, TAG.StudyInstanceUID) }) }));
    const prev = h('button', { type: 'button', id: 'page-prev', disabled: s.offset === 0 }, 'Previous');
    const next = h('button', { type: 'button', id: 'page-next', disabled: studies.length < PAGE }, 'Next');
    prev.addEventListener('click', () => go({ values: s.values, offset: Math.max(0, s.offset - PAGE) }));
    next.addEventListener('click', () => go({ values: s.values, offset: s.offset + PAGE }));
    pager.replaceChildren(prev, h('span', { class: 'muted' }, ` results ${studies.length ? s.offset + 1 : 0}-${s.offset + studies.length} `), next);
  };

  const open = async (uid: string) => {
    const found = await mainArchive.qido('studies', { StudyInstanceUID: uid, includefield: STUDY_LIST_FIELDS });
    if (found.length !== 1) {
      detail.replaceChildren(h('p', { class: 'fail', id: 'study-missing' }, `study ${uid} is not in the archive`));
      return;
    }
    await renderStudyDetail(detail, found[0], {
      // Only the list's counts: the detail keeps its status line (what was just deleted).
      listChanged: () => void list(shown!).then(markSelected),
      studyDeleted: closeStudy,
      listHash: () => hashOf({ ...shown!, study: undefined }),
    });
  };

  const markSelected = () => {
    for (const tr of results.querySelectorAll<HTMLElement>('tr[data-study]')) tr.classList.toggle('selected', tr.dataset.study === shown?.study);
  };

  /** Brings the opened study into view when the list pushed it below the fold (or above). */
  const reveal = () => {
    const r = detail.getBoundingClientRect();
    if (r.top < 0 || r.top > window.innerHeight - 120) detail.scrollIntoView({ block: 'start' });
  };

  const show = async (s: ArchiveState, refresh = false): Promise<void> => {
    const previous = shown;
    shown = s;
    searchBox.fill(s.values);
    if (refresh || listed !== searchOf(s)) {
      listed = searchOf(s);
      await list(s);
    }
    markSelected();
    if (!s.study) {
      detail.replaceChildren();
      return;
    }
    if (refresh || previous?.study !== s.study || !detail.hasChildNodes()) {
      // Another study: the last one's detail goes at once (no stale actions while loading).
      if (previous?.study !== s.study) detail.replaceChildren(h('p', { class: 'muted', id: 'study-loading' }, 'loading…'));
      try {
        await open(s.study);
      } catch (err) {
        detail.replaceChildren(h('p', { class: 'fail' }, problemText(err)));
      }
    }
    reveal();
  };

  root.replaceChildren(
    uploadPanel(() => {
      if (shown) void show(shown, true);
    }),
    searchBox.form,
    error,
    h('div', { class: 'study-browser' }, h('div', { id: 'study-list-column' }, results, pager), detail),
  );
  return show;
}
