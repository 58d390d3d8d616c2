// The durability floor on this machine: a C-STORE may be answered only once its file is on
// disk, and the sender waits for that answer before the next one, so one association can
// never be faster than (the peer's time per instance without any fsync, e.g. DCMTK
// storescp) + (creating, writing and fdatasync-ing one new file of the instance's size).
// This measures the second term on the file system the benchmark writes to, in the same
// run, so the ingest figures can be read against it: one writer at a time (one
// association), and `writers` at once (several associations: their fdatasyncs queue on the
// same journal, so each takes longer than alone). measureSegmentFloor: the same writes into
// a file whose blocks were written (zeros) and made durable before, each writer at its own
// offsets: fdatasync then flushes data only, no block allocation or size change to journal.
// Not what this PACS does; what instances kept in pre-allocated segments could reach.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setAside } from './set-aside.js';

export interface FsyncFloor {
  bytes: number;
  files: number;
  /** How many wrote at once, each one file after the other. */
  writers: number;
  /** Mean and median ms for open + write + fdatasync + close of one new file, while `writers` did so at once. */
  meanMs: number;
  medianMs: number;
  /** New durable files per second, all writers together. */
  filesPerSecond: number;
}

/** Writes `files` new files of `bytes` each in `dir` by `writers` concurrent loops, each file fdatasync'ed; then removes them. */
export async function measureFsyncFloor(dir: string, bytes: number, files = 50, writers = 1): Promise<FsyncFloor> {
  const work = fs.mkdtempSync(path.join(dir, 'fsync-floor-'));
  const data = randomBytes(bytes);
  try {
    return await timedWrites(bytes, files, writers, async (i) => {
      const fh = await fs.promises.open(path.join(work, `f${i}`), 'wx');
      try {
        await fh.write(data, 0, data.length, 0);
        await fh.datasync();
      } finally {
        await fh.close();
      }
    });
  } finally {
    setAside(work);
  }
}

/**
 * `files` writes of `bytes`, each fdatasync'ed, by `writers` concurrent loops into one file
 * pre-filled with zeros and made durable first (each writer its own offsets); then removed.
 */
export async function measureSegmentFloor(dir: string, bytes: number, files = 50, writers = 1): Promise<FsyncFloor> {
  const work = fs.mkdtempSync(path.join(dir, 'segment-floor-'));
  const data = randomBytes(bytes);
  const fh = await fs.promises.open(path.join(work, 'segment'), 'w+');
  try {
    const zeros = Buffer.alloc(Math.min(bytes * files, 8 << 20));
    for (let at = 0; at < bytes * files; at += zeros.length) await fh.write(zeros, 0, Math.min(zeros.length, bytes * files - at), at);
    await fh.datasync();
    return await timedWrites(bytes, files, writers, async (i) => {
      await fh.write(data, 0, data.length, i * bytes);
      await fh.datasync();
    });
  } finally {
    await fh.close();
    setAside(work);
  }
}

/** Runs `write(i)` for i < files by `writers` concurrent loops, each timed, and sums them up. */
async function timedWrites(bytes: number, files: number, writers: number, write: (i: number) => Promise<void>): Promise<FsyncFloor> {
  const times: number[] = [];
  let next = 0;
  const loop = async (): Promise<void> => {
    for (let i = next++; i < files; i = next++) {
      const t = performance.now();
      await write(i);
      times.push(performance.now() - t);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: writers }, loop));
  return summary(bytes, files, writers, times, performance.now() - started);
}

function summary(bytes: number, files: number, writers: number, times: number[], wallMs: number): FsyncFloor {
  const sorted = [...times].sort((a, b) => a - b);
  return {
    bytes,
    files,
    writers,
    meanMs: times.reduce((a, b) => a + b, 0) / times.length,
    medianMs: sorted[sorted.length >> 1],
    filesPerSecond: (files * 1000) / wallMs,
  };
}
