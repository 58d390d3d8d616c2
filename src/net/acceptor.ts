// The association acceptor: a TCP (or TLS) server; one Association per connection.
import * as net from 'node:net';
import * as tls from 'node:tls';
import { Association, type AcceptorHooks, type RejectParams } from './association.js';
import { isValidAeTitle } from './pdu-codec.js';
import { RECEIVE_BUFFER_BYTES } from './receive-buffer.js';
import { negotiatePresentationContexts } from './negotiation.js';
import { Reject } from './reasons.js';
import {
  DICOM_APPLICATION_CONTEXT,
  type AssociateAc,
  type AssociateRq,
  type AsyncOpsWindow,
  type ExtendedNegotiation,
  type PresentationContextResult,
  type RoleSelection,
} from './pdu.js';

/** Implementation Class UID of this PACS (a UUID-derived 2.25 UID). */
// One implementation identity for the whole product: the one written into Part 10 files.
export { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../dicom/implementation.js';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../dicom/implementation.js';
export const DEFAULT_MAX_PDU_LENGTH = 262144;

export interface AcceptDecisionAccept {
  accept: {
    contexts: PresentationContextResult[];
    roleSelections?: RoleSelection[];
    userIdentityResponse?: Buffer;
    extendedNegotiations?: ExtendedNegotiation[];
    asyncOps?: AsyncOpsWindow;
  };
}
export interface AcceptDecisionReject {
  reject: { result: 1 | 2; source: 1 | 2 | 3; reason: number };
}
export type AcceptDecision = AcceptDecisionAccept | AcceptDecisionReject;

export interface PeerInfo {
  address: string;
  port: number;
}

/**
 * A limit given as a number, or as a function read again for each new connection, so a
 * configuration change applies to the next association without re-opening the listener.
 */
export type LiveLimit = number | (() => number);
const read = (l: LiveLimit | undefined, fallback: number): number => (l === undefined ? fallback : typeof l === 'number' ? l : l());

export interface AcceptorOptions {
  /** Maximum P-DATA-TF PDU length we accept and announce. Default 262144. */
  maxPduLength?: LiveLimit;
  /** Largest A-ASSOCIATE-RQ accepted. Default 1 MiB. */
  maxAssociatePduLength?: number;
  /** Associations at once; one more is rejected (transient, local limit exceeded). Default unlimited. */
  maxAssociations?: LiveLimit;
  /** ARTIM timer (PS3.8 9.1.5): wait for the A-ASSOCIATE-RQ and for the peer to close. Default 30 s. */
  artimTimeoutMs?: LiveLimit;
  /** Established association with no PDU for this long -> A-ABORT. Default 0 (none). */
  idleTimeoutMs?: LiveLimit;
  implementationClassUid?: string;
  implementationVersionName?: string;
  /** Listen with TLS (PS3.15 B.1) instead of plain TCP. */
  tls?: tls.TlsOptions;
  /** Decide on an A-ASSOCIATE-RQ. Default: accept every context with its first transfer syntax. */
  onAssociationRequest?: (rq: AssociateRq, peer: PeerInfo) => AcceptDecision | Promise<AcceptDecision>;
  /** Called once per established association (attach 'pdv' listeners here). */
  onAssociation?: (assoc: Association) => void;
  /**
   * Told of an A-ASSOCIATE-RQ the acceptor itself rejects before asking onAssociationRequest
   * (malformed AE titles, an unsupported protocol version or context, maxAssociations reached).
   */
  onRejected?: (rq: AssociateRq, peer: PeerInfo, rj: RejectParams) => void;
  /**
   * A TLS handshake the peer failed (no or an untrusted client certificate, no common
   * protocol): its address and OpenSSL's reason. Connections that just drop (a port probe,
   * a reset) are not reported.
   */
  onTlsFailure?: (failure: { address: string; code: string; reason: string }) => void;
  /** Structured logger (pino-compatible): rejections and aborts at warn, the rest at debug. */
  logger?: NetLogger;
  /**
   * Read plain TCP connections into one reused buffer of this many bytes, shared by all
   * (receive-buffer.ts); 0 = a new buffer per read (Node's 'data' events). TLS connections
   * always use 'data' events. Default 256 KiB.
   */
  receiveBufferBytes?: number;
}

export interface NetLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface Acceptor {
  listen(port: number, host?: string): Promise<void>;
  /** Stop listening, abort every association, resolve when all connections are closed. */
  close(): Promise<void>;
  address(): net.AddressInfo | null;
  /** Connections currently open (any state). */
  readonly connections: ReadonlySet<Association>;
}

export function createAcceptor(opts: AcceptorOptions = {}): Acceptor {
  const all = new Set<Association>();
  const active = new Set<Association>();

  const checkRequest = (rq: AssociateRq): RejectParams | undefined => {
    if ((rq.protocolVersion & 0x0001) === 0) return Reject.ProtocolVersionNotSupported;
    if (rq.applicationContextName !== DICOM_APPLICATION_CONTEXT) return Reject.ApplicationContextNameNotSupported;
    if (!isValidAeTitle(rq.callingAeTitle) || rq.callingAeTitle === '') return Reject.CallingAeTitleNotRecognized;
    if (!isValidAeTitle(rq.calledAeTitle) || rq.calledAeTitle === '') return Reject.CalledAeTitleNotRecognized;
    if (active.size >= read(opts.maxAssociations, Infinity)) return Reject.LocalLimitExceeded;
    return undefined;
  };

  const hooks: AcceptorHooks = {
    check(rq, assoc): RejectParams | undefined {
      const rj = checkRequest(rq);
      if (rj) opts.onRejected?.(rq, { address: assoc.peerAddress, port: assoc.peerPort }, rj);
      return rj;
    },
    async indication(rq, assoc) {
      active.add(assoc);
      const decision = opts.onAssociationRequest
        ? await opts.onAssociationRequest(rq, { address: assoc.peerAddress, port: assoc.peerPort })
        : { accept: { contexts: negotiatePresentationContexts(rq.presentationContexts, () => true) } };
      if ('reject' in decision) return { reject: decision.reject };
      return { ac: buildAc(rq, decision, assoc.maxPduLength, opts) };
    },
    established(assoc) {
      opts.onAssociation?.(assoc);
    },
  };

  const receiveBytes = opts.tls ? 0 : (opts.receiveBufferBytes ?? RECEIVE_BUFFER_BYTES);
  let receiveBuffer: Buffer | undefined;
  const onConnection = (socket: net.Socket) => {
    if (receiveBytes > 0) receiveBuffer ??= Buffer.allocUnsafeSlow(receiveBytes);
    const assoc = new Association({
      receiveBuffer,
      isRequestor: false,
      maxPduLength: read(opts.maxPduLength, DEFAULT_MAX_PDU_LENGTH),
      maxAssociatePduLength: opts.maxAssociatePduLength,
      artimTimeoutMs: read(opts.artimTimeoutMs, 30_000),
      idleTimeoutMs: read(opts.idleTimeoutMs, 0),
    });
    all.add(assoc);
    assoc.once('closed', (info) => {
      all.delete(assoc);
      active.delete(assoc);
      const fields = {
        peer: `${assoc.peerAddress}:${assoc.peerPort}`,
        calling: assoc.callingAeTitle,
        reason: info.reason,
        abort: info.abort,
        error: info.error?.message,
      };
      if (info.reason === 'released') opts.logger?.debug(fields, 'association released');
      else opts.logger?.warn(fields, 'connection closed without release');
    });
    assoc.acceptTransport(socket, hooks);
  };

  const server: net.Server = opts.tls ? tls.createServer(opts.tls, onConnection) : net.createServer({ noDelay: true }, onConnection);
  // A failed TLS handshake only concerns that connection (the socket is destroyed by Node).
  server.on('tlsClientError', (err: NodeJS.ErrnoException & { reason?: string }, socket: tls.TLSSocket) => {
    const code = err.code ?? '';
    if (!code.startsWith('ERR_SSL_') && !/SSL routines/.test(err.message)) return;
    opts.onTlsFailure?.({ address: socket.remoteAddress ?? '', code, reason: err.reason ?? err.message });
  });

  return {
    connections: all,
    listen(port, host) {
      return new Promise((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        server.once('error', onError);
        server.listen(port, host, () => {
          server.off('error', onError);
          server.on('error', () => undefined);
          resolve();
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        for (const a of all) {
          if (a.isEstablished)
            a.abort(); // A-ABORT by the service-user
          else a.destroy();
        }
      });
    },
    address() {
      const a = server.address();
      return a && typeof a === 'object' ? a : null;
    },
  };
}

function buildAc(rq: AssociateRq, decision: AcceptDecisionAccept, maxPduLength: number, opts: AcceptorOptions): AssociateAc {
  const a = decision.accept;
  const byId = new Map(a.contexts.map((c) => [c.id, c]));
  return {
    type: 'A-ASSOCIATE-AC',
    protocolVersion: 1,
    calledAeTitle: rq.calledAeTitle,
    callingAeTitle: rq.callingAeTitle,
    applicationContextName: DICOM_APPLICATION_CONTEXT,
    presentationContexts: rq.presentationContexts.map((pc) => {
      const r = byId.get(pc.id);
      if (!r) return { id: pc.id, result: 1, transferSyntax: '' };
      // An accepted transfer syntax must be one the requestor proposed.
      if (r.result === 0 && !pc.transferSyntaxes.includes(r.transferSyntax)) return { id: pc.id, result: 4, transferSyntax: '' };
      return { id: pc.id, result: r.result, transferSyntax: r.result === 0 ? r.transferSyntax : '' };
    }),
    userInformation: {
      maxPduLength,
      implementationClassUid: opts.implementationClassUid ?? IMPLEMENTATION_CLASS_UID,
      implementationVersionName: opts.implementationVersionName ?? IMPLEMENTATION_VERSION_NAME,
      asyncOps: a.asyncOps,
      roleSelections: a.roleSelections ?? [],
      extendedNegotiations: a.extendedNegotiations ?? [],
      commonExtendedNegotiations: [],
      userIdentityResponse: a.userIdentityResponse,
    },
  };
}
