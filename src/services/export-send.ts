/**
 * Sending stored instances to a Storage SCP, optionally de-identified first: the
 * de-identified copies are written one by one to a private temporary folder (named by
 * index) and streamed from there like any file, so a study is never held in memory.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UidMap, newPatientId, type AnonymizeOptions } from '../dicom/anonymize.js';
import { anonymizePart10 } from '../dicom/anonymize-file.js';
import { inspectFiles, storeFiles, type StoreProgress, type StoreSummary, type StoreTarget } from './storage-scu.js';

export interface AnonymizeRequest {
  patientName?: string;
  patientId?: string;
}

/** Options for one export: one UID map and one Patient ID shared by all its files. */
export function exportAnonymization(req: AnonymizeRequest): AnonymizeOptions {
  return { uids: new UidMap(), patientName: req.patientName, patientId: req.patientId ?? newPatientId() };
}

export interface SendOptions {
  anonymize?: AnonymizeRequest;
  /** Called once the number of files is known. */
  onTotal?: (total: number) => void;
  onProgress?: (p: StoreProgress) => void;
}

export async function sendStoredFiles(target: StoreTarget, paths: readonly string[], opts: SendOptions = {}): Promise<StoreSummary & { skipped: number }> {
  opts.onTotal?.(paths.length);
  let dir: string | undefined;
  try {
    let sources = [...paths];
    if (opts.anonymize) {
      dir = await mkdtemp(join(tmpdir(), 'pacs-send-'));
      const anon = exportAnonymization(opts.anonymize);
      sources = [];
      for (const [i, p] of paths.entries()) {
        const out = join(dir, `${String(i + 1).padStart(6, '0')}.dcm`);
        await writeFile(out, anonymizePart10(await readFile(p), anon).bytes);
        sources.push(out);
      }
    }
    const { files, skipped } = await inspectFiles(sources);
    const summary = await storeFiles(target, files, { onProgress: opts.onProgress });
    for (const s of skipped) summary.failed.push({ path: s.path, error: s.reason });
    return { ...summary, skipped: skipped.length };
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}
