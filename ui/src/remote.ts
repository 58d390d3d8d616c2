// The Remote tab: query a registered AE (C-FIND as PACS_CLIENT through the server) and
// retrieve a study into this archive (C-MOVE to our Main Server), with progress.
import { Status } from '../../src/dicom/status.js';
import { answersQueries, api, ApiError, type AeEntry as Ae, type Job, type RemoteFindResult } from './api.js';
import { background, h } from './dom.js';
import { followJob } from './job-progress.js';
import { TAG, text, type DicomJson } from './dicom-json.js';
import { searchForm, studyTable } from './study-table.js';

export async function renderRemote(root: HTMLElement): Promise<void> {
  // Query targets: AEs that answer C-FIND (not our own Main Server, which is the Archive tab).
  const aes = (await api<Ae[]>('GET', '/api/aes')).filter((a) => answersQueries(a) && a.role !== 'main');
  const select = h(
    'select',
    { id: 'remote-ae' },
    ...aes.map((a) => h('option', { value: a.aeTitle }, `${a.aeTitle} (${a.connection.host}:${a.connection.port})`)),
  );
  const results = h('div', { id: 'remote-results-box' });
  const status = h('div', { id: 'remote-status', role: 'status' });
  const jobBox = h('div', { id: 'remote-job', class: 'job' });

  const retrieve = async (aet: string, study: DicomJson) => {
    try {
      const job = await api<Job>('POST', `/api/remote/${encodeURIComponent(aet)}/retrieve`, { studyUid: text(study, TAG.StudyInstanceUID) });
      await followJob(jobBox, job);
    } catch (err) {
      jobBox.textContent = err instanceof ApiError ? err.problem.detail : (err as Error).message;
    }
  };

  const form = searchForm(
    'r',
    background(async (keys) => {
      const aet = select.value;
      status.className = 'muted';
      status.textContent = `querying ${aet}...`;
      try {
        const r = await api<RemoteFindResult>('POST', `/api/remote/${encodeURIComponent(aet)}/find`, { level: 'STUDY', keys });
        status.className = r.status === Status.Success || r.status === Status.Cancel ? 'muted' : 'fail';
        status.textContent = `${r.matches.length} match(es) from ${aet}${r.truncated ? ' (more exist: refine the search)' : ''}${r.errorComment ? `: ${r.errorComment}` : ''}`;
        results.replaceChildren(
          studyTable('remote-results', r.matches, {
            actions: (s) => [h('button', { type: 'button', class: 'retrieve', onclick: () => void retrieve(aet, s) }, 'Retrieve')],
          }),
        );
      } catch (err) {
        status.className = 'fail';
        status.textContent = err instanceof ApiError ? err.problem.detail : (err as Error).message;
      }
    }),
    [h('div', { class: 'field' }, h('label', { for: 'remote-ae' }, 'Remote AE'), select)],
  );
  root.replaceChildren(
    aes.length ? form : h('p', { class: 'muted' }, 'No query/retrieve peer in the registry: add one ("Answers C-FIND and C-MOVE") on the Configuration page.'),
    status,
    jobBox,
    results,
  );
}
