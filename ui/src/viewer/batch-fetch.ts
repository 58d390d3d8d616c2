// One Pixel Data batch request as a stream of events (its headers' verdict, then its
// frames), through the stack's fetch worker (stack-worker.ts), or on the page where none
// can be made. Used by the viewer's stack loading (bulk-frames.ts); no Cornerstone, so
// that the entry chunk could use it too.
import { BATCH_ACCEPT, fetchBatchParts } from './batch-parts.js';
import type { BatchEvent, BatchFrames, BatchSource } from './batch-request.js';
import type { StackWorkerReply, StackWorkerRequest } from './stack-worker-protocol.js';

/**
 * The stack's fetch workers (stack-worker.ts), made when Cornerstone starts
 * (startStackWorkers), else at the first batch. Inflating is most
 * of a batch's cost in the browser and one worker was the stack's bottleneck (busy 60-90 %
 * of a core while the page and the server left the second core partly idle), so two share
 * the batches where the machine has two cores or more.
 */
const POOL_SIZE = Math.max(1, Math.min(2, (typeof navigator !== 'undefined' && navigator.hardwareConcurrency) || 1));

interface PooledWorker {
  worker: Worker;
  /** The batches it is reading, by id: told to end when the worker fails. */
  listeners: Map<number, (m: StackWorkerReply) => void>;
}

/** Undefined before the first batch; empty when none could be made or all failed (the page reads then). */
let pool: PooledWorker[] | undefined;
let nextId = 0;

function makeWorker(): PooledWorker | undefined {
  try {
    const worker = new Worker(new URL('./stack-worker.ts', import.meta.url), { type: 'module', name: 'stack-fetch' });
    const pw: PooledWorker = { worker, listeners: new Map() };
    worker.onmessage = (e: MessageEvent<StackWorkerReply>) => pw.listeners.get(e.data.id)?.(e.data);
    // A worker that fails (its script did not load): its batches end, their frames are asked for one by one, later batches go to the others or are read on the page.
    worker.onerror = () => {
      pool = pool?.filter((p) => p !== pw);
      for (const [id, listener] of pw.listeners) listener({ id, type: 'end', at: performance.timeOrigin + performance.now() });
    };
    return pw;
  } catch {
    return undefined;
  }
}

/** The worker with the fewest batches under way; undefined when there is none. */
function stackWorker(): PooledWorker | undefined {
  pool ??= Array.from({ length: POOL_SIZE }, makeWorker).filter((w): w is PooledWorker => w !== undefined);
  let best: PooledWorker | undefined;
  for (const w of pool) if (!best || w.listeners.size < best.listeners.size) best = w;
  return best;
}

/** Makes the fetch workers now (their scripts load while Cornerstone starts), not at the stack's first batch. */
export function startStackWorkers(): void {
  stackWorker();
}

/** One batch through the worker: its events as they come, timed by the worker (when the page's main thread is busy, its messages wait). */
async function* viaWorker(w: PooledWorker, url: string, frames: BatchFrames): AsyncGenerator<BatchEvent> {
  const id = nextId++;
  const queue: StackWorkerReply[] = [];
  let wake: (() => void) | undefined;
  w.listeners.set(id, (m) => {
    queue.push(m);
    wake?.();
  });
  try {
    w.worker.postMessage({ id, url, accept: BATCH_ACCEPT, frames } satisfies StackWorkerRequest);
    for (;;) {
      while (queue.length === 0) await new Promise<void>((r) => (wake = r));
      const m = queue.shift()!;
      const at = m.at - performance.timeOrigin;
      if (m.type === 'end') return;
      yield m.type === 'headers' ? { type: 'headers', ok: m.ok, at } : { type: 'part', part: m.part, at };
    }
  } finally {
    w.listeners.delete(id);
  }
}

/** One batch read on the page. */
function onPage(url: string, frames: BatchFrames): AsyncGenerator<BatchEvent> {
  return fetchBatchParts(url, BATCH_ACCEPT, window.location.origin, frames, () => performance.now());
}

/** One batch's events, read by the worker when there is one. */
export const batchEvents: BatchSource = (url, frames) => {
  const w = stackWorker();
  return w ? viaWorker(w, url, frames) : onPage(url, frames);
};
