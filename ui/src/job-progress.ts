// A background job's progress bar: polls GET /api/jobs/{id} until the job ends.
import { api, type Job } from './api.js';
import { h } from './dom.js';

const POLL_MS = 400;

/** Fills `box` with the job's bar and status; resolves with the finished job. */
export async function followJob(box: HTMLElement, first: Job): Promise<Job> {
  const bar = h('progress', { max: 1, value: 0 });
  const status = h('span', { class: 'job-status muted' });
  const failures = h('ul', { class: 'job-failures fail' });
  box.replaceChildren(h('div', { class: 'job-label' }, first.label), bar, ' ', status, failures);
  let job = first;
  for (;;) {
    bar.max = Math.max(job.total, 1);
    bar.value = job.state === 'done' && job.total === 0 ? 1 : job.done;
    const pct = job.total ? Math.round((job.done / job.total) * 100) : job.state === 'running' ? 0 : 100;
    status.textContent = job.state === 'running' ? `${job.done} / ${job.total || '?'} (${pct}%)` : `${job.state}: ${job.message}`;
    status.className = `job-status ${job.state === 'done' ? 'ok' : job.state === 'failed' ? 'fail' : 'muted'}`;
    box.dataset.state = job.state;
    failures.replaceChildren(...job.failures.slice(0, 20).map((f) => h('li', {}, `${f.instance ? `${f.instance}: ` : ''}${f.error}`)));
    if (job.state !== 'running') return job;
    await new Promise((r) => setTimeout(r, POLL_MS));
    job = await api<Job>('GET', `/api/jobs/${job.id}`);
  }
}
