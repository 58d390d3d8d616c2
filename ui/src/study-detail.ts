// One study of the archive: its series with thumbnails, instances on demand (each with its
// tags), and the actions (open in viewer, download as zip, send to an AE, delete after an
// in-page confirmation, the result in the status line).
import { api, ApiError, type AeEntry as Ae, type Job } from './api.js';
import { h } from './dom.js';
import { confirmDialog, toast } from './confirm-dialog.js';
import { openTagBrowser } from './tag-browser.js';
import { followJob } from './job-progress.js';
import { num, TAG, text, type DicomJson } from './dicom-json.js';
import { mainArchive } from './dicomweb.js';

const enc = encodeURIComponent;

function errorText(err: unknown): string {
  return err instanceof ApiError ? err.problem.detail : (err as Error).message;
}

/** AEs a study can be sent to: every AE with a port but our own Main Server. */
async function destinations(): Promise<Ae[]> {
  return (await api<Ae[]>('GET', '/api/aes')).filter((a) => a.connection.port !== undefined && a.role !== 'main');
}

export interface DetailHooks {
  /** A series or instance was deleted: the list's counts changed. */
  listChanged: () => void;
  /** The study was deleted. */
  studyDeleted: () => void;
  /** The list's address without this study (the viewer's way back, Close). */
  listHash: () => string;
}

export async function renderStudyDetail(box: HTMLElement, study: DicomJson, hooks: DetailHooks): Promise<void> {
  const st = text(study, TAG.StudyInstanceUID);
  const [series, aes] = await Promise.all([mainArchive.qidoAll(`studies/${enc(st)}/series`), destinations()]);
  series.sort((a, b) => (num(a, TAG.SeriesNumber) ?? 0) - (num(b, TAG.SeriesNumber) ?? 0));
  const message = h('div', { id: 'detail-message', role: 'status' });
  const fail = (err: unknown) => {
    message.className = 'fail';
    message.textContent = errorText(err);
  };

  // Download
  const anonDownload = h('input', { type: 'checkbox', id: 'download-anonymize' });
  const download = h('a', { id: 'download-study', class: 'button', href: '#', download: '' }, 'Download zip');
  const setHref = () => download.setAttribute('href', `/api/studies/${enc(st)}/archive.zip${anonDownload.checked ? '?anonymize=1' : ''}`);
  anonDownload.addEventListener('change', setHref);
  setHref();

  // Send
  const dest = h(
    'select',
    { id: 'send-dest' },
    ...aes.map((a) => h('option', { value: a.aeTitle }, `${a.aeTitle} (${a.connection.host}:${a.connection.port})`)),
  );
  const anonSend = h('input', { type: 'checkbox', id: 'send-anonymize' });
  const jobBox = h('div', { id: 'send-job', class: 'job' });
  const send = async (seriesUid?: string) => {
    try {
      const job = await api<Job>('POST', '/api/studies/send', {
        destination: dest.value,
        studyUid: st,
        ...(seriesUid ? { seriesUid } : {}),
        anonymize: anonSend.checked,
      });
      await followJob(jobBox, job);
    } catch (err) {
      fail(err);
    }
  };

  const remove = async (what: string, path: string, after: () => void) => {
    if (!(await confirmDialog(`Delete ${what}? The files are removed from the archive.`))) return;
    try {
      const r = await api<{ deleted: number }>('DELETE', path);
      const done = `deleted ${what} (${r.deleted} instance(s))`;
      message.className = 'ok';
      message.textContent = done;
      toast(done);
      after();
    } catch (err) {
      fail(err);
      toast(`${what} was not deleted: ${errorText(err)}`, false);
    }
  };

  const seriesRows = series.map((s) => {
    const se = text(s, TAG.SeriesInstanceUID);
    const instances = h('div', { class: 'instances' });
    const count = h('td', { class: 'instance-count' }, String(num(s, TAG.NumberOfSeriesRelatedInstances) ?? ''));
    const showInstances = async () => {
      const list = await mainArchive.qidoAll(`studies/${enc(st)}/series/${enc(se)}/instances`);
      list.sort((a, b) => (num(a, TAG.InstanceNumber) ?? 0) - (num(b, TAG.InstanceNumber) ?? 0));
      instances.replaceChildren(
        h(
          'ul',
          {},
          ...list.map((i) => {
            const sop = text(i, TAG.SOPInstanceUID);
            const li = h(
              'li',
              { 'data-instance': sop },
              `#${num(i, TAG.InstanceNumber) ?? '?'} ${sop} `,
              h(
                'button',
                {
                  type: 'button',
                  class: 'show-tags',
                  onclick: () =>
                    void openTagBrowser(`studies/${enc(st)}/series/${enc(se)}/instances/${enc(sop)}`, `instance #${num(i, TAG.InstanceNumber) ?? '?'}`),
                },
                'Tags',
              ),
              ' ',
              h(
                'button',
                {
                  type: 'button',
                  class: 'delete-instance',
                  onclick: () =>
                    void remove(`instance ${sop}`, `/api/studies/${enc(st)}/series/${enc(se)}/instances/${enc(sop)}`, () => {
                      li.remove();
                      const left = Number(count.textContent) - 1;
                      if (count.textContent) count.textContent = String(left);
                      // The series' last instance: the series is gone with it.
                      if (left === 0) row.remove();
                      hooks.listChanged();
                    }),
                },
                'Delete',
              ),
            );
            return li;
          }),
        ),
      );
    };
    const row = h(
      'tr',
      { 'data-series': se },
      h(
        'td',
        {},
        h('img', {
          class: 'thumb',
          loading: 'lazy',
          alt: '',
          width: 96,
          height: 96,
          src: `/dicomweb/studies/${enc(st)}/series/${enc(se)}/thumbnail?viewport=96,96`,
        }),
      ),
      h('td', {}, text(s, TAG.Modality)),
      h('td', {}, String(num(s, TAG.SeriesNumber) ?? '')),
      h('td', {}, text(s, TAG.SeriesDescription)),
      count,
      h(
        'td',
        {},
        h('button', { type: 'button', class: 'show-instances', onclick: () => void showInstances().catch(fail) }, 'Instances'),
        ' ',
        h('a', { class: 'button', href: `/api/studies/${enc(st)}/series/${enc(se)}/archive.zip`, download: '' }, 'Zip'),
        ' ',
        h('button', { type: 'button', class: 'send-series', onclick: () => void send(se) }, 'Send'),
        ' ',
        h(
          'button',
          {
            type: 'button',
            class: 'delete-series',
            onclick: () =>
              void remove(`series ${num(s, TAG.SeriesNumber) ?? se}`, `/api/studies/${enc(st)}/series/${enc(se)}`, () => {
                row.remove();
                hooks.listChanged();
              }),
          },
          'Delete',
        ),
        instances,
      ),
    );
    return row;
  });

  box.replaceChildren(
    h('h3', {}, `${text(study, TAG.PatientName).replaceAll('^', ' ')} - ${text(study, TAG.StudyDescription) || 'study'} (${text(study, TAG.StudyDate)})`),
    h('p', { class: 'muted' }, st, ' ', h('a', { id: 'close-study', href: hooks.listHash() }, 'Close')),
    h(
      'div',
      { class: 'actions' },
      // back: where the viewer's "Study list" link returns (this list, this search).
      h('a', { id: 'open-viewer', class: 'button', href: `/viewer?StudyInstanceUIDs=${enc(st)}&back=${enc(location.hash)}` }, 'Open in viewer'),
      h('span', { class: 'group' }, download, h('label', { class: 'inline' }, anonDownload, ' anonymize')),
      h(
        'span',
        { class: 'group' },
        'Send to ',
        dest,
        h('label', { class: 'inline' }, anonSend, ' anonymize'),
        h('button', { type: 'button', id: 'send-study', disabled: aes.length === 0, onclick: () => void send() }, 'Send study'),
      ),
      h(
        'button',
        {
          type: 'button',
          id: 'delete-study',
          class: 'danger',
          onclick: () =>
            void remove('this study', `/api/studies/${enc(st)}`, () => {
              box.replaceChildren();
              hooks.studyDeleted();
            }),
        },
        'Delete study',
      ),
    ),
    jobBox,
    message,
    h(
      'table',
      { id: 'series-list' },
      h('thead', {}, h('tr', {}, ...['', 'Modality', 'Number', 'Description', 'Instances', ''].map((t) => h('th', {}, t)))),
      h('tbody', {}, ...seriesRows),
    ),
  );
}
