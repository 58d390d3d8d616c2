/**
 * The router: rules (RuleStore), the durable forward queue (archive/forward-queue.ts, in
 * the Router role's own index) and one sender per destination.
 *
 * Wiring (src/roles/pacs-roles.ts): the Router role's archive is opened with
 * `afterInsert: router.afterInsert`; that hook runs inside the index transaction that
 * inserts received instances, evaluates the rules for each newly stored instance and
 * inserts its queue rows in the same transaction (see archive/forward-queue.ts for why
 * this is at-least-once). `attach(archive)` then starts the senders for whatever is
 * queued (after a restart: everything not yet delivered).
 *
 * An instance no rule sends, or whose rules fail, gets a held row instead (routeOutcome
 * in rules.ts; archive/forward-queue.ts): kept from the retention until a user purges it
 * or retries it (reroute); only a rule that discards lets an instance go without one.
 *
 * Several router nodes on one PostgreSQL database (`claims`): the queue is the nodes'
 * common work. Each node's senders claim entries (archive/forward-queue.ts) instead of
 * taking what its own ingest handed over, a node renews its claims every third of its
 * lease and drops those of its previous process at attach. A node learns of entries
 * enqueued by another node by polling (CLAIM_POLL_MS, per destination, and for new
 * destinations here) rather than by LISTEN/NOTIFY: its own receptions wake its senders
 * at once; another node's entries are that node's work while it lives, and a dead
 * node's come free only when its lease expires, seconds later, so a notification would
 * gain little over a one-second poll, while it needs a connection held open per node and
 * a poll anyway for notifications lost across a reconnect.
 */
import type { ConnectionOptions } from 'node:tls';
import type { Logger } from 'pino';
import type { Archive } from '../archive/archive.js';
import type {
  DestinationCounts,
  ForwardQueueStore,
  HeldCounts,
  HeldEntry,
  HeldState,
  NewEntry,
  QueueClaim,
  QueueEntry,
  QueueState,
  RetryState,
} from '../archive/forward-queue.js';
import { instanceSummary, type Index, type IndexWriter, type InsertResult, type InstanceRecord, type InstanceSummary } from '../archive/index-types.js';
import { findAe, serverAe, type Ae, type Registry } from '../config/index.js';
import { datasetToJson, readPart10, type DicomJsonObject } from '../dicom/index.js';
import type { RuleStore } from './rule-store.js';
import { CompiledRules, isPluginDestination, routeOutcome, validateSettings, type RouteDecision, type RouteOutcome } from './rules.js';
import { CLAIM_POLL_MS, DestinationSender, type DestinationTarget, type ReadyEntry } from './sender.js';

export interface RouterOptions {
  rules: RuleStore;
  registry: () => Registry;
  logger: Logger;
  maxPduLength?: number;
  /** TLS client options for a destination marked TLS in the registry (throws when TLS is not set up). */
  tls?: (ae: Ae) => ConnectionOptions | undefined;
  /** The add-in destination `@NAME` (a rule's destination), or undefined when no loaded add-in provides it. */
  pluginDestination?: (name: string) => ((inst: InstanceSummary, archive: Archive) => Promise<void>) | undefined;
  /** Several router nodes share the queue (PostgreSQL): this node's name and lease for its claims. */
  claims?: QueueClaim;
}

/** A destination's counts with what only the running router knows (in flight; sent, not yet flushed). */
export type QueueStatus = DestinationCounts;

/** How the queue is shown: pending = never tried; failed = tried, waiting for a retry; in flight = being sent now. */
export const QUEUE_VIEWS = ['pending', 'inflight', 'failed', 'dead'] as const;
export type QueueView = (typeof QUEUE_VIEWS)[number];

export interface QueueItem extends QueueEntry {
  /** Being sent now (pending and failed entries can be in flight). */
  inFlight: boolean;
}

/** What a retry of held entries did: each entry was routed, discarded, is still held (unrouted or failed), or its instance is gone. */
export interface RerouteResult {
  retried: number;
  routed: number;
  discarded: number;
  unrouted: number;
  failed: number;
  gone: number;
}

/** How often forwarded instances past their retention are looked for. */
const RETENTION_CHECK_MS = 10 * 60_000;

const reachable = (host: string): string => (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);

export class Router {
  private compiled: CompiledRules;
  private archive: Archive | undefined;
  private queue: ForwardQueueStore | undefined;
  private readonly senders = new Map<string, DestinationSender>();
  private readonly unsubscribe: () => void;
  private closed = false;
  private retention: NodeJS.Timeout | undefined;
  /** With claims: the renewal of this node's claims, and the look for destinations other nodes queued for. */
  private claimTimers: NodeJS.Timeout[] = [];

  constructor(private readonly o: RouterOptions) {
    this.compiled = new CompiledRules(o.rules.current);
    this.unsubscribe = o.rules.onChange((s) => {
      this.compiled = new CompiledRules(s);
      o.logger.info({ rules: s.rules.length }, 'router rules changed');
    });
  }

  get rules(): RuleStore {
    return this.o.rules;
  }

  /** Archive hook: queue rows for each newly stored instance, in the ingest's transaction. */
  readonly afterInsert = async (tx: IndexWriter, records: readonly InstanceRecord[], results: readonly InsertResult[]): Promise<(() => void) | void> => {
    // The table exists once attach() ran; before that (the first stores of a new archive) create it here.
    if (!this.queue) await tx.forwardQueue.ensureSchema();
    const entries: NewEntry[] = [];
    const held: HeldEntry[] = [];
    records.forEach((r, i) => {
      if (results[i].status === 'duplicate') return;
      let attributes: DicomJsonObject | undefined;
      const outcome = this.outcome(
        this.compiled,
        {
          callingAE: r.callingAeTitle,
          calledAE: r.calledAeTitle ?? '',
          peerAddress: r.peerAddress ?? null,
          // Parsed once, and only if a condition reads attributes.
          attributes: () => (attributes ??= JSON.parse(r.json) as DicomJsonObject),
        },
        r.sopInstanceUid,
      );
      if (outcome.kind === 'send') {
        for (const s of outcome.sends) entries.push({ destination: s.destination, sopInstanceUid: r.sopInstanceUid, rule: s.rule, changes: s.changes });
      } else if (outcome.kind !== 'discard') {
        held.push(heldEntry(r.sopInstanceUid, outcome));
      }
    });
    await tx.forwardQueue.hold(held);
    const queued = await tx.forwardQueue.enqueue(entries);
    if (queued.length === 0) return;
    const summaries = new Map(records.map((r) => [r.sopInstanceUid, instanceSummary(r)]));
    // The senders run as soon as the rows are committed (before, their reads would not
    // see them), with the entries and their instances handed over in memory.
    return () => {
      const perDestination = new Map<string, ReadyEntry[]>();
      for (const entry of queued) {
        const list = perDestination.get(entry.destination) ?? [];
        list.push({ entry, inst: summaries.get(entry.sopInstanceUid)! });
        perDestination.set(entry.destination, list);
      }
      for (const [d, items] of perDestination) this.sender(d)?.offer(items);
    };
  };

  /** The decision for one instance as the router acts on it; a failure is logged here, once. */
  private outcome(rules: CompiledRules, ctx: Parameters<CompiledRules['decide']>[0], sopInstanceUid: string): RouteOutcome {
    let outcome: RouteOutcome;
    try {
      outcome = routeOutcome(rules.decide(ctx));
    } catch (err) {
      outcome = { kind: 'failed', rule: '', error: `the rules could not be evaluated: ${(err as Error).message}` };
    }
    if (outcome.kind === 'failed')
      this.o.logger.warn({ rule: outcome.rule, sopInstanceUid, err: outcome.error }, 'router rule failed: instance held, not forwarded');
    return outcome;
  }

  /** Starts sending from the Router role's archive (its index holds the queue). */
  async attach(archive: Archive): Promise<void> {
    this.archive = archive;
    const queue = archive.index.forwardQueue;
    await queue.ensureSchema();
    const claims = this.o.claims;
    if (claims) {
      // One process per node name (node lock): claims under this name are its previous process's, sending nothing now.
      const released = await queue.releaseClaims(claims.claimant);
      if (released) this.o.logger.info({ released, node: claims.claimant }, 'router: claims of this node before its restart released');
    }
    this.queue = queue;
    for (const d of await this.queue.destinations()) this.kick(d);
    if (claims) this.startClaimTimers(queue, claims);
    this.retention = setInterval(() => {
      this.deleteForwarded().catch((err: Error) => this.o.logger.error({ err }, 'router: forwarded instances not deleted'));
    }, RETENTION_CHECK_MS);
    this.retention.unref();
  }

  private startClaimTimers(queue: ForwardQueueStore, claims: QueueClaim): void {
    let renewing = false;
    let renewFailing = false;
    const renew = setInterval(
      () => {
        if (renewing || this.closed) return;
        renewing = true;
        queue
          .renewClaims(claims)
          .then(() => {
            if (renewFailing) this.o.logger.info({ node: claims.claimant }, 'router: claims renewed again');
            renewFailing = false;
          })
          .catch((err: Error) => {
            // Logged once per outage: claims not renewed expire and other nodes may send them too (a duplicate, never a loss).
            if (!renewFailing) this.o.logger.warn({ err: err.message, node: claims.claimant }, 'router: claims not renewed');
            renewFailing = true;
          })
          .finally(() => (renewing = false));
      },
      Math.max(100, Math.floor(claims.leaseMs / 3)),
    );
    let looking = false;
    const look = setInterval(() => {
      if (looking || this.closed) return;
      looking = true;
      queue
        .destinations()
        .then((ds) => {
          // A sender already running polls on its own; this starts those for destinations new to this node.
          for (const d of ds) if (!this.senders.has(d)) this.kick(d, true);
        })
        .catch((err: Error) => this.o.logger.warn({ err: err.message }, 'router: queue not read for new destinations'))
        .finally(() => (looking = false));
    }, CLAIM_POLL_MS);
    for (const t of [renew, look]) t.unref();
    this.claimTimers = [renew, look];
  }

  /**
   * Deletes from the router's storage the instances with nothing left to send that arrived
   * more than `deleteForwardedAfterHours` ago (see the queue policy); returns how many.
   * Runs every RETENTION_CHECK_MS; callable at any time.
   */
  async deleteForwarded(now = Date.now()): Promise<number> {
    const hours = this.o.rules.current.queue.deleteForwardedAfterHours;
    if (hours === null || this.closed) return 0;
    const archive = this.requireArchive();
    const before = new Date(now - hours * 3_600_000).toISOString();
    let deleted = 0;
    for (;;) {
      const uids = await this.requireQueue().forwarded(before, 500);
      for (const uid of uids) if (await archive.deleteInstance(uid)) deleted++;
      if (uids.length < 500 || this.closed) break;
    }
    if (deleted) this.o.logger.info({ deleted, before }, 'router: forwarded instances deleted');
    return deleted;
  }

  /** Wakes the destination's sender; `scan`: its new work is in the index only. */
  kick(destination: string, scan = false): void {
    this.sender(destination)?.kick(scan);
  }

  /** The destination's sender, started if new; undefined before attach() and after close(). */
  private sender(destination: string): DestinationSender | undefined {
    if (this.closed || !this.archive || !this.queue) return undefined;
    let s = this.senders.get(destination);
    if (!s) {
      s = new DestinationSender({
        destination,
        archive: this.archive,
        queue: this.queue,
        policy: () => this.o.rules.current.queue,
        resolve: () => this.resolve(destination),
        logger: this.o.logger,
        maxPduLength: this.o.maxPduLength,
        ...(isPluginDestination(destination) ? { deliver: (inst: InstanceSummary) => this.deliverToPlugin(destination, inst) } : {}),
        ...(this.o.claims ? { claim: this.o.claims } : {}),
      });
      this.senders.set(destination, s);
      s.start();
    }
    return s;
  }

  private async deliverToPlugin(destination: string, inst: InstanceSummary): Promise<void> {
    const send = this.o.pluginDestination?.(destination.slice(1));
    if (!send) throw new Error(`no loaded add-in provides the destination ${destination}`);
    await send(inst, this.requireArchive());
  }

  /** resolve() per registry snapshot (a sender asks once per round); TLS targets and errors are not kept (certificates may appear). */
  private resolved: { registry: Registry; targets: Map<string, DestinationTarget | { error: string }> } | undefined;

  resolve(destination: string): DestinationTarget | { error: string } {
    const reg = this.o.registry();
    if (this.resolved?.registry !== reg) this.resolved = { registry: reg, targets: new Map() };
    const known = this.resolved.targets.get(destination);
    if (known) return known;
    const target = this.resolveIn(reg, destination);
    if (!('error' in target) && !target.tls) this.resolved.targets.set(destination, target);
    return target;
  }

  private resolveIn(reg: Registry, destination: string): DestinationTarget | { error: string } {
    const ae = findAe(reg, destination);
    if (!ae) return { error: `"${destination}" is not a registered AE` };
    if (ae.connection.port === undefined) return { error: `"${destination}" has no port` };
    let tls: ConnectionOptions | undefined;
    if (ae.connection.tls) {
      try {
        tls = this.o.tls?.(ae);
      } catch (err) {
        return { error: (err as Error).message };
      }
      if (!tls) return { error: `"${destination}" is marked TLS but this router has no TLS set-up` };
    }
    return {
      host: reachable(ae.connection.host),
      port: ae.connection.port,
      calledAeTitle: ae.aeTitle,
      callingAeTitle: serverAe(reg, 'router')?.aeTitle ?? 'ROUTER',
      ...(tls ? { tls } : {}),
    };
  }

  /**
   * Dry run against a stored instance (by default in the Router's own archive; `index`
   * for another role's): which rules match, what would be sent where. `settings`: unsaved
   * rules to try instead of the current ones; calling/called AE override what was recorded.
   */
  async testInstance(
    sopInstanceUid: string,
    opts: { settings?: unknown; index?: Index; callingAE?: string; calledAE?: string } = {},
  ): Promise<RouteDecision | undefined> {
    const inst = await (opts.index ?? this.requireArchive().index).getInstance(sopInstanceUid);
    if (!inst) return undefined;
    return this.decide(opts.settings, {
      callingAE: opts.callingAE ?? inst.callingAeTitle,
      calledAE: opts.calledAE ?? inst.calledAeTitle ?? '',
      attributes: JSON.parse(inst.json) as DicomJsonObject,
    });
  }

  /** Dry run against a Part 10 file's bytes. */
  testFile(bytes: Uint8Array, ctx: { callingAE?: string; calledAE?: string; peerAddress?: string }, settings?: unknown): RouteDecision {
    return testPart10(bytes, settings === undefined ? this.o.rules.current : settings, ctx, this.o.registry());
  }

  private decide(settings: unknown, ctx: Parameters<CompiledRules['decide']>[0]): RouteDecision {
    const rules = settings === undefined ? this.compiled : new CompiledRules(validateSettings(settings, this.o.registry()));
    return rules.decide(ctx);
  }

  async status(): Promise<QueueStatus[]> {
    const counts = await this.countsBetweenFlushes();
    const out = counts.map((c) => {
      const s = this.senders.get(c.destination);
      // Delivered rows the sender has not deleted yet (sender.ts) are not waiting any more.
      const done = [...(s?.unflushed.values() ?? [])];
      const pending = c.pending - done.filter((e) => e.attempts === 0).length;
      const failed = c.failed - done.filter((e) => e.attempts > 0).length;
      // Delivered: counted in the index as the rows go, plus those sent but not flushed yet.
      return { ...c, pending, failed, inFlight: s?.inFlight.size ?? 0, delivered: c.delivered + done.length, lastError: s?.lastError ?? c.lastError };
    });
    for (const [d, s] of this.senders) {
      if (!out.some((c) => c.destination === d)) {
        out.push({
          destination: d,
          pending: 0,
          failed: 0,
          dead: 0,
          inFlight: s.inFlight.size,
          oldestCreatedAt: null,
          nextAttemptAt: null,
          lastError: s.lastError ?? null,
          delivered: s.unflushed.size,
        });
      }
    }
    return out.sort((a, b) => a.destination.localeCompare(b.destination));
  }

  /**
   * The queue's counts read while no sender deleted delivered rows: a flush committing during
   * the read would leave its rows both counted in the index and still noted unflushed, and
   * status() would count them twice. Flushes are rare (every 64 deliveries, or when idle).
   */
  private async countsBetweenFlushes(): Promise<DestinationCounts[]> {
    const queue = this.requireQueue();
    const begun = () => [...this.senders.values()].reduce((n, s) => n + s.flushesBegun, 0);
    for (let attempt = 0; ; attempt++) {
      const flushing = [...this.senders.values()].flatMap((s) => (s.flushing ? [s.flushing.catch(() => undefined)] : []));
      if (flushing.length && attempt < 10) {
        await Promise.all(flushing);
        continue;
      }
      const before = begun();
      const counts = await queue.counts();
      if (begun() === before || attempt >= 10) return counts;
    }
  }

  /** Entries in queue order, each marked whether it is being sent now; delivered rows awaiting deletion left out. */
  async entries(
    opts: { destination?: string; state?: QueueState | 'failed'; view?: QueueView; ids?: number[]; limit?: number; offset?: number } = {},
  ): Promise<QueueItem[]> {
    const inFlight = new Set<number>();
    for (const [d, s] of this.senders) if (!opts.destination || d === opts.destination) for (const id of s.inFlight) inFlight.add(id);
    const { view, ...rest } = opts;
    const list =
      view === 'inflight'
        ? { ...rest, ids: [...inFlight] }
        : view === 'pending'
          ? { ...rest, state: 'untried' as const }
          : view
            ? { ...rest, state: view }
            : rest;
    const rows = (await this.requireQueue().list(list)).filter((e) => !this.senders.get(e.destination)?.unflushed.has(e.id));
    return rows.map((e) => ({ ...e, inFlight: inFlight.has(e.id) }));
  }

  /** Held entries (unrouted, rule failed), oldest first. */
  unrouted(opts: { state?: HeldState; limit?: number; offset?: number } = {}): Promise<QueueEntry[]> {
    return this.requireQueue().held(opts);
  }

  unroutedCounts(): Promise<HeldCounts> {
    return this.requireQueue().heldCounts();
  }

  /** Deletes held entries (one state, both, or the given ids): their instances become eligible for the retention. */
  purgeUnrouted(opts: { state?: HeldState; ids?: number[] } = {}): Promise<number> {
    return this.requireQueue().purgeHeld(opts);
  }

  /**
   * Evaluates the current rules again for held entries (the given ids, or every one of a
   * state, or all): an entry whose instance now goes somewhere is replaced by its queue
   * entries in one transaction; one still unrouted or failing stays held (with the new
   * error); a discarded one goes. The peer address is not stored with an instance, so a
   * condition reading `peerAddress` sees null here.
   */
  async reroute(opts: { state?: HeldState; ids?: number[] } = {}): Promise<RerouteResult> {
    const queue = this.requireQueue();
    const index = this.requireArchive().index;
    const result: RerouteResult = { retried: 0, routed: 0, discarded: 0, unrouted: 0, failed: 0, gone: 0 };
    const kicks = new Set<string>();
    // Oldest first, in pages, up to the newest row held now: rows this retry holds again get new ids past it.
    const upToId = await queue.lastHeldId();
    let afterId = 0;
    for (;;) {
      const page = await queue.held({ ...opts, afterId, upToId, limit: 200 });
      if (page.length === 0 || this.closed) break;
      afterId = page[page.length - 1].id;
      await index.write(async (tx) => {
        for (const e of page) {
          const inst = await tx.getInstance(e.sopInstanceUid);
          await tx.forwardQueue.release([e.id]);
          result.retried++;
          if (!inst) {
            result.gone++;
            continue;
          }
          const outcome = this.outcome(
            this.compiled,
            {
              callingAE: inst.callingAeTitle,
              calledAE: inst.calledAeTitle ?? '',
              peerAddress: null,
              attributes: JSON.parse(inst.json) as DicomJsonObject,
            },
            e.sopInstanceUid,
          );
          if (outcome.kind === 'send') {
            await tx.forwardQueue.enqueue(
              outcome.sends.map((x) => ({ destination: x.destination, sopInstanceUid: e.sopInstanceUid, rule: x.rule, changes: x.changes })),
            );
            for (const x of outcome.sends) kicks.add(x.destination);
            result.routed++;
          } else if (outcome.kind === 'discard') {
            result.discarded++;
          } else {
            await tx.forwardQueue.hold([heldEntry(e.sopInstanceUid, outcome)]);
            if (outcome.kind === 'failed') result.failed++;
            else result.unrouted++;
          }
        }
      });
    }
    for (const d of kicks) this.kick(d, true);
    return result;
  }

  /** Failed and dead entries due now (dead ones back to pending; `state`: only one kind); returns how many. */
  async retry(opts: { destination?: string; ids?: number[]; state?: RetryState } = {}): Promise<number> {
    const n = await this.requireQueue().retry(opts);
    for (const d of opts.destination ? [opts.destination] : await this.requireQueue().destinations()) this.kick(d, true);
    return n;
  }

  /** Deletes dead entries (all states with `all`); returns how many. */
  purge(opts: { destination?: string; ids?: number[]; all?: boolean } = {}): Promise<number> {
    return this.requireQueue().purge(opts);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.retention);
    this.unsubscribe();
    for (const t of this.claimTimers) clearInterval(t);
    await Promise.all([...this.senders.values()].map((s) => s.close()));
    this.senders.clear();
    // What this node claimed and did not send goes back to the other nodes at once, not after its lease.
    if (this.o.claims && this.queue) {
      await this.queue
        .releaseClaims(this.o.claims.claimant)
        .catch((err: Error) => this.o.logger.warn({ err: err.message }, 'router: claims not released; they expire with the lease'));
    }
  }

  private requireArchive(): Archive {
    if (!this.archive) throw new Error('the router is not running');
    return this.archive;
  }

  private requireQueue(): ForwardQueueStore {
    if (!this.queue) throw new Error('the router is not running');
    return this.queue;
  }
}

/** Evaluates router settings against a Part 10 file's bytes (CLI `pacs router rules test FILE`, dry runs). */
export function testPart10(
  bytes: Uint8Array,
  settings: unknown,
  ctx: { callingAE?: string; calledAE?: string; peerAddress?: string },
  registry?: Registry,
): RouteDecision {
  const { dataset } = readPart10(bytes, { stopAtPixelData: true });
  const rules = new CompiledRules(validateSettings(settings, registry));
  return rules.decide({
    callingAE: ctx.callingAE ?? '',
    calledAE: ctx.calledAE ?? (registry ? (serverAe(registry, 'router')?.aeTitle ?? '') : ''),
    peerAddress: ctx.peerAddress ?? null,
    attributes: datasetToJson(dataset),
  });
}

function heldEntry(sopInstanceUid: string, outcome: Exclude<RouteOutcome, { kind: 'send' | 'discard' }>): HeldEntry {
  return outcome.kind === 'failed'
    ? { sopInstanceUid, state: 'rule-failed', rule: outcome.rule, error: outcome.error }
    : { sopInstanceUid, state: 'unrouted', rule: '', error: null };
}
