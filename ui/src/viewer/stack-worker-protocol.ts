// Messages between the page (batch-fetch.ts) and the stack's fetch worker (stack-worker.ts).
import type { BatchPart } from './batch-request.js';
import type { GreyLayout } from './frame-range.js';

export interface StackWorkerRequest {
  id: number;
  url: string;
  accept: string;
  /** Bytes of each native frame by its absolute URL (to inflate a deflated one to). */
  sizes: Record<string, number>;
  /** How to read each grey frame's values, by its absolute URL (its range is found as it is inflated). */
  layouts: Record<string, GreyLayout>;
}

/** `at`: when the worker had it (ms since the epoch: performance.timeOrigin + performance.now(), the worker's clock is its own). */
export type StackWorkerReply =
  | { id: number; type: 'headers'; ok: boolean; at: number }
  | { id: number; type: 'part'; part: BatchPart; at: number }
  | { id: number; type: 'end'; at: number };
