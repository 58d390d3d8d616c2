/**
 * An MLLP listener: one TCP server, any number of messages per connection, each answered
 * (by `handle`) before the next is read, in the order received. Limits are read for each
 * new connection (a registry change applies at once): the largest message, the idle time
 * after which a connection is closed, the connections at once, the addresses allowed.
 * Nothing a peer sends can throw out of here: a handler failure closes that connection only.
 */
import * as net from 'node:net';
import { MllpFramer, mllpFrame, type MllpFrame } from './mllp.js';

export interface MllpPeer {
  address: string;
  port: number;
}

export interface MllpLimits {
  maxMessageBytes: number;
  idleTimeoutMs: number;
  maxConnections: number;
  /** When set, only these addresses may connect (others are closed at once). */
  allowedAddresses?: readonly string[];
}

export interface MllpLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface MllpServerOptions {
  host: string;
  port: number;
  limits: () => MllpLimits;
  /** The answer to one frame (an ACK, without MLLP framing). */
  handle: (frame: MllpFrame, peer: MllpPeer) => Promise<Buffer>;
  logger: MllpLogger;
}

export interface MllpServer {
  readonly port: number;
  readonly connections: number;
  close(): Promise<void>;
}

/** Frames queued beyond this pause reading until the handler catches up. */
const MAX_QUEUED = 4;

/** "::ffff:127.0.0.1" is 127.0.0.1 for the allow list. */
const plainAddress = (a: string): string => (a.startsWith('::ffff:') && net.isIPv4(a.slice(7)) ? a.slice(7) : a);

/** Resolves when the socket can take more, or is gone. */
function drained(socket: net.Socket): Promise<void> {
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

export async function startMllpServer(o: MllpServerOptions): Promise<MllpServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => serve(socket));

  function serve(socket: net.Socket): void {
    const limits = o.limits();
    const peer: MllpPeer = { address: plainAddress(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 };
    socket.on('error', (err) => o.logger.debug({ peer, err: err.message }, 'HL7 connection error'));
    if (limits.allowedAddresses && !limits.allowedAddresses.includes(peer.address)) {
      o.logger.warn({ peer }, 'HL7 connection from an address not in hl7.allowedHosts closed');
      socket.destroy();
      return;
    }
    if (sockets.size >= limits.maxConnections) {
      o.logger.warn({ peer, max: limits.maxConnections }, 'HL7 connection refused: too many connections');
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.setNoDelay(true);
    socket.setTimeout(limits.idleTimeoutMs, () => {
      o.logger.debug({ peer }, 'HL7 connection idle: closed');
      socket.destroy();
    });
    const framer = new MllpFramer(limits.maxMessageBytes);
    const queue: MllpFrame[] = [];
    let busy = false;

    const drain = async (): Promise<void> => {
      if (busy) return;
      busy = true;
      try {
        while (queue.length > 0 && !socket.destroyed) {
          const frame = queue.shift()!;
          let answer: Buffer;
          try {
            answer = await o.handle(frame, peer);
          } catch (err) {
            o.logger.warn({ peer, err: (err as Error).message }, 'HL7 message not answered: connection closed');
            socket.destroy();
            return;
          }
          // One write per answer: simple senders (mllp_send) read it with one recv(). A sender
          // that does not read its ACKs is not sent more until it does (no unbounded buffer).
          if (!socket.destroyed && !socket.write(mllpFrame(answer))) await drained(socket);
        }
      } finally {
        busy = false;
        if (!socket.destroyed && socket.isPaused()) socket.resume();
      }
    };

    socket.on('data', (chunk: Buffer) => {
      for (const f of framer.push(chunk)) queue.push(f);
      if (queue.length >= MAX_QUEUED) socket.pause();
      void drain();
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => o.logger.warn({ err: err.message }, 'HL7 listener error'));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  o.logger.info({ host: o.host, port }, 'HL7 MLLP listener started');
  return {
    port,
    get connections() {
      return sockets.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
