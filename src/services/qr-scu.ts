/**
 * Query/Retrieve SCU (PS3.4 Annex C, service user side): C-FIND, C-MOVE and C-GET over
 * an established association, and a storage sink that writes what a C-GET receives to
 * a folder as Part 10 files (streamed, one file per instance).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { CommandField } from '../dimse/command-fields.js';
import { Status } from '../dicom/status.js';
import type { DimseConnection, ResponseMessage } from '../dimse/dimse-connection.js';
import { DimseServiceError } from '../dimse/errors.js';
import { findPresentationContext } from '../dimse/scu.js';
import type { DimseRequestContext, ResponseSpec, ServiceClassProvider } from '../dimse/service.js';
import type { DatasetSink } from '../dimse/sink-writer.js';
import { buildMetaHeader } from '../dicom/part10.js';
import { isValidUid } from '../dicom/uid-generator.js';
import { isStorageSopClass, STORAGE_SOP_CLASS_UIDS } from '../dicom/uids.js';
import { EXPLICIT_VR_BIG_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN } from '../dicom/transfer-syntax.js';
import type { ProposedContext } from '../net/index.js';

export interface SubOperationProgress {
  status: number;
  remaining?: number;
  completed?: number;
  failed?: number;
  warning?: number;
}

export interface RetrieveResult extends SubOperationProgress {
  errorComment?: string;
  /** The response's data set (Failed SOP Instance UID List), encoded in the context's transfer syntax. */
  dataset?: Buffer;
}

function progressOf(rsp: ResponseMessage): RetrieveResult {
  const c = rsp.command;
  return {
    status: c.status ?? Status.Success,
    remaining: c.remaining,
    completed: c.completed,
    failed: c.failed,
    warning: c.warning,
    errorComment: c.errorComment,
    dataset: rsp.dataset,
  };
}

export interface FindOptions {
  /** Called with each match's identifier (encoded in the context's transfer syntax). */
  onMatch: (identifier: Buffer, transferSyntaxUid: string) => void;
  /** Sends C-CANCEL after this many matches (0: right after the request). */
  cancelAfter?: number;
  signal?: AbortSignal;
}

/** C-FIND: resolves with the final status (Success 0x0000, Cancel 0xFE00, or a failure with its comment). */
export async function cFind(conn: DimseConnection, sopClassUid: string, identifier: Buffer, opts: FindOptions): Promise<RetrieveResult> {
  const contextId = findPresentationContext(conn, sopClassUid);
  const ts = conn.transport.contexts.get(contextId)!.transferSyntax;
  let n = 0;
  let cancelled = false;
  const cancel = () => {
    if (cancelled) return;
    cancelled = true;
    void conn.cancel(contextId, rq.messageId).catch(() => undefined);
  };
  const rq = conn.request(contextId, { commandField: CommandField.C_FIND_RQ, affectedSopClassUid: sopClassUid, priority: 0 }, identifier, (rsp) => {
    if (rsp.dataset) opts.onMatch(rsp.dataset, ts);
    n++;
    if (opts.cancelAfter !== undefined && n >= opts.cancelAfter) cancel();
  });
  opts.signal?.addEventListener('abort', cancel, { once: true });
  if (opts.cancelAfter === 0) cancel();
  return progressOf(await rq);
}

export interface RetrieveOptions {
  onProgress?: (p: SubOperationProgress) => void;
  signal?: AbortSignal;
}

async function retrieve(
  conn: DimseConnection,
  sopClassUid: string,
  command: number,
  identifier: Buffer,
  opts: RetrieveOptions,
  moveDestination?: string,
): Promise<RetrieveResult> {
  const contextId = findPresentationContext(conn, sopClassUid);
  const rq = conn.request(contextId, { commandField: command, affectedSopClassUid: sopClassUid, priority: 0, moveDestination }, identifier, (rsp) =>
    opts.onProgress?.(progressOf(rsp)),
  );
  opts.signal?.addEventListener('abort', () => void conn.cancel(contextId, rq.messageId).catch(() => undefined), { once: true });
  return progressOf(await rq);
}

/** C-MOVE to `destination`: resolves with the final response (counts, status). */
export function cMove(
  conn: DimseConnection,
  sopClassUid: string,
  destination: string,
  identifier: Buffer,
  opts: RetrieveOptions = {},
): Promise<RetrieveResult> {
  return retrieve(conn, sopClassUid, CommandField.C_MOVE_RQ, identifier, opts, destination);
}

/** C-GET: the instances arrive as C-STOREs on `conn`, whose dispatcher must serve Storage. */
export function cGet(conn: DimseConnection, sopClassUid: string, identifier: Buffer, opts: RetrieveOptions = {}): Promise<RetrieveResult> {
  return retrieve(conn, sopClassUid, CommandField.C_GET_RQ, identifier, opts);
}

// ---- receiving C-GET's instances ----

const S = '1.2.840.10008.5.1.4.1.1.';
/** Storage SOP classes a C-GET proposes by default (common image, SR, RT and document classes). */
export const DEFAULT_GET_SOP_CLASSES = [
  '1',
  '1.1',
  '1.1.1',
  '1.2',
  '1.2.1',
  '2',
  '2.1',
  '3.1',
  '4',
  '4.1',
  '6.1',
  '6.2',
  '7',
  '7.1',
  '7.2',
  '7.3',
  '7.4',
  '11.1',
  '12.1',
  '12.2',
  '13.1.3',
  '20',
  '66.4',
  '77.1.4',
  '88.11',
  '88.22',
  '88.33',
  '88.59',
  '104.1',
  '128',
  '130',
  '481.1',
  '481.2',
  '481.3',
  '481.5',
]
  .map((s) => S + s)
  .filter(isStorageSopClass);
/** Classes also proposed in each compressed transfer syntax, so compressed instances come back as stored. */
const COMPRESSED_CLASSES = ['2', '4', '1', '1.1', '1.2', '6.1', '3.1', '7', '7.4', '12.1'].map((s) => S + s);
const COMPRESSED_SYNTAXES = [
  '1.2.840.10008.1.2.4.50',
  '1.2.840.10008.1.2.4.51',
  '1.2.840.10008.1.2.4.57',
  '1.2.840.10008.1.2.4.70',
  '1.2.840.10008.1.2.4.80',
  '1.2.840.10008.1.2.4.81',
  '1.2.840.10008.1.2.4.90',
  '1.2.840.10008.1.2.4.91',
  '1.2.840.10008.1.2.5',
];

/** Presentation contexts for a C-GET: the Q/R class, then storage classes (at most 128 contexts in all). */
export function getPresentationContexts(qrSopClassUid: string, sopClasses: readonly string[] = DEFAULT_GET_SOP_CLASSES): ProposedContext[] {
  const out: ProposedContext[] = [{ abstractSyntax: qrSopClassUid, transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN] }];
  for (const c of sopClasses) {
    out.push({ abstractSyntax: c, transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_BIG_ENDIAN] });
  }
  for (const c of COMPRESSED_CLASSES) {
    if (!sopClasses.includes(c)) continue;
    for (const ts of COMPRESSED_SYNTAXES) out.push({ abstractSyntax: c, transferSyntaxes: [ts] });
  }
  return out.slice(0, 128);
}

export interface ReceivedFile {
  path: string;
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  bytes: number;
}

/**
 * Storage SCP that writes each received instance to `dir/<SOP Instance UID>.dcm` (a
 * temp name first, renamed once complete), meta header built from the request.
 */
export function folderStorageService(dir: string, onStored?: (f: ReceivedFile) => void): ServiceClassProvider {
  const store = (ctx: DimseRequestContext): DatasetSink<ResponseSpec> => {
    const sopInstanceUid = ctx.command.affectedSopInstanceUid ?? '';
    const sopClassUid = ctx.command.affectedSopClassUid ?? ctx.abstractSyntax;
    if (!isValidUid(sopInstanceUid)) {
      throw new DimseServiceError(Status.CannotUnderstand, `invalid Affected SOP Instance UID "${sopInstanceUid}"`, [0x00001000]);
    }
    const path = join(dir, `${sopInstanceUid}.dcm`);
    const tmp = `${path}.part`;
    const out = createWriteStream(tmp);
    out.on('error', () => undefined); // surfaces through `finished` below
    out.write(buildMetaHeader({ sopClassUid, sopInstanceUid, transferSyntaxUid: ctx.transferSyntax, sourceAeTitle: ctx.association.callingAeTitle }));
    let bytes = 0;
    return {
      write(chunk) {
        bytes += chunk.length;
        if (!out.write(Buffer.from(chunk))) return new Promise<void>((r) => out.once('drain', () => r()));
      },
      async end() {
        out.end();
        try {
          await finished(out);
          await rename(tmp, path);
        } catch (err) {
          throw new DimseServiceError(Status.OutOfResources, `cannot write ${path}: ${(err as Error).message}`);
        }
        onStored?.({ path, sopClassUid, sopInstanceUid, transferSyntaxUid: ctx.transferSyntax, bytes });
        return { status: Status.Success };
      },
      async abort() {
        out.destroy();
        await rm(tmp, { force: true });
      },
    };
  };
  return {
    name: 'folder-storage',
    sopClasses: STORAGE_SOP_CLASS_UIDS,
    streamingHandlers: { [CommandField.C_STORE_RQ]: store },
  };
}

export async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
}
