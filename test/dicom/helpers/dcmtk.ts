/** Test helpers: build real DICOM files with DCMTK (dump2dcm, dcmconv) and parse dcmdump output. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const workDir = mkdtempSync(join(tmpdir(), 'dicom-test-'));
let counter = 0;

export type Xfer = '+te' | '+tb' | '+ti' | '+td';
export const XFER_UIDS: Record<Xfer, string> = {
  '+te': '1.2.840.10008.1.2.1',
  '+tb': '1.2.840.10008.1.2.2',
  '+ti': '1.2.840.10008.1.2',
  '+td': '1.2.840.10008.1.2.1.99',
};

/** dump2dcm the dump text (bytes as given, e.g. latin1) into a Part 10 file with the given syntax. */
export function dumpToFile(dump: string | Buffer, xfer: Xfer, extra: string[] = []): string {
  const n = ++counter;
  const dumpPath = join(workDir, `f${n}.dump`);
  const out = join(workDir, `f${n}${xfer.slice(1)}.dcm`);
  writeFileSync(dumpPath, dump);
  execFileSync('dump2dcm', ['-q', xfer, ...extra, dumpPath, out]);
  return out;
}

export function convert(tool: string, input: string, args: string[]): string {
  const out = join(workDir, `c${++counter}.dcm`);
  execFileSync(tool, ['-q', ...args, input, out]);
  return out;
}

export interface DumpLine {
  depth: number;
  tag: string;
  vr: string;
  value: string;
  length: string;
}

/** dcmdump +L -Un +U8 output as lines, item/delimiter lines dropped, meta header excluded. */
export function dcmdump(path: string): DumpLine[] {
  const text = execFileSync('dcmdump', ['-q', '+L', '-Un', '+U8', path], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const lines: DumpLine[] = [];
  let inData = false;
  for (const raw of text.split('\n')) {
    if (raw.startsWith('# Dicom-Data-Set')) inData = true;
    if (!inData) continue;
    const m = /^(\s*)\(([0-9a-f]{4}),([0-9a-f]{4})\) (\w\w|\?\?) (.*?)\s*#\s*(\d+|u\/l), *\d+ .*$/.exec(raw);
    if (!m) continue;
    if (m[2] === 'fffe') continue;
    lines.push({ depth: m[1].length, tag: (m[2] + m[3]).toUpperCase(), vr: m[4], value: m[5], length: m[6] });
  }
  return lines;
}

export const readBytes = (p: string): Buffer => readFileSync(p);
