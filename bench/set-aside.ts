// What a bench is done with is set aside (renamed into one directory) and deleted only when
// the bench ends, not between its runs. Why: on a file system without a journal (ext4 as
// on these machines), creating a file skips every free inode of its block group that was
// deleted in the last 60 s (360 s while the inode table's block is dirty), one lookup each,
// from the start of the group's bitmap (the kernel's `recently_deleted()`). A bench that
// deletes a run's 300-600 files before the next run makes every later file creation in
// those groups scan thousands of such inodes: measured here, an empty file created in a
// directory under /tmp took 580-680 us after an hour of benches against 15 us in a group
// without deletions (docs/design-as-built.md, "Receive path as built", eighteenth round).
// That cost lands on every server's file creation (storescp, Orthanc, this PACS), none of
// which a real archive pays at that rate. `fileCreationUs()` prints what creating a file
// costs in a directory, so a bench's reader can see the state it ran in.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeTempDirSync } from '../test/support/tmp.js';

let bin: string | undefined;
let count = 0;

/**
 * Moves `dir` (a file or directory on the same file system as the OS temp dir) out of the
 * way; it is deleted with the bench's other temp dirs (removeTempDirs) when the bench ends.
 */
export function setAside(dir: string): void {
  if (!fs.existsSync(dir)) return;
  bin ??= makeTempDirSync('pacs-bench-set-aside-');
  fs.renameSync(dir, path.join(bin, String(count++)));
}

/** Median microseconds to create (and close) an empty file in `dir`: `files` of them, in a new subdirectory (set aside after). */
export function fileCreationUs(dir: string, files = 200): number {
  const work = fs.mkdtempSync(path.join(dir, 'create-'));
  const times: number[] = [];
  try {
    for (let i = 0; i < files; i++) {
      const t = performance.now();
      fs.closeSync(fs.openSync(path.join(work, `f${i}`), 'wx'));
      times.push((performance.now() - t) * 1000);
    }
  } finally {
    setAside(work);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}
