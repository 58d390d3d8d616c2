/**
 * The activity log in the index, on both backends (one suite, SQLite and PostgreSQL):
 * events appended with ids, read newest first in pages, polled after an id, filtered by
 * time, AE, patient, study, kind and outcome, and pruned by age through the recorder
 * (ActivityLog), which also hands each stored event to live listeners.
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { ActivityEvent, ActivityInput } from '../../src/api-types/activity.js';
import { ActivityStore } from '../../src/archive/activity-store.js';
import type { Index } from '../../src/archive/index-types.js';
import { SqliteIndex } from '../../src/archive/sqlite-index.js';
import { ActivityLog, activityMatches } from '../../src/services/activity-log.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { registerPostgresSuite } from './pg-support.js';

afterAll(() => removeTempDirs());

const DAY = 86_400_000;
const at = (iso: string) => new Date(iso).toISOString();

/** Four events: a released association storing two studies of P1, a rejected one, a failed login, a delete of P2's study. */
const EVENTS: ActivityInput[] = [
  {
    time: at('2026-03-01T08:00:00Z'),
    kind: 'association',
    outcome: 'released',
    message: 'CT01 -> PACS (10.0.0.5): released after 2.0 s; stored 30',
    callingAe: 'CT01',
    calledAe: 'PACS',
    peerAddress: '10.0.0.5',
    tls: false,
    contexts: ['CT Image Storage'],
    durationMs: 2000,
    summary: { stored: { requests: 31, completed: 30, failed: 1, failures: [{ status: 0xa700, count: 1 }] } },
    patientIds: ['P1', 'P1'],
    studyUids: ['1.2.3.1', '1.2.3.2'],
  },
  {
    time: at('2026-03-01T09:00:00Z'),
    kind: 'association',
    outcome: 'rejected',
    reason: 'calling AE title "EVIL" is not registered',
    message: 'EVIL -> PACS (10.0.0.9): association rejected',
    callingAe: 'EVIL',
    calledAe: 'PACS',
    peerAddress: '10.0.0.9',
    tls: true,
  },
  { time: at('2026-03-02T10:00:00Z'), kind: 'login', outcome: 'failure', user: 'mallory', message: 'mallory: login failed', peerAddress: '10.0.0.7' },
  {
    time: at('2026-03-03T11:00:00Z'),
    kind: 'delete',
    outcome: 'success',
    user: 'admin',
    message: 'admin: deleted study 1.2.9',
    patientIds: ['P2'],
    studyUids: ['1.2.9'],
  },
];

function suite(name: string, open: () => Promise<Index>, cleanup: () => Promise<void> = async () => undefined) {
  describe(name, () => {
    it('appends events with increasing ids and filters them in SQL', async () => {
      const index = await open();
      try {
        const store = await ActivityStore.open(index);
        await ActivityStore.open(index); // idempotent
        const stored = await store.append(EVENTS);
        expect(stored.map((e) => e.id)).toEqual([...stored.map((e) => e.id)].sort((a, b) => a - b));
        expect(new Set(stored.map((e) => e.id)).size).toBe(4);
        expect(stored[0].patientIds).toEqual(['P1']); // duplicates named once
        const ids = (q: Parameters<ActivityStore['query']>[0]) => store.query(q).then((p) => p.events.map((e) => e.message.split(':')[0]));

        expect(await ids({})).toEqual(['admin', 'mallory', 'EVIL -> PACS (10.0.0.9)', 'CT01 -> PACS (10.0.0.5)']);
        expect(await ids({ ae: 'PACS' })).toEqual(['EVIL -> PACS (10.0.0.9)', 'CT01 -> PACS (10.0.0.5)']);
        expect(await ids({ ae: 'CT01' })).toEqual(['CT01 -> PACS (10.0.0.5)']);
        expect(await ids({ kind: 'association', outcome: 'rejected' })).toEqual(['EVIL -> PACS (10.0.0.9)']);
        expect(await ids({ outcome: 'failure' })).toEqual(['mallory']);
        expect(await ids({ patientId: 'P1' })).toEqual(['CT01 -> PACS (10.0.0.5)']);
        expect(await ids({ studyUid: '1.2.3.2' })).toEqual(['CT01 -> PACS (10.0.0.5)']);
        expect(await ids({ studyUid: '1.2.9', patientId: 'P2' })).toEqual(['admin']);
        expect(await ids({ studyUid: '1.2.9', patientId: 'P1' })).toEqual([]);
        expect(await ids({ from: at('2026-03-01T09:00:00Z'), to: at('2026-03-03T00:00:00Z') })).toEqual(['mallory', 'EVIL -> PACS (10.0.0.9)']);

        // The whole event comes back as recorded.
        const [assoc] = (await store.query({ kind: 'association', outcome: 'released' })).events;
        expect(assoc).toMatchObject({
          callingAe: 'CT01',
          calledAe: 'PACS',
          peerAddress: '10.0.0.5',
          tls: false,
          contexts: ['CT Image Storage'],
          durationMs: 2000,
          summary: { stored: { completed: 30, failed: 1, failures: [{ status: 0xa700, count: 1 }] } },
          studyUids: ['1.2.3.1', '1.2.3.2'],
        });

        // Pages: newest first, then older with the cursor; polling: after an id, oldest first.
        const first = await store.query({ limit: 3 });
        expect(first.events.map((e) => e.id)).toEqual([stored[3].id, stored[2].id, stored[1].id]);
        expect(first.nextBefore).toBe(stored[1].id);
        const second = await store.query({ limit: 3, before: first.nextBefore });
        expect(second.events.map((e) => e.id)).toEqual([stored[0].id]);
        expect(second.nextBefore).toBeUndefined();
        expect((await store.query({ after: stored[1].id })).events.map((e) => e.id)).toEqual([stored[2].id, stored[3].id]);
        expect(await store.lastId()).toBe(stored[3].id);
        // The limit is bounded whatever is asked.
        expect((await store.query({ limit: 1e9 })).events).toHaveLength(4);
      } finally {
        await index.close();
        await cleanup();
      }
    });

    it('records through ActivityLog: stored in order, listeners told with ids, pruned by retention', async () => {
      const index = await open();
      const lines: string[] = [];
      const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
      // 100 years while attaching (its first pruning runs with the clock of today), then 30 days.
      let retentionDays = 36500;
      const log = new ActivityLog({ logger, retentionDays: () => retentionDays });
      try {
        // Recorded before the store is attached: kept, then written.
        log.record(EVENTS[1]);
        const seen: ActivityEvent[] = [];
        log.subscribe((e) => seen.push(e));
        log.attach(await ActivityStore.open(index));
        log.record(EVENTS[2]);
        log.record({ kind: 'config', outcome: 'success', user: 'admin', message: 'admin: added AE CT02', target: 'CT02' }); // now
        await log.flushed();
        expect(seen.map((e) => e.kind)).toEqual(['association', 'login', 'config']);
        expect(seen[2].id).toBeGreaterThan(seen[1].id);
        // One line per event at info, with its message.
        const infos = lines.map((l) => JSON.parse(l) as { level: number; msg: string; activity?: { kind: string } }).filter((l) => l.activity);
        expect(infos.map((l) => [l.level, l.msg])).toEqual([
          [30, 'EVIL -> PACS (10.0.0.9): association rejected'],
          [30, 'mallory: login failed'],
          [30, 'admin: added AE CT02'],
        ]);
        retentionDays = 30;
        // 30 days before 2026-03-31T12:00 is 2026-03-01T12:00: the two events of March 1 go, the rest stay.
        expect(await log.prune(Date.parse('2026-03-31T12:00:00Z'))).toBe(1);
        expect((await log.query({})).events.map((e) => e.kind)).toEqual(['config', 'login']);
        expect(await log.prune(Date.parse('2026-03-31T12:00:00Z') + 2 * DAY)).toBe(1);
        expect((await log.query({})).events.map((e) => e.kind)).toEqual(['config']);
      } finally {
        await log.close();
        await index.close();
        await cleanup();
      }
    });
  });
}

suite('activity log on SQLite', async () => SqliteIndex.open(join(await makeTempDir('pacs-activity-'), 'index.sqlite')));

await registerPostgresSuite('activity log on PostgreSQL', (pg) =>
  suite(
    'activity log on PostgreSQL',
    () => pg.open(),
    () => pg.destroy(),
  ),
);

describe('live filter', () => {
  it('matches as the SQL filter does', () => {
    const e: ActivityEvent = { ...EVENTS[0], id: 1, time: EVENTS[0].time! };
    expect(activityMatches(e, {})).toBe(true);
    expect(activityMatches(e, { ae: 'PACS', patientId: 'P1', studyUid: '1.2.3.2', kind: 'association', outcome: 'released' })).toBe(true);
    expect(activityMatches(e, { ae: 'CT02' })).toBe(false);
    expect(activityMatches(e, { studyUid: '1.2.9' })).toBe(false);
    expect(activityMatches(e, { from: at('2026-03-01T08:00:00Z') })).toBe(true);
    expect(activityMatches(e, { to: at('2026-03-01T08:00:00Z') })).toBe(false);
  });
});
