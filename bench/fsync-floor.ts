// The durability floor of one association on this machine: a C-STORE may be answered only
// once its file is on disk, and the sender waits for that answer before the next one, so
// one association can never be faster than (the peer's time per instance without any
// fsync, e.g. DCMTK storescp) + (creating, writing and fdatasync-ing one new file of the
// instance's size). This measures the second term on the file system the benchmark
// writes to, in the same run, so the ingest figures can be read against it.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface FsyncFloor {
  bytes: number;
  files: number;
  /** Mean and median ms for open + write + fdatasync + close of one new file, one at a time. */
  meanMs: number;
  medianMs: number;
}

/** Writes `files` new files of `bytes` each in `dir`, one at a time, each fdatasync'ed; then removes them. */
export async function measureFsyncFloor(dir: string, bytes: number, files = 50): Promise<FsyncFloor> {
  const work = fs.mkdtempSync(path.join(dir, 'fsync-floor-'));
  const data = randomBytes(bytes);
  const times: number[] = [];
  try {
    for (let i = 0; i < files; i++) {
      const started = performance.now();
      const fh = await fs.promises.open(path.join(work, `f${i}`), 'wx');
      try {
        await fh.write(data, 0, data.length, 0);
        await fh.datasync();
      } finally {
        await fh.close();
      }
      times.push(performance.now() - started);
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  const sorted = [...times].sort((a, b) => a - b);
  return {
    bytes,
    files,
    meanMs: times.reduce((a, b) => a + b, 0) / times.length,
    medianMs: sorted[sorted.length >> 1],
  };
}
