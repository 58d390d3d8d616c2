// What the SQLite index costs per received instance, in one process (no network, no files):
// the duplicate check and the row's commit as ingest makes them (deferSync: no WAL fdatasync
// on the response path), one instance per transaction (one association) or several (group
// commit of several associations), with the process's CPU per instance and the commits'
// wall times; the slow ones are the WAL checkpoints SQLite runs inside COMMIT, on the event
// loop, every `--checkpoint` pages (SQLite's default 1000).
//   npx tsx bench/index-commit.ts [--n 3000] [--batches 1,2,4,8] [--rounds 2] [--checkpoint 1000]
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { newUid } from '../scripts/gen-test-data.js';
import type { InstanceRecord } from '../src/archive/index-types.js';
import { SqliteIndex } from '../src/archive/sqlite-index.js';
import { ctRecord } from './index-record.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '3000' },
    batches: { type: 'string', default: '1,2,4,8' },
    rounds: { type: 'string', default: '2' },
    checkpoint: { type: 'string', default: '1000' },
  },
});
const N = Number(values.n);
const BATCHES = values.batches.split(',').map(Number);
let seq = 0;

/** A row for one CT slice of a series (random UIDs and file keys, as received). */
function record(seriesUid: string): InstanceRecord {
  seq++;
  return ctRecord({
    sopInstanceUid: newUid(),
    seriesInstanceUid: seriesUid,
    studyInstanceUid: `${seriesUid}.0`,
    fileKey: `s/20261207/${String(seq >> 10).padStart(12, '0')}/${randomBytes(8).toString('hex')}.dcm`,
    instanceNumber: seq,
  });
}

async function measure(batch: number, round: number): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'index-commit-'));
  const index = await SqliteIndex.open(path.join(dir, 'index.sqlite'));
  try {
    (index as unknown as { writer: { pragma(s: string): unknown } }).writer.pragma(`wal_autocheckpoint = ${Number(values.checkpoint)}`);
    const warm = `1.2.9.${round}.${batch}`;
    for (let i = 0; i < 300; i++) {
      const r = record(warm);
      await index.hasInstance(r.sopInstanceUid);
      await index.insertInstances([r], 'keep', { deferSync: true });
    }
    const series = `1.2.8.${round}.${batch}`;
    const walls: number[] = [];
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < N; i += batch) {
      const records = Array.from({ length: batch }, () => record(series));
      const s = performance.now();
      for (const r of records) await index.hasInstance(r.sopInstanceUid);
      await index.insertInstances(records, 'keep', { deferSync: true });
      walls.push(performance.now() - s);
    }
    const cpu = process.cpuUsage(cpu0);
    const wall = performance.now() - t0;
    walls.sort((a, b) => a - b);
    const q = (p: number): string => walls[Math.min(walls.length - 1, Math.floor(p * walls.length))].toFixed(2);
    const slow = walls.filter((w) => w > 5);
    return (
      `${batch} per commit: CPU ${((cpu.user + cpu.system) / N / 1000).toFixed(3)} ms/instance (system ${(cpu.system / N / 1000).toFixed(3)}), ` +
      `wall ${(wall / N).toFixed(3)} ms/instance; commit p50 ${q(0.5)}, p99 ${q(0.99)}, max ${q(1)} ms; ` +
      `${slow.length} commits over 5 ms, ${slow.reduce((a, b) => a + b, 0).toFixed(0)} ms in all`
    );
  } finally {
    await index.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`${N} instances per line, wal_autocheckpoint ${values.checkpoint}; load ${os.loadavg()[0].toFixed(1)}`);
for (let round = 0; round < Number(values.rounds); round++) for (const b of BATCHES) console.log(`round ${round + 1}, ${await measure(b, round)}`);
