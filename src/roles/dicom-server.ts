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
import {
  AbortReason,
  AbortSource,
  createAcceptor,
  describeReject,
  negotiatePresentationContexts,
  negotiateRoleSelections,
  type AcceptDecision,
  type AssociateRq,
  type Association,
  type LiveLimit,
  Reject,
} from '../net/index.js';
import type { ActivityRecorder } from '../services/activity-log.js';
import { contextAllowed, guardedRegistry, type AccessControl, type Admission } from './access-control.js';
import { AssociationActivity, rejectedAssociation } from './association-activity.js';
import type { AuditRecorder } from '../audit/index.js';

/** Limits of a listening role, as numbers or read per new connection (the registry's `limits.dicom`, applied at once). */
export interface DicomLimitOptions {
  maxPduLength?: LiveLimit;
  maxAssociations?: LiveLimit;
  idleTimeoutMs?: LiveLimit;
  artimTimeoutMs?: LiveLimit;
}

export interface DicomServerOptions extends DicomLimitOptions {
  aeTitle: string;
  port: number;
  host?: string;
  registry: ServiceRegistry;
  logger: Logger;
  tls?: TlsOptions;
  /** Calling/called AE checks and per-operation permissions from the AE registry; without it, any caller may do anything. */
  access?: AccessControl;
  /** The activity log (issue 18): every association and rejection is recorded there; default none. */
  activity?: ActivityRecorder;
  /** The server role this is (main, workstation, router), as the activity log names it; default the AE title. */
  role?: string;
  /** Told of each association refused (IHE ATNA: Security Alert). */
  audit?: AuditRecorder;
}

export interface DicomServer {
  readonly aeTitle: string;
  readonly port: number;
  /** Connections open right now. */
  readonly activeAssociations: number;
  close(): Promise<void>;
}

export async function startDicomServer(opts: DicomServerOptions): Promise<DicomServer> {
  const log = opts.logger.child({ ae: opts.aeTitle });
  // The admission decided on an A-ASSOCIATE-RQ, for the association it establishes (keyed by
  // the request itself: nothing to clean up when the connection dies in between).
  const admitted = new WeakMap<AssociateRq, Admission>();
  const party = (rq: { callingAeTitle: string; calledAeTitle: string }, address: string) => ({
    role: opts.role ?? opts.aeTitle,
    callingAe: rq.callingAeTitle,
    calledAe: rq.calledAeTitle,
    peerAddress: address,
    tls: opts.tls !== undefined,
  });
  const decide = async (rq: AssociateRq, peer: { address: string; port: number }): Promise<AcceptDecision> => {
    const result = await opts.access?.admit(rq.callingAeTitle, rq.calledAeTitle, peer.address);
    if (result && 'refused' in result) {
      log.warn({ peer, calling: rq.callingAeTitle, called: rq.calledAeTitle }, `association rejected: ${result.message}`);
      opts.activity?.record(rejectedAssociation(party(rq, peer.address), result.message));
      opts.audit?.record({
        kind: 'association-rejected',
        calling: rq.callingAeTitle.trim(),
        called: rq.calledAeTitle.trim(),
        address: peer.address,
        reason: result.message,
      });
      return { reject: result.refused === 'called-ae' ? Reject.CalledAeTitleNotRecognized : Reject.CallingAeTitleNotRecognized };
    }
    const admission = result?.admitted;
    if (admission) admitted.set(rq, admission);
    if (!opts.access && rq.calledAeTitle.trim() !== opts.aeTitle) {
      log.warn({ peer, calling: rq.callingAeTitle, called: rq.calledAeTitle }, 'association rejected: called AE title not recognized');
      opts.activity?.record(rejectedAssociation(party(rq, peer.address), 'called AE title not recognized'));
      opts.audit?.record({
        kind: 'association-rejected',
        calling: rq.callingAeTitle.trim(),
        called: rq.calledAeTitle.trim(),
        address: peer.address,
        reason: 'called AE title not recognized',
      });
      return { reject: Reject.CalledAeTitleNotRecognized };
    }
    const contexts = negotiatePresentationContexts(rq.presentationContexts, (abstractSyntax: string) => {
      const service = opts.registry.lookup(abstractSyntax);
      if (!service) return false;
      if (admission && !contextAllowed(admission, abstractSyntax)) return false;
      // Every transfer syntax we can parse the header of, in the requestor's order of preference.
      return (ts: string) => getTransferSyntax(ts) !== undefined && (service.acceptsTransferSyntax?.(abstractSyntax, ts) ?? true);
    });
    if (admission) {
      // Refused by permission rather than unsupported: PS3.8 result 1 (user rejection).
      const byId = new Map(rq.presentationContexts.map((pc) => [pc.id, pc.abstractSyntax]));
      for (const c of contexts) {
        const as = byId.get(c.id);
        if (c.result === 3 && as !== undefined && opts.registry.lookup(as) && !contextAllowed(admission, as)) c.result = 1;
      }
    }
    // SCP/SCU role selection (PS3.7 D.3.3.4): C-GET's SCU takes the SCP role for the storage classes it will receive.
    const roleSelections = negotiateRoleSelections(rq.userInformation.roleSelections, (uid) => opts.registry.lookup(uid) !== undefined);
    return { accept: { contexts, roleSelections } };
  };
  const acceptor = createAcceptor({
    maxPduLength: opts.maxPduLength,
    maxAssociations: opts.maxAssociations,
    idleTimeoutMs: opts.idleTimeoutMs,
    artimTimeoutMs: opts.artimTimeoutMs,
    tls: opts.tls,
    onAssociationRequest: decide,
    // Refused by the upper layer before decide(): malformed AE titles, maxAssociations reached.
    onRejected: (rq, peer, rj) => opts.activity?.record(rejectedAssociation(party(rq, peer.address), describeReject(rj.result, rj.source, rj.reason))),
    onTlsFailure: (f) => {
      log.warn({ peer: f.address, code: f.code }, `TLS handshake failed: ${f.reason}`);
      opts.audit?.record({ kind: 'tls-failure', called: opts.aeTitle, address: f.address, reason: `${f.reason} (${f.code})` });
    },
    onAssociation: (assoc: Association) => {
      const peer = { calling: assoc.callingAeTitle, address: assoc.peerAddress };
      log.debug(peer, 'association established');
      const admission = assoc.request && admitted.get(assoc.request);
      if (opts.access && !admission) {
        // Not admitted by decide() (cannot happen: established only after it accepted); refuse all.
        assoc.abort(AbortSource.ServiceProvider, AbortReason.NotSpecified);
        return;
      }
      const guarded = admission ? guardedRegistry(opts.registry, admission, log) : opts.registry;
      const activity = opts.activity && new AssociationActivity(party(assoc, assoc.peerAddress), assoc.contexts.values(), opts.activity);
      new ScpDispatcher(assoc, activity?.registry(guarded) ?? guarded, log);
      assoc.on('closed', (info) => {
        log.debug({ ...peer, reason: info.reason }, 'association closed');
        activity?.closed(info);
      });
    },
    logger: log,
  });
  await acceptor.listen(opts.port, opts.host);
  const port = acceptor.address()?.port ?? opts.port;
  log.info({ port }, `${opts.aeTitle} listening`);
  return {
    aeTitle: opts.aeTitle,
    port,
    get activeAssociations() {
      return acceptor.connections.size;
    },
    close: () => acceptor.close(),
  };
}
