/**
 * C-MOVE / C-GET sub-operations (PS3.4 C.4.2.3, C.4.3.3): one C-STORE per selected
 * instance over a given association, Pending responses with the counts after each (sent
 * once the next C-STORE-RQ is on its way),
 * the Failed SOP Instance UID List at the end, C-CANCEL honoured between instances.
 *
 * Each instance goes in the syntax chooseTransferSyntax picks among the accepted contexts,
 * its data set read by datasetIn (archive/retrieval.ts: the stored bytes as they are, or
 * converted to an accepted uncompressed syntax); the next instances are read while the
 * current one is sent and acknowledged. An instance in no accepted or convertible syntax
 * fails its sub-operation, and so does one too large to convert in memory
 * (limits.dataset.maxTranscodeBytes, archive/transcode-limit.ts).
 */
import type { Archive } from '../archive/archive.js';
import type { InstanceSummary } from '../archive/index-types.js';
import { iterateRetrieve, type RetrieveSelection } from '../archive/query.js';
import { chooseTransferSyntax, datasetIn } from '../archive/retrieval.js';
import { Status, statusCategory } from '../dicom/status.js';
import type { DatasetSource, DimseConnection } from '../dimse/dimse-connection.js';
import { DimseFailureStatusError } from '../dimse/errors.js';
import { cStore } from '../dimse/scu.js';
import type { DimseRequestContext, ResponseSpec } from '../dimse/service.js';
import { Dataset } from '../dicom/dataset.js';
import { putString } from '../dicom/dataset-writer.js';
import { encodeIdentifier, T } from './qr-identifier.js';

/** Instances read ahead of the one being sent. */
const READ_AHEAD = 4;

export interface SubOperationTarget {
  connection: DimseConnection;
  /** C-GET: C-STOREs go back over the requestor's association, only for SOP classes whose SCP role it gave us. */
  requireScpRole?: boolean;
  /** Set for C-MOVE (PS3.7 9.3.1.1 Move Originator). */
  moveOriginator?: { aeTitle: string; messageId: number };
}

export interface Counts {
  remaining: number;
  completed: number;
  failed: number;
  warning: number;
}

/** Largest Failed SOP Instance UID List we send: an explicit VR UI value has a 16-bit length. */
const MAX_FAILED_LIST_BYTES = 60_000;

export function finalResponse(counts: Counts, failedUids: readonly string[], transferSyntax: string, cancelled: boolean, comment?: string): ResponseSpec {
  const fields: ResponseSpec['fields'] = { completed: counts.completed, failed: counts.failed, warning: counts.warning };
  let status: number = Status.Success;
  if (cancelled) {
    status = Status.Cancel;
    fields.remaining = counts.remaining;
  } else if (counts.failed > 0 && counts.completed + counts.warning === 0) {
    status = Status.OutOfResourcesSubOperations;
  } else if (counts.failed > 0 || counts.warning > 0) {
    status = Status.SubOperationsWithFailures;
  }
  const rsp: ResponseSpec = { status, fields };
  if (comment && statusCategory(status) !== 'success') rsp.errorComment = comment;
  if (failedUids.length) {
    const list: string[] = [];
    let bytes = 0;
    for (const u of failedUids) {
      if (bytes + u.length + 1 > MAX_FAILED_LIST_BYTES) break;
      list.push(u);
      bytes += u.length + 1;
    }
    const ds = new Dataset();
    putString(ds, T.FailedSOPInstanceUIDList, 'UI', list);
    rsp.dataset = encodeIdentifier(ds, transferSyntax);
  }
  return rsp;
}

/**
 * Runs the sub-operations for every selected instance and returns the final response.
 * `total` is the number selected (from describeRetrieve); `failAll` marks every one
 * failed without trying (the destination could not be reached).
 *
 * The next READ_AHEAD instances' data sets are read (concurrently, on libuv's pool) while
 * the current one is sent and acknowledged (one C-STORE at a time on the association: the
 * peer's response is a round trip the disk reads hide behind; with one instance ahead, an
 * open + read + close on a busy machine took longer than that round trip and the sends
 * waited for it). Memory stays bounded by READ_AHEAD + 1 times the size read whole (archive/retrieval.ts), or a
 * streamed file's first chunk each.
 */
export async function runSubOperations(
  ctx: DimseRequestContext,
  archive: Archive,
  selection: RetrieveSelection,
  total: number,
  target: SubOperationTarget | { failAll: string },
): Promise<ResponseSpec> {
  const counts: Counts = { remaining: total, completed: 0, failed: 0, warning: 0 };
  const failedUids: string[] = [];
  let comment: string | undefined;
  const prep = (inst: InstanceSummary): Promise<Prepared> =>
    'failAll' in target ? Promise.resolve({ ok: false, error: target.failAll }) : prepare(archive, inst, target);
  const it = iterateRetrieve(archive.index, selection, { signal: ctx.signal })[Symbol.asyncIterator]();
  const ahead: { inst: InstanceSummary; prepared: Promise<Prepared> }[] = [];
  let exhausted = false;
  /** Starts reading instances until READ_AHEAD are read or being read. */
  const fill = async (): Promise<void> => {
    while (!exhausted && ahead.length < READ_AHEAD && !ctx.signal.aborted) {
      const r = await it.next();
      if (r.done) exhausted = true;
      else ahead.push({ inst: r.value, prepared: prep(r.value) });
    }
  };
  try {
    await fill();
    /** The counts for the Pending response after the sub-operation just finished. */
    let pending: Counts | undefined;
    while (ahead.length && !ctx.signal.aborted) {
      const { inst, prepared } = ahead.shift()!;
      counts.remaining = Math.max(0, counts.remaining - 1);
      const sending = send(inst, await prepared, target);
      if (pending) {
        // Sent once the next C-STORE-RQ is on its way (same counts as before it): the peer
        // gets the data set first, and the requestor's handling of the Pending response
        // overlaps the sub-operation instead of delaying it (for C-MOVE another process,
        // which on a busy machine was woken and ran before the data set went out).
        await ctx.sendResponse({ status: Status.Pending, fields: { ...pending } });
        pending = undefined;
      }
      await fill();
      const outcome = await sending;
      if (outcome.ok) {
        if (outcome.warning) counts.warning++;
        else counts.completed++;
      } else {
        counts.failed++;
        failedUids.push(inst.sopInstanceUid);
        comment ??= outcome.error;
      }
      if (counts.remaining > 0 && !ctx.signal.aborted) pending = { ...counts };
    }
  } finally {
    // Reads started for instances that will not be sent (cancel, closed association).
    for (const a of ahead) void a.prepared.then((p) => p.ok && p.close());
    if (!exhausted) await it.return?.(undefined);
  }
  return finalResponse(counts, failedUids, ctx.transferSyntax, ctx.signal.aborted, comment);
}

type Outcome = { ok: true; warning: boolean } | { ok: false; error: string };
type Prepared = { ok: false; error: string } | { ok: true; ts: string; data: DatasetSource; close: () => void };

/** Checks that an instance can go to the target and reads its data set (never rejects). */
async function prepare(archive: Archive, inst: InstanceSummary, target: SubOperationTarget): Promise<Prepared> {
  const conn = target.connection;
  if (conn.isClosed) return { ok: false, error: 'association to the destination closed' };
  if (target.requireScpRole && !conn.transport.roleSelections?.some((r) => r.sopClassUid === inst.sopClassUid && r.scpRole)) {
    return { ok: false, error: `the SCP role for ${inst.sopClassUid} was not negotiated (SCP/SCU Role Selection): cannot send it on this association` };
  }
  const ts = chooseTransferSyntax(conn.transport.contexts.values(), inst.sopClassUid, inst.transferSyntaxUid);
  if (!ts) {
    return { ok: false, error: `no accepted context for ${inst.sopClassUid} in ${inst.transferSyntaxUid} or a syntax we can convert to` };
  }
  try {
    // The buffer may be reused once the association's socket has written every byte given
    // to it (the C-STORE response alone does not prove that: a peer may answer early).
    const { data, close } = await datasetIn(archive, inst, ts, { bytesReleased: () => conn.transport.writesPending === false });
    return { ok: true, ts, data, close };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

async function send(inst: InstanceSummary, prepared: Prepared, target: SubOperationTarget | { failAll: string }): Promise<Outcome> {
  if (!prepared.ok) return prepared;
  try {
    const conn = (target as SubOperationTarget).connection;
    if (conn.isClosed) return { ok: false, error: 'association to the destination closed' };
    const rsp = await cStore(
      conn,
      {
        sopClassUid: inst.sopClassUid,
        sopInstanceUid: inst.sopInstanceUid,
        transferSyntaxUid: prepared.ts,
        moveOriginatorAeTitle: (target as SubOperationTarget).moveOriginator?.aeTitle,
        moveOriginatorMessageId: (target as SubOperationTarget).moveOriginator?.messageId,
      },
      prepared.data,
    );
    return { ok: true, warning: statusCategory(rsp.command.status ?? 0) === 'warning' };
  } catch (err) {
    return { ok: false, error: err instanceof DimseFailureStatusError ? `C-STORE failed with status 0x${err.status.toString(16)}` : (err as Error).message };
  } finally {
    prepared.close();
  }
}
