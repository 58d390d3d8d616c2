// C-FIND benchmark: this PACS next to Orthanc (SQLite index), the same data loaded into
// both. The index: --studies studies (default 20,000) of --per-study small instances each
// (default 5: 100,000 instances), 2 studies per patient, 12 family names (so a name
// wildcard matches about 1/12 of the studies; every 10th patient's second study carries the
// next family name, as after a change of name: a study-level query must answer with the
// study's own name, issue 19), study dates over 36 months, modalities CT/MR/US/CR/DX. Both are loaded at the same time, each by our storage SCU over 4
// associations (a progress line every 10,000 instances). --keep DIR keeps the files and
// both archives in DIR; a later run with the same DIR (and the same --studies /
// --per-study) reuses them and only queries.
//
// Then each query form is sent --repeat times (default 50, after 2 warm-up queries) over
// ONE association per server by our C-FIND SCU (in this process; both servers run as child
// processes, TCP_NODELAY=1 for Orthanc), at STUDY level in the Study Root model, the servers
// taking turns query by query. Per form and server: the latency (request to final response,
// every match received), median and p95, with the ratio this PACS / Orthanc (target: <= 0.2),
// and the server's CPU time per query (/proc; on a busy machine the latency is mostly
// waiting for a core, the CPU time much less so). The load average is printed too.
//
//   npx tsx bench/query.ts [--studies 20000] [--per-study 5] [--repeat 50] [--keep DIR]
// Results: a table on stdout and JSON in bench/results/query-<timestamp>.json.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Dataset } from '../src/dicom/dataset.js';
import { putString, writeDataset } from '../src/dicom/dataset-writer.js';
import { buildMetaHeader } from '../src/dicom/part10.js';
import { EXPLICIT_VR_LITTLE_ENDIAN } from '../src/dicom/transfer-syntax.js';
import { DimseConnection } from '../src/dimse/dimse-connection.js';
import { connect } from '../src/net/index.js';
import { QR_SOP_CLASSES } from '../src/services/qr-identifier.js';
import { cFind } from '../src/services/qr-scu.js';
import { expandPaths, inspectFiles, storeFiles, type StorableFile } from '../src/services/storage-scu.js';
import { startOrthanc, startPacs, stopAllPeers } from '../test/support/peers.js';
import { makeTempDir } from '../test/support/tmp.js';
import { putMono16Image } from '../test/support/mono16-image.js';
import { cpuMs } from './cpu.js';
import { runBench } from './run-bench.js';

const { values } = parseArgs({
  options: {
    studies: { type: 'string', default: '20000' },
    'per-study': { type: 'string', default: '5' },
    repeat: { type: 'string', default: '50' },
    targets: { type: 'string', default: 'pacs,orthanc' },
    keep: { type: 'string' },
  },
});
const STUDIES = Number(values.studies);
const PER_STUDY = Number(values['per-study']);
const REPEAT = Number(values.repeat);
const TARGETS = values.targets.split(',');

process.on('SIGINT', () => void stopAllPeers().finally(() => process.exit(130)));

const FAMILY = ['SMITH', 'JONES', 'TAYLOR', 'BROWN', 'WILLIAMS', 'WILSON', 'JOHNSON', 'DAVIES', 'ROBINSON', 'WRIGHT', 'THOMPSON', 'EVANS'];
const GIVEN = ['JOHN', 'MARY', 'PAUL', 'ANNE', 'PETER', 'JANE', 'MARK', 'SARAH'];
const MODALITIES = ['CT', 'MR', 'US', 'CR', 'DX'];
const ROOT = `1.2.826.0.1.3680043.10.2024.${Date.now() % 1_000_000}`;
const CT_IMAGE = '1.2.840.10008.5.1.4.1.1.2';

/** The patient name a study's instances carry: its patient's, or for every 10th patient's second study the next family name. */
function studyFamily(s: number): string {
  const patient = Math.floor(s / 2);
  const changed = patient % 10 === 3 && s % 2 === 1;
  return FAMILY[(patient + (changed ? 1 : 0)) % FAMILY.length];
}

function studyDate(s: number): string {
  const month = s % 36; // 2021-01 .. 2023-12
  const y = 2021 + Math.floor(month / 12);
  const m = (month % 12) + 1;
  const d = (Math.floor(s / 36) % 28) + 1;
  return `${y}${String(m).padStart(2, '0')}${String(d).padStart(2, '0')}`;
}

/** Writes the instances as Part 10 files (8x8 16-bit pixels, ~1.5 KB each). */
function writeInstances(dir: string): void {
  const pixels = Buffer.alloc(8 * 8 * 2, 1);
  for (let s = 0; s < STUDIES; s++) {
    const patient = Math.floor(s / 2);
    const studyUid = `${ROOT}.${s + 1}`;
    const seriesUid = `${studyUid}.1`;
    const sub = path.join(dir, String(Math.floor(s / 1000)));
    if (s % 1000 === 0) fs.mkdirSync(sub, { recursive: true });
    for (let i = 0; i < PER_STUDY; i++) {
      const uid = `${seriesUid}.${i + 1}`;
      const ds = new Dataset();
      putString(ds, 0x00080005, 'CS', 'ISO_IR 100');
      putString(ds, 0x00080016, 'UI', CT_IMAGE);
      putString(ds, 0x00080018, 'UI', uid);
      putString(ds, 0x00080020, 'DA', studyDate(s));
      putString(ds, 0x00080030, 'TM', '101500');
      putString(ds, 0x00080050, 'SH', `ACC${s + 1}`);
      putString(ds, 0x00080060, 'CS', MODALITIES[s % MODALITIES.length]);
      putString(ds, 0x00080090, 'PN', 'REFERRER^DOC');
      putString(ds, 0x00081030, 'LO', `Study ${s % 40}`);
      putString(ds, 0x00100010, 'PN', `${studyFamily(s)}^${GIVEN[patient % GIVEN.length]}^${patient}`);
      putString(ds, 0x00100020, 'LO', `PID${patient + 1}`);
      putString(ds, 0x00100030, 'DA', '19600101');
      putString(ds, 0x00100040, 'CS', patient % 2 ? 'M' : 'F');
      putString(ds, 0x0020000d, 'UI', studyUid);
      putString(ds, 0x0020000e, 'UI', seriesUid);
      putString(ds, 0x00200010, 'SH', String(s + 1));
      putString(ds, 0x00200011, 'IS', '1');
      putString(ds, 0x00200013, 'IS', String(i + 1));
      putMono16Image(ds, { rows: 8, cols: 8, bitsStored: 12, pixels });
      const file = path.join(sub, `${s}-${i}.dcm`);
      fs.writeFileSync(
        file,
        Buffer.concat([
          buildMetaHeader({ sopClassUid: CT_IMAGE, sopInstanceUid: uid, transferSyntaxUid: EXPLICIT_VR_LITTLE_ENDIAN }),
          writeDataset(ds, EXPLICIT_VR_LITTLE_ENDIAN),
        ]),
      );
    }
  }
}

/** The query forms: keys plus the usual return keys of a study browser. */
const RETURN_KEYS: [number, string][] = [
  [0x0020000d, 'UI'],
  [0x00100010, 'PN'],
  [0x00100020, 'LO'],
  [0x00080020, 'DA'],
  [0x00080030, 'TM'],
  [0x00080050, 'SH'],
  [0x00081030, 'LO'],
  [0x00080061, 'CS'],
];
const FORMS: { name: string; keys: [number, string, string][]; expected: (s: number) => boolean }[] = [
  { name: 'patient name wildcard (WILSON*)', keys: [[0x00100010, 'PN', 'WILSON*']], expected: (s) => studyFamily(s) === 'WILSON' },
  // Issue 19's form: a name wildcard asking for ModalitiesInStudy, PatientID and StudyDate (all in RETURN_KEYS too).
  {
    name: 'name wildcard SMITH* + mods/ID/date',
    keys: [
      [0x00100010, 'PN', 'SMITH*'],
      [0x00080061, 'CS', ''],
      [0x00100020, 'LO', ''],
      [0x00080020, 'DA', ''],
    ],
    expected: (s) => studyFamily(s) === 'SMITH',
  },
  { name: 'date range (one month)', keys: [[0x00080020, 'DA', '20220301-20220331']], expected: (s) => studyDate(s).startsWith('202203') },
  { name: 'exact Patient ID', keys: [[0x00100020, 'LO', 'PID4321']], expected: (s) => Math.floor(s / 2) + 1 === 4321 },
  {
    name: 'modality + date range',
    keys: [
      [0x00080061, 'CS', 'CT'],
      [0x00080020, 'DA', '20220301-20220331'],
    ],
    expected: (s) => studyDate(s).startsWith('202203') && MODALITIES[s % MODALITIES.length] === 'CT',
  },
];

function identifier(keys: [number, string, string][]): Buffer {
  const ds = new Dataset();
  putString(ds, 0x00080052, 'CS', 'STUDY');
  for (const [tag, vr] of RETURN_KEYS) putString(ds, tag, vr as 'CS', '');
  for (const [tag, vr, v] of keys) putString(ds, tag, vr as 'CS', v);
  return writeDataset(ds, EXPLICIT_VR_LITTLE_ENDIAN);
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

interface FormResult {
  form: string;
  matches: number;
  expected: number;
  median: number;
  p95: number;
  cpuPerQuery: number;
}

interface Server {
  target: string;
  port: number;
  aet: string;
  pid: number;
  stop: () => Promise<void>;
}

/**
 * Sends each form REPEAT times (after 2 warm-up queries) to every server, one association
 * each, the servers taking turns query by query: a change in the machine's other load
 * falls on both alike.
 */
async function measure(servers: Server[]): Promise<Record<string, FormResult[]>> {
  const conns: DimseConnection[] = [];
  const assocs: Awaited<ReturnType<typeof connect>>[] = [];
  const out: Record<string, FormResult[]> = Object.fromEntries(servers.map((s) => [s.target, []]));
  try {
    for (const s of servers) {
      const assoc = await connect({
        host: '127.0.0.1',
        port: s.port,
        callingAeTitle: 'PACS_CLIENT',
        calledAeTitle: s.aet,
        presentationContexts: [{ abstractSyntax: QR_SOP_CLASSES.StudyRootFind, transferSyntaxes: [EXPLICIT_VR_LITTLE_ENDIAN] }],
      });
      assocs.push(assoc);
      conns.push(new DimseConnection(assoc));
    }
    for (const form of FORMS) {
      const id = identifier(form.keys);
      const times = servers.map((): number[] => []);
      const matches = servers.map(() => 0);
      const cpu = servers.map(() => 0);
      for (let r = 0; r < REPEAT + 2; r++) {
        for (let k = 0; k < servers.length; k++) {
          let n = 0;
          const cpu0 = cpuMs(servers[k].pid);
          const t0 = performance.now();
          const res = await cFind(conns[k], QR_SOP_CLASSES.StudyRootFind, id, { onMatch: () => n++ });
          const ms = performance.now() - t0;
          if (res.status !== 0) throw new Error(`${servers[k].target} ${form.name}: status 0x${res.status.toString(16)} ${res.errorComment ?? ''}`);
          if (r >= 2) {
            times[k].push(ms);
            cpu[k] += cpuMs(servers[k].pid) - cpu0;
          }
          matches[k] = n;
        }
      }
      let expected = 0;
      for (let s = 0; s < STUDIES; s++) if (form.expected(s)) expected++;
      servers.forEach((s, k) => {
        const sorted = times[k].sort((x, y) => x - y);
        out[s.target].push({ form: form.name, matches: matches[k], expected, median: pct(sorted, 50), p95: pct(sorted, 95), cpuPerQuery: cpu[k] / REPEAT });
      });
    }
  } finally {
    for (const assoc of assocs) await assoc.release().catch(() => assoc.abort());
  }
  return out;
}

/** With --keep: a marker file per step done in DIR, for this index size. */
const SIZE = `${STUDIES}x${PER_STUDY}`;
const done = (root: string, step: string): boolean => values.keep !== undefined && fs.existsSync(path.join(root, `${step}.${SIZE}.done`));
const markDone = (root: string, step: string): void => {
  if (values.keep !== undefined) fs.writeFileSync(path.join(root, `${step}.${SIZE}.done`), new Date().toISOString());
};

async function main(): Promise<void> {
  let root: string;
  if (values.keep !== undefined) {
    root = path.resolve(values.keep);
    fs.mkdirSync(root, { recursive: true });
    const other = fs.readdirSync(root).find((f) => f.endsWith('.done') && !f.includes(`.${SIZE}.`));
    if (other) throw new Error(`--keep ${root} holds an index of another size (${other}): use another directory`);
  } else {
    root = await makeTempDir('pacs-bench-query-');
  }
  let storable: Promise<StorableFile[]> | undefined;
  /** The files to load, written once (both loaders wait for the same promise). */
  const input = (): Promise<StorableFile[]> =>
    (storable ??= (async () => {
      const inDir = path.join(root, 'in');
      if (!done(root, 'files')) {
        console.log(`writing ${STUDIES} studies x ${PER_STUDY} instances ...`);
        fs.rmSync(inDir, { recursive: true, force: true });
        writeInstances(inDir);
        markDone(root, 'files');
      }
      return (await inspectFiles(await expandPaths([inDir]))).files;
    })());
  const load: Record<string, number> = {};
  const servers: Server[] = [];
  let results: Record<string, FormResult[]>;
  const loadAverage: Record<string, number[]> = {};
  try {
    for (const target of TARGETS) {
      if (target === 'pacs') {
        const pacs = await startPacs({ dir: path.join(root, 'pacs') });
        servers.push({ target, port: pacs.port, aet: pacs.aet, pid: pacs.pid, stop: () => pacs.stop() });
      } else {
        const orthanc = await startOrthanc({ dir: path.join(root, 'orthanc'), config: { DicomAlwaysAllowFind: true, DicomAlwaysAllowStore: true } });
        servers.push({ target, port: orthanc.dicomPort, aet: orthanc.aet, pid: orthanc.pid, stop: () => orthanc.stop() });
      }
    }
    // Both load at once (on a busy machine this halves the wait); each server's rate is printed.
    await Promise.all(
      servers.map(async ({ target, port, aet }) => {
        if (done(root, target)) {
          console.log(`${target}: index kept in ${root}`);
          return;
        }
        const files = await input();
        const t0 = performance.now();
        let n = 0;
        const sent = await storeFiles({ host: '127.0.0.1', port, callingAeTitle: 'LOADER', calledAeTitle: aet }, files, {
          parallel: 4,
          onProgress: () => {
            if (++n % 10_000 === 0) console.log(`${target}: ${n}/${files.length} stored, ${Math.round(n / ((performance.now() - t0) / 1000))}/s`);
          },
        });
        load[target] = (performance.now() - t0) / 1000;
        if (sent.failed.length) throw new Error(`${target}: ${sent.failed.length} instances not stored: ${sent.failed[0].error}`);
        console.log(`${target}: loaded ${sent.sent} instances in ${load[target].toFixed(0)} s (${Math.round(sent.sent / load[target])}/s)`);
        markDone(root, target);
      }),
    );
    loadAverage.start = os.loadavg();
    results = await measure(servers);
    loadAverage.end = os.loadavg();
  } finally {
    for (const s of servers) await s.stop();
  }
  const cols = (cells: string[]) => console.log(cells.map((c, j) => (j === 0 ? c.padEnd(34) : c.padStart(12))).join(' '));
  const ratio = (i: number, f: (r: FormResult) => number) => (results.pacs && results.orthanc ? (f(results.pacs[i]) / f(results.orthanc[i])).toFixed(3) : '-');
  console.log(`\nC-FIND at STUDY level, ${STUDIES} studies / ${STUDIES * PER_STUDY} instances, ${REPEAT} queries per form over one association (ms)`);
  cols(['form', 'matches', ...TARGETS.flatMap((t) => [`${t} med`, `${t} p95`]), 'ratio med']);
  for (let i = 0; i < FORMS.length; i++) {
    const row = TARGETS.map((t) => results[t][i]);
    cols([
      FORMS[i].name,
      `${row.map((r) => r.matches).join('/')}/${row[0].expected}`,
      ...row.flatMap((r) => [r.median.toFixed(2), r.p95.toFixed(2)]),
      ratio(i, (r) => r.median),
    ]);
  }
  console.log(`\nserver CPU time per query (ms, user + system, all threads, mean over the ${REPEAT}; less sensitive to other load)`);
  cols(['form', ...TARGETS, 'ratio']);
  for (let i = 0; i < FORMS.length; i++) cols([FORMS[i].name, ...TARGETS.map((t) => results[t][i].cpuPerQuery.toFixed(2)), ratio(i, (r) => r.cpuPerQuery)]);
  const avg = (v: number[]) => v.map((x) => x.toFixed(1)).join(', ');
  console.log(`\nload average (1, 5, 15 min) on ${os.cpus().length} cores: ${avg(loadAverage.start)} before the queries, ${avg(loadAverage.end)} after`);
  for (let i = 0; i < FORMS.length; i++) {
    for (const t of TARGETS)
      if (results[t][i].matches !== results[t][i].expected)
        console.log(`warning: ${t} returned ${results[t][i].matches} matches for '${FORMS[i].name}', expected ${results[t][i].expected}`);
  }
  const outDir = path.join(path.dirname(new URL(import.meta.url).pathname), 'results');
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `query-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify({ studies: STUDIES, perStudy: PER_STUDY, repeat: REPEAT, loadSeconds: load, loadAverage, results }, null, 2));
  console.log(`\nresults: ${file}`);
}

runBench(main);
