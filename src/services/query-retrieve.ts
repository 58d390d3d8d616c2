/**
 * Query/Retrieve Service Class SCP (PS3.4 Annex C): C-FIND, C-MOVE and C-GET for the
 * Patient Root and Study Root information models, over the archive's index.
 *
 * C-FIND streams matches from the index page by page (one Pending response each; the
 * socket's back-pressure paces the query), stops on C-CANCEL, and ends with 0xA700 past
 * the cost limits of `limits.query` (query-limits.ts). C-MOVE opens an
 * association to the destination AE (resolved by `resolveMoveDestination`); C-GET sends
 * its C-STOREs back over the requesting association, on the storage contexts the SCU
 * proposed with the SCP role.
 */
import type { ConnectionOptions } from 'node:tls';
import type { Logger } from 'pino';
import type { Archive } from '../archive/archive.js';
import { describeRetrieve, describeSubjects, queryIndex, QueryLimitError } from '../archive/query.js';
import type { AuditRecorder, Subjects } from '../audit/index.js';
import { CommandField } from '../dimse/command-fields.js';
import { Status } from '../dicom/status.js';
import { DimseConnection } from '../dimse/dimse-connection.js';
import { DimseServiceError } from '../dimse/errors.js';
import type { DimseRequestContext, RequestHandler, ResponseSpec, ServiceClassProvider } from '../dimse/service.js';
import { connect, type ProposedContext } from '../net/index.js';
import type { MatchOptions } from '../dicom/matching.js';
import { modelOf, parseIdentifier, QR_SOP_CLASSES, responseEncoder, retrieveSelection } from './qr-identifier.js';
import { queryCost, queryLimitFailure, type QueryLimitsSource } from './query-limits.js';
import { isConvertible, WRITABLE_SYNTAXES } from '../archive/retrieval.js';
import { runSubOperations } from './retrieve-sub-operations.js';

export interface MoveDestination {
  host: string;
  port: number;
  /** TLS options for a destination marked TLS, made when the association is opened (may throw: no CA). */
  tls?: () => ConnectionOptions | undefined;
}

export interface QueryRetrieveOptions extends MatchOptions {
  /** The AE title a C-MOVE destination is resolved by; undefined = unknown (0xA801). */
  resolveMoveDestination: (aeTitle: string) => MoveDestination | undefined | Promise<MoveDestination | undefined>;
  /** Retrieve AE Title in C-FIND responses and calling AE of C-MOVE associations; default: the called AE title. */
  aeTitle?: string;
  /** Rows per index page (default 1000). */
  pageSize?: number;
  /** The cost limits of one C-FIND (limits.query), read per query; default none. */
  queryLimits?: QueryLimitsSource;
  logger?: Pick<Logger, 'info' | 'warn' | 'debug'>;
  /** Told of each query and retrieve (IHE ATNA: Query, Begin Transferring, DICOM Instances Transferred). */
  audit?: AuditRecorder;
}

const NO_SUBJECTS: Subjects = { patients: [], studies: [] };

/** At most 128 presentation contexts fit one association. */
const MAX_CONTEXTS = 128;

export function queryRetrieveService(archive: Archive, opts: QueryRetrieveOptions): ServiceClassProvider {
  const ourAe = (ctx: DimseRequestContext): string => opts.aeTitle ?? ctx.association.calledAeTitle;

  /** Who asked, for the audit messages. */
  const requestor = (ctx: DimseRequestContext) => ({ aeTitle: ctx.association.callingAeTitle, address: ctx.association.peerAddress });

  const find: RequestHandler = async (ctx, dataset) => {
    const model = modelOf(ctx.abstractSyntax);
    const parsed = parseIdentifier(dataset, ctx.transferSyntax, model, opts);
    opts.audit?.record({
      kind: 'query',
      via: 'C-FIND',
      requestor: requestor(ctx),
      responder: ourAe(ctx),
      sopClassUid: ctx.abstractSyntax,
      request: dataset ?? Buffer.alloc(0),
      transferSyntaxUid: ctx.transferSyntax,
    });
    const encode = responseEncoder(parsed, ourAe(ctx), ctx.transferSyntax);
    try {
      const cost = queryCost(opts.queryLimits);
      for await (const m of queryIndex(archive.index, parsed.level, parsed.keys, { ...opts, cost, signal: ctx.signal })) {
        if (ctx.signal.aborted) break;
        await ctx.sendResponse({ status: Status.Pending, dataset: encode(m.target) });
      }
    } catch (err) {
      if (err instanceof DimseServiceError) throw err;
      if (err instanceof QueryLimitError) throw queryLimitFailure(err);
      throw new DimseServiceError(Status.OutOfResources, `query failed: ${(err as Error).message}`);
    }
    return { status: ctx.signal.aborted ? Status.Cancel : Status.Success };
  };

  /** Parses a retrieve identifier and counts what it selects. */
  const prepareRetrieve = async (ctx: DimseRequestContext, dataset: Buffer | undefined) => {
    const model = modelOf(ctx.abstractSyntax);
    const parsed = parseIdentifier(dataset, ctx.transferSyntax, model, { ...opts, checkKeyLevels: false });
    const selection = retrieveSelection(parsed, model);
    const summary = await describeRetrieve(archive.index, selection).catch((err: Error) => {
      throw new DimseServiceError(Status.OutOfResourcesNumberOfMatches, `cannot count the matches: ${err.message}`);
    });
    // The patients and studies the audit messages name (one grouped statement; only with an audit trail).
    const subjects = opts.audit && summary.count > 0 ? await describeSubjects(archive.index, selection) : NO_SUBJECTS;
    return { selection, summary, subjects };
  };

  const move: RequestHandler = async (ctx, dataset): Promise<ResponseSpec> => {
    const destAe = ctx.command.moveDestination?.trim();
    if (!destAe) throw new DimseServiceError(Status.MoveDestinationUnknown, 'no Move Destination (0000,0600)');
    const dest = await opts.resolveMoveDestination(destAe);
    if (!dest) throw new DimseServiceError(Status.MoveDestinationUnknown, `move destination '${destAe}' unknown`);
    const { selection, summary, subjects } = await prepareRetrieve(ctx, dataset);
    if (summary.count === 0) return { status: Status.Success, fields: { completed: 0, failed: 0, warning: 0 } };
    const transfer = { via: 'C-MOVE' as const, requestor: requestor(ctx), source: ourAe(ctx), destination: { aeTitle: destAe, address: dest.host }, subjects };
    opts.audit?.record({ kind: 'retrieve-begin', ...transfer });
    const contexts: ProposedContext[] = [];
    for (const { sopClassUid, transferSyntaxUid } of summary.pairs) {
      contexts.push({ abstractSyntax: sopClassUid, transferSyntaxes: [transferSyntaxUid] });
    }
    // One uncompressed context per SOP class, for instances whose own syntax is refused.
    const classes = [...new Set(summary.pairs.filter((p) => isConvertible(p.transferSyntaxUid)).map((p) => p.sopClassUid))];
    for (const c of classes) contexts.push({ abstractSyntax: c, transferSyntaxes: [...WRITABLE_SYNTAXES] });
    let association;
    try {
      association = await connect({
        host: dest.host,
        port: dest.port,
        callingAeTitle: ourAe(ctx),
        calledAeTitle: destAe,
        tls: dest.tls?.(),
        presentationContexts: contexts.slice(0, MAX_CONTEXTS),
      });
    } catch (err) {
      opts.logger?.warn({ destination: destAe, err: (err as Error).message }, 'C-MOVE: cannot associate with the destination');
      const failed = await runSubOperations(ctx, archive, selection, summary.count, { failAll: `cannot associate with ${destAe}: ${(err as Error).message}` });
      opts.audit?.record({ kind: 'retrieve-done', ...transfer, ...subOperationCounts(failed) });
      return failed;
    }
    const connection = new DimseConnection(association);
    try {
      const rsp = await runSubOperations(ctx, archive, selection, summary.count, {
        connection,
        moveOriginator: { aeTitle: ctx.association.callingAeTitle, messageId: ctx.command.messageId ?? 0 },
      });
      opts.audit?.record({ kind: 'retrieve-done', ...transfer, ...subOperationCounts(rsp) });
      return rsp;
    } finally {
      if (!connection.isClosed) await association.release().catch(() => association.abort());
    }
  };

  const get: RequestHandler = async (ctx, dataset) => {
    const { selection, summary, subjects } = await prepareRetrieve(ctx, dataset);
    const transfer = { via: 'C-GET' as const, requestor: requestor(ctx), source: ourAe(ctx), destination: requestor(ctx), subjects };
    if (summary.count > 0) opts.audit?.record({ kind: 'retrieve-begin', ...transfer });
    const rsp = await runSubOperations(ctx, archive, selection, summary.count, { connection: ctx.connection, requireScpRole: true });
    if (summary.count > 0) opts.audit?.record({ kind: 'retrieve-done', ...transfer, ...subOperationCounts(rsp) });
    return rsp;
  };

  /** Each SOP class serves one command: FIND classes end in .1, MOVE in .2, GET in .3. */
  const only =
    (suffix: string, op: string, h: RequestHandler): RequestHandler =>
    (ctx, dataset) => {
      if (!ctx.abstractSyntax.endsWith(suffix)) {
        throw new DimseServiceError(Status.UnrecognizedOperation, `${op} is not an operation of SOP Class ${ctx.abstractSyntax}`);
      }
      return h(ctx, dataset);
    };
  const handlers: Partial<Record<number, RequestHandler>> = {
    [CommandField.C_FIND_RQ]: only('.1', 'C-FIND', find),
    [CommandField.C_MOVE_RQ]: only('.2', 'C-MOVE', move),
    [CommandField.C_GET_RQ]: only('.3', 'C-GET', get),
  };
  return {
    name: 'query-retrieve',
    sopClasses: Object.values(QR_SOP_CLASSES),
    handlers,
  };
}

/** Completed and failed sub-operations of a final C-MOVE/C-GET response. */
function subOperationCounts(rsp: ResponseSpec): { completed: number; failed: number } {
  return { completed: Number(rsp.fields?.completed ?? 0), failed: Number(rsp.fields?.failed ?? 0) };
}
