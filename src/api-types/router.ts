/** Shapes of the router's REST API (web/router-api.ts). No imports but siblings (see registry.ts). */

/** One routing rule (router/rules.ts ruleSchema). */
export interface Rule {
  name: string;
  condition: string;
  destinations: string[];
  /** Keyword or tag -> new text, or null to remove the attribute from the forwarded copy. */
  changes: Record<string, string | null>;
  continue: boolean;
  enabled: boolean;
  /** What the rule matches is not forwarded, and not kept as unrouted. */
  discard?: boolean;
}

/** The forward queue's retry policy (router/rules.ts queuePolicySchema). */
export interface QueuePolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  batchSize: number;
  idleReleaseMs: number;
  deleteForwardedAfterHours: number | null;
}

/** GET/PUT /api/router/rules. */
export interface RouterSettings {
  rules: Rule[];
  queue: QueuePolicy;
}

/** A rule that can never match: a rule matching everything (condition `true`) stops the evaluation before it. */
export interface RuleWarning {
  rule: string;
  message: string;
}

/** GET/PUT /api/router/rules answer: the settings, the warnings, and the catch-all rule (new rules go before it). */
export interface RouterRules extends RouterSettings {
  warnings: RuleWarning[];
  /** The first enabled rule that matches everything and stops the evaluation, or null. */
  catchAll: string | null;
}

/** POST /api/router/rules and PUT /api/router/rules/{name} answer: the rule as saved, with the warnings of the whole list. */
export interface SavedRule extends Rule {
  warnings: RuleWarning[];
}

/** A condition's problem at its 1-based line and column. */
export interface ConditionProblem {
  message: string;
  line: number;
  column: number;
}

/** POST /api/router/validate. */
export interface ValidateResult {
  ok: boolean;
  problems?: ConditionProblem[];
}

export interface RuleMatch {
  rule: string;
  matched: boolean;
  /** Evaluation error (treated as no match). */
  error?: string;
  /** Not evaluated: disabled, or an earlier match stopped the evaluation. */
  skipped?: 'disabled' | 'stopped';
}

/** POST /api/router/dry-run. */
export interface DryRunResult {
  matches: RuleMatch[];
  stopped: boolean;
  stoppedBy: string | null;
  /** What the router would do: send, discard, keep it unrouted, or hold it because a rule failed (error). */
  outcome: 'send' | 'discard' | 'unrouted' | 'rule-failed';
  error?: string;
  sends: { destination: string; rule: string; changes: Record<string, string | null>; address?: string; error?: string }[];
}

/** GET /api/router/queue, one per destination. */
export interface DestinationStatus {
  destination: string;
  /** Waiting, never tried. */
  pending: number;
  /** Tried and failed, waiting for a retry. */
  failed: number;
  dead: number;
  /** Being sent now. */
  inFlight: number;
  oldestCreatedAt: string | null;
  /** When the earliest pending entry is due (ISO 8601); null when nothing is pending. */
  nextAttemptAt: string | null;
  lastError: string | null;
  /** Delivered in all (counted in the Router's index, so the CLI sees the same). */
  delivered: number;
}

export const HELD_STATES = ['unrouted', 'rule-failed'] as const;
export type HeldState = (typeof HELD_STATES)[number];
export type QueueState = 'pending' | 'dead' | HeldState;

/** A row of the forward queue (a send), or an instance held with no destination. */
export interface QueueEntry {
  id: number;
  destination: string;
  sopInstanceUid: string;
  rule: string;
  changes: Record<string, string | null>;
  state: QueueState;
  attempts: number;
  /** ms since the epoch. */
  nextAttemptAt: number;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  /** What the Router's index holds of the instance (listings only; null when the instance is gone). */
  instance?: QueuedInstance | null;
}

/** The instance of a queue entry as a person recognises it. */
export interface QueuedInstance {
  patientName: string | null;
  patientId: string | null;
  studyDate: string | null;
  studyDescription: string | null;
  seriesDescription: string | null;
  modality: string | null;
}

/** GET /api/router/queue/{dest}: entries with whether each is being sent now. */
export interface QueueItem extends QueueEntry {
  inFlight: boolean;
}

export interface QueuePage {
  destination: string;
  state: 'pending' | 'inflight' | 'failed' | 'dead' | null;
  limit: number;
  offset: number;
  entries: QueueItem[];
}

/** GET /api/router/unrouted. */
export interface UnroutedList {
  counts: { unrouted: number; ruleFailed: number };
  state: HeldState | null;
  limit: number;
  offset: number;
  entries: QueueEntry[];
}
