/**
 * C-MOVE / C-GET sub-operations (PS3.4 C.4.2.3, C.4.3.3): one C-STORE per selected
 * instance over a given association, Pending responses with the counts after each (sent
 * once the next C-STORE-RQ is on its way),
 * the Failed SOP Instance UID List at the end, C-CANCEL honoured between instances.
 *
 * The stored bytes go out unchanged when the peer accepted the stored transfer syntax
 * (a file up to WHOLE_READ_MAX read whole in one read and sent as one buffer, a larger one
 * streamed from the blob store; the next instances are read while the current one is sent
 * and acknowledged). Otherwise the instance is read
 * whole and converted to an accepted uncompressed syntax: re-encoded by src/dicom's
 * writer, its Pixel Data first decompressed (src/dicom/codecs) when stored in a JPEG,
 * JPEG-LS, JPEG 2000, HTJ2K or RLE syntax. Other stored syntaxes the peer did not accept
 * fail that sub-operation, and so does an instance too large to convert in memory
 * (limits.dataset.maxTranscodeBytes, transcode-limit.ts).
 */
import * as fs from 'node:fs';
import type { Archive } from '../archive/archive.js';
import type { InstanceSummary } from '../archive/index-types.js';
import { iterateRetrieve, type RetrieveSelection } from '../archive/query.js';
import { Status, statusKind } from '../dimse/command-fields.js';
import type { DatasetSource, DimseConnection } from '../dimse/dimse-connection.js';
import { DimseFailureStatusError } from '../dimse/errors.js';
import { cStore } from '../dimse/scu.js';
import type { DimseRequestContext, ResponseSpec } from '../dimse/service.js';
import { canDecompress, decompressDataset } from '../dicom/codecs/index.js';
import { Dataset } from '../dicom/dataset.js';
import { putString } from '../dicom/dataset-writer.js';
import { readPart10 } from '../dicom/part10.js';
import { writeDataset } from '../dicom/dataset-writer.js';
import {
  DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_BIG_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN,
} from '../dicom/transfer-syntax.js';
import { encodeIdentifier, T } from './qr-identifier.js';
import { ReadBufferPool } from './read-buffer-pool.js';
import { checkTranscodeSize, decodedPixelBytes } from './transcode-limit.js';

/** Syntaxes src/dicom can read and write whole (the target of a conversion). */
export const WRITABLE_SYNTAXES = [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_BIG_ENDIAN] as const;
/** Stored syntaxes read as they are (the others are decompressed first). */
const NATIVE = new Set<string>([...WRITABLE_SYNTAXES, DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN]);

/** Stored syntaxes we can convert from. */
export const isConvertible = (ts: string): boolean => NATIVE.has(ts) || canDecompress(ts);

/** The accepted transfer syntax to send an instance in: its own if accepted, else a convertible one; undefined if none. */
export function chooseTransferSyntax(
  contexts: Iterable<{ abstractSyntax: string; transferSyntax: string }>,
  sopClassUid: string,
  storedTs: string,
): string | undefined {
  const offered = [...contexts].filter((c) => c.abstractSyntax === sopClassUid).map((c) => c.transferSyntax);
  if (offered.includes(storedTs)) return storedTs;
  if (!isConvertible(storedTs)) return undefined;
  return WRITABLE_SYNTAXES.find((ts) => offered.includes(ts));
}

/**
 * Where the data set starts in a stored Part 10 file whose first `head.length` bytes are
 * given: undefined when more bytes are needed. Our ingest always writes (0002,0000) UL
 * first, so the meta header ends 144 + its value bytes in.
 */
function datasetStart(head: Buffer): number | undefined {
  if (head.length < 144) return undefined;
  if (head.toString('latin1', 128, 132) !== 'DICM' || head.readUInt32LE(132) !== 0x00000002 || head.toString('latin1', 136, 138) !== 'UL') {
    throw new Error('stored file has no File Meta Information group length');
  }
  const start = 144 + head.readUInt32LE(140);
  return head.length < start ? undefined : start;
}

/** The data set bytes of a stored Part 10 file: the stream with its File Meta Information cut off. */
export async function* storedDataset(file: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let head: Buffer | undefined = Buffer.alloc(0);
  let total = 0;
  for await (const chunk of file) {
    if (!head) {
      total += chunk.length;
      yield chunk;
      continue;
    }
    head = head.length ? Buffer.concat([head, chunk]) : chunk;
    const start = datasetStart(head);
    if (start === undefined) continue;
    const rest = head.subarray(start);
    head = undefined;
    total += rest.length;
    if (rest.length) yield rest;
  }
  if (head) throw new Error('stored file ends inside its File Meta Information');
  // A data set message has an even length (PS3.8 PDVs; PS3.5 A.5 pads a deflated stream with one NUL).
  if (total % 2 === 1) yield Buffer.alloc(1);
}

/** Stored files up to this size are read whole in one read and sent as one buffer; larger ones are streamed. */
const WHOLE_READ_MAX = 1 << 20;

/** Instances read ahead of the one being sent. */
const READ_AHEAD = 4;

/**
 * Read buffers for sub-operations (one spare byte: see readWholeDataset). Idle ones kept:
 * enough for two associations' read-ahead, about 10 MiB held at most.
 */
const subOperationBuffers = new ReadBufferPool(WHOLE_READ_MAX + 1, 2 * (READ_AHEAD + 1));

/**
 * The data set of a stored file of (recorded) `size` bytes, read whole into `buf` (at
 * least size + 1 bytes): one open, one read, one close (callback API: each promise-based
 * fs call costs more than the read). Undefined when the file turns out larger than
 * recorded (the caller streams it).
 */
function readWholeDataset(file: string, size: number, buf: Buffer): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    fs.open(file, 'r', (err, fd) => {
      if (err) return reject(err);
      const finish = (e: Error | null, n: number) => {
        // Closing a read-only descriptor never waits for the disk: done here rather than as
        // a third trip through libuv's thread pool (each trip wakes a pool thread, which on
        // a 2-core machine preempted the event loop). An error closing it changes nothing read.
        try {
          fs.closeSync(fd);
        } catch {
          // nothing to undo
        }
        if (e) return reject(e);
        if (n > size) return resolve(undefined);
        try {
          const start = datasetStart(buf.subarray(0, n));
          if (start === undefined) throw new Error('stored file ends inside its File Meta Information');
          let end = n;
          if ((end - start) % 2 === 1) buf[end++] = 0;
          resolve(buf.subarray(start, end));
        } catch (e2) {
          reject(e2);
        }
      };
      // Reads until the recorded size plus the spare byte (no extra read for the end of
      // file: a file grown past its recorded size shows as a first read filling the spare
      // byte too; the spare byte also pads an odd data set in place).
      let got = 0;
      const more = () => fs.read(fd, buf, got, size + 1 - got, got, (e, n) => {
        if (e) return finish(e, got);
        got += n;
        if (n === 0 || got >= size) return finish(null, got);
        more();
      });
      more();
    });
  });
}

/** The whole file; TranscodeLimitError past `limit` bytes (a file grown past its indexed size). */
async function readAll(file: AsyncIterable<Buffer>, inst: InstanceSummary, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of file) {
    n += c.length;
    checkTranscodeSize(inst.sopInstanceUid, 'stored file', n, limit);
    parts.push(c);
  }
  return Buffer.concat(parts);
}

export interface DatasetInOptions {
  /**
   * Asked once the data set is closed: true when nothing can read its bytes any more (the
   * transport has written them all). Then a file read whole goes back to a pool of read
   * buffers; without it every file gets a buffer of its own.
   */
  bytesReleased?: () => boolean;
}

/**
 * An instance's data set in `ts`: the stored bytes when `ts` is the stored syntax (read
 * whole or streamed), else converted; TranscodeLimitError when a conversion is over
 * limits.dataset.maxTranscodeBytes (checked on the indexed file size before any read, and
 * on the decoded pixel data size before decoding).
 */
export async function datasetIn(archive: Archive, inst: InstanceSummary, ts: string, opts: DatasetInOptions = {}): Promise<{ data: DatasetSource; close: () => void }> {
  if (ts === inst.transferSyntaxUid && inst.fileSize > 0 && inst.fileSize <= WHOLE_READ_MAX) {
    const released = opts.bytesReleased;
    const buf = released ? subOperationBuffers.take() : Buffer.allocUnsafeSlow(inst.fileSize + 1);
    let whole: Buffer | undefined;
    try {
      whole = await readWholeDataset(archive.blobs.path(inst.fileKey), inst.fileSize, buf);
    } catch (err) {
      if (released) subOperationBuffers.give(buf); // never handed out
      throw err;
    }
    if (whole) {
      let open = true;
      return {
        data: whole,
        close: () => {
          if (!open) return;
          open = false;
          if (released?.()) subOperationBuffers.give(buf);
        },
      };
    }
    if (released) subOperationBuffers.give(buf);
  }
  const limit = ts === inst.transferSyntaxUid ? Number.POSITIVE_INFINITY : archive.limits.maxTranscodeBytes;
  checkTranscodeSize(inst.sopInstanceUid, 'stored file', inst.fileSize, limit);
  const stream = archive.blobs.open(inst.fileKey);
  const close = () => void stream.destroy();
  if (ts === inst.transferSyntaxUid) {
    // Pull the first chunk now: a missing or broken file fails before the C-STORE command goes out.
    const it = storedDataset(stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    const first = await it.next().catch((err: Error) => {
      close();
      throw err;
    });
    const data = (async function* () {
      if (!first.done) yield first.value;
      for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
    })();
    return { data, close };
  }
  try {
    const { dataset } = readPart10(await readAll(stream as AsyncIterable<Buffer>, inst, limit), { stopAtPixelData: false, maxValueLength: Number.POSITIVE_INFINITY });
    if (!NATIVE.has(inst.transferSyntaxUid)) {
      checkTranscodeSize(inst.sopInstanceUid, 'decoded pixel data', decodedPixelBytes(dataset), limit);
      await decompressDataset(dataset, inst.transferSyntaxUid);
    }
    return { data: writeDataset(dataset, ts), close };
  } finally {
    close();
  }
}

export interface SubOperationTarget {
  connection: DimseConnection;
  /** C-GET: C-STOREs go back over the requestor's association, only for SOP classes whose SCP role it gave us. */
  requireScpRole?: boolean;
  /** Set for C-MOVE (PS3.7 9.3.1.1 Move Originator). */
  moveOriginator?: { aeTitle: string; messageId: number };
}

export interface Counts { remaining: number; completed: number; failed: number; warning: number }

/** Largest Failed SOP Instance UID List we send: an explicit VR UI value has a 16-bit length. */
const MAX_FAILED_LIST_BYTES = 60_000;

export function finalResponse(counts: Counts, failedUids: readonly string[], transferSyntax: string, cancelled: boolean, comment?: string): ResponseSpec {
  const fields: ResponseSpec['fields'] = { completed: counts.completed, failed: counts.failed, warning: counts.warning };
  let status: number = Status.Success;
  if (cancelled) {
    status = Status.Cancel;
    fields.remaining = counts.remaining;
  } else if (counts.failed > 0 && counts.completed + counts.warning === 0) {
    status = 0xa702; // Refused: Out of Resources - unable to perform sub-operations
  } else if (counts.failed > 0 || counts.warning > 0) {
    status = 0xb000; // Warning: sub-operations complete, one or more failures or warnings
  }
  const rsp: ResponseSpec = { status, fields };
  if (comment && statusKind(status) !== 'success') rsp.errorComment = comment;
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
 * waited for it). Memory stays bounded by READ_AHEAD + 1 times WHOLE_READ_MAX, or a
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
    const rsp = await cStore(conn, {
      sopClassUid: inst.sopClassUid,
      sopInstanceUid: inst.sopInstanceUid,
      transferSyntaxUid: prepared.ts,
      moveOriginatorAeTitle: (target as SubOperationTarget).moveOriginator?.aeTitle,
      moveOriginatorMessageId: (target as SubOperationTarget).moveOriginator?.messageId,
    }, prepared.data);
    return { ok: true, warning: statusKind(rsp.command.status ?? 0) === 'warning' };
  } catch (err) {
    return { ok: false, error: err instanceof DimseFailureStatusError ? `C-STORE failed with status 0x${err.status.toString(16)}` : (err as Error).message };
  } finally {
    prepared.close();
  }
}
