/**
 * Storage Commitment Push Model SCU (PS3.4 J.3, service user side): sends the N-ACTION
 * and waits for the provider's N-EVENT-REPORT, which may come on the same association
 * or, after it is released, over a new association the provider opens to us: for that
 * we listen on a port (our AE's address in the provider's configuration) while waiting.
 */
import type { ConnectionOptions } from 'node:tls';
import pino from 'pino';
import { CommandField } from '../dimse/command-fields.js';
import { Status } from '../dicom/status.js';
import { ScpDispatcher } from '../dimse/scp-dispatcher.js';
import { DimseServiceError } from '../dimse/errors.js';
import { ServiceRegistry, type RequestHandler, type ServiceClassProvider } from '../dimse/service.js';
import { nAction } from '../dimse/scu-n.js';
import { readDataset } from '../dicom/dataset-reader.js';
import { writeDataset } from '../dicom/dataset-writer.js';
import { newUid } from '../dicom/uid-generator.js';
import { EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN, getTransferSyntax } from '../dicom/transfer-syntax.js';
import { connect, createAcceptor, negotiatePresentationContexts, negotiateRoleSelections, Reject, type Acceptor } from '../net/index.js';
import type { CommitmentRef, CommitmentResult } from '../archive/commitment-store.js';
import { commitRequestDataset, parseCommitReport, STORAGE_COMMITMENT_INSTANCE, STORAGE_COMMITMENT_PUSH } from './commitment-dataset.js';

export interface CommitmentReport extends CommitmentResult {
  transactionUid: string;
  /** Where the report came: on the requesting association or on a new one. */
  via: 'same-association' | 'new-association';
  /** The provider's AE title (calling AE of the new association, else the called AE). */
  from: string;
}

/** A service that takes N-EVENT-REPORTs of storage commitment and hands each to `onReport`. */
export function commitmentReportReceiver(onReport: (r: { transactionUid: string } & CommitmentResult, from: string) => void): ServiceClassProvider {
  const handler: RequestHandler = async (ctx, dataset) => {
    if (ctx.command.eventTypeId !== 1 && ctx.command.eventTypeId !== 2) {
      throw new DimseServiceError(Status.InvalidArgumentValue, `Event Type ID ${ctx.command.eventTypeId ?? '(none)'} is not 1 or 2`);
    }
    if (!dataset?.length) throw new DimseServiceError(Status.MissingAttribute, 'N-EVENT-REPORT without Event Information');
    const report = parseCommitReport(readDataset(dataset, ctx.transferSyntax));
    // After our N-EVENT-REPORT response has gone out (the dispatcher sends it in this tick's
    // microtasks): the caller releases the association once it has the report, and a release
    // ahead of the response leaves the provider without its acknowledgement (it keeps the
    // report pending and retries it).
    setImmediate(() => onReport(report, ctx.association.callingAeTitle));
    return { status: Status.Success };
  };
  return { name: 'storage-commitment-report', sopClasses: [STORAGE_COMMITMENT_PUSH], handlers: { [CommandField.N_EVENT_REPORT_RQ]: handler } };
}

export interface CommitRequestOptions {
  host: string;
  port: number;
  callingAeTitle: string;
  calledAeTitle: string;
  /** Call with TLS (the report listener, `listenPort`, stays plain TCP). */
  tls?: ConnectionOptions;
  refs: readonly CommitmentRef[];
  /** Listen here for a report on a new association (0: any free port); undefined: same association only. */
  listenPort?: number;
  listenHost?: string;
  /** Give up waiting for the report after this long (default 60 s). */
  timeoutMs?: number;
  transactionUid?: string;
  /** Called once the listener is up (with its port) and once the N-ACTION succeeded. */
  onListening?: (port: number) => void;
  onRequested?: (transactionUid: string) => void;
}

/** Sends the request and resolves with the report; rejects on a failure status or timeout. */
export async function requestCommitment(o: CommitRequestOptions): Promise<CommitmentReport> {
  const transactionUid = o.transactionUid ?? newUid();
  const silent = pino({ level: 'silent' });
  let settle!: (r: CommitmentReport) => void;
  const reported = new Promise<CommitmentReport>((resolve) => (settle = resolve));
  let acceptor: Acceptor | undefined;
  const receiver = (via: CommitmentReport['via']) =>
    commitmentReportReceiver((r, from) => {
      if (r.transactionUid === transactionUid) settle({ ...r, via, from: via === 'same-association' ? o.calledAeTitle : from });
    });
  if (o.listenPort !== undefined) {
    const registry = new ServiceRegistry([receiver('new-association')]);
    acceptor = createAcceptor({
      onAssociationRequest: (rq) => {
        if (rq.calledAeTitle.trim() !== o.callingAeTitle) return { reject: Reject.CalledAeTitleNotRecognized };
        const contexts = negotiatePresentationContexts(
          rq.presentationContexts,
          (as) => as === STORAGE_COMMITMENT_PUSH && ((ts: string) => getTransferSyntax(ts) !== undefined),
        );
        return { accept: { contexts, roleSelections: negotiateRoleSelections(rq.userInformation.roleSelections, (uid) => uid === STORAGE_COMMITMENT_PUSH) } };
      },
      onAssociation: (assoc) => void new ScpDispatcher(assoc, registry, silent),
    });
    await acceptor.listen(o.listenPort, o.listenHost);
    o.onListening?.(acceptor.address()?.port ?? o.listenPort);
  }
  try {
    const assoc = await connect({
      host: o.host,
      port: o.port,
      callingAeTitle: o.callingAeTitle,
      calledAeTitle: o.calledAeTitle,
      tls: o.tls,
      presentationContexts: [{ abstractSyntax: STORAGE_COMMITMENT_PUSH, transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN] }],
    });
    const dispatcher = new ScpDispatcher(assoc, new ServiceRegistry([receiver('same-association')]), silent);
    const conn = dispatcher.connection;
    let timer: NodeJS.Timeout | undefined;
    try {
      const ctx = [...assoc.contexts.values()].find((c) => c.abstractSyntax === STORAGE_COMMITMENT_PUSH);
      if (!ctx) throw new Error(`${o.calledAeTitle} did not accept Storage Commitment Push Model`);
      const info = writeDataset(commitRequestDataset(transactionUid, o.refs), ctx.transferSyntax);
      await nAction(conn, STORAGE_COMMITMENT_PUSH, STORAGE_COMMITMENT_INSTANCE, 1, info);
      o.onRequested?.(transactionUid);
      const timeoutMs = o.timeoutMs ?? 60_000;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no storage commitment report within ${timeoutMs / 1000} s (transaction ${transactionUid})`)), timeoutMs);
      });
      // Without a listener the report can only come here: keep the association open for it.
      // With one, release after a short grace period (providers that report on the same association do so at once).
      if (acceptor) {
        const grace = new Promise<void>((r) => setTimeout(r, 2000).unref());
        await Promise.race([reported, grace]);
        if (!conn.isClosed) await assoc.release().catch(() => assoc.abort());
      }
      return await Promise.race([reported, timeout]);
    } finally {
      clearTimeout(timer);
      if (!conn.isClosed) await assoc.release().catch(() => assoc.abort());
    }
  } finally {
    await acceptor?.close();
  }
}
