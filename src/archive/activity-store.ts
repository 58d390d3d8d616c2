/**
 * The activity log's events in the index (tables in activity-schema.ts): appended in
 * batches, read newest first in pages or, for polling, after an id, filtered in SQL, and
 * pruned by age. Every event's id is its row's key, so ids grow with recording order.
 */
import {
  ACTIVITY_DEFAULT_LIMIT,
  ACTIVITY_MAX_LIMIT,
  ACTIVITY_MAX_SUBJECTS,
  type ActivityEvent,
  type ActivityInput,
  type ActivityPage,
  type ActivityQuery,
} from '../api-types/activity.js';
import { ensureActivitySchema } from './activity-schema.js';
import { sqlIndex } from './base-index.js';
import type { Index } from './index-types.js';
import type { SqlIndex, SqlValue } from './sql-types.js';

/** Events deleted per transaction when pruning: a long backlog goes in several short transactions. */
const PRUNE_BATCH = 5000;

/** The event as kept: its JSON minus what the row's key and columns already hold. */
function rowToEvent(r: Record<string, unknown>): ActivityEvent {
  const rest = JSON.parse(String(r.json)) as Omit<ActivityEvent, 'id'>;
  return { id: Number(r.pk), ...rest };
}

const distinct = (values: readonly string[] | undefined): string[] | undefined =>
  values && values.length ? [...new Set(values.filter((v) => v !== ''))].slice(0, ACTIVITY_MAX_SUBJECTS) : undefined;

/** The WHERE clause of a query and its parameters ($1 ...). */
function whereOf(q: ActivityQuery): { sql: string; params: SqlValue[] } {
  const params: SqlValue[] = [];
  const conds: string[] = [];
  const p = (v: SqlValue) => (params.push(v), `$${params.length}`);
  if (q.from !== undefined) conds.push(`time >= ${p(q.from)}`);
  if (q.to !== undefined) conds.push(`time < ${p(q.to)}`);
  if (q.ae !== undefined) {
    const ae = p(q.ae.trim());
    conds.push(`(calling_ae = ${ae} OR called_ae = ${ae})`);
  }
  if (q.kind !== undefined) conds.push(`kind = ${p(q.kind)}`);
  if (q.outcome !== undefined) conds.push(`outcome = ${p(q.outcome)}`);
  if (q.patientId !== undefined) conds.push(`pk IN (SELECT event_fk FROM activity_subjects WHERE patient_id = ${p(q.patientId)})`);
  if (q.studyUid !== undefined) conds.push(`pk IN (SELECT event_fk FROM activity_subjects WHERE study_uid = ${p(q.studyUid)})`);
  if (q.before !== undefined) conds.push(`pk < ${p(q.before)}`);
  if (q.after !== undefined) conds.push(`pk > ${p(q.after)}`);
  return { sql: conds.length ? `WHERE ${conds.join(' AND ')}` : '', params };
}

export class ActivityStore {
  private constructor(private readonly index: SqlIndex) {}

  static async open(index: Index): Promise<ActivityStore> {
    await ensureActivitySchema(index);
    return new ActivityStore(sqlIndex(index));
  }

  /** Appends events in one transaction; returns them with their ids and times, in order. */
  append(inputs: readonly ActivityInput[]): Promise<ActivityEvent[]> {
    if (inputs.length === 0) return Promise.resolve([]);
    return this.index.write(async (tx) => {
      const out: ActivityEvent[] = [];
      for (const input of inputs) {
        const { time, ...rest } = input;
        const body: Omit<ActivityEvent, 'id'> = {
          ...rest,
          time: time ?? new Date().toISOString(),
          patientIds: distinct(input.patientIds),
          studyUids: distinct(input.studyUids),
        };
        if (!body.patientIds) delete body.patientIds;
        if (!body.studyUids) delete body.studyUids;
        const rows = await tx.execute(`INSERT INTO activity (time, kind, outcome, calling_ae, called_ae, json) VALUES ($1, $2, $3, $4, $5, $6) RETURNING pk`, [
          body.time,
          body.kind,
          body.outcome,
          body.callingAe?.trim() ?? null,
          body.calledAe?.trim() ?? null,
          JSON.stringify(body),
        ]);
        const id = Number(rows[0].pk);
        for (const patientId of body.patientIds ?? []) {
          await tx.execute('INSERT INTO activity_subjects (event_fk, patient_id, study_uid) VALUES ($1, $2, NULL)', [id, patientId]);
        }
        for (const studyUid of body.studyUids ?? []) {
          await tx.execute('INSERT INTO activity_subjects (event_fk, patient_id, study_uid) VALUES ($1, NULL, $2)', [id, studyUid]);
        }
        out.push({ id, ...body });
      }
      return out;
    });
  }

  /**
   * One page: with `after`, the events newer than it, oldest first (polling); otherwise the
   * newest (older than `before` when given) first, with the cursor of the next page.
   */
  async query(q: ActivityQuery = {}): Promise<ActivityPage> {
    const limit = Math.min(Math.max(1, Math.trunc(q.limit ?? ACTIVITY_DEFAULT_LIMIT)), ACTIVITY_MAX_LIMIT);
    const { sql, params } = whereOf(q);
    const order = q.after !== undefined ? 'ASC' : 'DESC';
    params.push(limit + 1);
    const rows = await this.index.read((tx) => tx.select(`SELECT pk, json FROM activity ${sql} ORDER BY pk ${order} LIMIT $${params.length}`, params));
    const events = rows.slice(0, limit).map(rowToEvent);
    const more = rows.length > limit && q.after === undefined;
    return more ? { events, nextBefore: events[events.length - 1].id } : { events };
  }

  /** The newest event's id (0 when there is none): where following starts. */
  async lastId(): Promise<number> {
    const rows = await this.index.read((tx) => tx.select('SELECT MAX(pk) AS m FROM activity'));
    return rows.length && rows[0].m !== null ? Number(rows[0].m) : 0;
  }

  /** Deletes the events recorded before `cutoff` (ISO 8601); returns how many. */
  async pruneBefore(cutoff: string): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.index.write(async (tx) => {
        const pks = await tx.execute('SELECT pk FROM activity WHERE time < $1 ORDER BY pk LIMIT $2', [cutoff, PRUNE_BATCH]);
        if (pks.length === 0) return 0;
        const last = Number(pks[pks.length - 1].pk);
        // Every selected row has pk <= last; rows above the batch stay for the next round.
        await tx.execute('DELETE FROM activity_subjects WHERE event_fk IN (SELECT pk FROM activity WHERE time < $1 AND pk <= $2)', [cutoff, last]);
        await tx.execute('DELETE FROM activity WHERE time < $1 AND pk <= $2', [cutoff, last]);
        return pks.length;
      });
      total += n;
      if (n < PRUNE_BATCH) return total;
    }
  }
}
