// The viewer's Query/Retrieve panel: query our own Main Server or a registered remote AE
// (C-FIND through the server as WS_CLIENT), retrieve a study into the Workstation Server
// (C-MOVE to WORKSTATION) with a progress bar, then open it; and send the open study to an AE.
import { Status } from '../../../src/dicom/status.js';
import { api, ApiError, type AeEntry as Ae, type Job, type RemoteFindResult } from '../api.js';
import { TAG, text, type DicomJson } from '../dicom-json.js';
import { workstationViewerUrl } from '../dicomweb.js';
import { background, h } from '../dom.js';
import { followJob } from '../job-progress.js';
import { searchForm, studyTable } from '../study-table.js';
import type { ArchiveName } from './request.js';

const reason = (err: unknown): string => (err instanceof ApiError ? err.problem.detail : (err as Error).message);
const aeOption = (a: Ae) => h('option', { value: a.aeTitle }, `${a.aeTitle} (${a.connection.host}:${a.connection.port})`);

export class QrPanel {
  readonly root: HTMLElement;
  private loaded = false;

  constructor(private readonly open: { studyUids: string[]; archive: ArchiveName }) {
    this.root = h('section', { class: 'qr-panel', id: 'qr-panel', hidden: true, 'aria-label': 'Query/Retrieve' });
  }

  toggle(): void {
    this.root.hidden = !this.root.hidden;
    if (!this.root.hidden && !this.loaded) {
      this.loaded = true;
      void this.render();
    }
  }

  private async render(): Promise<void> {
    const close = h('button', { type: 'button', class: 'qr-close', title: 'close', onclick: () => this.toggle() }, '×');
    let aes: Ae[];
    try {
      aes = await api<Ae[]>('GET', '/api/aes');
    } catch (err) {
      this.loaded = false;
      this.root.replaceChildren(close, h('p', { class: 'fail', role: 'alert' }, `the AE registry could not be read: ${reason(err)}`));
      return;
    }
    // Sources to query: our own Main Server first (the archive a reading pulls from), then the
    // remote peers; any AE with a port (our own roles included) to send to.
    const sources = aes.filter((a) => a.connection.port !== undefined && (a.role === 'main' || !a.local));
    sources.sort((a, b) => Number(b.role === 'main') - Number(a.role === 'main'));
    const ownRole = this.open.archive === 'main' ? 'main' : 'workstation';
    const targets = aes.filter((a) => a.connection.port !== undefined && a.role !== ownRole && a.role !== 'client');
    this.root.replaceChildren(close, h('h3', {}, 'Query/Retrieve'), this.queryPart(sources), h('h3', {}, 'Send study'), this.sendPart(targets));
  }

  private queryPart(sources: Ae[]): HTMLElement {
    const select = h(
      'select',
      { id: 'qr-ae' },
      ...sources.map((a) => (a.role === 'main' ? h('option', { value: a.aeTitle }, `${a.aeTitle} (this server's Main Server)`) : aeOption(a))),
    );
    const status = h('div', { id: 'qr-status', role: 'status' });
    const jobBox = h('div', { id: 'qr-job', class: 'job' });
    const results = h('div', { id: 'qr-results-box' });

    const retrieve = async (aet: string, study: DicomJson, button: HTMLButtonElement) => {
      const studyUid = text(study, TAG.StudyInstanceUID);
      button.disabled = true;
      try {
        const first = await api<Job>('POST', `/api/remote/${encodeURIComponent(aet)}/retrieve`, { studyUid, destination: 'WORKSTATION' });
        const job = await followJob(jobBox, first);
        if (job.state === 'done') {
          jobBox.append(' ', h('a', { class: 'button qr-open-study', href: workstationViewerUrl(studyUid), 'data-study': studyUid }, 'Open'));
        }
      } catch (err) {
        jobBox.dataset.state = 'failed';
        jobBox.textContent = reason(err);
      } finally {
        button.disabled = false;
      }
    };

    const form = searchForm(
      'qr',
      background(async (keys) => {
        const aet = select.value;
        status.className = 'muted';
        status.textContent = `querying ${aet}...`;
        try {
          const r = await api<RemoteFindResult>('POST', `/api/remote/${encodeURIComponent(aet)}/find`, { level: 'STUDY', keys, client: 'workstation' });
          status.className = r.status === Status.Success || r.status === Status.Cancel ? 'muted' : 'fail';
          status.textContent = `${r.matches.length} match(es) from ${aet}${r.truncated ? ' (more exist: refine the search)' : ''}${r.errorComment ? `: ${r.errorComment}` : ''}`;
          results.replaceChildren(
            studyTable('qr-results', r.matches, {
              actions: (s) => {
                const b: HTMLButtonElement = h('button', { type: 'button', class: 'qr-retrieve' }, 'Retrieve');
                b.addEventListener('click', () => void retrieve(aet, s, b));
                return [b];
              },
            }),
          );
        } catch (err) {
          status.className = 'fail';
          status.textContent = reason(err);
        }
      }),
      [h('div', { class: 'field' }, h('label', { for: 'qr-ae' }, 'Query'), select)],
    );
    if (!sources.length) return h('p', { class: 'muted' }, 'No AE to query: the registry has no Main Server or remote AE with a port.');
    return h('div', {}, form, status, jobBox, results);
  }

  private sendPart(targets: Ae[]): HTMLElement {
    const dest = h('select', { id: 'qr-send-dest' }, ...targets.map(aeOption));
    const jobBox = h('div', { id: 'qr-send-job', class: 'job' });
    const button: HTMLButtonElement = h('button', { type: 'button', id: 'qr-send', disabled: targets.length === 0 }, 'Send study');
    button.addEventListener(
      'click',
      background(async () => {
        button.disabled = true;
        try {
          // One job per open study, one after the other, each with its bar.
          for (const studyUid of this.open.studyUids) {
            const first = await api<Job>('POST', '/api/studies/send', { destination: dest.value, studyUid, archive: this.open.archive });
            if ((await followJob(jobBox, first)).state !== 'done') break;
          }
        } catch (err) {
          jobBox.dataset.state = 'failed';
          jobBox.textContent = reason(err);
        } finally {
          button.disabled = false;
        }
      }),
    );
    const what = this.open.studyUids.length > 1 ? `the ${this.open.studyUids.length} open studies` : 'the open study';
    return h('div', { class: 'qr-send' }, h('label', { for: 'qr-send-dest' }, `Send ${what} to `), dest, ' ', button, jobBox);
  }
}
