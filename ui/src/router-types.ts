// Shapes of the router's REST API (src/web/router-api.ts).
export interface Rule {
  name: string;
  condition: string;
  destinations: string[];
  changes: Record<string, string | null>;
  continue: boolean;
  enabled: boolean;
}

export interface RouterSettings { rules: Rule[]; queue: Record<string, number> }

export interface ConditionProblem { message: string; line: number; column: number }

export interface DryRunResult {
  matches: { rule: string; matched: boolean; error?: string; skipped?: 'disabled' | 'stopped' }[];
  stopped: boolean;
  stoppedBy: string | null;
  sends: { destination: string; rule: string; changes: Record<string, string | null>; address?: string; error?: string }[];
}

export interface DestinationStatus {
  destination: string; pending: number; inFlight: number; failed: number; dead: number;
  nextAttemptAt: string | null; oldestCreatedAt: string | null; lastError: string | null; delivered: number;
}

export interface QueueItem {
  id: number; destination: string; sopInstanceUid: string; rule: string; state: 'pending' | 'dead';
  attempts: number; nextAttemptAt: number; lastError: string | null; createdAt: string; updatedAt: string; inFlight: boolean;
}
