// The requestor's bookkeeping for one A-ASSOCIATE request: the caller's promise, the
// function that opens the transport connection, and the connect timeout. It settles
// once: with the association on AE-3, or with the first failure (rejection, abort,
// timeout, closed transport); later calls are no-ops.
import type * as net from 'node:net';
import * as tls from 'node:tls';
import { ArtimTimer } from './artim-timer.js';
import { ConnectError } from './errors.js';

export class ConnectRequest<T> {
  readonly promise: Promise<T>;
  private settle: { resolve: (value: T) => void; reject: (err: Error) => void } | undefined;
  private readonly timer: ArtimTimer | undefined;

  /**
   * `open` creates the transport connection; `onTimeout` runs when it is not connected
   * (TCP connect, and the TLS handshake on a TLSSocket) within `timeoutMs` (0 = no limit).
   */
  constructor(
    private readonly open: () => net.Socket,
    timeoutMs: number,
    onTimeout: () => void,
  ) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    if (timeoutMs > 0) this.timer = new ArtimTimer(timeoutMs, onTimeout);
  }

  /** Not settled yet. */
  get pending(): boolean {
    return this.settle !== undefined;
  }

  /**
   * AE-1: opens the transport connection and starts the connect timeout; `connected`
   * runs once it is connected. Throws ConnectError when it cannot be opened at all.
   */
  openTransport(connected: (socket: net.Socket) => void): net.Socket {
    let socket: net.Socket;
    try {
      socket = this.open();
    } catch (err) {
      throw new ConnectError(`cannot open the transport connection: ${(err as Error).message}`, { cause: err });
    }
    this.timer?.start();
    socket.once(socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect', () => connected(socket));
    return socket;
  }

  /** AE-2: the transport is connected; from here the A-ASSOCIATE-AC wait (the response timer) applies. */
  stopTimer(): void {
    this.timer?.stop();
  }

  succeed(value: T): void {
    const s = this.settle;
    this.settle = undefined;
    this.timer?.stop();
    s?.resolve(value);
  }

  fail(err: Error): void {
    const s = this.settle;
    this.settle = undefined;
    this.timer?.stop();
    s?.reject(err);
  }
}
