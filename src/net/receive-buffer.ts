// Reading an accepted TCP connection into one reused buffer (issue 16).
//
// Node's default read path gives every socket read a new 64 KiB ArrayBuffer: for a 512 KB
// instance that is eight allocations, their page faults and the garbage they leave, about
// 0.4 ms of CPU here against 0.1 ms for reads into one reused buffer, copied by whoever keeps
// bytes (bench/socket-receive.ts: 'data' against 'copied'). Client sockets take that buffer
// as net.connect's `onread` option; net.Server has no such option for the sockets it
// accepts in Node 20, so it is set up here the way the Socket constructor does it for
// `onread`: the same (private) socket fields and the handle's useUserBuffer(). Node's own
// pause(), resume() and read() honour those fields. Where they are missing (another Node),
// adoptReceiveBuffer() says so and the caller keeps 'data' events.
//
// One buffer can serve many connections (all of an acceptor's; all requestors'): reads are
// handled one at a time on the event loop, and whoever keeps bytes of a read copies them
// before it returns (the framer, DIMSE, the sinks), so no view of the buffer outlives its read.
import type * as net from 'node:net';

/** The default size of a shared read buffer: about two reads per 512 KB instance here. */
export const RECEIVE_BUFFER_BYTES = 256 << 10;

/** Called with the bytes of one read; they are valid only during the call. */
export type ReceiveCallback = (bytes: Buffer) => void;

interface HandleWithUserBuffer {
  useUserBuffer?: (buffer: Uint8Array) => void;
}

function socketSymbol(socket: net.Socket, description: string): symbol | undefined {
  return Object.getOwnPropertySymbols(socket).find((s) => s.description === description);
}

/**
 * Makes every read of `socket` land in `buffer` and go to `onBytes` instead of 'data'
 * events. Call it in the 'connection' listener, before the first read. Returns false
 * (nothing changed) when this Node does not allow it.
 */
export function adoptReceiveBuffer(socket: net.Socket, buffer: Buffer, onBytes: ReceiveCallback): boolean {
  const handle = (socket as unknown as { _handle?: HandleWithUserBuffer | null })._handle;
  const kBuffer = socketSymbol(socket, 'kBuffer');
  const kBufferCb = socketSymbol(socket, 'kBufferCb');
  const kBufferGen = socketSymbol(socket, 'kBufferGen');
  if (!handle || typeof handle.useUserBuffer !== 'function' || !kBuffer || !kBufferCb || !kBufferGen) return false;
  const fields = socket as unknown as Record<symbol, unknown>;
  if (fields[kBuffer] !== null || fields[kBufferGen] !== null) return false; // already reading into a buffer of its own
  handle.useUserBuffer(buffer);
  fields[kBuffer] = buffer;
  fields[kBufferCb] = (n: number) => {
    onBytes(buffer.subarray(0, n));
    return true; // backpressure goes through socket.pause()
  };
  return true;
}
