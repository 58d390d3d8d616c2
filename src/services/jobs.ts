/**
 * Background jobs (the study browser's send and retrieve, the Workstation's prefetch of priors) with their progress. Kept in
 * memory only: a restart forgets them (the work they did stays done); the newest 100
 * are listed.
 */
import { randomBytes } from 'node:crypto';

// The job's shape is the REST API's (GET /api/jobs).
export type { Job } from '../api-types/index.js';
import type { Job } from '../api-types/index.js';
export type JobKind = Job['kind'];
export type JobState = Job['state'];

export interface JobControl {
  readonly job: Job;
  setTotal(total: number): void;
  progress(done: number, failed: number): void;
  fail(error: string, instance?: string): void;
}

const KEEP = 100;
const MAX_FAILURES = 100;

export class JobRegistry {
  private readonly jobs = new Map<string, Job>();

  /** Starts `work` in the background; its result is the final message (a throw fails the job). */
  start(kind: JobKind, label: string, work: (c: JobControl) => Promise<{ ok: boolean; message: string }>): Job {
    const job: Job = {
      id: randomBytes(8).toString('hex'),
      kind,
      label,
      state: 'running',
      done: 0,
      total: 0,
      failed: 0,
      failures: [],
      message: '',
      startedAt: new Date().toISOString(),
    };
    this.jobs.set(job.id, job);
    this.prune();
    const control: JobControl = {
      job,
      setTotal: (t) => void (job.total = t),
      progress: (done, failed) => {
        job.done = done;
        job.failed = failed;
      },
      fail: (error, instance) => {
        if (job.failures.length < MAX_FAILURES) job.failures.push({ ...(instance ? { instance } : {}), error });
      },
    };
    void (async () => {
      try {
        const r = await work(control);
        job.state = r.ok ? 'done' : 'failed';
        job.message = r.message;
      } catch (err) {
        job.state = 'failed';
        job.message = (err as Error).message;
      }
      job.finishedAt = new Date().toISOString();
    })();
    return job;
  }

  get(id: string): Job | undefined {
    return this.jobs.get(id);
  }

  /** Newest first. */
  list(): Job[] {
    return [...this.jobs.values()].reverse();
  }

  private prune(): void {
    for (const id of this.jobs.keys()) {
      if (this.jobs.size <= KEEP) break;
      if (this.jobs.get(id)!.state !== 'running') this.jobs.delete(id);
    }
  }
}
