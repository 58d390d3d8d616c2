// DICOMweb benchmark: this PACS next to Orthanc 1.10 + its DICOMweb plugin (default
// configuration, SQLite index), the same instances loaded into both by our storage SCU
// (real C-STOREs, 4 associations; TCP_NODELAY=1 for Orthanc):
//   - a CT study of --ct images 512x512 (16-bit; series 1 holds all but 300, series 2 the last 300)
//   - --studies small studies (one 8x8 instance each; 12 family names, dates over 36 months)
// Measured over HTTP from this process (node:http, one request at a time):
//   1. WADO-RS metadata of the CT study, warm (median of --repeat) and cold (server restarted
//      and the page cache dropped with `echo 3 > /proc/sys/vm/drop_caches` when run as root;
//      the first request after the restart, --cold times).
//   2. QIDO-RS study searches: name wildcard, one-month date range, exact Patient ID (median, p95).
//   3. WADO-RS retrieval of the 300-image series with transfer-syntax=* (MB/s), by curl into a
//      file (time_total), every data set checked byte for byte against the file sent.
// This PACS is asked with a session cookie (logged in once, not timed).
//
//   4. The servers' CPU time over each request (from /proc/<pid>/stat): less sensitive to
//      other load on the machine than the wall-clock times.
// Every other request goes through node:http (a new connection each time); the same clients for both.
//
//   npx tsx bench/dicomweb.ts [--studies 20000] [--ct 1000] [--repeat 20] [--cold 3] [--retrieve-repeat 7] [--targets pacs,orthanc]
// Results: a table on stdout and JSON in bench/results/dicomweb-<timestamp>.json.
import { execSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Dataset } from '../src/dicom/dataset.js';
import { putString, writeDataset } from '../src/dicom/dataset-writer.js';
import { buildMetaHeader, readMetaHeader } from '../src/dicom/part10.js';
import { EXPLICIT_VR_LITTLE_ENDIAN } from '../src/dicom/transfer-syntax.js';
import { inspectFiles, storeFiles } from '../src/services/storage-scu.js';
import { writeCtSeries } from '../scripts/gen-test-data.js';
import { CLOCK_TICKS, cpuMs } from './cpu.js';
import { freePort, REPO_ROOT, startOrthanc, startPacs, stopAllPeers, waitForPort } from '../test/support/peers.js';
import { makeTempDir } from '../test/support/tmp.js';
import { putMono16Image } from '../test/support/mono16-image.js';
import { parseMultipart } from '../test/web/dicomweb-setup.js';
import { runBench } from './run-bench.js';

const { values } = parseArgs({
  options: {
    studies: { type: 'string', default: '20000' },
    ct: { type: 'string', default: '1000' },
    repeat: { type: 'string', default: '20' },
    cold: { type: 'string', default: '3' },
    'retrieve-repeat': { type: 'string', default: '7' },
    targets: { type: 'string', default: 'pacs,orthanc' },
  },
});
const STUDIES = Number(values.studies);
const CT = Number(values.ct);
const RETRIEVE = Math.min(300, CT);
const REPEAT = Number(values.repeat);
const COLD = Number(values.cold);
const RETRIEVE_REPEAT = Math.max(3, Number(values['retrieve-repeat']));
const TARGETS = values.targets.split(',');
const DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

process.on('SIGINT', () => void stopAllPeers().finally(() => process.exit(130)));

const FAMILY = ['SMITH', 'JONES', 'TAYLOR', 'BROWN', 'WILLIAMS', 'WILSON', 'JOHNSON', 'DAVIES', 'ROBINSON', 'WRIGHT', 'THOMPSON', 'EVANS'];
const ROOT = `1.2.826.0.1.3680043.10.2025.${Date.now() % 1_000_000}`;
const CT_IMAGE = '1.2.840.10008.5.1.4.1.1.2';

function studyDate(s: number): string {
  const month = s % 36;
  return `${2021 + Math.floor(month / 12)}${String((month % 12) + 1).padStart(2, '0')}${String((Math.floor(s / 36) % 28) + 1).padStart(2, '0')}`;
}

function writeSmallStudies(dir: string): string[] {
  const files: string[] = [];
  const pixels = Buffer.alloc(8 * 8 * 2, 1);
  for (let s = 0; s < STUDIES; s++) {
    const patient = Math.floor(s / 2);
    const studyUid = `${ROOT}.${s + 1}`;
    const uid = `${studyUid}.1.1`;
    const sub = path.join(dir, String(Math.floor(s / 1000)));
    if (s % 1000 === 0) fs.mkdirSync(sub, { recursive: true });
    const ds = new Dataset();
    putString(ds, 0x00080005, 'CS', 'ISO_IR 100');
    putString(ds, 0x00080016, 'UI', CT_IMAGE);
    putString(ds, 0x00080018, 'UI', uid);
    putString(ds, 0x00080020, 'DA', studyDate(s));
    putString(ds, 0x00080030, 'TM', '101500');
    putString(ds, 0x00080050, 'SH', `ACC${s + 1}`);
    putString(ds, 0x00080060, 'CS', 'CT');
    putString(ds, 0x00081030, 'LO', `Study ${s % 40}`);
    putString(ds, 0x00100010, 'PN', `${FAMILY[patient % FAMILY.length]}^JOHN^${patient}`);
    putString(ds, 0x00100020, 'LO', `PID${patient + 1}`);
    putString(ds, 0x00100030, 'DA', '19600101');
    putString(ds, 0x00100040, 'CS', patient % 2 ? 'M' : 'F');
    putString(ds, 0x0020000d, 'UI', studyUid);
    putString(ds, 0x0020000e, 'UI', `${studyUid}.1`);
    putString(ds, 0x00200010, 'SH', String(s + 1));
    putString(ds, 0x00200011, 'IS', '1');
    putString(ds, 0x00200013, 'IS', '1');
    putMono16Image(ds, { rows: 8, cols: 8, bitsStored: 12, pixels });
    const file = path.join(sub, `${s}.dcm`);
    fs.writeFileSync(
      file,
      Buffer.concat([
        buildMetaHeader({ sopClassUid: CT_IMAGE, sopInstanceUid: uid, transferSyntaxUid: EXPLICIT_VR_LITTLE_ENDIAN }),
        writeDataset(ds, EXPLICIT_VR_LITTLE_ENDIAN),
      ]),
    );
    files.push(file);
  }
  return files;
}

const QIDO_FORMS: { name: string; query: string; expected: (s: number) => boolean }[] = [
  { name: 'name wildcard (WILSON*)', query: 'PatientName=WILSON*', expected: (s) => FAMILY[Math.floor(s / 2) % FAMILY.length] === 'WILSON' },
  { name: 'date range (one month)', query: 'StudyDate=20220301-20220331', expected: (s) => studyDate(s).startsWith('202203') },
  { name: 'exact Patient ID', query: 'PatientID=PID4321', expected: (s) => Math.floor(s / 2) + 1 === 4321 },
];

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const median = (xs: number[]): number =>
  pct(
    [...xs].sort((a, b) => a - b),
    50,
  );

interface Server {
  base: string;
  headers: Record<string, string>;
  pid: number;
  stop(): Promise<void>;
}

function dropCaches(): boolean {
  try {
    execSync('sync');
    fs.writeFileSync('/proc/sys/vm/drop_caches', '3');
    return true;
  } catch {
    return false;
  }
}

/**
 * One GET with node:http (the same client for both servers; a new connection each time):
 * the time until the last body byte, and the server's CPU time over the request. The body's
 * chunks are joined after the clock stops (fetch's arrayBuffer() cost more than the servers
 * did on a 150 MB multipart body, so it measured the client).
 */
function timed(url: string, headers: Record<string, string>, pid?: number): Promise<{ ms: number; cpu: number; body: Buffer; type: string }> {
  return new Promise((resolve, reject) => {
    const cpu0 = pid === undefined ? Number.NaN : cpuMs(pid);
    const t0 = performance.now();
    http
      .get(url, { headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const ms = performance.now() - t0;
          const cpu = pid === undefined ? Number.NaN : cpuMs(pid) - cpu0;
          const body = Buffer.concat(chunks);
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 299) reject(new Error(`${url}: HTTP ${status} ${body.toString().slice(0, 300)}`));
          else resolve({ ms, cpu, body, type: res.headers['content-type'] ?? '' });
        });
      })
      .on('error', reject);
  });
}

/**
 * One GET with curl into a file (the retrieval: node:http's own parsing of a 150 MB body
 * took longer than either server needed to send it, ~190 MB/s on a quiet machine):
 * curl's time_total, the server's CPU over the request, the body and its content type.
 */
function curlTimed(url: string, headers: Record<string, string>, pid: number, out: string): { ms: number; cpu: number; body: Buffer; type: string } {
  const cpu0 = cpuMs(pid);
  const args = ['-s', '-f', '-o', out, '-w', '%{time_total} %{content_type}', ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]), url];
  const r = spawnSync('curl', args, { encoding: 'latin1' });
  const cpu = cpuMs(pid) - cpu0;
  if (r.status !== 0) throw new Error(`${url}: curl exit ${r.status} ${r.stderr}`);
  const sp = r.stdout.indexOf(' ');
  return { ms: Number(r.stdout.slice(0, sp)) * 1000, cpu, body: fs.readFileSync(out), type: r.stdout.slice(sp + 1) };
}

interface TargetResult {
  loadSeconds: number;
  metadataWarm: { median: number; p95: number; bytes: number; cpuMedian: number };
  metadataCold: number[];
  metadataColdCpu: number[];
  qido: { form: string; matches: number; expected: number; median: number; p95: number; cpuMedian: number }[];
  retrieve: { mbPerSecond: number[]; bytes: number; ms: number[]; cpuMs: number[] };
}

async function main(): Promise<void> {
  const root = await makeTempDir('pacs-bench-dicomweb-');
  console.log(`writing ${STUDIES} small studies and a CT study of ${CT} images 512x512 ...`);
  const small = writeSmallStudies(path.join(root, 'in', 'small'));
  const studyUid = `${ROOT}.0`;
  const s1 = await writeCtSeries({
    dir: path.join(root, 'in', 'ct1'),
    rows: 512,
    cols: 512,
    count: CT - RETRIEVE,
    studyUid,
    patientName: 'BENCH^CT',
    patientId: 'BENCHCT',
    seriesNumber: 1,
  });
  const s2 = await writeCtSeries({
    dir: path.join(root, 'in', 'ct2'),
    rows: 512,
    cols: 512,
    count: RETRIEVE,
    studyUid,
    patientName: 'BENCH^CT',
    patientId: 'BENCHCT',
    seriesNumber: 2,
  });
  const sentDataSets = new Map<string, Buffer>();
  for (const [i, f] of s2.files.entries()) {
    const b = fs.readFileSync(f);
    sentDataSets.set(s2.sopInstanceUids[i], b.subarray(readMetaHeader(b).dataSetOffset));
  }
  const { files: storable } = await inspectFiles([...s1.files, ...s2.files, ...small]);
  const results: Record<string, TargetResult> = {};
  let dropped = false;

  for (const target of TARGETS) {
    const dir = path.join(root, target);
    const dicomPort = await freePort();
    const httpPort = await freePort();
    let start: () => Promise<Server>;
    if (target === 'pacs') {
      start = async () => {
        const pacs = await startPacs({
          dir,
          port: dicomPort,
          args: [
            path.join(REPO_ROOT, 'bin/pacs.js'),
            'serve',
            '--data',
            '{data}',
            '--port',
            '{port}',
            '--aet',
            '{aet}',
            '--web-port',
            String(httpPort),
            '--web-host',
            '127.0.0.1',
            '--log-level',
            'warn',
          ],
          env: { PACS_ADMIN_PASSWORD: 'password1' },
        });
        await waitForPort(httpPort);
        const login = await fetch(`http://127.0.0.1:${httpPort}/api/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ user: 'admin', password: 'password1' }),
        });
        const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
        return { base: `http://127.0.0.1:${httpPort}/dicomweb`, headers: { cookie }, pid: pacs.pid, stop: () => pacs.stop() };
      };
    } else {
      start = async () => {
        const o = await startOrthanc({
          dir,
          dicomPort,
          httpPort,
          plugins: [DICOMWEB_PLUGIN],
          config: { DicomAlwaysAllowStore: true, DicomWeb: { Enable: true, Root: '/dicom-web/' } },
        });
        return { base: `${o.url}/dicom-web`, headers: {}, pid: o.pid, stop: () => o.stop() };
      };
    }
    let server = await start();
    try {
      const t0 = performance.now();
      const aet = target === 'pacs' ? 'PACS' : 'ORTHANC';
      const sent = await storeFiles({ host: '127.0.0.1', port: dicomPort, callingAeTitle: 'LOADER', calledAeTitle: aet }, storable, { parallel: 4 });
      const loadSeconds = (performance.now() - t0) / 1000;
      if (sent.failed.length) throw new Error(`${target}: ${sent.failed.length} not stored: ${sent.failed[0].error}`);
      console.log(`${target}: loaded ${sent.sent} instances in ${loadSeconds.toFixed(0)} s`);

      const metaUrl = `${server.base}/studies/${studyUid}/metadata`;
      const accept = { accept: 'application/dicom+json' };
      const check = (b: Buffer) => {
        const n = (JSON.parse(b.toString()) as unknown[]).length;
        if (n !== CT) throw new Error(`${target}: metadata has ${n} instances, expected ${CT}`);
      };
      const first = await timed(metaUrl, { ...server.headers, ...accept });
      check(first.body);
      const warm: number[] = [];
      const warmCpu: number[] = [];
      for (let r = 0; r < REPEAT; r++) {
        const res = await timed(metaUrl, { ...server.headers, ...accept }, server.pid);
        warm.push(res.ms);
        warmCpu.push(res.cpu);
      }
      warm.sort((a, b) => a - b);

      const qido: TargetResult['qido'] = [];
      for (const form of QIDO_FORMS) {
        const times: number[] = [];
        const cpu: number[] = [];
        let matches = 0;
        for (let r = 0; r < REPEAT + 2; r++) {
          const res = await timed(`${server.base}/studies?${form.query}`, { ...server.headers, ...accept }, server.pid);
          matches = (JSON.parse(res.body.toString() || '[]') as unknown[]).length;
          if (r >= 2) {
            times.push(res.ms);
            cpu.push(res.cpu);
          }
        }
        times.sort((a, b) => a - b);
        let expected = 0;
        for (let s = 0; s < STUDIES; s++) if (form.expected(s)) expected++;
        qido.push({ form: form.name, matches, expected, median: pct(times, 50), p95: pct(times, 95), cpuMedian: median(cpu) });
      }

      const retrieveUrl = `${server.base}/studies/${studyUid}/series/${s2.seriesUid}`;
      const mbs: number[] = [];
      const rms: number[] = [];
      const rcpu: number[] = [];
      let bytes = 0;
      for (let r = 0; r < RETRIEVE_REPEAT; r++) {
        const res = curlTimed(
          retrieveUrl,
          { ...server.headers, accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' },
          server.pid,
          path.join(root, 'retrieved.bin'),
        );
        bytes = res.body.length;
        rms.push(res.ms);
        rcpu.push(res.cpu);
        mbs.push(bytes / 1e6 / (res.ms / 1000));
        if (r === 0) {
          const parts = parseMultipart(res.body, res.type);
          if (parts.length !== RETRIEVE) throw new Error(`${target}: ${parts.length} parts, expected ${RETRIEVE}`);
          for (const p of parts) {
            const { meta, dataSetOffset } = readMetaHeader(p.body);
            if (!sentDataSets.get(meta.mediaStorageSopInstanceUid)?.equals(p.body.subarray(dataSetOffset))) {
              throw new Error(`${target}: the data set of ${meta.mediaStorageSopInstanceUid} differs from the file sent`);
            }
          }
        }
      }

      const cold: number[] = [];
      const coldCpu: number[] = [];
      for (let c = 0; c < COLD; c++) {
        await server.stop();
        dropped = dropCaches();
        server = await start();
        const res = await timed(metaUrl, { ...server.headers, ...accept }, server.pid);
        check(res.body);
        cold.push(res.ms);
        coldCpu.push(res.cpu);
      }
      results[target] = {
        loadSeconds,
        metadataWarm: { median: pct(warm, 50), p95: pct(warm, 95), bytes: first.body.length, cpuMedian: median(warmCpu) },
        metadataCold: cold,
        metadataColdCpu: coldCpu,
        qido,
        retrieve: { mbPerSecond: mbs, bytes, ms: rms, cpuMs: rcpu },
      };
    } finally {
      await server.stop();
    }
  }

  // '-' also when this PACS's figure is 0 (CPU time is counted in clock ticks, 10 ms).
  const ratio = (f: (r: TargetResult) => number) =>
    results.pacs && results.orthanc && f(results.pacs) > 0 ? (f(results.orthanc) / f(results.pacs)).toFixed(1) + 'x' : '-';
  const col = (s: string | number, w = 14) => String(s).padStart(w);
  console.log(`\nDICOMweb, ${STUDIES} small studies + a ${CT}-image CT study; ms unless said (speed-up = Orthanc / this PACS)`);
  console.log(['measure'.padEnd(40), ...TARGETS.map((t) => col(t)), col('speed-up')].join(' '));
  const line = (name: string, f: (r: TargetResult) => number, digits = 1) =>
    console.log([name.padEnd(40), ...TARGETS.map((t) => col(f(results[t]).toFixed(digits))), col(ratio(f))].join(' '));
  line(`metadata ${CT} instances, warm (median)`, (r) => r.metadataWarm.median);
  line(`metadata ${CT} instances, cold (median)${dropped ? '' : ' *'}`, (r) => median(r.metadataCold));
  for (let i = 0; i < QIDO_FORMS.length; i++) line(`QIDO ${QIDO_FORMS[i].name} (median)`, (r) => r.qido[i].median, 2);
  const mbLine = (name: string, f: (r: TargetResult) => number) =>
    console.log(
      [
        name.padEnd(40),
        ...TARGETS.map((t) => col(f(results[t]).toFixed(0))),
        col(results.pacs && results.orthanc ? (f(results.pacs) / f(results.orthanc)).toFixed(1) + 'x' : '-'),
      ].join(' '),
    );
  mbLine(`retrieve ${RETRIEVE} images, MB/s (median)`, (r) => median(r.retrieve.mbPerSecond));
  mbLine(`retrieve ${RETRIEVE} images, MB/s (best)`, (r) => Math.max(...r.retrieve.mbPerSecond));
  console.log(`server CPU time per request (ms, user + system, all threads, in ${1000 / CLOCK_TICKS} ms ticks; less sensitive to other load):`);
  line('  metadata warm (median)', (r) => r.metadataWarm.cpuMedian, 0);
  line('  metadata cold (median)', (r) => median(r.metadataColdCpu), 0);
  for (let i = 0; i < QIDO_FORMS.length; i++) line(`  QIDO ${QIDO_FORMS[i].name} (median)`, (r) => r.qido[i].cpuMedian, 0);
  line(`  retrieve ${RETRIEVE} images (median)`, (r) => median(r.retrieve.cpuMs), 0);
  for (const t of TARGETS)
    console.log(
      `${t}: QIDO matches ${results[t].qido.map((q) => `${q.matches}/${q.expected}`).join(', ')}; metadata ${results[t].metadataWarm.bytes} bytes; cold runs ${results[t].metadataCold.map((x) => x.toFixed(0)).join(', ')} ms`,
    );
  if (!dropped) console.log('* page cache not dropped (not root): cold = after a restart only');
  const outDir = path.join(path.dirname(new URL(import.meta.url).pathname), 'results');
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `dicomweb-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify({ studies: STUDIES, ct: CT, retrieve: RETRIEVE, repeat: REPEAT, pageCacheDropped: dropped, results }, null, 2));
  console.log(`\nresults: ${file}`);
}

runBench(main);
