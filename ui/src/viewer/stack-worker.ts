// The stack's batch requests, off the page's main thread: a browser spends about as much
// of its own (native) time handing a response's bytes to a script as the bytes take to
// arrive, and inflating deflated frames costs more; on the page that time was taken from
// decoding and drawing. This worker fetches each batch, reads and inflates its parts
// (batch-parts.ts) and hands each frame over (transferred, not copied), with the time it
// had it: the page's main thread, busy decoding and drawing, may read the message later,
// and "arrived" means when the browser had the frame. batch-fetch.ts drives it.
import { fetchBatchParts } from './batch-parts.js';
import type { StackWorkerReply, StackWorkerRequest } from './stack-worker-protocol.js';

const post = (m: StackWorkerReply, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(m, transfer);
const now = () => performance.timeOrigin + performance.now();

self.onmessage = async (e: MessageEvent<StackWorkerRequest>) => {
  const { id, url, accept, frames } = e.data;
  try {
    for await (const ev of fetchBatchParts(url, accept, self.location.origin, frames, now)) {
      if (ev.type === 'headers') post({ id, ...ev });
      else post({ id, ...ev }, ev.part.body ? [ev.part.body.buffer] : []);
    }
  } catch {
    // A failed or truncated response: the page asks for what it did not get frame by frame.
  }
  post({ id, type: 'end', at: now() });
};
