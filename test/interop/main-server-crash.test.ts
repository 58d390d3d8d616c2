/**
 * SIGKILL the Main Server in the middle of a large C-STORE: after restart no partial
 * file is visible, every index row has its complete file and every file its row, and
 * the same instance can be stored again.
 */
import Database from 'better-sqlite3';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeMultiFrame } from '../../scripts/gen-test-data.js';
import { startPacs, stopAllPeers, storescu } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

afterAll(async () => {
  await stopAllPeers();
  await removeTempDirs();
});

function filesUnder(dir: string): { rel: string; size: number }[] {
  const out: { rel: string; size: number }[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push({ rel: relative(dir, p), size: statSync(p).size });
    }
  };
  walk(dir);
  return out;
}

/** Data files (s/<day>/<batch>/..., non-empty: unused pool files are empty) against index rows: one to one, sizes included. */
function checkConsistent(dataDir: string): { rows: number } {
  const blobs = join(dataDir, 'blobs');
  const finals = filesUnder(blobs).filter((f) => /^s\//.test(f.rel) && f.size > 0);
  const db = new Database(join(dataDir, 'index.sqlite'), { readonly: true });
  try {
    const rows = db.prepare('SELECT file_key AS key, file_size AS size FROM instances').all() as { key: string; size: number }[];
    const onDisk = new Map(finals.map((f) => [f.rel, f.size]));
    for (const r of rows) expect(onDisk.get(r.key), `file of index row ${r.key}`).toBe(Number(r.size));
    const indexed = new Set(rows.map((r) => r.key));
    for (const f of finals) expect(indexed.has(f.rel), `index row of file ${f.rel}`).toBe(true);
    return { rows: rows.length };
  } finally {
    db.close();
  }
}

describe('Main Server killed during a store', () => {
  it('leaves a consistent archive', async () => {
    const dir = await makeTempDir('pacs-crash-');
    const big = await writeMultiFrame({ dir: join(dir, 'src'), frames: 600, rows: 512, cols: 512 }); // ~315 MB
    const small = await writeMultiFrame({ dir: join(dir, 'src'), frames: 2, rows: 64, cols: 64 });
    let pacs = await startPacs({ dir: join(dir, 'run1') });
    const dataDir = pacs.dataDir;
    expect((await storescu({ port: pacs.port, calledAet: 'PACS', files: [small.file] })).code).toBe(0);

    const sending = storescu({ port: pacs.port, calledAet: 'PACS', files: [big.file], timeoutMs: 120_000 });
    // Kill once a good part of the instance has reached the server's disk.
    const tmp = join(dataDir, 'blobs');
    const deadline = Date.now() + 60_000;
    for (;;) {
      const inFlight = filesUnder(tmp).filter((f) => f.size > 60e6);
      if (inFlight.length) break;
      if (Date.now() > deadline) throw new Error('the large store never reached 60 MB on disk');
      await new Promise((r) => setTimeout(r, 5));
    }
    process.kill(pacs.pid, 'SIGKILL');
    const sent = await sending;
    expect(sent.code).not.toBe(0);
    await pacs.stop();

    // Restart on the same data: the start-up sweep reconciles what the kill left.
    pacs = await startPacs({ dir: join(dir, 'run1') });
    await pacs.stop();
    expect(checkConsistent(dataDir).rows).toBe(1); // only the small instance
    const leftovers = filesUnder(join(dataDir, 'blobs')).filter((f) => !/^s\//.test(f.rel) || f.size === 0);
    expect(leftovers).toEqual([]);

    pacs = await startPacs({ dir: join(dir, 'run1') });
    const again = await storescu({ port: pacs.port, calledAet: 'PACS', files: [big.file], timeoutMs: 120_000 });
    expect(again.code, again.stderr).toBe(0);
    await pacs.stop();
    expect(checkConsistent(dataDir).rows).toBe(2);
  }, 300_000);
});
