/**
 * The activity log over HTTP (issue 18), for admins:
 *   GET /api/activity?from=&to=&ae=&patientId=&studyUid=&kind=&outcome=&before=&after=&limit=
 *       a page of events, newest first (older pages with `before`); with `after`, the
 *       events since that id, oldest first (polling)
 *   GET /api/activity/stream?<same filters>&after=
 *       Server-Sent Events: each event recorded from now on (after `after` or the
 *       Last-Event-ID of a reconnecting EventSource: those first, at most one page)
 * and `webAction`, the event of a web action that changes or exports data, which the
 * routes doing one record (one line each).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import {
  ACTIVITY_MAX_LIMIT,
  type ActivityEvent,
  type ActivityInput,
  type ActivityKind,
  type ActivityOutcome,
  type ActivityPage,
  type ActivityQuery,
} from '../api-types/activity.js';
import { parseOrThrow } from '../config/index.js';
import { activityMatches, type ActivityLog } from '../services/activity-log.js';
import { activityQuerySchema } from '../services/activity-query.js';
import { HttpError } from './problem.js';
import { access } from './route-access.js';

/** Streams open at once (each holds a socket and a listener): more get 503. */
const MAX_STREAMS = 32;
/** Bytes a stream's client may leave unread; past it the stream is closed (the EventSource reconnects and catches up). */
const MAX_UNREAD_BYTES = 1 << 20;
const HEARTBEAT_MS = 20_000;

export type ActivitySource = Pick<ActivityLog, 'query' | 'subscribe'>;

/** The event of a web action by the request's user, from the request's address. */
export function webAction(
  req: FastifyRequest,
  kind: ActivityKind,
  message: string,
  more: Partial<Omit<ActivityInput, 'kind' | 'message'>> & { outcome?: ActivityOutcome } = {},
): ActivityInput {
  const user = more.user ?? req.identity?.name;
  return { kind, outcome: 'success', peerAddress: req.ip, ...(user ? { user } : {}), ...more, message: user ? `${user}: ${message}` : message };
}

export async function registerActivityApi(app: FastifyInstance, deps: { activity?: ActivitySource }): Promise<void> {
  const source = (): ActivitySource => {
    if (!deps.activity) throw new HttpError(503, 'the activity log is not running (the Main Server did not start)');
    return deps.activity;
  };

  app.get('/api/activity', access('admin'), async (req): Promise<ActivityPage> => {
    const q: ActivityQuery = parseOrThrow(activityQuerySchema, req.query);
    return source().query(q);
  });

  const streams = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    for (const s of streams) s.end();
  });

  app.get('/api/activity/stream', access('admin'), async (req, reply) => {
    const query: ActivityQuery = parseOrThrow(activityQuerySchema, req.query);
    const { before: _before, limit: _limit, after, ...filter } = query;
    void _before;
    void _limit;
    const log = source();
    if (streams.size >= MAX_STREAMS) throw new HttpError(503, `${MAX_STREAMS} activity streams are open already; poll GET /api/activity?after=ID instead`);
    const lastEventId = Number(req.headers['last-event-id']);
    let last = Number.isSafeInteger(lastEventId) && lastEventId >= 0 ? lastEventId : after;

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    res.write('retry: 2000\n\n');
    streams.add(res);
    // Live events wait while the catch-up page is read, then go out after it, once each.
    let held: ActivityEvent[] | undefined = [];
    const send = (e: ActivityEvent) => {
      if (last !== undefined && e.id <= last) return;
      last = e.id;
      if (!activityMatches(e, filter)) return;
      if (res.writableLength > MAX_UNREAD_BYTES) return void res.end();
      res.write(`id: ${e.id}\nevent: activity\ndata: ${JSON.stringify(e)}\n\n`);
    };
    const unsubscribe = log.subscribe((e) => (held ? held.length < ACTIVITY_MAX_LIMIT && held.push(e) : send(e)));
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    res.on('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
      streams.delete(res);
    });
    try {
      if (last !== undefined) for (const e of (await log.query({ ...filter, after: last, limit: ACTIVITY_MAX_LIMIT })).events) send(e);
    } catch (err) {
      req.log.warn({ err: (err as Error).message }, 'activity stream: catch-up not read');
    }
    const waiting = held;
    held = undefined;
    for (const e of waiting) send(e);
  });
}
