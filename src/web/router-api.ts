/**
 * REST API of the router (behind the /api login):
 *   GET    /api/router/rules                 settings: the ordered rules and the queue policy, with
 *                                            warnings (rules that can never match: a catch-all `true`
 *                                            rule precedes them) and catchAll (that rule's name or null)
 *   PUT    /api/router/rules                 the whole ordered list {rules, queue?} (reorder, bulk edit);
 *                                            answered as GET (warnings and catchAll ignored in the body)
 *   POST   /api/router/rules[?position=N]    add one rule (0-based position; default last); 201, the
 *                                            rule with the list's warnings
 *   PUT    /api/router/rules/{name}          replace one rule (it may be renamed); the rule with warnings
 *   DELETE /api/router/rules/{name}          204
 *   POST   /api/router/validate {condition}  {ok: true} or {ok: false, problems: [{message, line, column}]}
 *   POST   /api/router/dry-run               JSON {sopInstanceUid, archive?} or {file: base64 Part 10},
 *                                            optional rules (unsaved) and callingAE/calledAE/peerAddress;
 *                                            or the raw file (Content-Type application/dicom) with
 *                                            ?callingAE=&calledAE=&peerAddress=
 *   GET    /api/router/queue                 counts per destination
 *   GET    /api/router/queue/{dest}?state=pending|inflight|failed|dead&limit=&offset=
 *                                            entries with their instance's patient, study and series
 *   POST   /api/router/queue/{dest}/retry    {id?, state?: failed|dead}: failed and dead entries (or
 *                                            one kind, or one entry) due now; recorded in the activity log
 *   POST   /api/router/queue/{dest}/purge    {state?: dead|all, id?}
 *   GET    /api/router/unrouted?state=unrouted|rule-failed&limit=&offset=
 *                                            held instances: no rule forwards them, or their
 *                                            rules failed (with the error); {counts, entries}
 *   POST   /api/router/unrouted/retry        {id?, state?}: evaluate the current rules again
 *   POST   /api/router/unrouted/purge        {id?, state?}: drop them (then the retention may delete the instances)
 * Bad input is a 400 problem naming the field; a condition's syntax error also gives its
 * line and column. Evaluation and queue logic live in src/router; this module only maps.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { aeTitleSchema, ConfigConflictError, ConfigValidationError, findAe, parseOrThrow, type ConfigStore } from '../config/index.js';
import type { PacsRoles } from '../roles/pacs-roles.js';
import { compileCondition, ConditionError } from '../router/condition.js';
import { HELD_STATES } from '../archive/forward-queue.js';
import type { ActivityRecorder } from '../services/activity-log.js';
import { webAction } from './activity-api.js';
import { QUEUE_VIEWS, type Router } from '../router/router.js';
import { catchAllRule, routeOutcome, unreachableRules, validateSettings, type RouteDecision, type RouterSettings } from '../router/rules.js';
import type { DestinationStatus, DryRunResult, RouterRules, SavedRule, UnroutedList, ValidateResult } from '../api-types/router.js';
import { access } from './route-access.js';

/** Largest Part 10 file a dry run accepts. */
export const DRY_RUN_MAX_FILE = 64 << 20;
/** The HTTP body may carry the file base64-encoded inside JSON (4/3 of its size) plus the rules. */
const DRY_RUN_BODY_LIMIT = Math.ceil((DRY_RUN_MAX_FILE * 4) / 3) + (1 << 20);

const ARCHIVES = ['main', 'workstation', 'router'] as const;
const aeOption = z.string().trim().min(1).max(16, 'an AE title has 1 to 16 characters');

// warnings and catchAll: what GET answers may be sent back as it is; they are computed, not stored.
const settingsBody = z.strictObject({
  rules: z.array(z.unknown()),
  queue: z.unknown().optional(),
  warnings: z.unknown().optional(),
  catchAll: z.unknown().optional(),
});
const positionQuery = z.strictObject({ position: z.coerce.number().int('position must be a whole number').min(0).optional() });
const validateBody = z.strictObject({ condition: z.string().max(4096, 'at most 4096 characters') });
const dryRunContext = { callingAE: aeOption.optional(), calledAE: aeOption.optional(), peerAddress: z.string().max(64).optional() };
const dryRunJson = z
  .strictObject({
    sopInstanceUid: z.string().trim().min(1).max(64, 'a UID has at most 64 characters').optional(),
    archive: z.enum(ARCHIVES).default('router'),
    file: z.string().min(1, 'the file is empty').optional(),
    rules: z.array(z.unknown()).optional(),
    ...dryRunContext,
  })
  .refine((b) => (b.sopInstanceUid === undefined) !== (b.file === undefined), { message: 'give either sopInstanceUid or file', path: ['sopInstanceUid'] });
const dryRunQuery = z.strictObject(dryRunContext);
const queueQuery = z.strictObject({
  state: z.enum(QUEUE_VIEWS).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});
const entryId = z.number().int().min(1);
const retryBody = z.strictObject({ id: entryId.optional(), state: z.enum(['failed', 'dead']).optional() });
const purgeBody = z.strictObject({ state: z.enum(['dead', 'all']).default('dead'), id: entryId.optional() });
const heldQuery = z.strictObject({
  state: z.enum(HELD_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});
const heldBody = z.strictObject({ state: z.enum(HELD_STATES).optional(), id: entryId.optional() });
/** What the router would do with the instance: send, discard, keep it unrouted, or hold it because a rule failed. */
const OUTCOMES = { send: 'send', discard: 'discard', unrouted: 'unrouted', failed: 'rule-failed' } as const;

interface RouterApiDeps {
  config: ConfigStore;
  roles?: Pick<PacsRoles, 'archive' | 'router'>;
  activity?: ActivityRecorder;
}

type NameRequest = FastifyRequest<{ Params: { name: string } }>;
type DestRequest = FastifyRequest<{ Params: { dest: string } }>;

/** The settings as answered: with the rules that can never match and the catch-all rule. */
const withWarnings = (s: RouterSettings): RouterRules => ({ ...s, warnings: unreachableRules(s.rules), catchAll: catchAllRule(s.rules)?.name ?? null });
const savedRule = (s: RouterSettings, name: string): SavedRule => ({ ...s.rules.find((r) => r.name === name)!, warnings: unreachableRules(s.rules) });

/** What a dry run reports: per rule whether it matched, where evaluation stopped, what would go where. */
function dryRunResult(d: RouteDecision, settings: RouterSettings, router: Router): DryRunResult {
  const matched = d.matches.filter((m) => m.matched);
  const last = matched[matched.length - 1];
  const stoppedBy = last && settings.rules.find((r) => r.name === last.rule)?.continue === false ? last.rule : null;
  const outcome = routeOutcome(d);
  return {
    matches: d.matches,
    stopped: stoppedBy !== null || d.discardedBy !== undefined,
    stoppedBy: stoppedBy ?? d.discardedBy ?? null,
    outcome: OUTCOMES[outcome.kind],
    ...(outcome.kind === 'failed' ? { error: outcome.error } : {}),
    sends:
      outcome.kind !== 'send'
        ? []
        : d.sends.map((s) => {
            const target = router.resolve(s.destination);
            return { ...s, ...('error' in target ? { error: target.error } : { address: `${target.host}:${target.port}` }) };
          }),
  };
}

export async function registerRouterApi(app: FastifyInstance, deps: RouterApiDeps): Promise<void> {
  // An encapsulated scope: its own error handler (400s) and the application/dicom parser.
  await app.register(async (scope) => {
    scope.addContentTypeParser('application/dicom', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

    const router = (): Router => {
      const r = deps.roles?.router();
      if (!r) throw new ConfigConflictError('the Router is not running', 'conflict');
      return r;
    };
    const rules = () => router().rules;

    scope.get('/api/router/rules', access('read'), async (): Promise<RouterRules> => withWarnings(rules().current));

    scope.put('/api/router/rules', access('admin'), async (req) => {
      const body = parseOrThrow(settingsBody, req.body);
      const next = await rules().update((s) => ({ rules: body.rules, queue: body.queue ?? s.queue }));
      deps.activity?.record(webAction(req, 'rules', `replaced the router rules: ${body.rules.length} rule(s)${body.queue ? ' and the queue policy' : ''}`));
      return withWarnings(next);
    });

    scope.post('/api/router/rules', access('admin'), async (req, reply) => {
      const { position } = parseOrThrow(positionQuery, req.query);
      const next = await rules().add(req.body, position);
      const name = (req.body as { name: string }).name.trim();
      deps.activity?.record(webAction(req, 'rules', `added router rule "${name}"`, { target: name }));
      return reply
        .code(201)
        .header('location', `/api/router/rules/${encodeURIComponent(name)}`)
        .send(savedRule(next, name));
    });

    scope.get('/api/router/rules/:name', access('read'), async (req: NameRequest) => {
      const r = rules().rule(req.params.name);
      if (!r) throw new ConfigConflictError(`no rule named "${req.params.name}"`, 'not-found', 'name');
      return r;
    });

    scope.put('/api/router/rules/:name', access('admin'), async (req: NameRequest): Promise<SavedRule> => {
      const next = await rules().replace(req.params.name, req.body);
      const name = String((req.body as { name?: unknown }).name).trim();
      deps.activity?.record(
        webAction(req, 'rules', `changed router rule "${req.params.name}"${name !== req.params.name ? ` (now "${name}")` : ''}`, { target: name }),
      );
      return savedRule(next, name);
    });

    scope.delete('/api/router/rules/:name', access('admin'), async (req: NameRequest, reply) => {
      await rules().remove(req.params.name);
      deps.activity?.record(webAction(req, 'rules', `removed router rule "${req.params.name}"`, { target: req.params.name }));
      return reply.code(204).send();
    });

    scope.post('/api/router/validate', access('read'), async (req): Promise<ValidateResult> => {
      const { condition } = parseOrThrow(validateBody, req.body);
      try {
        compileCondition(condition, { checkTypes: true });
        return { ok: true };
      } catch (e) {
        if (!(e instanceof ConditionError)) throw e;
        return { ok: false, problems: [e.problem] };
      }
    });

    scope.post('/api/router/dry-run', { bodyLimit: DRY_RUN_BODY_LIMIT, ...access('admin') }, async (req) => {
      const r = router();
      if (Buffer.isBuffer(req.body)) {
        const ctx = parseOrThrow(dryRunQuery, req.query);
        return dryRunResult(dryRunFile(r, req.body, ctx, r.rules.current), r.rules.current, r);
      }
      const b = parseOrThrow(dryRunJson, req.body ?? {});
      // Unsaved rules are checked like a save would (names, conditions, destinations), with the saved queue policy.
      const settings = b.rules ? validateSettings({ rules: b.rules, queue: r.rules.current.queue }, deps.config.current) : r.rules.current;
      const ctx = { callingAE: b.callingAE, calledAE: b.calledAE, peerAddress: b.peerAddress };
      if (b.file !== undefined) return dryRunResult(dryRunFile(r, Buffer.from(b.file, 'base64'), ctx, settings), settings, r);
      const index = deps.roles?.archive(b.archive)?.index;
      if (!index) throw new ConfigConflictError(`the ${b.archive} archive is not open`, 'conflict', 'archive');
      const d = await r.testInstance(b.sopInstanceUid!, { settings, index, callingAE: b.callingAE, calledAE: b.calledAE });
      if (!d) throw new ConfigConflictError(`no instance ${b.sopInstanceUid} in the ${b.archive} archive`, 'not-found', 'sopInstanceUid');
      return dryRunResult(d, settings, r);
    });

    scope.get('/api/router/queue', access('read'), async (): Promise<DestinationStatus[]> =>
      (await router().status()).map((s) => ({ ...s, nextAttemptAt: s.nextAttemptAt === null ? null : new Date(s.nextAttemptAt).toISOString() })),
    );

    /** A destination the registry knows or the queue holds; otherwise 404. */
    const destination = async (req: DestRequest): Promise<string> => {
      const r = aeTitleSchema.safeParse(req.params.dest);
      const aet = r.success ? r.data : req.params.dest;
      if (findAe(deps.config.current, aet) || (await router().status()).some((s) => s.destination === aet)) return aet;
      throw new ConfigConflictError(`no destination "${req.params.dest}": not a registered AE and nothing queued for it`, 'not-found', 'destination');
    };

    scope.get('/api/router/queue/:dest', access('read'), async (req: DestRequest) => {
      const dest = await destination(req);
      const q = parseOrThrow(queueQuery, req.query);
      const entries = await router().entries({ destination: dest, view: q.state, limit: q.limit, offset: q.offset });
      return { destination: dest, state: q.state ?? null, limit: q.limit, offset: q.offset, entries };
    });

    scope.post('/api/router/queue/:dest/retry', access('admin'), async (req: DestRequest) => {
      const dest = await destination(req);
      const { id, state } = parseOrThrow(retryBody, req.body ?? {});
      const r = router();
      const entry = id === undefined ? undefined : (await r.entries({ destination: dest, ids: [id] }))[0];
      const retried = await r.retry({ destination: dest, state, ...(id !== undefined ? { ids: [id] } : {}) });
      if (id !== undefined && retried === 0) throw new ConfigConflictError(`no failed or dead entry ${id} for ${dest}`, 'not-found', 'id');
      const what =
        entry !== undefined
          ? `queue entry ${id} (${entry.sopInstanceUid}${entry.instance?.patientId ? `, patient ${entry.instance.patientId}` : ''})`
          : `${retried} ${state ?? 'failed and dead'} queue entr${retried === 1 ? 'y' : 'ies'}`;
      deps.activity?.record(
        webAction(req, 'rules', `retried ${what} for ${dest}`, {
          target: dest,
          calledAe: dest,
          ...(entry?.instance?.patientId ? { patientIds: [entry.instance.patientId] } : {}),
        }),
      );
      return { retried };
    });

    scope.get('/api/router/unrouted', access('read'), async (req): Promise<UnroutedList> => {
      const q = parseOrThrow(heldQuery, req.query);
      const r = router();
      const [counts, entries] = await Promise.all([r.unroutedCounts(), r.unrouted({ state: q.state, limit: q.limit, offset: q.offset })]);
      return { counts, state: q.state ?? null, limit: q.limit, offset: q.offset, entries };
    });

    scope.post('/api/router/unrouted/retry', access('admin'), async (req) => {
      const { state, id } = parseOrThrow(heldBody, req.body ?? {});
      const result = await router().reroute({ state, ...(id !== undefined ? { ids: [id] } : {}) });
      if (id !== undefined && result.retried === 0) throw new ConfigConflictError(`no unrouted entry ${id}`, 'not-found', 'id');
      deps.activity?.record(webAction(req, 'rules', `evaluated ${result.retried} unrouted instance(s) again`));
      return result;
    });

    scope.post('/api/router/unrouted/purge', access('admin'), async (req) => {
      const { state, id } = parseOrThrow(heldBody, req.body ?? {});
      const purged = await router().purgeUnrouted({ state, ...(id !== undefined ? { ids: [id] } : {}) });
      if (id !== undefined && purged === 0) throw new ConfigConflictError(`no unrouted entry ${id}`, 'not-found', 'id');
      deps.activity?.record(webAction(req, 'rules', `purged ${purged} unrouted instance(s)`));
      return { purged };
    });

    scope.post('/api/router/queue/:dest/purge', access('admin'), async (req: DestRequest) => {
      const dest = await destination(req);
      const { state, id } = parseOrThrow(purgeBody, req.body ?? {});
      const purged = await router().purge({ destination: dest, all: state === 'all', ...(id !== undefined ? { ids: [id] } : {}) });
      if (id !== undefined && purged === 0) throw new ConfigConflictError(`no ${state === 'all' ? '' : 'dead '}entry ${id} for ${dest}`, 'not-found', 'id');
      deps.activity?.record(webAction(req, 'rules', `purged ${purged} queue entr(ies) for ${dest}`, { target: dest, calledAe: dest }));
      return { purged };
    });
  });
}

/** Evaluates a file's attributes; bytes that are not a DICOM Part 10 file are a 422 naming `file`. */
function dryRunFile(r: Router, bytes: Buffer, ctx: { callingAE?: string; calledAE?: string; peerAddress?: string }, settings: RouterSettings): RouteDecision {
  if (bytes.length > DRY_RUN_MAX_FILE) {
    throw new ConfigValidationError([{ field: 'file', message: `the file has ${bytes.length} bytes; a dry run takes at most ${DRY_RUN_MAX_FILE}` }]);
  }
  try {
    return r.testFile(bytes, ctx, settings);
  } catch (e) {
    if (e instanceof ConfigValidationError) throw e;
    // Any failure to parse user-supplied bytes is bad input, not a server error.
    throw new ConfigValidationError([{ field: 'file', message: (e as Error).message }]);
  }
}
