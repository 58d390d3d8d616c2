/**
 * Delivery of queued audit messages to the repository, oldest first: over TLS one
 * long-lived connection with octet-counted frames (RFC 5425), over UDP one datagram per
 * message (RFC 5426). A message leaves the queue once written to the socket; on any
 * error the connection is dropped and delivery resumes after a pause that doubles up to
 * `maxRetryMs`, from the message that failed.
 *
 * What syslog cannot promise: neither transport acknowledges a message. Over TLS a
 * message written just before the repository dies can be lost; over UDP any can, and
 * an unreachable repository is noticed only when the host answers with ICMP
 * (ECONNREFUSED on the connected socket).
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import type { AuditRepository } from '../config/index.js';
import { octetCounted } from './syslog.js';

/** Largest UDP payload over IPv4; a bigger audit message cannot go over UDP at all. */
export const MAX_UDP_MESSAGE = 65_507;

export interface Channel {
  send(message: Buffer): Promise<void>;
  close(): void;
  readonly closed: boolean;
}

/** The repository refused the connection, timed out, or the message cannot be sent. */
export class AuditDeliveryError extends Error {
  override readonly name = 'AuditDeliveryError';
  constructor(
    message: string,
    options?: ErrorOptions & {
      /** The message itself cannot be sent (retrying cannot help): it is dropped. */
      permanent?: boolean;
    },
  ) {
    super(message, options);
    this.permanent = options?.permanent === true;
  }
  readonly permanent: boolean;
}

export async function openTlsChannel(repo: AuditRepository, tls: ConnectionOptions, timeoutMs: number): Promise<Channel> {
  const socket: TLSSocket = await new Promise((resolve, reject) => {
    const s = tlsConnect({ ...tls, host: repo.host, port: repo.port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new AuditDeliveryError(`TLS connection to ${repo.host}:${repo.port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    s.once('secureConnect', () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      s.destroy();
      reject(new AuditDeliveryError(`TLS connection to ${repo.host}:${repo.port} failed: ${err.message}`, { cause: err }));
    });
  });
  let closed = false;
  const markClosed = () => {
    closed = true;
  };
  socket.on('error', markClosed);
  socket.on('close', markClosed);
  // The repository sends nothing; an end from it means it is going away.
  socket.on('end', () => {
    markClosed();
    socket.destroy();
  });
  socket.resume();
  return {
    get closed() {
      return closed || socket.destroyed;
    },
    send: (message) =>
      new Promise<void>((resolve, reject) => {
        if (closed || socket.destroyed) return reject(new AuditDeliveryError('the connection to the audit repository is closed'));
        socket.write(octetCounted(message), (err) => (err ? reject(new AuditDeliveryError(`cannot send: ${err.message}`, { cause: err })) : resolve()));
      }),
    close: () => {
      closed = true;
      socket.destroy();
    },
  };
}

export async function openUdpChannel(repo: AuditRepository): Promise<Channel> {
  const family = repo.host.includes(':') ? 'udp6' : 'udp4';
  const socket: UdpSocket = createSocket(family);
  let closed = false;
  let lastError: Error | undefined;
  socket.on('error', (err) => {
    lastError = err;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', (err) => reject(new AuditDeliveryError(`UDP to ${repo.host}:${repo.port}: ${err.message}`, { cause: err })));
    // Connected: an ICMP port unreachable comes back as ECONNREFUSED on a later send.
    socket.connect(repo.port, repo.host, () => resolve());
  });
  return {
    get closed() {
      return closed;
    },
    send: (message) =>
      new Promise<void>((resolve, reject) => {
        if (message.length > MAX_UDP_MESSAGE) {
          return reject(
            new AuditDeliveryError(`an audit message of ${message.length} bytes does not fit a UDP datagram (at most ${MAX_UDP_MESSAGE})`, { permanent: true }),
          );
        }
        if (lastError) {
          const err = lastError;
          lastError = undefined;
          return reject(new AuditDeliveryError(`UDP to ${repo.host}:${repo.port}: ${err.message}`, { cause: err }));
        }
        socket.send(message, (err) => (err ? reject(new AuditDeliveryError(`UDP to ${repo.host}:${repo.port}: ${err.message}`, { cause: err })) : resolve()));
      }),
    close: () => {
      if (closed) return;
      closed = true;
      socket.close();
    },
  };
}
