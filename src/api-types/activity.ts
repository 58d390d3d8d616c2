/**
 * The activity log (issue 18 part 1): what happened on the server, in the words an
 * administrator reads. One event per association (recorded when it ends, with what it
 * did), per rejected association, and per web action that changes or exports data.
 * Stored in the index (archive/activity-store.ts), printed one line each at `info`, served
 * by GET /api/activity, the Activity page and `pacs log`. No imports (see registry.ts).
 */

/** What an event is about (`plugin`: an add-in that failed to load or failed a call). */
export const ACTIVITY_KINDS = ['association', 'login', 'delete', 'export', 'send', 'config', 'rules', 'user', 'plugin'] as const;
export type ActivityKind = (typeof ACTIVITY_KINDS)[number];

/**
 * How it ended. Associations: `released` (ended by an A-RELEASE), `aborted` (A-ABORT or a
 * lost connection; the reason says which), `rejected` (A-ASSOCIATE-RJ; never accepted).
 * Web actions: `success` or `failure` (a failed login is a `login` with `failure`).
 */
export const ACTIVITY_OUTCOMES = ['success', 'failure', 'released', 'aborted', 'rejected'] as const;
export type ActivityOutcome = (typeof ACTIVITY_OUTCOMES)[number];

/** One DIMSE operation's tally over an association. */
export interface ActivityOperation {
  /** Requests received. */
  requests: number;
  /** Instances stored, matches returned (C-FIND), or sub-operations completed (C-MOVE, C-GET). */
  completed: number;
  /** Requests (C-STORE, C-FIND) or sub-operations (C-MOVE, C-GET) that failed. */
  failed: number;
  /** The failure statuses seen, with how often (at most ACTIVITY_MAX_FAILURE_KINDS kinds). */
  failures: { status: number; count: number; comment?: string }[];
}

/** What an association did, per operation (only those it used). */
export interface ActivitySummary {
  stored?: ActivityOperation;
  found?: ActivityOperation;
  moved?: ActivityOperation;
  got?: ActivityOperation;
  echoed?: ActivityOperation;
}

export const ACTIVITY_OPERATIONS = ['stored', 'found', 'moved', 'got', 'echoed'] as const satisfies readonly (keyof ActivitySummary)[];

/** The most patient IDs or study UIDs one event keeps (an association storing more names the first ones). */
export const ACTIVITY_MAX_SUBJECTS = 100;
/** The most distinct failure statuses one operation's tally keeps. */
export const ACTIVITY_MAX_FAILURE_KINDS = 16;

/** An event as recorded and served. */
export interface ActivityEvent {
  /** Increasing with time of recording: the cursor of paging and live updates. */
  id: number;
  /** When it ended (ISO 8601, UTC, milliseconds). */
  time: string;
  kind: ActivityKind;
  outcome: ActivityOutcome;
  /** One line saying what happened. */
  message: string;
  /** Why it was rejected, aborted or failed. */
  reason?: string;
  // ---- associations ----
  /** The server role that took the association (main, workstation, router). */
  role?: string;
  callingAe?: string;
  calledAe?: string;
  peerAddress?: string;
  tls?: boolean;
  /** The accepted presentation contexts' abstract syntaxes, by name where known. */
  contexts?: string[];
  durationMs?: number;
  summary?: ActivitySummary;
  // ---- web actions ----
  /** The web user who acted (or the user name tried, for a failed login). */
  user?: string;
  /** What was acted on: an AE title, a rule, a user, a job ... */
  target?: string;
  // ---- both ----
  patientIds?: string[];
  studyUids?: string[];
}

/** What a recorder is given: the server stamps `id` and, unless given, `time`. */
export type ActivityInput = Omit<ActivityEvent, 'id' | 'time'> & { time?: string };

/** GET /api/activity's filters (all optional, combined with AND). */
export interface ActivityFilter {
  /** From this time on (ISO 8601), inclusive. */
  from?: string;
  /** Before this time (ISO 8601), exclusive. */
  to?: string;
  /** Calling or called AE title. */
  ae?: string;
  patientId?: string;
  studyUid?: string;
  kind?: ActivityKind;
  outcome?: ActivityOutcome;
}

/** Filters plus the page: newest first, older than `before`; or, for polling, newer than `after` (oldest first). */
export interface ActivityQuery extends ActivityFilter {
  before?: number;
  after?: number;
  limit?: number;
}

export const ACTIVITY_DEFAULT_LIMIT = 100;
export const ACTIVITY_MAX_LIMIT = 1000;

/** GET /api/activity. */
export interface ActivityPage {
  events: ActivityEvent[];
  /** Pass as `before` for the next (older) page; absent on the last page or when polling with `after`. */
  nextBefore?: number;
}
