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
 * Delivered entries are deleted after their success responses, several rounds at a time
 * (up to FLUSH_DELIVERED ids, after a pause of FLUSH_PAUSE_MS without new work, on close):
 * each delete is an index commit with a WAL fdatasync that the router's own ingest would
 * otherwise wait behind once per forwarded instance. Until flushed they are kept out of
 * due(); a crash before the flush sends them again (at-least-once: a duplicate, never a loss).
 */
import type { ConnectionOptions } from 'node:tls';
import type { Logger } from 'pino';
import type { Archive } from '../archive/archive.js';
import { statusKind } from '../dimse/command-fields.js';
import { DimseConnection } from '../dimse/dimse-connection.js';
import { DimseFailureStatusError } from '../dimse/errors.js';
import { cStore } from '../dimse/scu.js';
import { connect, type Association } from '../net/index.js';
import type { ForwardQueue, QueueEntry } from './forward-queue.js';
import { forwardedDataset, proposedSyntaxes, sendSyntax, UNCOMPRESSED } from './forwarded-copy.js';
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
  queue: ForwardQueue;
  policy: () => QueuePolicy;
  /** Where the destination is now (from the registry), or why it cannot be sent to. */
  resolve: () => DestinationTarget | { error: string };
  logger: Logger;
  maxPduLength?: number;
  /** Test hook: random in [0, 1) for the jitter. */
  random?: () => number;
}

/** At most 128 presentation contexts fit one association; leave room. */
const MAX_CONTEXTS = 120;
/** Delivered entries deleted in one index transaction at most... */
const FLUSH_DELIVERED = 64;
/** ...or when no new entry arrived for this long. */
const FLUSH_PAUSE_MS = 50;

export function backoffDelay(policy: QueuePolicy, attempts: number, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(30, Math.max(0, attempts - 1)));
  return Math.round(exp * (0.5 + 0.5 * random()));
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
  /** Delivered (success response received), not yet deleted from the queue: id -> its attempts before. */
  readonly unflushed = new Map<number, number>();

  constructor(private readonly o: SenderOptions) {}

  start(): void {
    this.loop ??= this.run().catch((err: Error) => this.o.logger.error({ err, destination: this.o.destination }, 'router sender stopped'));
  }

  /** New entries may be due. */
  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    await this.loop;
    await this.flushDelivered().catch((err: Error) => this.o.logger.warn({ err, destination: this.o.destination }, 'delivered entries not deleted; they will be sent again'));
    await this.release();
  }

  /** Deletes the delivered entries noted so far (one transaction). */
  private async flushDelivered(): Promise<void> {
    if (this.unflushed.size === 0) return;
    const ids = [...this.unflushed.keys()];
    await this.o.queue.delivered(ids);
    for (const id of ids) this.unflushed.delete(id);
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      const policy = this.o.policy();
      this.kicked = false;
      let batch: QueueEntry[];
      try {
        if (this.unflushed.size >= FLUSH_DELIVERED) await this.flushDelivered();
        batch = await this.o.queue.due(this.o.destination, policy.batchSize, new Set(this.unflushed.keys()));
      } catch (err) {
        if (this.closed) return;
        this.o.logger.error({ err, destination: this.o.destination }, 'router queue unreadable');
        await this.sleep(1000);
        continue;
      }
      if (batch.length === 0) {
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
      await this.round(fitContexts(batch), policy);
    }
  }

  private async idle(policy: QueuePolicy): Promise<void> {
    const next = await this.o.queue.nextDue(this.o.destination).catch(() => undefined);
    let wait = next === undefined ? 60_000 : Math.max(0, next - Date.now());
    if (this.open) {
      const releaseIn = this.open.idleSince + policy.idleReleaseMs - Date.now();
      if (releaseIn <= 0) await this.release();
      else wait = Math.min(wait, releaseIn);
    }
    if (!this.kicked) await this.sleep(Math.max(5, wait));
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

  private async round(batch: QueueEntry[], policy: QueuePolicy): Promise<void> {
    const { queue, archive, logger, destination } = this.o;
    const delay = memoDelay(policy, this.o.random);
    // Look the instances up first: one gone from the router's archive is dead at once.
    const items: { entry: QueueEntry; inst: NonNullable<Awaited<ReturnType<Archive['index']['getInstance']>>> }[] = [];
    const failures: { id: number; error: string; dead?: boolean }[] = [];
    for (const entry of batch) {
      const inst = await archive.index.getInstance(entry.sopInstanceUid);
      if (inst) items.push({ entry, inst });
      else failures.push({ id: entry.id, error: 'the instance is no longer stored in the router', dead: true });
    }
    let open: Open;
    try {
      open = await this.associate(items.map((i) => ({ sopClassUid: i.inst.sopClassUid, transferSyntaxUid: i.inst.transferSyntaxUid, changes: i.entry.changes })));
    } catch (err) {
      const error = `cannot send to ${destination}: ${(err as Error).message}`;
      this.lastError = error;
      logger.warn({ destination, err: (err as Error).message }, 'router destination unreachable; backing off');
      // Every due entry of this destination failed this attempt, with one delay.
      const due = await queue.due(destination, 100_000, new Set(this.unflushed.keys())).catch(() => batch);
      await queue.failed([...failures, ...due.filter((e) => !failures.some((f) => f.id === e.id)).map((e) => ({ id: e.id, error }))],
        policy.maxAttempts, delay);
      return;
    }
    const delivered: QueueEntry[] = [];
    try {
      for (const { entry, inst } of items) {
        if (this.closed) break;
        if (open.conn.isClosed) {
          failures.push({ id: entry.id, error: 'association closed by the destination' });
          continue;
        }
        this.inFlight.add(entry.id);
        try {
          const ts = sendSyntax(open.association.contexts.values(), inst, entry.changes);
          if (!ts) throw new Error(`${destination} accepted neither ${inst.transferSyntaxUid} nor an uncompressed syntax for ${inst.sopClassUid}`);
          const { data, close } = await forwardedDataset(archive, inst, ts, entry.changes);
          try {
            const rsp = await cStore(open.conn, { sopClassUid: inst.sopClassUid, sopInstanceUid: inst.sopInstanceUid, transferSyntaxUid: ts }, data);
            if (statusKind(rsp.command.status ?? 0) === 'warning') {
              logger.info({ destination, sopInstanceUid: inst.sopInstanceUid, status: rsp.command.status }, 'forwarded with a warning');
            }
          } finally {
            close();
          }
          delivered.push(entry);
        } catch (err) {
          const e = err as Error;
          const error = err instanceof DimseFailureStatusError ? `C-STORE failed with status 0x${err.status.toString(16)}${err.message.includes(':') ? `: ${err.message.split(': ').slice(1).join(': ')}` : ''}` : e.message;
          this.lastError = error;
          logger.warn({ destination, sopInstanceUid: inst.sopInstanceUid, err: error }, 'forwarding failed');
          failures.push({ id: entry.id, error });
        } finally {
          this.inFlight.delete(entry.id);
        }
      }
    } finally {
      open.idleSince = Date.now();
      if (open.conn.isClosed) this.open = undefined;
      for (const e of delivered) this.unflushed.set(e.id, e.attempts);
      this.delivered += delivered.length;
      if (delivered.length) this.lastError = undefined;
      await queue.failed(failures, policy.maxAttempts, delay);
    }
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
