// P-DATA write coalescing for one socket: fragmenting a message into P-DATA-TF PDUs,
// corking until the next tick, and copying small pieces into an arena so that a burst
// of small PDUs leaves as a few large buffers. The state machine decides when to write
// (DT-1 / AR-7); this module only decides how the bytes reach the socket.
import type * as net from 'node:net';
import { encodePDataTfHeader } from './pdu-codec.js';

/** When the peer announces no limit, we still send P-DATA-TF PDUs of at most this size. */
const UNLIMITED_FRAGMENT = 1024 * 1024;
/** P-DATA pieces below this size are coalesced into an arena of ARENA_SIZE bytes (see write). */
const ARENA_PIECE = 2048;
const ARENA_SIZE = 64 * 1024;

/**
 * The P-DATA-TF PDUs of one message fragment stream, as header, value, header, value, ...:
 * `data` split into values that fit the peer's maximum PDU length (0 = unlimited), the
 * last one carrying `isLast`. Values are views of `data`, not copies.
 */
export function pdataFrames(contextId: number, isCommand: boolean, data: Buffer, isLast: boolean, peerMaxPduLength: number): Buffer[] {
  const max = peerMaxPduLength > 0 ? Math.max(1, peerMaxPduLength - 6) : UNLIMITED_FRAGMENT;
  const frames: Buffer[] = [];
  let off = 0;
  do {
    const n = Math.min(max, data.length - off);
    const last = off + n >= data.length;
    frames.push(encodePDataTfHeader(contextId, isCommand, isLast && last, n), off === 0 && last ? data : data.subarray(off, off + n));
    off += n;
  } while (off < data.length);
  return frames;
}

export class PDataWriter {
  /** The socket is corked until the next tick (DT-1). */
  private corked = false;
  /** Small P-DATA pieces are copied into this arena; [arenaFrom, arenaLength) is not written yet. */
  private arena: Buffer | undefined;
  private arenaFrom = 0;
  private arenaLength = 0;

  constructor(private readonly socket: net.Socket) {}

  /** Bytes given to write() that have not reached the socket yet (corked or in the arena). */
  get holding(): boolean {
    return this.corked || this.arenaLength > this.arenaFrom;
  }

  /**
   * DT-1 / AR-7: writes P-DATA-TF PDUs (header, value, header, value, ...). Everything
   * written in one turn of the event loop (a C-FIND's Pending responses, a command and its
   * data set, the 32 PDUs of a 512 KB data set to a peer taking 16 KB PDUs) leaves in one
   * writev at the next tick: a syscall per PDU cost ~20 us each here. Pieces smaller than
   * ARENA_PIECE are copied into an arena first, so a burst of small responses is a few
   * large buffers rather than four iovecs per response (the kernel's cost per iovec on a
   * TCP socket was most of a C-FIND's send time). Larger pieces are written as they are.
   */
  write(frames: Buffer[]): void {
    const socket = this.socket;
    if (!this.corked) {
      this.corked = true;
      socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.flush();
        socket.uncork();
      });
    }
    for (const f of frames) {
      if (f.length >= ARENA_PIECE) {
        this.flush();
        socket.write(f);
        continue;
      }
      if (!this.arena || this.arenaLength + f.length > this.arena.length) {
        this.flush();
        this.arena = Buffer.allocUnsafe(ARENA_SIZE);
        this.arenaFrom = 0;
        this.arenaLength = 0;
      }
      f.copy(this.arena, this.arenaLength);
      this.arenaLength += f.length;
    }
  }

  /** Writes a PDU other than P-DATA-TF, after the P-DATA written earlier in this turn. False when the socket is gone. */
  writePdu(buf: Buffer): boolean {
    this.flush();
    const s = this.socket;
    if (s.destroyed || !s.writable) return false;
    s.write(buf);
    return true;
  }

  /** Writes what the arena holds that is not written yet (the region stays untouched after). */
  flush(): void {
    if (!this.arena || this.arenaLength === this.arenaFrom) return;
    const chunk = this.arena.subarray(this.arenaFrom, this.arenaLength);
    this.arenaFrom = this.arenaLength;
    const s = this.socket;
    if (!s.destroyed && s.writable) s.write(chunk);
  }

  /**
   * The socket's buffer is full: wait for drained(). The socket's own flag, not the last
   * write's result: small pieces wait in the arena until the next tick, and a 'drain' that
   * already happened will not come again.
   */
  get needsDrain(): boolean {
    return this.socket.writableNeedDrain;
  }

  /** Resolves on the socket's next 'drain' (or 'close'); at once when it is destroyed. */
  drained(): Promise<void> {
    const socket = this.socket;
    if (socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
  }
}
