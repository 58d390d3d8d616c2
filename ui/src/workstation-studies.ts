// The Studies page's Workstation tab: the Workstation Server's own archive (the viewer's
// local store, /workstation/dicomweb): its size against the cap, search with paging, open a
// study in the viewer, delete one (admin; asked in the page, then said what was done).
import { api, ApiError, type WorkstationUsage } from './api.js';
import { TAG, text } from './dicom-json.js';
import { archiveRoot, DicomWebClient, workstationViewerUrl, type DicomJson } from './dicomweb.js';
import { background, h } from './dom.js';
import { PAGE, qidoParams, searchForm, studyTable, type StudyKeys } from './study-table.js';

const workstation = new DicomWebClient(archiveRoot('workstation'));
const enc = encodeURIComponent;
const reason = (err: unknown): string => (err instanceof ApiError ? err.problem.detail : (err as Error).message);

/** "1.5 GiB": bytes in the largest binary unit that keeps a number of at least 1. */
export function byteSize(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} bytes` : `${v.toFixed(1)} ${units[u]}`;
}

export async function renderWorkstation(root: HTMLElement): Promise<void> {
  let keys: StudyKeys = {};
  let offset = 0;
  const usage = h('p', { id: 'ws-usage', class: 'muted' });
  const results = h('div', { id: 'ws-results-box' });
  const pager = h('div', { class: 'pager' });
  const error = h('div', { class: 'fail', id: 'ws-error', role: 'alert' });
  const message = h('div', { id: 'ws-message', role: 'status' });

  const showUsage = async () => {
    try {
      const u = await api<WorkstationUsage>('GET', '/api/workstation/usage');
      usage.textContent = `Workstation archive: ${byteSize(u.bytes)} of ${byteSize(u.maxBytes)} (${u.instances} instance(s)); beyond it the studies received or viewed longest ago are deleted.`;
    } catch (err) {
      usage.textContent = `Workstation archive: ${reason(err)}`;
    }
  };

  /** Delete, asked in the row: "Delete" becomes "Delete study?" with Yes and No. */
  const deleteControl = (study: DicomJson): HTMLElement => {
    const st = text(study, TAG.StudyInstanceUID);
    const box = h('span', { class: 'admin-only ws-delete-box' });
    const ask: HTMLButtonElement = h('button', { type: 'button', class: 'ws-delete danger' }, 'Delete');
    const confirmRemove = async () => {
      box.replaceChildren('deleting...');
      try {
        const r = await api<{ deleted: number }>('DELETE', `/api/studies/${enc(st)}?archive=workstation`);
        message.className = 'ok';
        message.textContent = `Deleted study ${st} from the Workstation Server (${r.deleted} instance(s)).`;
      } catch (err) {
        message.className = 'fail';
        message.textContent = `study ${st} not deleted: ${reason(err)}`;
      }
      await Promise.all([search(), showUsage()]);
    };
    ask.addEventListener('click', () => {
      const yes = h('button', { type: 'button', class: 'ws-delete-yes danger' }, 'Yes, delete');
      const no = h('button', { type: 'button', class: 'ws-delete-no' }, 'No');
      yes.addEventListener('click', background(confirmRemove));
      no.addEventListener('click', () => box.replaceChildren(ask));
      box.replaceChildren('Delete this study? ', yes, ' ', no);
    });
    box.append(ask);
    return box;
  };

  const search = async () => {
    error.textContent = '';
    let studies: DicomJson[];
    try {
      studies = await workstation.qido('studies', qidoParams(keys, offset));
    } catch (err) {
      error.textContent = `search failed: ${reason(err)}`;
      return;
    }
    results.replaceChildren(
      studyTable('ws-results', studies, {
        actions: (s) => [
          h('a', { class: 'button ws-open', href: workstationViewerUrl(text(s, TAG.StudyInstanceUID)) }, 'Open'),
          document.createTextNode(' '),
          deleteControl(s),
        ],
      }),
    );
    const prev = h('button', { type: 'button', id: 'ws-page-prev', disabled: offset === 0 }, 'Previous');
    const next = h('button', { type: 'button', id: 'ws-page-next', disabled: studies.length < PAGE }, 'Next');
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

  const form = searchForm('ws', (k) => {
    keys = k;
    offset = 0;
    message.textContent = '';
    void search();
  });
  root.replaceChildren(usage, form, error, message, results, pager);
  await Promise.all([search(), showUsage()]);
}
