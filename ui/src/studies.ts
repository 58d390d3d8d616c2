// The Studies page: the archive (upload, search with paging, a study's series and actions)
// and the Remote tab (query a registered AE, retrieve into this archive).
import { ApiError } from './api.js';
import { h } from './dom.js';
import { mainArchive, type DicomJson } from './dicomweb.js';
import { renderRemote } from './remote.js';
import { renderStudyDetail } from './study-detail.js';
import { searchForm, studyTable, type StudyKeys } from './study-table.js';
import { uploadPanel } from './upload.js';

const PAGE = 25;

/** QIDO-RS parameters of the search keys (Modality matches Modalities in Study). */
function qidoParams(k: StudyKeys, offset: number): Record<string, string | number | undefined> {
  return {
    PatientName: k.PatientName,
    PatientID: k.PatientID,
    StudyDate: k.StudyDate,
    ModalitiesInStudy: k.Modality,
    AccessionNumber: k.AccessionNumber,
    StudyDescription: k.StudyDescription,
    includefield: 'StudyDescription',
    limit: PAGE,
    offset,
  };
}

export async function renderStudies(root: HTMLElement): Promise<void> {
  const archive = h('div', { id: 'archive-tab' });
  const remote = h('div', { id: 'remote-tab', hidden: true });
  const tabs = ['Archive', 'Remote'].map((name, i) => {
    const b = h('button', { type: 'button', class: i === 0 ? 'tab active' : 'tab', id: `tab-${name.toLowerCase()}` }, name);
    b.addEventListener('click', () => {
      archive.hidden = i !== 0;
      remote.hidden = i !== 1;
      tabs.forEach((t, j) => t.classList.toggle('active', i === j));
      if (i === 1 && !remote.hasChildNodes()) void renderRemote(remote);
    });
    return b;
  });
  root.replaceChildren(h('h2', {}, 'Studies'), h('div', { class: 'tabs' }, ...tabs), archive, remote);
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
