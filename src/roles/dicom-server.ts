/**
 * A DICOM application entity listening on a port: the upper-layer acceptor, the
 * association policy (called AE title, presentation contexts) and the service
 * registry that answers requests. Every server role is one of these.
 */
import type { Logger } from 'pino';
import type { TlsOptions } from 'node:tls';
import { ScpDispatcher } from '../dimse/scp-dispatcher.js';
import type { ServiceRegistry } from '../dimse/service.js';
import { getTransferSyntax } from '../dicom/transfer-syntax.js';
import { createAcceptor, negotiatePresentationContexts, type AcceptDecision, type AssociateRq, type Association } from '../net/index.js';

export interface DicomServerOptions {
  aeTitle: string;
  port: number;
  host?: string;
  registry: ServiceRegistry;
  logger: Logger;
  maxPduLength?: number;
  maxAssociations?: number;
  idleTimeoutMs?: number;
  tls?: TlsOptions;
}

export interface DicomServer {
  readonly aeTitle: string;
  readonly port: number;
  close(): Promise<void>;
}

/** PS3.8 Table 9-21: A-ASSOCIATE-RJ permanent, by the service user, called AE title not recognized. */
const REJECT_CALLED_AE = { result: 1, source: 1, reason: 7 } as const;

export async function startDicomServer(opts: DicomServerOptions): Promise<DicomServer> {
  const log = opts.logger.child({ ae: opts.aeTitle });
  const decide = (rq: AssociateRq, peer: { address: string; port: number }): AcceptDecision => {
    if (rq.calledAeTitle.trim() !== opts.aeTitle) {
      log.warn({ peer, calling: rq.callingAeTitle, called: rq.calledAeTitle }, 'association rejected: called AE title not recognized');
      return { reject: REJECT_CALLED_AE };
    }
    const contexts = negotiatePresentationContexts(rq.presentationContexts, (abstractSyntax: string) => {
      const service = opts.registry.lookup(abstractSyntax);
      if (!service) return false;
      // Every transfer syntax we can parse the header of, in the requestor's order of preference.
      return (ts: string) => getTransferSyntax(ts) !== undefined && (service.acceptsTransferSyntax?.(abstractSyntax, ts) ?? true);
    });
    return { accept: { contexts } };
  };
  const acceptor = createAcceptor({
    maxPduLength: opts.maxPduLength,
    maxAssociations: opts.maxAssociations,
    idleTimeoutMs: opts.idleTimeoutMs,
    tls: opts.tls,
    onAssociationRequest: decide,
    onAssociation: (assoc: Association) => {
      const peer = { calling: assoc.callingAeTitle, address: assoc.peerAddress };
      log.debug(peer, 'association established');
      new ScpDispatcher(assoc, opts.registry, log);
      assoc.on('closed', (info: { reason: string }) => log.debug({ ...peer, reason: info.reason }, 'association closed'));
    },
    logger: log,
  });
  await acceptor.listen(opts.port, opts.host);
  const port = acceptor.address()?.port ?? opts.port;
  log.info({ port }, `${opts.aeTitle} listening`);
  return {
    aeTitle: opts.aeTitle,
    port,
    close: () => acceptor.close(),
  };
}
