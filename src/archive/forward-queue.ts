/**
 * The router's durable forward queue: a table in the Router role's own index
 * (`DATA/router/index.sqlite`), one row per (instance, destination), ordered by id within
 * each destination. Its storage is behind these interfaces, implemented for both index
 * backends (forward-queue-sql.ts); the router (src/router) holds no SQL.
 *
 * At-least-once: rows are inserted by Archive's afterInsert hook in the SAME transaction
 * that inserts the instance rows (IndexWriter.forwardQueue), so an instance acknowledged
 * to its sender (C-STORE success comes only after that commit and its WAL fdatasync)
 * always has its queue rows. A row is deleted only after the destination answered the
 * C-STORE with success or warning; a crash in between leaves it pending and it is sent
 * again (a duplicate at the destination, never a loss). "In flight" is kept in memory
 * only (by the router), so nothing is stuck after a crash.
 *
 * Several router nodes on one PostgreSQL database: a node sends only the entries it has
 * claimed (`claimed_by`, `claim_until` by the database's clock), taken with
 * `FOR UPDATE SKIP LOCKED` so two nodes claiming at once take disjoint entries. The
 * holder renews its claims while it lives (every third of its lease); a node that dies
 * leaves them until `claim_until` passes, and any node then claims them again: exactly
 * once while nodes live, at least once across a node's death (its claims in flight, and
 * delivered but not yet deleted, are sent again). Delivery deletes the row; a failed
 * attempt ends the claim. A single node (SQLite) does not claim: it sends what it
 * enqueued, handed over in memory (src/router/sender.ts).
 *
 * States: pending (attempts 0: waiting; attempts > 0: failed, retried at nextAttemptAt)
 * and dead (attempts exhausted, or the instance is gone). Manual retry makes failed and
 * dead rows due now (dead ones back to pending); purge deletes rows.
 *
 * Held rows (no destination: `destination` is ''): an instance no rule forwards
 * (`unrouted`) or whose rules could not be evaluated (`rule-failed`, with the error),
 * inserted in the same ingest transaction. They are never sent; they keep their instance
 * from the retention (which deletes only instances no row names) until a user purges
 * them or retries them (the rules are evaluated again: see Router.reroute).
 */

// The row and state types are the REST API's (the router page shows them as they are).
export { HELD_STATES } from '../api-types/index.js';
export type { HeldState, QueueEntry, QueueState } from '../api-types/index.js';
import type { DestinationStatus, HeldState, QueueEntry, QueueState } from '../api-types/index.js';

/** What a retry takes: failed entries (tried, waiting for their next attempt) or dead ones; both when not given. */
export type RetryState = 'failed' | 'dead';

/** A delivered row, as a sender noted it. */
export type DeliveredEntry = Pick<QueueEntry, 'id' | 'sopInstanceUid'>;

export interface NewEntry {
  destination: string;
  sopInstanceUid: string;
  rule: string;
  changes: Record<string, string | null>;
}

/** An instance held because no rule forwards it, or its rules failed (`rule`: the first rule that failed; `error`: why). */
export interface HeldEntry {
  sopInstanceUid: string;
  state: HeldState;
  rule: string;
  error: string | null;
}

export interface HeldCounts {
  unrouted: number;
  ruleFailed: number;
}

/**
 * A destination's rows as the store counts them: the API's DestinationStatus with the due
 * time in ms since the epoch (inFlight is 0 from the store, filled in by the router;
 * delivered counts the rows deleted as delivered, table router_delivered).
 */
export type DestinationCounts = Omit<DestinationStatus, 'nextAttemptAt'> & { nextAttemptAt: number | null };

/** Which held rows: one state or both, or the given ids; `afterId`/`upToId` bound the ids (paging). */
export interface HeldQuery {
  state?: HeldState;
  ids?: readonly number[];
  limit?: number;
  offset?: number;
  afterId?: number;
  upToId?: number;
}

/**
 * Which entries to list: of one destination or all; `state` a stored state, `failed`
 * (pending, tried before) or `untried` (pending, never tried); `ids`: only these.
 */
export interface QueueQuery {
  destination?: string;
  state?: QueueState | 'failed' | 'untried';
  ids?: readonly number[];
  limit?: number;
  offset?: number;
}

/** One failed attempt: retried later, or dead at once with `dead`. */
export interface QueueFailure {
  id: number;
  error: string;
  dead?: boolean;
}

/** A node's hold on the entries it sends: its name, and how long a claim lasts without renewal. */
export interface QueueClaim {
  claimant: string;
  leaseMs: number;
}

/** Queue rows written inside the caller's write transaction (the ingest commit, a reroute). */
export interface ForwardQueueWriter {
  /** Creates the queue's table if missing. */
  ensureSchema(): Promise<void>;
  /** Inserts entries; returns them as stored (with their ids). */
  enqueue(entries: readonly NewEntry[]): Promise<QueueEntry[]>;
  /** Holds instances: one row each, replacing a held row the instance already had (a replaced duplicate is routed again). */
  hold(entries: readonly HeldEntry[]): Promise<void>;
  /** Drops held rows (a retry that routed them). */
  release(ids: readonly number[]): Promise<void>;
}

/** The forward queue's storage; each operation is one transaction of its own. */
export interface ForwardQueueStore {
  /** Creates the queue's table if missing. */
  ensureSchema(): Promise<void>;
  /** Enqueues in a transaction of its own (manual re-send). */
  add(entries: readonly NewEntry[]): Promise<QueueEntry[]>;
  /** Held rows in arrival order. */
  held(query?: HeldQuery): Promise<QueueEntry[]>;
  /** The newest held row's id (0 when there is none). */
  lastHeldId(): Promise<number>;
  heldCounts(): Promise<HeldCounts>;
  /** Deletes held rows (one state, both, or the given ids); returns how many. */
  purgeHeld(query?: { state?: HeldState; ids?: readonly number[] }): Promise<number>;
  /** The next due pending entries of a destination, in queue order, leaving out `exclude`. */
  due(destination: string, limit: number, exclude?: ReadonlySet<number>): Promise<QueueEntry[]>;
  /**
   * Claims for `claim.claimant` up to `limit` due pending entries of a destination, in
   * queue order: unclaimed ones, ones whose claim expired, and its own (renewed), leaving
   * out `exclude`. Rows another transaction is claiming are passed over, not waited for.
   */
  claim(destination: string, limit: number, claim: QueueClaim, exclude?: ReadonlySet<number>): Promise<QueueEntry[]>;
  /** Extends every live claim of the claimant by its lease; returns how many. */
  renewClaims(claim: QueueClaim): Promise<number>;
  /** Ends every claim of the claimant (its sender stopped, or its previous process is gone); returns how many. */
  releaseClaims(claimant: string): Promise<number>;
  /** When the destination's next pending entry is due (ms epoch), or undefined when it has none. */
  nextDue(destination: string): Promise<number | undefined>;
  /**
   * Up to `limit` stored instances received before `before` (ISO time) that no queue row
   * names: nothing left to send, and not held.
   */
  forwarded(before: string, limit: number): Promise<string[]>;
  /** Destinations with pending entries. */
  destinations(): Promise<string[]>;
  /**
   * Delivered: the rows go, and are counted per destination (counts().delivered). Each is
   * named by its id and instance: SQLite gives a deleted row's id to the next row (a
   * purge of the newest rows), and a sender's late deletion must not take that one.
   */
  delivered(entries: readonly DeliveredEntry[]): Promise<void>;
  /**
   * A failed attempt each: attempts + 1, retried after `delay(attempts)` ms, or dead once
   * maxAttempts is reached (or at once with `dead`); the claim ends. With `claimant`, only
   * entries it may claim (unclaimed, its own, or expired) and still due change: another
   * live node's outcome stands, and an attempt another node already counted is not
   * counted twice.
   */
  failed(failures: readonly QueueFailure[], maxAttempts: number, delay: (attempts: number) => number, claimant?: string): Promise<void>;
  /**
   * Failed and dead entries (of one destination, or all; or the given ids; `state`: only
   * failed or only dead ones) due now: a dead one back to pending with its attempts from 0,
   * a failed one keeping its attempts. Returns how many.
   */
  retry(query?: { destination?: string; ids?: readonly number[]; state?: RetryState }): Promise<number>;
  /** Deletes entries: dead ones, or every state with `all`. Returns how many. */
  purge(query?: { destination?: string; ids?: readonly number[]; all?: boolean }): Promise<number>;
  /** Entries (not held rows) for display, by destination then queue order. */
  list(query?: QueueQuery): Promise<QueueEntry[]>;
  /** Counts per destination (those with rows or deliveries), by destination. */
  counts(): Promise<DestinationCounts[]>;
}
