/**
 * The activity log's recorder: every event point (an association ending or refused, a web
 * action) calls `record()` once; the event is printed as one line at `info` at once, and
 * written to the index (archive/activity-store.ts) in the background, in batches, then
 * handed to live listeners (GET /api/activity/stream) with its id. Old events are pruned
 * by `limits.activity.retentionDays`.
 *
 * Recording never throws and never waits: an index that is down or slow costs the events
 * over `maxPending` (counted and logged), not a DICOM association or a web request.
 */
import type { Logger } from 'pino';
import type { ActivityEvent, ActivityFilter, ActivityInput, ActivityPage, ActivityQuery } from '../api-types/activity.js';
import type { ActivityStore } from '../archive/activity-store.js';

/** What an event point needs: one call, nothing to await. */
export interface ActivityRecorder {
  record(event: ActivityInput): void;
}

/** A recorder that drops everything (tests, a role run without a log). */
export const NO_ACTIVITY: ActivityRecorder = { record: () => undefined };

export interface ActivityLogOptions {
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** limits.activity.retentionDays, read at every pruning. */
  retentionDays: () => number;
  /** How often old events are pruned (default hourly). */
  pruneIntervalMs?: number;
  /** Events waiting for the index at most (default 10,000); more are dropped, and counted. */
  maxPending?: number;
}

const BATCH = 500;
const DAY_MS = 86_400_000;

export class ActivityLog implements ActivityRecorder {
  private store?: ActivityStore;
  private pending: ActivityInput[] = [];
  private writing?: Promise<void>;
  private readonly listeners = new Set<(e: ActivityEvent) => void>();
  private pruneTimer?: NodeJS.Timeout;
  private closed = false;
  /** Events dropped since the last warning (index down or too slow). */
  private dropped = 0;

  constructor(private readonly opts: ActivityLogOptions) {}

  /** Starts writing to `store` (events recorded before wait for it), and pruning. */
  attach(store: ActivityStore): void {
    this.store = store;
    this.kick();
    void this.prune();
    this.pruneTimer = setInterval(() => void this.prune(), this.opts.pruneIntervalMs ?? 3_600_000);
    this.pruneTimer.unref();
  }

  get attached(): boolean {
    return this.store !== undefined;
  }

  record(input: ActivityInput): void {
    const event: ActivityInput = { ...input, time: input.time ?? new Date().toISOString() };
    try {
      const { message, summary, contexts, ...fields } = event;
      void contexts; // listed in the index, too long for a log line
      this.opts.logger.info({ activity: { ...fields, ...(summary ? { summary: compactSummary(summary) } : {}) } }, message);
    } catch {
      // a logger that throws does not stop the recording
    }
    if (this.closed) return;
    if (this.pending.length >= (this.opts.maxPending ?? 10_000)) {
      this.dropped++;
      return;
    }
    this.pending.push(event);
    this.kick();
  }

  /** Calls `listener` with every event once stored (with its id); returns the unsubscribe. */
  subscribe(listener: (e: ActivityEvent) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  query(q: ActivityQuery): Promise<ActivityPage> {
    if (!this.store) return Promise.resolve({ events: [] });
    return this.store.query(q);
  }

  /** Resolves once every event recorded so far is stored (or dropped). */
  async flushed(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /** Deletes the events older than the retention; returns how many. */
  async prune(now = Date.now()): Promise<number> {
    if (!this.store) return 0;
    const cutoff = new Date(now - this.opts.retentionDays() * DAY_MS).toISOString();
    try {
      const n = await this.store.pruneBefore(cutoff);
      if (n > 0) this.opts.logger.info({ deleted: n, before: cutoff }, 'activity log: old events deleted (limits.activity.retentionDays)');
      return n;
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message }, 'activity log: old events not pruned');
      return 0;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.pruneTimer);
    if (this.store) await this.flushed();
    this.listeners.clear();
  }

  private kick(): void {
    if (this.writing || !this.store || this.pending.length === 0) return;
    this.writing = this.writeAll().finally(() => {
      this.writing = undefined;
      this.kick(); // recorded while the last batch was being written
    });
  }

  private async writeAll(): Promise<void> {
    const store = this.store!;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, BATCH);
      let stored: ActivityEvent[];
      try {
        stored = await store.append(batch);
      } catch (err) {
        this.dropped += batch.length;
        this.opts.logger.error({ err: (err as Error).message, events: this.dropped }, 'activity log: events not stored in the index');
        this.dropped = 0;
        continue;
      }
      if (this.dropped > 0) {
        this.opts.logger.warn({ events: this.dropped }, 'activity log: events dropped, the index was too slow');
        this.dropped = 0;
      }
      for (const e of stored) {
        for (const l of this.listeners) {
          try {
            l(e);
          } catch {
            // a listener's failure is its own (a closed stream)
          }
        }
      }
    }
  }
}

/** The summary as short counts for the log line: `{ stored: "30/0" }` = completed/failed. */
function compactSummary(s: NonNullable<ActivityInput['summary']>): Record<string, string> {
  return Object.fromEntries(Object.entries(s).map(([k, op]) => [k, `${op.completed}/${op.failed}`]));
}

/** Whether an event passes a filter (live updates: the same filters the index query applies). */
export function activityMatches(e: ActivityEvent, f: ActivityFilter): boolean {
  if (f.from !== undefined && e.time < f.from) return false;
  if (f.to !== undefined && e.time >= f.to) return false;
  if (f.ae !== undefined && e.callingAe !== f.ae.trim() && e.calledAe !== f.ae.trim()) return false;
  if (f.kind !== undefined && e.kind !== f.kind) return false;
  if (f.outcome !== undefined && e.outcome !== f.outcome) return false;
  if (f.patientId !== undefined && !e.patientIds?.includes(f.patientId)) return false;
  if (f.studyUid !== undefined && !e.studyUids?.includes(f.studyUid)) return false;
  return true;
}
