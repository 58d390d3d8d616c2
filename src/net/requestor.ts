// The association requestor: open a connection and negotiate an association.
import * as net from 'node:net';
import * as tls from 'node:tls';
import { Association } from './association.js';
import { DEFAULT_MAX_PDU_LENGTH, IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from './acceptor.js';
import { RECEIVE_BUFFER_BYTES } from './receive-buffer.js';
import { tlsFailure } from './tls-failure.js';
import { DICOM_APPLICATION_CONTEXT, type AssociateRq, type AsyncOpsWindow, type ExtendedNegotiation, type RoleSelection, type UserIdentityRq } from './pdu.js';

export interface ProposedContext {
  /** Odd, 1-255; assigned 1, 3, 5... when omitted. */
  id?: number;
  abstractSyntax: string;
  transferSyntaxes: string[];
}

export interface ConnectOptions {
  host: string;
  port: number;
  callingAeTitle: string;
  calledAeTitle: string;
  presentationContexts: ProposedContext[];
  /** Maximum P-DATA-TF PDU length we accept and announce. Default 262144. */
  maxPduLength?: number;
  roleSelections?: RoleSelection[];
  extendedNegotiations?: ExtendedNegotiation[];
  userIdentity?: UserIdentityRq;
  asyncOps?: AsyncOpsWindow;
  implementationClassUid?: string;
  implementationVersionName?: string;
  /** TCP (and TLS) connection timeout. Default 30 s. */
  connectTimeoutMs?: number;
  /** Wait for A-ASSOCIATE-AC/RJ, for A-RELEASE-RP, and for the peer to close. Default 30 s. */
  artimTimeoutMs?: number;
  /** Established association with no PDU for this long -> A-ABORT. Default 0 (none). */
  idleTimeoutMs?: number;
  /** Connect with TLS. */
  tls?: tls.ConnectionOptions;
  /** Custom transport (the association waits for 'connect', or 'secureConnect' on a TLSSocket). */
  socketFactory?: () => net.Socket;
}

/**
 * Request an association. Rejects with AssociationRejectedError (A-ASSOCIATE-RJ),
 * AssociationAbortedError (A-ABORT, or no answer in time) or ConnectError
 * (TlsHandshakeError, a ConnectError, when the TLS handshake failed).
 */
export function connect(opts: ConnectOptions): Promise<Association> {
  let nextId = 1;
  const contexts = opts.presentationContexts.map((pc) => {
    const id = pc.id ?? nextId;
    nextId = Math.max(nextId, id + 2 - (id % 2 === 0 ? 1 : 0));
    return { id, abstractSyntax: pc.abstractSyntax, transferSyntaxes: pc.transferSyntaxes };
  });
  const rq: AssociateRq = {
    type: 'A-ASSOCIATE-RQ',
    protocolVersion: 1,
    calledAeTitle: opts.calledAeTitle,
    callingAeTitle: opts.callingAeTitle,
    applicationContextName: DICOM_APPLICATION_CONTEXT,
    presentationContexts: contexts,
    userInformation: {
      maxPduLength: opts.maxPduLength ?? DEFAULT_MAX_PDU_LENGTH,
      implementationClassUid: opts.implementationClassUid ?? IMPLEMENTATION_CLASS_UID,
      implementationVersionName: opts.implementationVersionName ?? IMPLEMENTATION_VERSION_NAME,
      asyncOps: opts.asyncOps,
      roleSelections: opts.roleSelections ?? [],
      extendedNegotiations: opts.extendedNegotiations ?? [],
      commonExtendedNegotiations: [],
      userIdentity: opts.userIdentity,
    },
  };
  const assoc = new Association({
    isRequestor: true,
    maxPduLength: opts.maxPduLength ?? DEFAULT_MAX_PDU_LENGTH,
    artimTimeoutMs: opts.artimTimeoutMs ?? 30_000,
    idleTimeoutMs: opts.idleTimeoutMs ?? 0,
  });
  assoc.peerAddress = opts.host;
  assoc.peerPort = opts.port;
  const open = (): net.Socket => {
    if (opts.socketFactory) return opts.socketFactory();
    if (opts.tls) return tls.connect({ ...opts.tls, host: opts.host, port: opts.port });
    // Reads go into one buffer shared by every requestor connection (receive-buffer.ts says why and why it is safe).
    return net.connect({
      host: opts.host,
      port: opts.port,
      noDelay: true,
      onread: {
        buffer: requestorReceiveBuffer(),
        callback: (n: number, buf: Uint8Array) => {
          assoc.receiveRead((buf as Buffer).subarray(0, n));
          return true; // backpressure goes through socket.pause()
        },
      },
    });
  };
  const requested = assoc.requestAssociation(rq, open, opts.connectTimeoutMs ?? 30_000);
  if (!opts.tls) return requested;
  // A handshake failure names the AE and what to check (CA, host name, client certificate).
  return requested.catch((err: unknown) => {
    throw tlsFailure(err, { calledAeTitle: opts.calledAeTitle, host: opts.host, port: opts.port }) ?? err;
  });
}

let sharedReceiveBuffer: Buffer | undefined;

/** The one read buffer of every plain TCP requestor connection, made on first use. */
function requestorReceiveBuffer(): Buffer {
  return (sharedReceiveBuffer ??= Buffer.allocUnsafeSlow(RECEIVE_BUFFER_BYTES));
}
