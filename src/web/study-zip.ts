/**
 * A study (or series) as a zip stream: Part 10 files in a flat layout named by position
 * (`0001.dcm`, ...; never by attribute text), no DICOMDIR. fflate's streaming Zip with
 * stored entries (DICOM pixel data gains little from deflate and the CPU is shared); each
 * file goes through in chunks, waiting on the HTTP socket, so memory stays at one chunk
 * (one instance when de-identifying).
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import { Zip, ZipPassThrough } from 'fflate';
import type { AnonymizeOptions } from '../dicom/anonymize.js';
import { anonymizePart10 } from '../dicom/anonymize-file.js';

export function entryName(i: number, count: number): string {
  return `${String(i + 1).padStart(Math.max(4, String(count).length), '0')}.dcm`;
}

/** Streams `paths` as a zip; errors after the start end the stream (the client sees a truncated download). */
export function zipFiles(paths: readonly string[], opts: { anonymize?: AnonymizeOptions; onError?: (err: Error) => void } = {}): Readable {
  const out = new PassThrough();
  const zip = new Zip((err, chunk, final) => {
    if (err) return void out.destroy(err);
    out.write(chunk);
    if (final) out.end();
  });
  const drained = async (): Promise<void> => {
    if (out.writableNeedDrain) await Promise.race([once(out, 'drain'), once(out, 'close')]);
  };
  void (async () => {
    for (const [i, path] of paths.entries()) {
      if (out.destroyed) return;
      const entry = new ZipPassThrough(entryName(i, paths.length));
      zip.add(entry);
      if (opts.anonymize) {
        entry.push(anonymizePart10(await readFile(path), opts.anonymize).bytes, true);
        await drained();
        continue;
      }
      for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
        entry.push(chunk);
        await drained();
        if (out.destroyed) return;
      }
      entry.push(new Uint8Array(0), true);
    }
    zip.end();
  })().catch((err: Error) => {
    opts.onError?.(err);
    out.destroy(err);
  });
  return out;
}
