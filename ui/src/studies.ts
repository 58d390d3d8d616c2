// The Studies page: the archive (upload, search with paging, a study's series and actions),
// the Remote tab (query a registered AE, retrieve into this archive) and the Workstation
// tab (the Workstation Server's own archive: workstation-studies.ts).
import { ApiError } from './api.js';
import { h } from './dom.js';
import { mainArchive, type DicomJson } from './dicomweb.js';
import { renderRemote } from './remote.js';
import { renderStudyDetail } from './study-detail.js';
import { PAGE, qidoParams, searchForm, studyTable, type StudyKeys } from './study-table.js';
import { uploadPanel } from './upload.js';
import { renderWorkstation } from './workstation-studies.js';

export async function renderStudies(root: HTMLElement): Promise<void> {
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
  await renderArchive(archive);
}

async function renderArchive(root: HTMLElement): Promise<void> {
  let keys: StudyKeys = {};
  // #/studies?study=UID (the Activity page's links): that study, opened.
  let wanted = new URLSearchParams(location.hash.split('?')[1] ?? '').get('study') ?? undefined;
  let offset = 0;
  const results = h('div', { id: 'study-results-box' });
  const detail = h('section', { id: 'study-detail' });
  const pager = h('div', { class: 'pager' });
  const error = h('div', { class: 'fail', id: 'search-error', role: 'alert' });

  const search = async () => {
    error.textContent = '';
    let studies: DicomJson[];
    try {
      studies = await mainArchive.qido('studies', { ...qidoParams(keys, offset), StudyInstanceUID: wanted });
    } catch (err) {
      error.textContent = `search failed: ${err instanceof ApiError ? err.problem.detail : (err as Error).message}`;
      return;
    }
    results.replaceChildren(
      studyTable('study-results', studies, {
        onOpen: (s) =>
          void renderStudyDetail(detail, s, () => void search()).catch((e: Error) => {
            detail.textContent = e.message;
          }),
      }),
    );
    if (wanted !== undefined) {
      if (studies.length === 1) void renderStudyDetail(detail, studies[0], () => void search()).catch((e: Error) => (detail.textContent = e.message));
      else detail.textContent = `study ${wanted} is not in the archive`;
      wanted = undefined; // the next search is the form's
    }
    const prev = h('button', { type: 'button', id: 'page-prev', disabled: offset === 0 }, 'Previous');
    const next = h('button', { type: 'button', id: 'page-next', disabled: studies.length < PAGE }, 'Next');
    prev.addEventListener('click', () => {
      offset = Math.max(0, offset - PAGE);
      void search();
    });
    next.addEventListener('click', () => {
      offset += PAGE;
      void search();
    });
    pager.replaceChildren(prev, h('span', { class: 'muted' }, ` results ${studies.length ? offset + 1 : 0}-${offset + studies.length} `), next);
  };

  const form = searchForm('q', (k) => {
    keys = k;
    offset = 0;
    void search();
  });
  root.replaceChildren(
    uploadPanel(() => void search()),
    form,
    error,
    results,
    pager,
    detail,
  );
  await search();
}
