// Messages between bulk-frames.ts and its fetch worker (stack-worker.ts).
import type { BatchPart } from './batch-parts.js';

export interface StackWorkerRequest {
  id: number;
  url: string;
  accept: string;
  /** Bytes of each native frame by its absolute URL (to inflate a deflated one to). */
  sizes: Record<string, number>;
}

export type StackWorkerReply = { id: number; type: 'headers'; ok: boolean } | { id: number; type: 'part'; part: BatchPart } | { id: number; type: 'end' };
