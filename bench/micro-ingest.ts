// Micro-benchmark of per-instance ingest steps, this checkout against another (A/B in one
// process, alternating, so machine load hits both alike): the Part 10 meta header, the
// DICOM JSON of a CT header, the header read as ingest reads it (64 KiB chunks up to Pixel
// Data), the index record made of it, the index's duplicate check (one-statement read).
//   npx tsx bench/micro-ingest.ts --base /other/checkout [--rounds 7] [--n 2000]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { writeCtSeries } from '../scripts/gen-test-data.js';
import type { InstanceRecord } from '../src/archive/index-types.js';
import { ctRecord } from './index-record.js';

const { values } = parseArgs({ options: { base: { type: 'string' }, rounds: { type: 'string', default: '7' }, n: { type: 'string', default: '2000' } } });
if (!values.base) throw new Error('--base /other/checkout is required');
const N = Number(values.n);
const ROUNDS = Number(values.rounds);

type Mods = {
  part10: typeof import('../src/dicom/part10.js');
  deps: typeof import('../src/archive/dicom-deps.js');
  sqlite: typeof import('../src/archive/sqlite-index.js');
  ingest: typeof import('../src/archive/ingest.js');
};
async function load(root: string): Promise<Mods> {
  const u = (p: string) => new URL(`file://${path.resolve(root, p)}`).href;
  return {
    part10: (await import(u('src/dicom/part10.ts'))) as Mods['part10'],
    deps: (await import(u('src/archive/dicom-deps.ts'))) as Mods['deps'],
    sqlite: (await import(u('src/archive/sqlite-index.ts'))) as Mods['sqlite'],
    ingest: (await import(u('src/archive/ingest.ts'))) as Mods['ingest'],
  };
}

function usPerOp(fn: () => unknown): number {
  const t0 = process.cpuUsage();
  for (let i = 0; i < N; i++) fn();
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / N;
}
async function usPerOpAsync(fn: () => Promise<unknown>, n = N): Promise<number> {
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) await fn();
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / n;
}
const COMMITS = 200;
let keySeq = 0;
function record(build: string, uid: string): InstanceRecord {
  const n = keySeq++;
  return ctRecord({
    sopInstanceUid: uid,
    studyInstanceUid: `1.2.5.${build.length}`,
    seriesInstanceUid: `1.2.5.${build.length}.1`,
    fileKey: `k/${build}/${n}.dcm`,
    instanceNumber: n,
  });
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'micro-ingest-'));
  try {
    const series = await writeCtSeries({ dir: path.join(tmp, 'series'), count: 1, rows: 512, cols: 512 });
    const file = fs.readFileSync(series.files[0]);
    const builds = { this: await load(path.resolve(import.meta.dirname, '..')), base: await load(values.base!) };
    const results: Record<string, Record<string, number[]>> = {};
    const indexes: Record<string, Awaited<ReturnType<Mods['sqlite']['SqliteIndex']['open']>>> = {};
    for (const [name, m] of Object.entries(builds)) indexes[name] = await m.sqlite.SqliteIndex.open(path.join(tmp, `${name}.sqlite`));
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, m] of Object.entries(builds)) {
        const { dataset } = m.part10.readPart10(file, { stopAtPixelData: true });
        const add = (k: string, v: number) => ((results[k] ??= {})[name] ??= []).push(v);
        add(
          'meta header',
          usPerOp(() =>
            m.part10.buildMetaHeader({
              sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
              sopInstanceUid: `1.2.3.${r}.4567`,
              transferSyntaxUid: '1.2.840.10008.1.2.1',
              sourceAeTitle: 'STORESCU',
            }),
          ),
        );
        add(
          'DICOM JSON (CT header)',
          usPerOp(() => m.deps.datasetJsonText(dataset)),
        );
        const { dataSetOffset, meta } = m.deps.readMetaHeader(file);
        const body = file.subarray(dataSetOffset);
        add(
          'header read (64 KiB chunks)',
          usPerOp(() => {
            const reader = new m.deps.DatasetHeaderReader({ transferSyntaxUid: meta.transferSyntaxUid, maxRetainedBytes: 1 << 20 });
            for (let at = 0; at < body.length && !reader.done; at += 65536) reader.push(body.subarray(at, at + 65536));
            return reader.dataset;
          }),
        );
        const req = {
          sopClassUid: meta.mediaStorageSopClassUid,
          sopInstanceUid: meta.mediaStorageSopInstanceUid,
          transferSyntaxUid: meta.transferSyntaxUid,
          callingAeTitle: 'STORESCU',
        };
        add(
          'index record (JSON included)',
          usPerOp(() => m.ingest.instanceRecord(dataset, req, { key: 'k', size: file.length, crc32: 1 }, '2026-01-01T00:00:00.000Z')),
        );
        let i = 0;
        add('duplicate check (hasInstance)', await usPerOpAsync(() => indexes[name].hasInstance(`1.2.3.${i++}`)));
        // As in ingest: each check follows another instance's commit.
        const ix = indexes[name];
        add(
          'commit + duplicate check',
          await usPerOpAsync(async () => {
            const uid = `1.2.4.${r}.${i++}`;
            await ix.insertInstances([record(name, uid)]);
            await ix.hasInstance(`${uid}.9`);
          }, COMMITS),
        );
      }
    }
    console.log(`CPU microseconds per call, median of ${ROUNDS} rounds of ${N} (this checkout / ${values.base}); load ${os.loadavg()[0].toFixed(1)}`);
    for (const [k, v] of Object.entries(results))
      console.log(`  ${k.padEnd(32)} ${median(v.this).toFixed(1).padStart(7)}  ${median(v.base).toFixed(1).padStart(7)}`);
    for (const ix of Object.values(indexes)) await ix.close();
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
await main();
