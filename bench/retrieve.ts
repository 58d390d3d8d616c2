// Retrieve benchmark: this PACS next to Orthanc (SQLite index), the same 300-image 512x512
// CT series (explicit VR LE, ~512 KB each) stored into both, then retrieved as a SERIES:
//   C-GET   DCMTK getscu into a fresh folder (sub-operations on the same association)
//   C-MOVE  DCMTK movescu to a DCMTK storescp (a new association from the server)
// Time = wall time of the getscu / movescu process (TCP_NODELAY=1 for DCMTK and Orthanc);
// --runs runs each (after one warm-up), the servers taking turns run by run so that other
// load on the machine falls on both alike; best and median instances/s, ratio this PACS /
// Orthanc (target >= 1), the server's CPU time per instance (/proc), the load average.
// Every run is checked to have delivered all instances; for this PACS, also that every
// data set arrived byte for byte as stored (Orthanc's answer is reported, not required).
//
//   npx tsx bench/retrieve.ts [--count 300] [--runs 3] [--rows 512] [--cols 512]
// Results: a table on stdout and JSON in bench/results/retrieve-<timestamp>.json.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { writeCtSeries } from '../scripts/gen-test-data.js';
import { inspectFiles, storeFiles } from '../src/services/storage-scu.js';
import { dataSetHash, indexPart10Files, part10Info } from '../test/interop/dicom-files.js';
import { REPO_ROOT, runDcmtk, startOrthanc, startPacs, startStorescp, stopAllPeers } from '../test/support/peers.js';
import { makeTempDir, removeTempDirs } from '../test/support/tmp.js';
import { cpuMs } from './cpu.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '300' },
    runs: { type: 'string', default: '3' },
    rows: { type: 'string', default: '512' },
    cols: { type: 'string', default: '512' },
  },
});
const COUNT = Number(values.count);
const RUNS = Number(values.runs);

process.on('SIGINT', () => void stopAllPeers().finally(() => process.exit(130)));

interface Target {
  name: string;
  aet: string;
  port: number;
  pid: number;
}
interface Result {
  target: string;
  op: string;
  seconds: number[];
  best: number;
  median: number;
  cpuMsPerInstance: number;
  bytesUnchanged: string;
}

async function main(): Promise<void> {
  const root = await makeTempDir('pacs-bench-retrieve-');
  const series = await writeCtSeries({ dir: path.join(root, 'series'), count: COUNT, rows: Number(values.rows), cols: Number(values.cols) });
  const originals = new Map<string, string>();
  for (const f of series.files) {
    const info = (await part10Info(f))!;
    originals.set(info.sopInstanceUid, await dataSetHash(info));
  }
  const storescp = await startStorescp({ dir: path.join(root, 'storescp'), aet: 'STORESCP' });

  const pacsDir = path.join(root, 'pacs');
  const dataDir = path.join(pacsDir, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  const add = await runDcmtk(process.execPath, [
    path.join(REPO_ROOT, 'bin/pacs.js'),
    'config',
    'ae',
    'add',
    'STORESCP',
    '--data',
    dataDir,
    '--host',
    '127.0.0.1',
    '--port',
    String(storescp.port),
    '--move-destination',
    '--permissions',
    'echo,store',
  ]);
  if (add.code !== 0) throw new Error(`pacs config ae add: ${add.stderr}`);
  const pacs = await startPacs({ dir: pacsDir });
  const orthanc = await startOrthanc({
    dir: path.join(root, 'orthanc'),
    config: {
      DicomAlwaysAllowGet: true,
      DicomAlwaysAllowMove: true,
      DicomAlwaysAllowFind: true,
      DicomModalities: { STORESCP: ['STORESCP', '127.0.0.1', storescp.port] },
    },
  });
  const targets: Target[] = [
    { name: 'pacs', aet: pacs.aet, port: pacs.port, pid: pacs.pid },
    { name: 'orthanc', aet: orthanc.aet, port: orthanc.dicomPort, pid: orthanc.pid },
  ];
  const { files } = await inspectFiles(series.files);
  for (const t of targets) {
    const r = await storeFiles({ host: '127.0.0.1', port: t.port, callingAeTitle: 'LOADER', calledAeTitle: t.aet }, files, { parallel: 4 });
    if (r.failed.length) throw new Error(`${t.name}: ${r.failed.length} not stored: ${r.failed[0].error}`);
  }

  const keys = ['-k', 'QueryRetrieveLevel=SERIES', '-k', `StudyInstanceUID=${series.studyUid}`, '-k', `SeriesInstanceUID=${series.seriesUid}`];
  const results: Result[] = [];
  /** How many received data sets equal the stored ones byte for byte. */
  const unchanged = async (dir: string): Promise<number> => {
    let same = 0;
    for (const [uid, info] of await indexPart10Files(dir)) if (originals.get(uid) === (await dataSetHash(info))) same++;
    return same;
  };
  const loadAverage: Record<string, number[]> = { start: os.loadavg() };
  for (const op of ['C-GET', 'C-MOVE'] as const) {
    const seconds = targets.map((): number[] => []);
    const cpu = targets.map((): number[] => []);
    const bytesUnchanged = targets.map(() => '');
    // The servers take turns run by run (ours, Orthanc, ours, ...): a change in the machine's
    // other load falls on both alike. One warm-up run each first (not counted).
    for (let run = -1; run < RUNS; run++) {
      for (let k = 0; k < targets.length; k++) {
        const t = targets[k];
        const out = path.join(root, `get-${t.name}-${run}`);
        fs.mkdirSync(out);
        fs.rmSync(storescp.storageDir, { recursive: true, force: true });
        fs.mkdirSync(storescp.storageDir, { recursive: true });
        await runDcmtk('sync', []);
        const args =
          op === 'C-GET'
            ? ['-S', '-aet', 'PACS_CLIENT', '-aec', t.aet, '-od', out, ...keys, '127.0.0.1', String(t.port)]
            : ['-S', '-aet', 'PACS_CLIENT', '-aec', t.aet, '-aem', 'STORESCP', ...keys, '127.0.0.1', String(t.port)];
        const cpu0 = cpuMs(t.pid);
        const t0 = performance.now();
        const r = await runDcmtk(op === 'C-GET' ? 'getscu' : 'movescu', args);
        const s = (performance.now() - t0) / 1000;
        const ms = cpuMs(t.pid) - cpu0;
        const dir = op === 'C-GET' ? out : storescp.storageDir;
        const got = (await indexPart10Files(dir)).size;
        if (r.code !== 0 || got !== COUNT) throw new Error(`${t.name} ${op} run ${run}: exit ${r.code}, ${got}/${COUNT} received\n${r.stderr.slice(-2000)}`);
        if (run === 0) bytesUnchanged[k] = `${await unchanged(dir)}/${COUNT}`;
        if (run >= 0) {
          seconds[k].push(s);
          cpu[k].push(ms);
        }
        fs.rmSync(out, { recursive: true, force: true });
      }
    }
    targets.forEach((t, k) => {
      const sorted = [...seconds[k]].sort((a, b) => a - b);
      const cpuSorted = [...cpu[k]].sort((a, b) => a - b);
      results.push({
        target: t.name,
        op,
        seconds: seconds[k],
        best: COUNT / sorted[0],
        median: COUNT / sorted[Math.floor(sorted.length / 2)],
        cpuMsPerInstance: cpuSorted[Math.floor(cpuSorted.length / 2)] / COUNT,
        bytesUnchanged: bytesUnchanged[k],
      });
      if (t.name === 'pacs' && bytesUnchanged[k] !== `${COUNT}/${COUNT}`)
        throw new Error(`this PACS changed data sets on ${op}: ${bytesUnchanged[k]} unchanged`);
    });
  }
  loadAverage.end = os.loadavg();
  console.log(`\n${COUNT} images ${values.rows}x${values.cols}, ${RUNS} runs each after a warm-up, servers taking turns (instances/s)`);
  console.log(['op', 'target', 'best', 'median', 'cpu ms/inst', 'unchanged', 'seconds'].map((s) => s.padStart(11)).join(' '));
  for (const r of results) {
    console.log(
      [r.op, r.target, r.best.toFixed(0), r.median.toFixed(0), r.cpuMsPerInstance.toFixed(2), r.bytesUnchanged, r.seconds.map((s) => s.toFixed(2)).join(',')]
        .map((s) => s.padStart(11))
        .join(' '),
    );
  }
  for (const op of ['C-GET', 'C-MOVE']) {
    const p = results.find((r) => r.op === op && r.target === 'pacs')!;
    const o = results.find((r) => r.op === op && r.target === 'orthanc')!;
    console.log(
      `${op}: this PACS / Orthanc  median ${(p.median / o.median).toFixed(2)}, best ${(p.best / o.best).toFixed(2)}, server CPU per instance ${(p.cpuMsPerInstance / o.cpuMsPerInstance).toFixed(2)}`,
    );
  }
  const avg = (v: number[]) => v.map((x) => x.toFixed(1)).join(', ');
  console.log(`load average (1, 5, 15 min) on ${os.cpus().length} cores: ${avg(loadAverage.start)} before the runs, ${avg(loadAverage.end)} after`);
  const outDir = path.join(REPO_ROOT, 'bench/results');
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `retrieve-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify({ count: COUNT, runs: RUNS, loadAverage, results }, null, 2));
  console.log(`results: ${file}`);
}

main()
  .catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => void stopAllPeers().then(() => removeTempDirs()));
