/**
 * Storage Commitment Push Model SOP Class SCP (PS3.4 Annex J).
 *
 * N-ACTION (Action Type 1, Transaction UID + Referenced SOP Sequence): the request is
 * recorded in the index first (so it survives a restart), answered with success, then
 * each referenced instance is checked in the archive (present: committed; absent:
 * failure reason 0x0112; another SOP class: 0x0119) and the N-EVENT-REPORT (event 1 all
 * committed, 2 some failed) goes to the requestor:
 * - on the requesting association while it is still open (report mode 'same', the
 *   default), else
 * - over a new association to the requestor's address in the AE registry, where we
 *   propose the SCP role for the SOP class (PS3.4 J.3.3, PS3.7 D.3.3.4), always so in
 *   report mode 'new'.
 * A report that cannot be delivered stays pending and is retried periodically and after
 * a restart (`resume`). Each attempt holds the report's claim in the index (see
 * archive/commitment-store.ts): with several nodes on one database, one node at a time
 * sends a report, and a report whose node died is sent by another once the claim lapsed.
 */
import { hostname } from 'node:os';
import type { ConnectionOptions } from 'node:tls';
import type { Logger } from 'pino';
import type { Archive } from '../archive/archive.js';
import { CommitmentStore, verifyInstances, type CommitmentRecord, type CommitmentResult } from '../archive/commitment-store.js';
import { CommandField } from '../dimse/command-fields.js';
import { Status, statusCategory, statusHex } from '../dicom/status.js';
import { DimseConnection } from '../dimse/dimse-connection.js';
import { DimseServiceError } from '../dimse/errors.js';
import type { DimseRequestContext, RequestHandler, ServiceClassProvider } from '../dimse/service.js';
import { readDataset } from '../dicom/dataset-reader.js';
import { writeDataset } from '../dicom/dataset-writer.js';
import { EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN } from '../dicom/transfer-syntax.js';
import { connect } from '../net/index.js';
import { commitReportDataset, eventTypeOf, parseCommitRequest, STORAGE_COMMITMENT_INSTANCE, STORAGE_COMMITMENT_PUSH } from './commitment-dataset.js';

export type CommitmentReportMode = 'same' | 'new';

export interface StorageCommitmentOptions {
  /** Our AE title now: the calling AE of report associations and the Retrieve AE Title. */
  aeTitle: () => string;
  /** Where an AE listens for reports sent over a new association; undefined: unknown. */
  resolveRequestor: (aeTitle: string) => { host: string; port: number; tls?: () => ConnectionOptions | undefined } | undefined;
  /** Per requesting AE (default 'same'). */
  reportMode?: (aeTitle: string) => CommitmentReportMode;
  /** Retry of undelivered reports (default 60 s; 0: no timer). */
  retryIntervalMs?: number;
  /** How long to wait for an N-EVENT-REPORT response (default 30 s). */
  responseTimeoutMs?: number;
  /** This node's name in the claims of reports it sends (default: the host name). */
  claimant?: string;
  /** How long a claim lasts (default 120 s): longer than one delivery attempt. */
  leaseMs?: number;
  logger?: Pick<Logger, 'info' | 'warn' | 'debug'>;
}

export interface StorageCommitmentService extends ServiceClassProvider {
  /** Delivers every pending report (at start-up: what a restart interrupted). */
  resume(): Promise<void>;
  /** Tries now to deliver one pending report (the web app's Retry); false when there is no such pending report. */
  retry(transactionUid: string): Promise<boolean>;
  /** Resolves when no report is being worked on. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
    }),
  ]);
}

export function storageCommitmentService(archive: Archive, opts: StorageCommitmentOptions): StorageCommitmentService {
  const log = opts.logger;
  const timeoutMs = opts.responseTimeoutMs ?? 30_000;
  const claimant = opts.claimant ?? hostname();
  const leaseMs = opts.leaseMs ?? 120_000;
  // Claims of this node's previous process are dropped first: nothing of them is being sent.
  const storeP = CommitmentStore.open(archive.index).then(async (s) => {
    await s.releaseAll(claimant);
    return s;
  });
  const working = new Map<string, Promise<void>>();
  let closed = false;

  /** Sends the report over `conn` on `contextId`; throws unless the peer answers success. */
  const report = async (conn: DimseConnection, contextId: number, rec: CommitmentRecord, result: CommitmentResult) => {
    const ts = conn.transport.contexts.get(contextId)?.transferSyntax ?? IMPLICIT_VR_LITTLE_ENDIAN;
    const info = writeDataset(
      commitReportDataset(rec.transactionUid, result, opts.aeTitle()),
      ts === EXPLICIT_VR_LITTLE_ENDIAN ? ts : IMPLICIT_VR_LITTLE_ENDIAN,
    );
    const rsp = await withTimeout(
      conn.request(
        contextId,
        {
          commandField: CommandField.N_EVENT_REPORT_RQ,
          affectedSopClassUid: STORAGE_COMMITMENT_PUSH,
          affectedSopInstanceUid: STORAGE_COMMITMENT_INSTANCE,
          eventTypeId: eventTypeOf(result),
        },
        info,
      ),
      timeoutMs,
      'N-EVENT-REPORT response',
    );
    const status = rsp.command.status ?? 0;
    if (statusCategory(status) === 'failure') throw new Error(`the requestor answered the report with status ${statusHex(status)}`);
  };

  const overNewAssociation = async (rec: CommitmentRecord, result: CommitmentResult) => {
    const target = opts.resolveRequestor(rec.callingAeTitle);
    if (!target) throw new Error(`${rec.callingAeTitle} has no address in the AE registry to send the report to`);
    const assoc = await connect({
      host: target.host,
      port: target.port,
      callingAeTitle: opts.aeTitle(),
      calledAeTitle: rec.callingAeTitle,
      tls: target.tls?.(),
      presentationContexts: [{ abstractSyntax: STORAGE_COMMITMENT_PUSH, transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN] }],
      roleSelections: [{ sopClassUid: STORAGE_COMMITMENT_PUSH, scuRole: false, scpRole: true }],
    });
    const conn = new DimseConnection(assoc);
    try {
      const contextId = [...assoc.contexts].find(([, c]) => c.abstractSyntax === STORAGE_COMMITMENT_PUSH)?.[0];
      if (contextId === undefined) throw new Error(`${rec.callingAeTitle} refused the Storage Commitment presentation context`);
      await report(conn, contextId, rec, result);
    } finally {
      if (!conn.isClosed) await assoc.release().catch(() => assoc.abort());
    }
  };

  const deliver = async (transactionUid: string, ctx?: DimseRequestContext): Promise<void> => {
    const store = await storeP;
    const rec = await store.get(transactionUid);
    if (!rec || rec.state !== 'pending') return;
    if (!(await store.claim(transactionUid, claimant, leaseMs))) {
      log?.debug({ transactionUid, claimedBy: rec.claimedBy }, 'storage commitment report is being sent by another node');
      return;
    }
    try {
      await sendReport(store, rec, ctx);
    } catch (err) {
      // Whatever failed before or around the attempt: counted, and the claim ended for the next retry.
      await store.failedAttempt(transactionUid, (err as Error).message, claimant);
      throw err;
    }
  };

  /** One attempt, under this node's claim: the same association if open and wanted, else a new one. */
  const sendReport = async (store: CommitmentStore, rec: CommitmentRecord, ctx?: DimseRequestContext): Promise<void> => {
    const { transactionUid } = rec;
    let result = rec.result;
    if (!result) {
      result = await verifyInstances(archive.index, rec.request);
      await store.setResult(transactionUid, result);
    }
    const mode = opts.reportMode?.(rec.callingAeTitle) ?? 'same';
    const errors: string[] = [];
    if (ctx && mode === 'same' && !ctx.connection.isClosed) {
      try {
        await report(ctx.connection, ctx.contextId, rec, result);
        await store.delivered(transactionUid);
        log?.info(
          { transactionUid, to: rec.callingAeTitle, committed: result.success.length, failed: result.failed.length },
          'storage commitment reported on the same association',
        );
        return;
      } catch (err) {
        errors.push(`same association: ${(err as Error).message}`);
      }
    }
    try {
      await overNewAssociation(rec, result);
      await store.delivered(transactionUid);
      log?.info(
        { transactionUid, to: rec.callingAeTitle, committed: result.success.length, failed: result.failed.length },
        'storage commitment reported on a new association',
      );
    } catch (err) {
      errors.push(`new association: ${(err as Error).message}`);
      const message = errors.join('; ');
      await store.failedAttempt(transactionUid, message, claimant);
      log?.warn({ transactionUid, to: rec.callingAeTitle, err: message }, 'storage commitment report not delivered; will retry');
    }
  };

  const schedule = (transactionUid: string, ctx?: DimseRequestContext): Promise<void> => {
    const running = working.get(transactionUid);
    if (running || closed) return running ?? Promise.resolve();
    const p = deliver(transactionUid, ctx)
      .catch((err: Error) => log?.warn({ transactionUid, err: err.message }, 'storage commitment failed'))
      .finally(() => working.delete(transactionUid));
    working.set(transactionUid, p);
    return p;
  };

  const resume = async () => {
    for (const rec of await (await storeP).pending()) void schedule(rec.transactionUid);
  };
  const timer = opts.retryIntervalMs === 0 ? undefined : setInterval(() => void resume().catch(() => undefined), opts.retryIntervalMs ?? 60_000);
  timer?.unref();

  const nAction: RequestHandler = async (ctx, dataset) => {
    if (ctx.command.actionTypeId !== 1) {
      throw new DimseServiceError(Status.NoSuchActionType, `Action Type ID ${ctx.command.actionTypeId ?? '(none)'} is not 1 (Request Storage Commitment)`);
    }
    const instance = ctx.command.requestedSopInstanceUid;
    if (instance !== undefined && instance !== STORAGE_COMMITMENT_INSTANCE) {
      throw new DimseServiceError(Status.NoSuchSopInstance, `Requested SOP Instance UID must be ${STORAGE_COMMITMENT_INSTANCE}`);
    }
    if (!dataset?.length) throw new DimseServiceError(Status.MissingAttribute, 'N-ACTION without Action Information');
    let parsed;
    try {
      parsed = parseCommitRequest(readDataset(dataset, ctx.transferSyntax));
    } catch (err) {
      if (err instanceof DimseServiceError) throw err;
      throw new DimseServiceError(Status.ProcessingFailure, `Action Information cannot be parsed: ${(err as Error).message}`);
    }
    const added = await (
      await storeP
    ).add({
      transactionUid: parsed.transactionUid,
      callingAeTitle: ctx.association.callingAeTitle,
      calledAeTitle: ctx.association.calledAeTitle,
      request: parsed.refs,
    });
    if (!added) throw new DimseServiceError(Status.ProcessingFailure, `Transaction UID ${parsed.transactionUid} was already used`);
    log?.info({ transactionUid: parsed.transactionUid, from: ctx.association.callingAeTitle, instances: parsed.refs.length }, 'storage commitment requested');
    // After the N-ACTION response has gone out (the dispatcher sends it in this tick's microtasks).
    setImmediate(() => void schedule(parsed.transactionUid, ctx));
    return { status: Status.Success, affectedSopInstanceUid: STORAGE_COMMITMENT_INSTANCE };
  };

  return {
    name: 'storage-commitment',
    sopClasses: [STORAGE_COMMITMENT_PUSH],
    handlers: { [CommandField.N_ACTION_RQ]: nAction },
    resume,
    retry: async (transactionUid) => {
      const rec = await (await storeP).get(transactionUid);
      if (!rec || rec.state !== 'pending') return false;
      await schedule(transactionUid);
      return true;
    },
    idle: async () => {
      while (working.size) await Promise.allSettled([...working.values()]);
    },
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      await Promise.allSettled([...working.values()]);
    },
  };
}
