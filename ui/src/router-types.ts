// Shapes of the router's REST API (src/web/router-api.ts).
export interface Rule {
  name: string;
  condition: string;
  destinations: string[];
  changes: Record<string, string | null>;
  continue: boolean;
  enabled: boolean;
  /** What the rule matches is not forwarded, and not kept as unrouted. */
  discard?: boolean;
}

export interface RouterSettings { rules: Rule[]; queue: Record<string, number> }

export interface ConditionProblem { message: string; line: number; column: number }

export interface DryRunResult {
  matches: { rule: string; matched: boolean; error?: string; skipped?: 'disabled' | 'stopped' }[];
  stopped: boolean;
  stoppedBy: string | null;
  /** What the router would do: send, discard, keep it unrouted, or hold it because a rule failed (error). */
  outcome: 'send' | 'discard' | 'unrouted' | 'rule-failed';
  error?: string;
  sends: { destination: string; rule: string; changes: Record<string, string | null>; address?: string; error?: string }[];
}

export interface DestinationStatus {
  destination: string; pending: number; inFlight: number; failed: number; dead: number;
  nextAttemptAt: string | null; oldestCreatedAt: string | null; lastError: string | null; delivered: number;
}

export interface QueueItem {
  id: number; destination: string; sopInstanceUid: string; rule: string; state: 'pending' | 'dead' | 'unrouted' | 'rule-failed';
  attempts: number; nextAttemptAt: number; lastError: string | null; createdAt: string; updatedAt: string; inFlight: boolean;
}

export interface UnroutedList {
  counts: { unrouted: number; ruleFailed: number };
  entries: QueueItem[];
}
