// DCMTK findscu as a test's query client, with each response identifier kept: `-X -od DIR`
// writes one file per match, read back here as data sets (in the order findscu wrote them).
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Dataset } from '../../src/dicom/dataset.js';
import { readPart10 } from '../../src/dicom/part10.js';
import { runDcmtk } from './peers.js';

export interface FindscuOptions {
  port: number;
  /** -S study root, -P patient root, -W modality worklist. */
  model: '-S' | '-P' | '-W';
  /** `-k` values: `Keyword=value` or a bare keyword to return. */
  keys: string[];
  /** A directory of its own for this query's response files (created). */
  outDir: string;
  callingAet?: string;
  calledAet?: string;
  host?: string;
}

/** Runs findscu; throws with its output when it fails. */
export async function findscuDatasets(o: FindscuOptions): Promise<Dataset[]> {
  mkdirSync(o.outDir, { recursive: true });
  const args = [o.model, '-aet', o.callingAet ?? 'FINDSCU', '-aec', o.calledAet ?? 'PACS', '-X', '-od', o.outDir, ...o.keys.flatMap((k) => ['-k', k])];
  const r = await runDcmtk('findscu', [...args, o.host ?? '127.0.0.1', String(o.port)]);
  if (r.code !== 0) throw new Error(`findscu exited ${r.code}: ${r.stderr}${r.stdout}`);
  return readdirSync(o.outDir)
    .sort()
    .map((f) => readPart10(readFileSync(join(o.outDir, f))).dataset);
}
