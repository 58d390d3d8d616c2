// Messages between the page (batch-fetch.ts) and the stack's fetch worker (stack-worker.ts).
import type { BatchFrames, BatchPart } from './batch-request.js';

export interface StackWorkerRequest {
  id: number;
  url: string;
  accept: string;
  frames: BatchFrames;
}

/** `at`: when the worker had it (ms since the epoch: performance.timeOrigin + performance.now(), the worker's clock is its own). */
export type StackWorkerReply =
  | { id: number; type: 'headers'; ok: boolean; at: number }
  | { id: number; type: 'part'; part: BatchPart; at: number }
  | { id: number; type: 'end'; at: number };
