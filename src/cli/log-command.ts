/**
 * `pacs log [--follow] [--aet AE] [--kind K] [--outcome O] [--patient-id ID] [--study UID]
 * [--since TIME] [--until TIME] [--limit N] [--json]`: the activity log (issue 18), read
 * from the Main Server's index (the data directory's SQLite file, or the PostgreSQL index
 * `pacs serve` was given), so it works on a stopped server too. Oldest first, one line
 * per event; --follow then prints each new event as it is recorded (the index is polled
 * every second).
 */
import { Command, Option } from 'commander';
import { resolve } from 'node:path';
import { ACTIVITY_KINDS, ACTIVITY_OUTCOMES, type ActivityEvent, type ActivityQuery } from '../api-types/activity.js';
import { ActivityStore } from '../archive/activity-store.js';
import { openIndex, IndexMissingError } from '../archive/open-index.js';
import { issuesOf } from '../config/index.js';
import { activityQuerySchema } from '../services/activity-query.js';
import { COMMANDS } from './commands.js';

const POLL_MS = 1000;

interface LogOptions {
  data: string;
  databaseUrl?: string;
  databaseSchema: string;
  follow?: boolean;
  aet?: string;
  kind?: string;
  outcome?: string;
  patientId?: string;
  study?: string;
  since?: string;
  until?: string;
  limit: string;
  json?: boolean;
}

/** One event as a line: time, kind, outcome, then its message (and the reason, when the message does not hold it). */
export function formatEvent(e: ActivityEvent): string {
  const reason = e.reason && !e.message.includes(e.reason) ? ` (${e.reason})` : '';
  return `${e.time}  ${e.kind.padEnd(11)} ${e.outcome.padEnd(8)}  ${e.message}${reason}`.replace(/[\r\n]+/g, ' ');
}

/** The options as the store's query; a bad value is an error naming the option. */
export function logQuery(o: Pick<LogOptions, 'aet' | 'kind' | 'outcome' | 'patientId' | 'study' | 'since' | 'until' | 'limit'>): ActivityQuery {
  const OPTION: Record<string, string> = {
    ae: '--aet',
    kind: '--kind',
    outcome: '--outcome',
    patientId: '--patient-id',
    studyUid: '--study',
    from: '--since',
    to: '--until',
    limit: '--limit',
  };
  const r = activityQuerySchema.safeParse({
    ae: o.aet,
    kind: o.kind,
    outcome: o.outcome,
    patientId: o.patientId,
    studyUid: o.study,
    from: o.since,
    to: o.until,
    limit: o.limit,
  });
  if (!r.success) {
    const issues = issuesOf(r.error);
    throw new Error(issues.map((i) => `${OPTION[i.field] ?? i.field}: ${i.message}`).join('\n'));
  }
  const query: ActivityQuery = Object.fromEntries(Object.entries(r.data).filter(([, v]) => v !== undefined));
  return query;
}

export function registerLogCommand(program: Command): void {
  program
    .command('log')
    .description(COMMANDS.log)
    .option('--data <dir>', 'data directory', process.env.PACS_DATA_DIR ?? './data')
    .option('--database-url <url>', "the PostgreSQL index `pacs serve` uses (else the data directory's SQLite index)", process.env.PACS_DATABASE_URL)
    .option('--database-schema <name>', 'PostgreSQL schema of the index', process.env.PACS_DATABASE_SCHEMA ?? 'pacs')
    .option('-f, --follow', 'keep printing new events as they are recorded (Ctrl-C ends)')
    .option('--aet <title>', 'only events with this calling or called AE title')
    .addOption(new Option('--kind <kind>', 'only this kind of event').choices(ACTIVITY_KINDS))
    .addOption(new Option('--outcome <outcome>', 'only this outcome').choices(ACTIVITY_OUTCOMES))
    .option('--patient-id <id>', 'only events naming this Patient ID')
    .option('--study <uid>', 'only events naming this Study Instance UID')
    .option('--since <time>', 'only events from this time on (ISO 8601, e.g. 2026-01-31T08:00:00Z)')
    .option('--until <time>', 'only events before this time')
    .option('-n, --limit <n>', 'the newest N events (at most 1000)', '50')
    .option('--json', 'one JSON object per line')
    .action(async (o: LogOptions) => {
      const query = logQuery(o);
      const dataDir = resolve(o.data);
      let index;
      try {
        index = await openIndex(dataDir, o.databaseUrl ? { postgres: o.databaseUrl, schema: o.databaseSchema } : 'sqlite', { create: false });
      } catch (err) {
        if (err instanceof IndexMissingError)
          throw new Error(`no index in ${dataDir}: has pacs serve run with --data ${o.data}? (or give --database-url)`, { cause: err });
        throw err;
      }
      const print = (e: ActivityEvent) => process.stdout.write(`${o.json ? JSON.stringify(e) : formatEvent(e)}\n`);
      try {
        const store = await ActivityStore.open(index);
        const page = await store.query(query);
        for (const e of [...page.events].reverse()) print(e);
        if (!o.follow) return;
        // After the newest event shown; none shown: none matches yet, so every later match is new.
        let last = page.events[0]?.id ?? 0;
        const { limit: _limit, ...filter } = query;
        void _limit;
        for (;;) {
          await new Promise((r) => setTimeout(r, POLL_MS));
          const next = await store.query({ ...filter, after: last, limit: 1000 });
          for (const e of next.events) print(e);
          if (next.events.length) last = next.events[next.events.length - 1].id;
        }
      } finally {
        if (!o.follow) await index.close();
      }
    });
}
