/**
 * Background jobs (the study browser's send and retrieve, the Workstation's prefetch of
 * priors) with their progress. Kept in memory (a restart forgets them; the work they did
 * stays done); the newest 100 are listed.
 *
 * With several nodes on one PostgreSQL database (`share`), each node also writes its jobs
 * to the database (archive/shared-jobs.ts): at the start, at most every 500 ms while
 * progress is made (not per instance), and at the end. Every node then lists every node's
 * jobs; a running job whose node no longer holds its lease is shown failed, naming the node.
 */
import { randomBytes } from 'node:crypto';
import type { SharedJobRow, SharedJobTable } from '../archive/shared-jobs.js';

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
/** A running job's progress reaches the database at most this often. */
export const PROGRESS_WRITE_MS = 500;

export interface JobLogger {
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
}

/** What a job of a node that died (or stopped) shows: its message. */
export const nodeStoppedMessage = (nodeId: string): string => `node ${nodeId} stopped`;

/** A job's writes to the database: one at a time, at most every PROGRESS_WRITE_MS. */
class JobWriter {
  private timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();
  private lastWrite = 0;

  constructor(
    private readonly job: Job,
    private readonly table: Pick<SharedJobTable, 'save'>,
    private readonly failed: (err: Error) => void,
  ) {}

  /** Progress made: written now if the last write is old enough, else once it is. */
  changed(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.lastWrite + PROGRESS_WRITE_MS - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.write();
    }, wait);
    this.timer.unref();
  }

  /** The job's last state, written now (after any write under way). */
  finish(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    return this.write();
  }

  private write(): Promise<void> {
    this.writing = this.writing.then(async () => {
      this.lastWrite = Date.now();
      try {
        const snapshot: Job = { ...this.job, failures: [...this.job.failures] };
        await this.table.save(snapshot);
      } catch (err) {
        this.failed(err as Error);
      }
    });
    return this.writing;
  }
}

export class JobRegistry {
  private readonly jobs = new Map<string, Job>();
  private shared?: { table: Pick<SharedJobTable, 'nodeId' | 'save' | 'list' | 'get'>; logger?: JobLogger };
  private writers = new Set<Promise<void>>();
  private writeFailing = false;

  /**
   * Keeps this registry's jobs in the database of several nodes, and lists theirs. Jobs
   * an earlier process of this node left running are marked failed first.
   */
  async share(table: Pick<SharedJobTable, 'nodeId' | 'save' | 'list' | 'get' | 'failLeftOver'>, logger?: JobLogger): Promise<void> {
    const left = await table.failLeftOver(nodeStoppedMessage(table.nodeId));
    if (left) logger?.info({ nodeId: table.nodeId, jobs: left }, 'jobs left running by an earlier process of this node marked failed');
    this.shared = { table, logger };
  }

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
      ...(this.shared ? { node: this.shared.table.nodeId } : {}),
    };
    this.jobs.set(job.id, job);
    this.prune();
    const writer = this.shared && new JobWriter(job, this.shared.table, (err) => this.writeFailed(err));
    writer?.changed();
    const control: JobControl = {
      job,
      setTotal: (t) => {
        job.total = t;
        writer?.changed();
      },
      progress: (done, failed) => {
        job.done = done;
        job.failed = failed;
        writer?.changed();
      },
      fail: (error, instance) => {
        if (job.failures.length < MAX_FAILURES) job.failures.push({ ...(instance ? { instance } : {}), error });
        writer?.changed();
      },
    };
    const running = (async () => {
      try {
        const r = await work(control);
        job.state = r.ok ? 'done' : 'failed';
        job.message = r.message;
      } catch (err) {
        job.state = 'failed';
        job.message = (err as Error).message;
      }
      job.finishedAt = new Date().toISOString();
      await writer?.finish();
    })();
    this.writers.add(running);
    void running.finally(() => this.writers.delete(running));
    return job;
  }

  private writeFailed(err: Error): void {
    if (!this.writeFailing) this.shared?.logger?.warn({ err: err.message }, 'job progress not written to the database (other nodes list it as it was)');
    this.writeFailing = true;
  }

  /** This node's job, or (several nodes) any node's. */
  async get(id: string): Promise<Job | undefined> {
    const own = this.jobs.get(id);
    if (own || !this.shared) return own;
    const r = await this.shared.table.get(id);
    return r && this.fromRow(r);
  }

  /** Newest first: this node's jobs, or (several nodes) every node's. */
  async list(): Promise<Job[]> {
    const own = [...this.jobs.values()].reverse();
    if (!this.shared) return own;
    const rows = await this.shared.table.list(KEEP);
    // This node's own are fresher in memory than in their last write.
    const byId = new Map(own.map((j) => [j.id, j]));
    const all = rows.map((r) => byId.get((r.body as Job).id) ?? this.fromRow(r));
    const listed = new Set(all.map((j) => j.id));
    for (const j of own) if (!listed.has(j.id)) all.push(j);
    return all.sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0)).slice(0, KEEP);
  }

  /** Waits for the jobs under way to finish and write their last state (for a clean stop in tests). */
  async settled(): Promise<void> {
    await Promise.all([...this.writers]);
  }

  private fromRow(r: SharedJobRow): Job {
    const job = { ...(r.body as Job), node: r.nodeId };
    // Its node died or stopped while it ran: nobody will finish it.
    if (job.state === 'running' && !r.nodeLive) return { ...job, state: 'failed', message: nodeStoppedMessage(r.nodeId) };
    return job;
  }

  private prune(): void {
    for (const id of this.jobs.keys()) {
      if (this.jobs.size <= KEEP) break;
      if (this.jobs.get(id)!.state !== 'running') this.jobs.delete(id);
    }
  }
}
