/** Finds stored Part 10 files by SOP Instance UID and compares their data sets, for interop tests. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readMetaHeader } from '../../src/dicom/part10.js';

async function* walk(dir: string): AsyncGenerator<string> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    // An archive's tmp/ and pool/ hold files being received, not yet used, or already
    // linked into place (and unlinked in the background after the response): not stored instances.
    if (e.isDirectory()) {
      if (e.name !== 'tmp' && e.name !== 'pool') yield* walk(p);
    } else if (e.isFile()) yield p;
  }
}

export interface Part10Info {
  path: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  dataSetOffset: number;
}

export async function part10Info(path: string): Promise<Part10Info | undefined> {
  const fh = await open(path, 'r').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined; // removed while walking (a replaced or deleted instance)
    throw e;
  });
  if (!fh) return undefined;
  try {
    const buf = Buffer.alloc(16384);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const { meta, dataSetOffset } = readMetaHeader(buf.subarray(0, bytesRead));
    return { path, sopInstanceUid: meta.mediaStorageSopInstanceUid, transferSyntaxUid: meta.transferSyntaxUid, dataSetOffset };
  } catch {
    return undefined;
  } finally {
    await fh.close();
  }
}

/** Every Part 10 file under dir, by SOP Instance UID. */
export async function indexPart10Files(dir: string): Promise<Map<string, Part10Info>> {
  const out = new Map<string, Part10Info>();
  for await (const p of walk(dir)) {
    const info = await part10Info(p);
    if (info) out.set(info.sopInstanceUid, info);
  }
  return out;
}

/** SHA-256 of a file's data set (everything after the File Meta Information), streamed. */
export async function dataSetHash(info: Part10Info): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(info.path, { start: info.dataSetOffset, highWaterMark: 4 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}
