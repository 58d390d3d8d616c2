// One Pixel Data batch request as a stream of events (its headers' verdict, then its
// frames), through the stack's fetch worker (stack-worker.ts), or on the page where none
// can be made. Used by the viewer's stack loading (bulk-frames.ts); no Cornerstone, so
// that the entry chunk could use it too.
import { BATCH_ACCEPT, batchParts } from './batch-parts.js';
import type { BatchEvent, BatchSource } from './batch-request.js';
import { boundaryOf } from './multipart-reader.js';
import type { StackWorkerReply, StackWorkerRequest } from './stack-worker-protocol.js';

/** The stack's fetch worker (stack-worker.ts), made at the first batch; null when none can be made (the page reads then). */
let worker: Worker | null | undefined;
let nextId = 0;
const listeners = new Map<number, (m: StackWorkerReply) => void>();

function stackWorker(): Worker | null {
  if (worker !== undefined) return worker;
  try {
    worker = new Worker(new URL('./stack-worker.ts', import.meta.url), { type: 'module', name: 'stack-fetch' });
    worker.onmessage = (e: MessageEvent<StackWorkerReply>) => listeners.get(e.data.id)?.(e.data);
    // A worker that fails (its script did not load): its batches end, their frames are asked for one by one, later batches are read on the page.
    worker.onerror = () => {
      worker = null;
      for (const [id, listener] of listeners) listener({ id, type: 'end', at: performance.timeOrigin + performance.now() });
    };
  } catch {
    worker = null;
  }
  return worker;
}

/** One batch through the worker: its events as they come, timed by the worker (when the page's main thread is busy, its messages wait). */
async function* viaWorker(w: Worker, url: string, sizes: Record<string, number>): AsyncGenerator<BatchEvent> {
  const id = nextId++;
  const queue: StackWorkerReply[] = [];
  let wake: (() => void) | undefined;
  listeners.set(id, (m) => {
    queue.push(m);
    wake?.();
  });
  try {
    w.postMessage({ id, url, accept: BATCH_ACCEPT, sizes } satisfies StackWorkerRequest);
    for (;;) {
      while (queue.length === 0) await new Promise<void>((r) => (wake = r));
      const m = queue.shift()!;
      const at = m.at - performance.timeOrigin;
      if (m.type === 'end') return;
      yield m.type === 'headers' ? { type: 'headers', ok: m.ok, at } : { type: 'part', part: m.part, at };
    }
  } finally {
    listeners.delete(id);
  }
}

/** One batch read on the page. */
async function* onPage(url: string, sizes: Record<string, number>): AsyncGenerator<BatchEvent> {
  const res = await fetch(url, { credentials: 'same-origin', headers: { accept: BATCH_ACCEPT } });
  const boundary = boundaryOf(res.headers.get('content-type') ?? '');
  const ok = res.ok && !!res.body && !!boundary;
  yield { type: 'headers', ok, at: performance.now() };
  if (!ok) return void (await res.body?.cancel());
  for await (const part of batchParts(res.body, boundary, window.location.origin, (href) => sizes[href])) yield { type: 'part', part, at: performance.now() };
}

/** One batch's events, read by the worker when there is one. */
export const batchEvents: BatchSource = (url, sizes) => {
  const w = stackWorker();
  return w ? viaWorker(w, url, sizes) : onPage(url, sizes);
};
