/**
 * One sender per destination AE: takes the destination's due entries in queue order, in
 * rounds of up to `batchSize`, and sends them with C-STORE over one association that
 * is kept open between rounds (released after `idleReleaseMs` without work, or replaced
 * when a round needs presentation contexts it did not propose).
 *
 * Failures:
 *   the destination cannot be reached (connect, reject, abort)  every due entry of the
 *     destination gets one failed attempt and the same delay (the destination backs off
 *     as a whole, not entry by entry);
 *   one instance fails (failure status, unreadable file)  that entry alone;
 *   delay = min(maxDelayMs, baseDelayMs * 2^(attempts-1)) * (0.5 + 0.5 * random): exponential
 *     with jitter; after maxAttempts the entry is dead (kept, shown, retried by hand).
 * Where the work comes from: entries committed by the router's own ingest are handed over in
 * memory with their instances (offer(), in commit order), so a busy router does not read
 * the index for every instance it forwards; the index is scanned (due()) at start, when a
 * failed entry's retry is due, after a manual retry, and when too much was handed over.
 * An entry handed over that a scan already returned is not sent twice: both come in pk
 * order, and entries committed after a scan's read have larger pks than all it returned.
 * Delivered entries are deleted after their success responses, several rounds at a time
 * (up to FLUSH_DELIVERED ids, after a pause of FLUSH_PAUSE_MS without new work, on close):
 * each delete is an index commit with a WAL fdatasync that the router's own ingest would
 * otherwise wait behind once per forwarded instance. Until flushed they are kept out of
 * due(); a crash before the flush sends them again (at-least-once: a duplicate, never a loss).
 *
 * Several router nodes on one database (`claim`): nothing is handed over in memory, as
 * another node's entries are as much this sender's work as its own. Every round claims
 * its entries in the index (archive/forward-queue.ts), and an idle sender looks again
 * every CLAIM_POLL_MS: a node learns of entries another node enqueued, or left behind
 * when it died, by that poll (why not LISTEN/NOTIFY: see router.ts). Failures end only
 * claims this node may settle; delivered entries stay claimed until they are deleted.
 */
import type { ConnectionOptions } from 'node:tls';
import type { Logger } from 'pino';
import type { Archive } from '../archive/archive.js';
import type { InstanceSummary } from '../archive/index-types.js';
import { statusCategory } from '../dicom/status.js';
import { DimseConnection } from '../dimse/dimse-connection.js';
import { DimseFailureStatusError } from '../dimse/errors.js';
import { cStore } from '../dimse/scu.js';
import { connect, type Association } from '../net/index.js';
import type { ForwardQueueStore, QueueClaim, QueueEntry } from '../archive/forward-queue.js';
import { TranscodeLimitError } from '../archive/transcode-limit.js';
import { forwardedDataset, proposedSyntaxes, sendSyntax, sentAsStored, UNCOMPRESSED } from './forwarded-copy.js';
import type { DatasetSource } from '../dimse/dimse-connection.js';
import type { QueuePolicy } from './rules.js';

export interface DestinationTarget {
  host: string;
  port: number;
  calledAeTitle: string;
  callingAeTitle: string;
  tls?: ConnectionOptions;
}

export interface SenderOptions {
  destination: string;
  archive: Archive;
  queue: ForwardQueueStore;
  policy: () => QueuePolicy;
  /** Where the destination is now (from the registry), or why it cannot be sent to. */
  resolve: () => DestinationTarget | { error: string };
  logger: Logger;
  maxPduLength?: number;
  /** Test hook: random in [0, 1) for the jitter. */
  random?: () => number;
  /**
   * An add-in's destination (`@NAME`): each instance is handed to this instead of a
   * C-STORE; resolving is delivery, throwing a failed attempt (same backoff and dead letters).
   */
  deliver?: (inst: InstanceSummary) => Promise<void>;
  /** Several router nodes share the queue: send only entries claimed for this node (see above). */
  claim?: QueueClaim;
}

/** At most 128 presentation contexts fit one association; leave room. */
const MAX_CONTEXTS = 120;
/** Entries handed over in memory at most; beyond, they are dropped and the index scanned. */
const MAX_READY = 10_000;
/** Delivered entries deleted in one index transaction at most... */
const FLUSH_DELIVERED = 64;
/** ...or when no new entry arrived for this long. */
const FLUSH_PAUSE_MS = 50;
/** With claims: how often an idle sender looks for entries other nodes enqueued or let go. */
export const CLAIM_POLL_MS = 1000;

export function backoffDelay(policy: QueuePolicy, attempts: number, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(30, Math.max(0, attempts - 1)));
  return Math.round(exp * (0.5 + 0.5 * random()));
}

/** An entry's data set read and ready to send, in the syntax chosen for it. */
interface Prepared {
  ts: string;
  data: DatasetSource;
  close: () => void;
}

/** A queue entry with the instance it sends. */
export interface ReadyEntry {
  entry: QueueEntry;
  inst: InstanceSummary;
}

interface Open {
  association: Association;
  conn: DimseConnection;
  /** `${sopClass}|${ts}` proposed, `${sopClass}|*` for the uncompressed fallback. */
  proposed: Set<string>;
  targetKey: string;
  idleSince: number;
}

export class DestinationSender {
  readonly inFlight = new Set<number>();
  delivered = 0;
  lastError: string | undefined;
  private closed = false;
  private wake: (() => void) | undefined;
  private kicked = false;
  private open: Open | undefined;
  private loop: Promise<void> | undefined;
  /** Delivered (success response received), not yet deleted from the queue: id -> its instance and attempts before. */
  readonly unflushed = new Map<number, { sopInstanceUid: string; attempts: number }>();
  /** Flushes of `unflushed` begun so far, and the one under way: router.ts reads the queue's counts between them. */
  flushesBegun = 0;
  flushing: Promise<void> | undefined;
  /** Handed over by offer(), not yet taken, in pk order. */
  private ready: ReadyEntry[] = [];
  /** The index must be read for due entries (start, retries due, manual retry, overflow). */
  private scanNeeded = true;
  /** When the next scan is due for retries (ms epoch). */
  private scanAt = Number.POSITIVE_INFINITY;
  /** The highest pk the last scan returned: entries handed over with pk <= it were taken by that scan. */
  private scannedThrough = 0;

  constructor(private readonly o: SenderOptions) {}

  start(): void {
    this.loop ??= this.run().catch((err: Error) => this.o.logger.error({ err, destination: this.o.destination }, 'router sender stopped'));
  }

  /** New entries may be due; `scan`: read them from the index (they were not handed over). */
  kick(scan = false): void {
    if (scan) this.scanNeeded = true;
    this.kicked = true;
    this.wake?.();
  }

  /** Entries just committed (in pk order), with their instances: sent without reading the index. */
  offer(items: readonly ReadyEntry[]): void {
    // Claimed from the index only: an entry handed over may be another node's by now.
    if (this.o.claim) return this.kick(true);
    if (this.ready.length + items.length > MAX_READY) {
      this.ready = [];
      this.scanNeeded = true;
    } else {
      this.ready.push(...items);
    }
    this.kick();
  }

  /** The next round's entries: from the index when a scan is needed, else those handed over. */
  private async next(batchSize: number): Promise<{ batch: QueueEntry[]; known: Map<number, InstanceSummary>; scanned: boolean }> {
    const known = new Map<number, InstanceSummary>();
    if (this.o.claim) {
      const batch = await this.o.queue.claim(this.o.destination, batchSize, this.o.claim, new Set(this.unflushed.keys()));
      return { batch, known, scanned: true };
    }
    if (Date.now() >= this.scanAt) {
      this.scanAt = Number.POSITIVE_INFINITY;
      this.scanNeeded = true;
    }
    if (this.scanNeeded) {
      const batch = await this.o.queue.due(this.o.destination, batchSize, new Set(this.unflushed.keys()));
      for (const e of batch) this.scannedThrough = Math.max(this.scannedThrough, e.id);
      // What was handed over up to there came with this scan (or was delivered before).
      this.ready = this.ready.filter((r) => r.entry.id > this.scannedThrough);
      if (batch.length < batchSize) {
        // Everything due was read: what was handed over meanwhile is either in it or newer.
        this.scanNeeded = false;
        const next = await this.o.queue.nextDue(this.o.destination).catch(() => undefined);
        if (next !== undefined && next > Date.now()) this.scanAt = next;
      }
      return { batch, known, scanned: true };
    }
    const taken = this.ready.splice(0, batchSize);
    const batch: QueueEntry[] = [];
    for (const r of taken) {
      if (r.entry.id <= this.scannedThrough || this.unflushed.has(r.entry.id)) continue;
      batch.push(r.entry);
      known.set(r.entry.id, r.inst);
    }
    return { batch, known, scanned: false };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    await this.loop;
    await this.flushDelivered().catch((err: Error) =>
      this.o.logger.warn({ err, destination: this.o.destination }, 'delivered entries not deleted; they will be sent again'),
    );
    await this.release();
  }

  /** Deletes the delivered entries noted so far (one transaction). */
  private flushDelivered(): Promise<void> {
    if (this.unflushed.size === 0) return Promise.resolve();
    const done = [...this.unflushed].map(([id, e]) => ({ id, sopInstanceUid: e.sopInstanceUid }));
    this.flushesBegun++;
    const tracked = this.o.queue
      .delivered(done)
      .then(() => {
        for (const e of done) this.unflushed.delete(e.id);
      })
      .finally(() => {
        if (this.flushing === tracked) this.flushing = undefined;
      });
    this.flushing = tracked;
    return tracked;
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      const policy = this.o.policy();
      this.kicked = false;
      let batch: QueueEntry[];
      let known: Map<number, InstanceSummary>;
      let scanned: boolean;
      try {
        if (this.unflushed.size >= FLUSH_DELIVERED) await this.flushDelivered();
        ({ batch, known, scanned } = await this.next(policy.batchSize));
      } catch (err) {
        if (this.closed) return;
        this.o.logger.error({ err, destination: this.o.destination }, 'router queue unreadable');
        await this.sleep(1000);
        continue;
      }
      if (batch.length === 0) {
        if (this.ready.length) continue;
        if (this.unflushed.size) {
          // Deleting can wait for a pause in the arrivals: new work goes first.
          if (!this.kicked) await this.sleep(FLUSH_PAUSE_MS);
          if (this.kicked && !this.closed) continue;
          try {
            await this.flushDelivered();
          } catch (err) {
            this.o.logger.error({ err, destination: this.o.destination }, 'router queue not updated');
            await this.sleep(1000);
          }
          continue;
        }
        await this.idle(policy);
        continue;
      }
      const fit = fitContexts(batch);
      // Entries that do not fit this round: handed over ones stay first in line; scanned
      // ones are read again by the next scan.
      if (fit.length < batch.length) {
        if (scanned) this.scanNeeded = true;
        else this.ready.unshift(...batch.slice(fit.length).map((entry) => ({ entry, inst: known.get(entry.id)! })));
      }
      await this.round(fit, known, policy);
    }
  }

  private async idle(policy: QueuePolicy): Promise<void> {
    const next = await this.o.queue.nextDue(this.o.destination).catch(() => undefined);
    let wait = next === undefined ? 60_000 : Math.max(0, next - Date.now());
    if (this.o.claim) wait = Math.min(wait, CLAIM_POLL_MS);
    if (this.open) {
      const releaseIn = this.open.idleSince + policy.idleReleaseMs - Date.now();
      if (releaseIn <= 0) await this.release();
      else wait = Math.min(wait, releaseIn);
    }
    if (!this.kicked) {
      await this.sleep(Math.max(5, wait));
      // Woken by the clock, not by new work: a retry is due (only a scan finds it).
      if (!this.kicked) this.scanNeeded = true;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private async round(batch: QueueEntry[], known: ReadonlyMap<number, InstanceSummary>, policy: QueuePolicy): Promise<void> {
    const { queue, archive, logger, destination } = this.o;
    const delay = memoDelay(policy, this.o.random);
    // Look the instances up first (unless handed over): one gone from the router's archive is dead at once.
    const items: ReadyEntry[] = [];
    const failures: { id: number; error: string; dead?: boolean }[] = [];
    for (const entry of batch) {
      const inst = known.get(entry.id) ?? (await archive.index.getInstance(entry.sopInstanceUid));
      if (inst) items.push({ entry, inst });
      else failures.push({ id: entry.id, error: 'the instance is no longer stored in the router', dead: true });
    }
    if (this.o.deliver) return this.deliverRound(items, failures, delay, policy);
    let open: Open;
    try {
      open = await this.associate(
        items.map((i) => ({ sopClassUid: i.inst.sopClassUid, transferSyntaxUid: i.inst.transferSyntaxUid, changes: i.entry.changes })),
      );
    } catch (err) {
      const error = `cannot send to ${destination}: ${(err as Error).message}`;
      this.lastError = error;
      logger.warn({ destination, err: (err as Error).message }, 'router destination unreachable; backing off');
      // Every due entry of this destination failed this attempt, with one delay; the next
      // look at the queue is a scan (the entries handed over are among those failed).
      this.ready = [];
      this.scanNeeded = true;
      const due = await queue.due(destination, 100_000, new Set(this.unflushed.keys())).catch(() => batch);
      await queue.failed(
        [...failures, ...due.filter((e) => !failures.some((f) => f.id === e.id)).map((e) => ({ id: e.id, error }))],
        policy.maxAttempts,
        delay,
        this.o.claim?.claimant,
      );
      return;
    }
    const delivered: QueueEntry[] = [];
    // The next instance's bytes are read while the current one is sent and answered (the
    // read is off the critical path of a stop-and-wait sender; issue 16), into pooled
    // buffers given back once the association has written them. Only stored bytes are
    // read ahead: a re-encoded copy (attribute changes) is made in its turn, as it may be
    // large. A failed read ahead is that entry's failure, reported in its turn.
    const bytesReleased = (): boolean => open.conn.transport.writesPending === false;
    const prepare = async (item: ReadyEntry): Promise<Prepared> => {
      const ts = sendSyntax(open.association.contexts.values(), item.inst, item.entry.changes);
      if (!ts) throw new Error(`${destination} accepted neither ${item.inst.transferSyntaxUid} nor an uncompressed syntax for ${item.inst.sopClassUid}`);
      return { ts, ...(await forwardedDataset(archive, item.inst, ts, item.entry.changes, { bytesReleased })) };
    };
    let ahead: Promise<Prepared> | undefined;
    const dropAhead = (): void => {
      void ahead?.then(
        (p) => p.close(),
        () => undefined,
      );
      ahead = undefined;
    };
    try {
      for (let i = 0; i < items.length; i++) {
        const { entry, inst } = items[i];
        const current = ahead;
        ahead = undefined;
        if (this.closed) {
          ahead = current;
          break;
        }
        if (open.conn.isClosed) {
          ahead = current;
          dropAhead();
          failures.push({ id: entry.id, error: 'association closed by the destination' });
          continue;
        }
        this.inFlight.add(entry.id);
        try {
          const { ts, data, close } = await (current ?? prepare(items[i]));
          const following = items[i + 1];
          if (following && sentAsStored(following.entry.changes)) {
            ahead = prepare(following);
            ahead.catch(() => undefined); // awaited in its turn
          }
          try {
            const rsp = await cStore(open.conn, { sopClassUid: inst.sopClassUid, sopInstanceUid: inst.sopInstanceUid, transferSyntaxUid: ts }, data);
            if (statusCategory(rsp.command.status ?? 0) === 'warning') {
              logger.info({ destination, sopInstanceUid: inst.sopInstanceUid, status: rsp.command.status }, 'forwarded with a warning');
            }
          } finally {
            close();
          }
          delivered.push(entry);
        } catch (err) {
          const e = err as Error;
          const error =
            err instanceof DimseFailureStatusError
              ? `C-STORE failed with status 0x${err.status.toString(16)}${err.message.includes(':') ? `: ${err.message.split(': ').slice(1).join(': ')}` : ''}`
              : e.message;
          this.lastError = error;
          logger.warn({ destination, sopInstanceUid: inst.sopInstanceUid, err: error }, 'forwarding failed');
          // Too large to re-encode: a retry cannot succeed, the entry fails at once (dead, with the reason).
          failures.push({ id: entry.id, error, dead: err instanceof TranscodeLimitError });
        } finally {
          this.inFlight.delete(entry.id);
        }
      }
    } finally {
      dropAhead();
      open.idleSince = Date.now();
      if (open.conn.isClosed) this.open = undefined;
      for (const e of delivered) this.unflushed.set(e.id, { sopInstanceUid: e.sopInstanceUid, attempts: e.attempts });
      this.delivered += delivered.length;
      if (delivered.length) this.lastError = undefined;
      await queue.failed(failures, policy.maxAttempts, delay, this.o.claim?.claimant);
      // The failed entries' retries are found by a scan (which also learns when the next is due).
      if (failures.length) this.scanNeeded = true;
    }
  }

  /** A round to an add-in's destination: one call per instance, failures entry by entry. */
  private async deliverRound(
    items: ReadyEntry[],
    failures: { id: number; error: string; dead?: boolean }[],
    delay: (attempts: number) => number,
    policy: QueuePolicy,
  ): Promise<void> {
    const { queue, logger, destination } = this.o;
    const delivered: QueueEntry[] = [];
    for (const { entry, inst } of items) {
      if (this.closed) break;
      this.inFlight.add(entry.id);
      try {
        await this.o.deliver!(inst);
        delivered.push(entry);
      } catch (err) {
        const error = (err as Error).message;
        this.lastError = error;
        logger.warn({ destination, sopInstanceUid: inst.sopInstanceUid, err: error }, 'forwarding failed');
        failures.push({ id: entry.id, error });
      } finally {
        this.inFlight.delete(entry.id);
      }
    }
    for (const e of delivered) this.unflushed.set(e.id, { sopInstanceUid: e.sopInstanceUid, attempts: e.attempts });
    this.delivered += delivered.length;
    if (delivered.length) this.lastError = undefined;
    await queue.failed(failures, policy.maxAttempts, delay, this.o.claim?.claimant);
    if (failures.length) this.scanNeeded = true;
  }

  /** The open association if it proposed everything this round needs, else a new one. */
  private async associate(needs: { sopClassUid: string; transferSyntaxUid: string; changes: Record<string, string | null> }[]): Promise<Open> {
    const target = this.o.resolve();
    if ('error' in target) throw new Error(target.error);
    const targetKey = `${target.host}|${target.port}|${target.calledAeTitle}|${target.callingAeTitle}|${target.tls ? 'tls' : ''}`;
    const wanted = new Set<string>();
    for (const n of needs) {
      const { own, fallback } = proposedSyntaxes(n.transferSyntaxUid, n.changes);
      if (own) wanted.add(`${n.sopClassUid}|${own}`);
      if (fallback) wanted.add(`${n.sopClassUid}|*`);
    }
    const cur = this.open;
    if (cur && !cur.conn.isClosed && cur.targetKey === targetKey && [...wanted].every((k) => cur.proposed.has(k))) return cur;
    await this.release();
    const association = await connect({
      host: target.host,
      port: target.port,
      callingAeTitle: target.callingAeTitle,
      calledAeTitle: target.calledAeTitle,
      tls: target.tls,
      maxPduLength: this.o.maxPduLength,
      connectTimeoutMs: 10_000,
      presentationContexts: [...wanted].map((k) => {
        const [abstractSyntax, ts] = k.split('|');
        return { abstractSyntax, transferSyntaxes: ts === '*' ? [...UNCOMPRESSED] : [ts] };
      }),
    });
    this.open = { association, conn: new DimseConnection(association), proposed: wanted, targetKey, idleSince: Date.now() };
    return this.open;
  }

  private async release(): Promise<void> {
    const cur = this.open;
    this.open = undefined;
    if (!cur || cur.conn.isClosed) return;
    await cur.association.release().catch(() => cur.association.abort());
  }
}

/** The longest prefix of the batch whose contexts fit one association. */
function fitContexts(batch: QueueEntry[]): QueueEntry[] {
  // Each entry may need two contexts (own syntax + uncompressed fallback); SOP classes are unknown
  // here, so bound the batch by instances conservatively only when it is very large.
  return batch.slice(0, Math.max(1, Math.floor(MAX_CONTEXTS / 2)));
}

function memoDelay(policy: QueuePolicy, random?: () => number): (attempts: number) => number {
  const seen = new Map<number, number>();
  return (attempts) => {
    let d = seen.get(attempts);
    if (d === undefined) seen.set(attempts, (d = backoffDelay(policy, attempts, random)));
    return d;
  };
}
