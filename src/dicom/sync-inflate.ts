/**
 * Synchronous, incremental raw inflate (for the deflated transfer syntax, PS3.5 A.5).
 *
 * Node's public zlib API is either asynchronous (streams) or one-shot (inflateRawSync).
 * This drives the native zlib handle of an InflateRaw stream synchronously chunk by chunk,
 * the way Node's own processChunkSync does, but without closing it after each call.
 */
import * as zlib from 'node:zlib';

interface ZlibHandle {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Buffer, outOff: number, outLen: number): void;
  onerror: (...args: unknown[]) => void;
  close(): void;
}

export class SyncInflateRaw {
  private readonly stream: zlib.InflateRaw;
  private readonly handle: ZlibHandle;
  private readonly state: Uint32Array;
  private readonly chunkSize = 64 * 1024;
  private error: string | undefined;
  private closed = false;

  constructor() {
    this.stream = zlib.createInflateRaw();
    const s = this.stream as unknown as { _handle: ZlibHandle; _writeState: Uint32Array };
    this.handle = s._handle;
    this.state = s._writeState;
    this.handle.onerror = (...args: unknown[]) => {
      const msg = args.find((a): a is string => typeof a === 'string' && a.length > 0 && !a.startsWith('Z_'));
      this.error = msg ?? 'zlib error';
    };
  }

  /** Inflates what it can of `chunk`; `finish` at the end of input (throws if the stream is incomplete). */
  write(chunk: Uint8Array, finish = false): Buffer[] {
    if (this.closed) return [];
    const flush = finish ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH;
    const out: Buffer[] = [];
    let inOff = 0;
    let availIn = chunk.byteLength;
    for (;;) {
      const buf = Buffer.allocUnsafe(this.chunkSize);
      this.handle.writeSync(flush, chunk, inOff, availIn, buf, 0, this.chunkSize);
      if (this.error) {
        const e = this.error;
        this.close();
        throw new Error(e);
      }
      const availOut = this.state[0];
      const availInAfter = this.state[1];
      const have = this.chunkSize - availOut;
      if (have > 0) out.push(buf.subarray(0, have));
      inOff += availIn - availInAfter;
      availIn = availInAfter;
      if (availOut !== 0) break; // output space left: all input consumed that can be
    }
    if (finish) this.close();
    return out;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stream.close();
  }
}
