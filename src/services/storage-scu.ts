/**
 * Storage SCU: sends Part 10 files over one or more associations, streaming each
 * file's data set from disk (never the whole file in memory).
 */
import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { DimseConnection } from '../dimse/dimse-connection.js';
import { cStore } from '../dimse/scu.js';
import { readMetaHeader } from '../dicom/part10.js';
import { DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN } from '../dicom/transfer-syntax.js';
import { connect } from '../net/index.js';

export interface StorableFile {
  path: string;
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  /** Where the data set starts, after the File Meta Information. */
  dataSetOffset: number;
  size: number;
}

export interface SkippedFile {
  path: string;
  reason: string;
}

/** Expands directories recursively; returns every regular file below the given paths. */
export async function expandPaths(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  async function walk(p: string): Promise<void> {
    const s = await stat(p);
    if (s.isDirectory()) {
      const entries = await readdir(p);
      entries.sort();
      for (const e of entries) await walk(join(p, e));
    } else if (s.isFile()) {
      out.push(p);
    }
  }
  for (const p of paths) await walk(p);
  return out;
}

/** Reads the File Meta Information of each file; files that are not Part 10 are skipped with a reason. */
export async function inspectFiles(paths: string[]): Promise<{ files: StorableFile[]; skipped: SkippedFile[] }> {
  const files: StorableFile[] = [];
  const skipped: SkippedFile[] = [];
  for (const path of paths) {
    const fh = await open(path, 'r');
    try {
      const { size } = await fh.stat();
      let want = Math.min(size, 8192);
      for (;;) {
        const buf = Buffer.alloc(want);
        await fh.read(buf, 0, want, 0);
        try {
          const { meta, dataSetOffset } = readMetaHeader(buf);
          if (!meta.mediaStorageSopClassUid || !meta.mediaStorageSopInstanceUid) {
            skipped.push({ path, reason: 'File Meta Information lacks Media Storage SOP Class/Instance UID' });
          } else {
            files.push({
              path,
              sopClassUid: meta.mediaStorageSopClassUid,
              sopInstanceUid: meta.mediaStorageSopInstanceUid,
              transferSyntaxUid: meta.transferSyntaxUid,
              dataSetOffset,
              size,
            });
          }
          break;
        } catch (err) {
          // A meta header longer than what was read: read more, up to the whole file.
          if (want < size && /truncated/.test((err as Error).message)) {
            want = Math.min(size, want * 8);
            continue;
          }
          skipped.push({ path, reason: (err as Error).message });
          break;
        }
      }
    } finally {
      await fh.close();
    }
  }
  return { files, skipped };
}

export interface StoreTarget {
  host: string;
  port: number;
  callingAeTitle: string;
  calledAeTitle: string;
  tls?: ConnectionOptions;
  maxPduLength?: number;
}

export interface StoreProgress {
  file: StorableFile;
  ok: boolean;
  status?: number;
  error?: string;
}

export interface StoreSummary {
  sent: number;
  failed: { path: string; error: string }[];
  bytes: number;
}

/** At most 128 presentation contexts fit one association (odd IDs 1..255). */
const MAX_CONTEXTS = 128;
const pairKey = (f: StorableFile): string => `${f.sopClassUid}|${f.transferSyntaxUid}`;

/**
 * Sends files to a Storage SCP over `parallel` associations. Each association proposes
 * one presentation context per (SOP class, transfer syntax) pair of the files it sends,
 * so stored bytes go out as they are, never transcoded.
 */
export async function storeFiles(
  target: StoreTarget,
  files: StorableFile[],
  options: { parallel?: number; onProgress?: (p: StoreProgress) => void } = {},
): Promise<StoreSummary> {
  const summary: StoreSummary = { sent: 0, failed: [], bytes: 0 };
  // Batches of files whose pairs fit one association's contexts.
  const pairs = [...new Set(files.map(pairKey))];
  const batchOf = new Map(pairs.map((p, i) => [p, Math.floor(i / MAX_CONTEXTS)]));
  const batches: StorableFile[][] = [];
  for (const f of files) (batches[batchOf.get(pairKey(f))!] ??= []).push(f);
  const parallel = Math.max(1, options.parallel ?? 1);
  for (const batch of batches) {
    const queues: StorableFile[][] = Array.from({ length: Math.min(parallel, batch.length) }, () => []);
    batch.forEach((f, i) => queues[i % queues.length].push(f));
    await Promise.all(queues.map((q) => storeOverOneAssociation(target, q, summary, options.onProgress)));
  }
  return summary;
}

async function storeOverOneAssociation(
  target: StoreTarget,
  files: StorableFile[],
  summary: StoreSummary,
  onProgress?: (p: StoreProgress) => void,
): Promise<void> {
  const pairs = [...new Set(files.map(pairKey))].map((k) => k.split('|') as [string, string]);
  const fail = (file: StorableFile, error: string): void => {
    summary.failed.push({ path: file.path, error });
    onProgress?.({ file, ok: false, error });
  };
  let association;
  try {
    association = await connect({
      host: target.host,
      port: target.port,
      callingAeTitle: target.callingAeTitle,
      calledAeTitle: target.calledAeTitle,
      presentationContexts: pairs.map(([abstractSyntax, ts]) => ({ abstractSyntax, transferSyntaxes: [ts] })),
      maxPduLength: target.maxPduLength,
      tls: target.tls,
    });
  } catch (err) {
    for (const f of files) fail(f, (err as Error).message);
    return;
  }
  const conn = new DimseConnection(association);
  try {
    for (const file of files) {
      if (conn.isClosed) {
        fail(file, 'association closed');
        continue;
      }
      const accepted = [...association.contexts.values()].some((c) => c.abstractSyntax === file.sopClassUid && c.transferSyntax === file.transferSyntaxUid);
      if (!accepted) {
        fail(file, `peer did not accept ${file.sopClassUid} in transfer syntax ${file.transferSyntaxUid}`);
        continue;
      }
      try {
        const rsp = await cStore(
          conn,
          { sopClassUid: file.sopClassUid, sopInstanceUid: file.sopInstanceUid, transferSyntaxUid: file.transferSyntaxUid },
          dataSetStream(file),
        );
        summary.sent++;
        summary.bytes += file.size - file.dataSetOffset;
        onProgress?.({ file, ok: true, status: rsp.command.status });
      } catch (err) {
        fail(file, (err as Error).message);
      }
    }
  } finally {
    if (!conn.isClosed) await association.release().catch(() => association.abort());
  }
}

/**
 * The file's data set as stored. A deflated data set of odd length gets the trailing
 * NUL that PS3.5 A.5 requires (some writers omit it; DCMTK refuses odd messages).
 */
async function* dataSetStream(file: StorableFile): AsyncGenerator<Buffer> {
  yield* createReadStream(file.path, { start: file.dataSetOffset, highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>;
  if (file.transferSyntaxUid === DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN && (file.size - file.dataSetOffset) % 2 === 1) yield Buffer.alloc(1);
}
