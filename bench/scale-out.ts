// Scale-out ingest benchmark (issue 17): 1, 2 and 3 server nodes on one PostgreSQL database
// and one storage directory, each node taking `--parallel` (default 4) DCMTK storescu
// associations at once, all nodes at the same time:
//   pacs     `pacs serve --data D --database-url U --database-schema S --node-id nX` with its
//            own ports per node (as test/interop/nodes-postgres.test.ts starts them); a fresh
//            schema in the database (default postgres://postgres@127.0.0.1:5432/test) and a
//            fresh data directory per run
//   orthanc  Orthanc with Debian's orthanc-postgresql index plugin (4.0: several Orthanc
//            processes may write to one database with "Lock": false, since Orthanc 1.9.2),
//            one storage directory shared by its nodes; a fresh database per run (the plugin
//            keeps its tables in schema "public", so a schema of `test` cannot isolate it).
//            Without the plugin (--orthanc-index sqlite, or not installed): Orthanc on its
//            SQLite index as the single-node reference, 1 node only.
// Every node gets its own CT series of --count images (512x512 16-bit, new UIDs and its own
// patient every run), split over its associations. Time = wall time from the start of all
// storescu processes to the end of the last; best of --repeat runs, the targets taking
// turns run by run so that other load on the machine falls on both alike.
// CPU per instance: user + system time of all the nodes' processes (and their children)
// from /proc/<pid>/stat before and after, over all instances; beside it the CPU of the
// PostgreSQL backends serving the nodes (matched by their TCP client ports), which other
// connections to the same server do not disturb.
// Correctness is part of every run, else the run fails: the index holds every instance
// sent (pacs: a row count in its schema; orthanc: /statistics of every node), every node
// answers a C-FIND (findscu) for each series with all of its instances (so each node sees
// what the others received), and the shared storage holds a file for every instance.
//
//   npx tsx bench/scale-out.ts [--count 300] [--repeat 3] [--nodes 1,2,3] [--parallel 4]
//                              [--targets pacs,orthanc] [--orthanc-index auto|postgresql|sqlite]
//                              [--orthanc-retries 10] [--rows 512] [--cols 512] [--database-url postgres://...]
// --count is per node: 3 nodes take 3 x --count instances. --orthanc-retries: the plugin's
// MaximumConnectionRetries, how often Orthanc replays a transaction that PostgreSQL could not
// serialize against another writer's before the C-STORE fails (then storescu stops its association).
// Results: a table on stdout and
// JSON in bench/results/scale-out-<timestamp>.json.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { writeCtSeries, type CtSeriesResult } from '../scripts/gen-test-data.js';
import { getNumber, getString } from '../src/dicom/dataset.js';
import { readPart10 } from '../src/dicom/part10.js';
import {
  countDicomFiles,
  freePort,
  ORTHANC_BIN,
  REPO_ROOT,
  runDcmtk,
  startOrthanc,
  startPacs,
  stopAllPeers,
  storescu,
  waitForPort,
  type Peer,
  type RunResult,
} from '../test/support/peers.js';
import { makeTempDir, removeTempDir } from '../test/support/tmp.js';
import { cpuDeltaMs, treeCpuSnapshot } from './cpu.js';
import { split } from './ingest-series.js';
import { backendsOf } from './pg-backends.js';
import { runBench } from './run-bench.js';

const ORTHANC_PG_PLUGIN = '/usr/share/orthanc/plugins/libOrthancPostgreSQLIndex.so';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '300' },
    repeat: { type: 'string', default: '3' },
    nodes: { type: 'string', default: '1,2,3' },
    parallel: { type: 'string', default: '4' },
    rows: { type: 'string', default: '512' },
    cols: { type: 'string', default: '512' },
    targets: { type: 'string', default: 'pacs,orthanc' },
    'orthanc-index': { type: 'string', default: 'auto' },
    'orthanc-retries': { type: 'string', default: '10' },
    'database-url': { type: 'string', default: process.env.PACS_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
    timeout: { type: 'string', default: '900' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(
    'npx tsx bench/scale-out.ts [--count 300] [--repeat 3] [--nodes 1,2,3] [--parallel 4] [--targets pacs,orthanc] [--orthanc-index auto|postgresql|sqlite] [--orthanc-retries 10] [--rows 512] [--cols 512] [--database-url URL]',
  );
  process.exit(0);
}

/** A bad option ends the bench at once with its message (exit code 2), before anything starts. */
function usageError(message: string): never {
  console.error(`scale-out: ${message}`);
  process.exit(2);
}

function positiveInt(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) usageError(`--${name} must be a positive integer, not "${text}"`);
  return n;
}
const COUNT = positiveInt('count', values.count);
const REPEAT = positiveInt('repeat', values.repeat);
const PARALLEL = positiveInt('parallel', values.parallel);
const ROWS = positiveInt('rows', values.rows);
const COLS = positiveInt('cols', values.cols);
const TIMEOUT_MS = positiveInt('timeout', values.timeout) * 1000;
const ORTHANC_RETRIES = positiveInt('orthanc-retries', values['orthanc-retries']);
const NODE_COUNTS = values.nodes.split(',').map((s) => positiveInt('nodes', s.trim()));
const TARGETS = values.targets.split(',').map((s) => s.trim());
for (const t of TARGETS) if (t !== 'pacs' && t !== 'orthanc') usageError(`unknown target "${t}" (pacs, orthanc)`);
const DB_URL = values['database-url'];
const orthancIndex = ((): 'postgresql' | 'sqlite' => {
  const v = values['orthanc-index'];
  if (v === 'auto') return fs.existsSync(ORTHANC_PG_PLUGIN) ? 'postgresql' : 'sqlite';
  if (v === 'postgresql' || v === 'sqlite') return v;
  return usageError(`--orthanc-index must be auto, postgresql or sqlite, not "${v}"`);
})();

process.on('SIGINT', () => void stopAllPeers().finally(() => process.exit(130)));

// ---------------------------------------------------------------------------
// Clusters: n nodes of one server on one index and one storage directory

interface ClusterNode {
  label: string;
  peer: Peer;
  port: number;
  aet: string;
  /** the calling AE title its C-FIND admits (a registered one) */
  findAet: string;
}

interface Cluster {
  target: 'pacs' | 'orthanc';
  nodes: ClusterNode[];
  /** where the nodes' files land (all nodes share it) */
  storageDir: string;
  /** the PostgreSQL server the index lives on, none for SQLite */
  databaseUrl?: string;
  /** how many of these SOP instances the shared index holds */
  indexed(sopInstanceUids: string[]): Promise<number>;
  /** stops the nodes and drops what the run created (schema or database, directories) */
  close(): Promise<void>;
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const runTag = (): string => `${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;

async function startPacsCluster(n: number): Promise<Cluster> {
  const base = await makeTempDir('pacs-bench-scaleout-pacs-');
  const data = path.join(base, 'data');
  const schema = `bench_scaleout_${runTag()}`;
  const nodes: ClusterNode[] = [];
  const close = async () => {
    await Promise.all(nodes.map((x) => x.peer.stop()));
    // With the Router's and the Workstation's schemas beside it (routerIndexSpec, workstationIndexSpec).
    await withClient(DB_URL, (c) =>
      c.query(
        `DROP SCHEMA IF EXISTS "${schema}" CASCADE; DROP SCHEMA IF EXISTS "${schema}_router" CASCADE; DROP SCHEMA IF EXISTS "${schema}_workstation" CASCADE`,
      ),
    ).catch((e: unknown) => console.log(`! could not drop schema ${schema}: ${String(e)}`));
    await removeTempDir(base);
  };
  try {
    // One after the other, as an operator would: the first imports the registry into the database.
    for (let i = 1; i <= n; i++) {
      const [port, ws, router, web] = [await freePort(), await freePort(), await freePort(), await freePort()];
      const peer = await startPacs({
        dir: path.join(base, `n${i}`),
        port,
        args: [
          path.join(REPO_ROOT, 'bin/pacs.js'),
          'serve',
          '--data',
          data,
          '--database-url',
          DB_URL,
          '--database-schema',
          schema,
          '--node-id',
          `n${i}`,
          '--port',
          String(port),
          '--workstation-port',
          String(ws),
          '--router-port',
          String(router),
          '--web-port',
          String(web),
        ],
        env: { PACS_ADMIN_PASSWORD: 'scale-out-bench' },
      });
      // PACS_CLIENT: a client AE of the first-start registry, allowed to query from loopback.
      nodes.push({ label: `n${i}`, peer, port, aet: 'PACS', findAet: 'PACS_CLIENT' });
      await waitForPort(web, { peer });
    }
  } catch (e) {
    await close();
    throw e;
  }
  return {
    target: 'pacs',
    nodes,
    storageDir: data,
    databaseUrl: DB_URL,
    indexed: (uids) =>
      withClient(DB_URL, async (c) => {
        const r = await c.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".instances WHERE sop_instance_uid = ANY($1::text[])`, [uids]);
        return Number(r.rows[0].n);
      }),
    close,
  };
}

/** postgres://user:password@host:port/db -> the parts Orthanc's plugin takes. */
function orthancPgSection(url: string, database: string): Record<string, unknown> {
  const u = new URL(url);
  return {
    EnableIndex: true,
    EnableStorage: false,
    Host: u.hostname,
    Port: Number(u.port || 5432),
    Database: database,
    Username: decodeURIComponent(u.username) || 'postgres',
    Password: decodeURIComponent(u.password),
    // Several Orthanc processes on one database (plugin 4.0 with Orthanc >= 1.9.2).
    Lock: false,
    // One connection per association the node takes (the plugin's default is 1, which
    // would serialize a node's associations on the index).
    IndexConnectionsCount: PARALLEL,
    // How often Orthanc replays a transaction PostgreSQL could not serialize (the plugin's
    // transactions are SERIALIZABLE) before the store fails; 10 is the plugin's default.
    MaximumConnectionRetries: ORTHANC_RETRIES,
  };
}

async function startOrthancCluster(n: number): Promise<Cluster> {
  if (orthancIndex === 'sqlite' && n > 1) throw new Error('Orthanc on SQLite runs as one node only (the orthanc-postgresql plugin is not in use)');
  const base = await makeTempDir('pacs-bench-scaleout-orthanc-');
  const storage = path.join(base, 'storage');
  const database = orthancIndex === 'postgresql' ? `bench_scaleout_orthanc_${runTag()}` : undefined;
  const dbUrl = database ? (() => Object.assign(new URL(DB_URL), { pathname: `/${database}` }).toString())() : undefined;
  const nodes: ClusterNode[] = [];
  const close = async () => {
    await Promise.all(nodes.map((x) => x.peer.stop()));
    if (database)
      await withClient(DB_URL, (c) => c.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`)).catch((e: unknown) =>
        console.log(`! could not drop database ${database}: ${String(e)}`),
      );
    await removeTempDir(base);
  };
  try {
    if (database) await withClient(DB_URL, (c) => c.query(`CREATE DATABASE "${database}"`));
    // One after the other: the first creates the plugin's tables.
    for (let i = 1; i <= n; i++) {
      const orthanc = await startOrthanc({
        aet: 'ORTHANC',
        dir: path.join(base, `n${i}`),
        plugins: database ? [ORTHANC_PG_PLUGIN] : [],
        config: {
          Name: `scale-out-n${i}`,
          StorageDirectory: storage,
          // Orthanc answers C-FIND only to a known modality.
          DicomModalities: { findscu: ['FINDSCU', '127.0.0.1', 104] },
          ...(database ? { PostgreSQL: orthancPgSection(DB_URL, database) } : {}),
        },
      });
      nodes.push({ label: `n${i}`, peer: orthanc, port: orthanc.dicomPort, aet: orthanc.aet, findAet: 'FINDSCU' });
      if (database) {
        const plugins = await orthanc.rest<string[]>('/plugins');
        if (!plugins.includes('postgresql-index')) throw new Error(`Orthanc n${i} did not load the PostgreSQL index plugin: ${plugins.join(', ')}`);
      }
    }
  } catch (e) {
    await close();
    throw e;
  }
  const urls = nodes.map((x) => `http://127.0.0.1:${(x.peer as Awaited<ReturnType<typeof startOrthanc>>).httpPort}`);
  return {
    target: 'orthanc',
    nodes,
    storageDir: storage,
    databaseUrl: dbUrl,
    // Every node's own count: each must see what all of them received. The least is reported.
    async indexed(uids) {
      const counts = await Promise.all(
        urls.map(async (u) => {
          const res = await fetch(`${u}/statistics`);
          if (!res.ok) throw new Error(`Orthanc ${u}/statistics: HTTP ${res.status}`);
          return ((await res.json()) as { CountInstances: number }).CountInstances;
        }),
      );
      // A fresh database per run: it holds only this run's instances.
      void uids;
      return Math.min(...counts);
    },
    close,
  };
}

// ---------------------------------------------------------------------------
// One timed run

interface RunRecord {
  run: number;
  ok: boolean;
  seconds?: number;
  instancesPerSecond?: number;
  /** CPU time (user + system) of all the nodes' processes during the run, per instance. */
  serverCpuMsPerInstance?: number;
  /** CPU time of the PostgreSQL backends serving the nodes, per instance. */
  databaseCpuMsPerInstance?: number;
  /** Node processes (children included) measured at the start that had gone at the end: their time is missing. */
  processesGone?: number;
  /** The same for PostgreSQL backends (a connection pool closing an idle connection). */
  backendsGone?: number;
  loadAverage1m?: number;
  checks?: { indexed: number; findPerNode: number[]; files: number };
  error?: string;
}

/** Orthanc's (glog) error lines, this PACS's (pino) error and fatal lines. */
const SERVER_ERROR = /^E\d{4} |"level":[56]\d/;

/** The first and last of the lines matching `pattern` (and how many), for a failed run's message. */
function errorLines(text: string, pattern: RegExp): string {
  const lines = text.split('\n').filter((l) => pattern.test(l));
  if (lines.length === 0) return '';
  const cut = (l: string) => (l.length > 300 ? `${l.slice(0, 300)}...` : l);
  return lines.length === 1 ? cut(lines[0]) : `${lines.length} lines, first: ${cut(lines[0])} | last: ${cut(lines[lines.length - 1])}`;
}

/**
 * How many instances one node's C-FIND reports for these series (NumberOfSeriesRelatedInstances),
 * one query per series. findscu exits 0 when the peer aborts or refuses the query: its error
 * lines count as a failure too.
 */
async function findCount(node: ClusterNode, series: CtSeriesResult[], dir: string): Promise<number> {
  let total = 0;
  for (const [i, s] of series.entries()) {
    const out = path.join(dir, `find-${node.label}-${i}`);
    fs.mkdirSync(out, { recursive: true });
    const keys = ['QueryRetrieveLevel=SERIES', `StudyInstanceUID=${s.studyUid}`, `SeriesInstanceUID=${s.seriesUid}`, 'NumberOfSeriesRelatedInstances'];
    const r = await runDcmtk('findscu', [
      '-S',
      '-aet',
      node.findAet,
      '-aec',
      node.aet,
      '-X',
      '-od',
      out,
      ...keys.flatMap((k) => ['-k', k]),
      '127.0.0.1',
      String(node.port),
    ]);
    const error = r.stderr.split('\n').find((l) => l.startsWith('E:'));
    if (r.code !== 0 || error) throw new Error(`findscu on ${node.label} exited ${r.code}: ${error ?? r.stderr.trim().split('\n').pop()}`);
    for (const f of fs.readdirSync(out)) {
      const d = readPart10(fs.readFileSync(path.join(out, f))).dataset;
      if (getString(d, 0x0020000e) === s.seriesUid) total += getNumber(d, 0x00201209) ?? 0;
    }
  }
  return total;
}

async function timedRun(cluster: Cluster, run: number): Promise<RunRecord> {
  const n = cluster.nodes.length;
  const total = n * COUNT;
  const seriesDir = await makeTempDir('pacs-bench-scaleout-series-');
  try {
    const tag = Math.random().toString(36).slice(2, 8).toUpperCase();
    const series = await Promise.all(
      cluster.nodes.map((node) =>
        writeCtSeries({
          dir: path.join(seriesDir, node.label),
          count: COUNT,
          rows: ROWS,
          cols: COLS,
          // One patient per node, as from different modalities.
          patientId: `SCALE-${tag}-${node.label}`,
          patientName: `SCALE^${tag}^${node.label}`,
          seriesDescription: `scale-out ${cluster.target} ${n} node(s) run ${run} ${node.label}`,
        }),
      ),
    );
    const uids = series.flatMap((s) => s.sopInstanceUids);
    // Flush dirty pages (the series just written) so their write-back stays out of the timed window.
    await runDcmtk('sync', []);
    const pids = cluster.nodes.map((x) => x.peer.pid);
    const backends0 = cluster.databaseUrl ? await backendsOf(DB_URL, pids) : [];
    const cpu0 = treeCpuSnapshot(pids);
    const db0 = treeCpuSnapshot(backends0);
    const started = performance.now();
    const results: RunResult[] = await Promise.all(
      cluster.nodes.flatMap((node, i) =>
        split(series[i].files, PARALLEL).map((files) => storescu({ port: node.port, calledAet: node.aet, callingAet: 'BENCH', files, timeoutMs: TIMEOUT_MS })),
      ),
    );
    const seconds = (performance.now() - started) / 1000;
    const cpu = cpuDeltaMs(cpu0, treeCpuSnapshot(pids));
    const backends1 = cluster.databaseUrl ? await backendsOf(DB_URL, pids) : [];
    const db = cpuDeltaMs(db0, treeCpuSnapshot([...new Set([...backends0, ...backends1])]));
    const measured = {
      seconds,
      serverCpuMsPerInstance: cpu.ms / total,
      ...(cluster.databaseUrl ? { databaseCpuMsPerInstance: db.ms / total } : {}),
      processesGone: cpu.gone,
      backendsGone: db.gone,
      loadAverage1m: os.loadavg()[0],
    };

    const problems: string[] = [];
    const bad = results.find((r) => r.code !== 0);
    if (bad) {
      const failed = results.filter((r) => r.code !== 0).length;
      problems.push(`${failed} of ${results.length} storescu exited ${bad.code ?? bad.signal}, e.g.: ${errorLines(`${bad.stderr}\n${bad.stdout}`, /^[EF]: /)}`);
    }
    for (const node of cluster.nodes) {
      if (node.peer.exited) problems.push(`${node.label} exited: ${node.peer.logTail(5)}`);
      const logged = errorLines(node.peer.logTail(100_000), SERVER_ERROR);
      if (bad && logged) problems.push(`${node.label} logged: ${logged}`);
    }
    let checks: RunRecord['checks'];
    try {
      checks = {
        indexed: await cluster.indexed(uids),
        findPerNode: await Promise.all(cluster.nodes.map((node) => findCount(node, series, seriesDir))),
        files: await countDicomFiles(cluster.storageDir, new Set(uids)),
      };
      if (checks.indexed !== total) problems.push(`the index holds ${checks.indexed} of ${total} instances`);
      checks.findPerNode.forEach((f, i) => {
        if (f !== total) problems.push(`C-FIND on ${cluster.nodes[i].label} counts ${f} of ${total} instances`);
      });
      if (checks.files !== total) problems.push(`the storage holds files of ${checks.files} of ${total} instances`);
    } catch (e) {
      problems.push(`check failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
    if (problems.length) return { run, ok: false, ...measured, ...(checks ? { checks } : {}), error: problems.join('; ') };
    return { run, ok: true, ...measured, instancesPerSecond: total / seconds, checks };
  } catch (e) {
    return { run, ok: false, error: e instanceof Error ? e.message.split('\n').slice(0, 4).join(' | ') : String(e) };
  } finally {
    await removeTempDir(seriesDir);
  }
}

// ---------------------------------------------------------------------------

interface Result {
  target: 'pacs' | 'orthanc';
  index: string;
  nodes: number;
  associations: number;
  instances: number;
  runs: RunRecord[];
  bestSeconds?: number;
  instancesPerSecond?: number;
  /** medians over the successful runs */
  serverCpuMsPerInstance?: number;
  databaseCpuMsPerInstance?: number;
  skipped?: string;
}

const median = (xs: number[]): number | undefined => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return s.length ? s[s.length >> 1] : undefined;
};

function firstLine(r: RunResult): string {
  return (
    (r.stdout || r.stderr)
      .split('\n')
      .find((l) => l.trim())
      ?.trim() ?? '?'
  );
}

async function main(): Promise<void> {
  const orthancLabel = orthancIndex === 'postgresql' ? 'PostgreSQL (orthanc-postgresql)' : 'SQLite';
  console.log(
    `scale-out bench: ${COUNT} CT images ${ROWS}x${COLS} 16-bit per node, ${PARALLEL} storescu associations per node, nodes ${NODE_COUNTS.join(',')}, best of ${REPEAT}; ${[
      TARGETS.includes('pacs') ? `pacs on PostgreSQL (${new URL(DB_URL).host}${new URL(DB_URL).pathname}, a fresh schema per run)` : '',
      TARGETS.includes('orthanc') ? `orthanc on ${orthancLabel}${orthancIndex === 'postgresql' ? ' (a fresh database per run)' : ''}` : '',
    ]
      .filter(Boolean)
      .join(', ')}`,
  );
  const results: Result[] = [];
  for (const n of NODE_COUNTS)
    for (const t of TARGETS)
      results.push({
        target: t as Result['target'],
        index: t === 'pacs' ? 'postgresql' : orthancIndex,
        nodes: n,
        associations: n * PARALLEL,
        instances: n * COUNT,
        runs: [],
        ...(t === 'orthanc' && orthancIndex === 'sqlite' && n > 1 ? { skipped: 'Orthanc on SQLite: one node only' } : {}),
      });
  const loadStart = os.loadavg();
  for (let run = 1; run <= REPEAT; run++) {
    for (const r of results) {
      if (r.skipped) continue;
      let cluster: Cluster | undefined;
      let rec: RunRecord;
      try {
        cluster = r.target === 'pacs' ? await startPacsCluster(r.nodes) : await startOrthancCluster(r.nodes);
        rec = await timedRun(cluster, run);
      } catch (e) {
        rec = { run, ok: false, error: `not started: ${e instanceof Error ? e.message.split('\n').slice(0, 4).join(' | ') : String(e)}` };
      } finally {
        await cluster?.close();
      }
      r.runs.push(rec);
      console.log(
        `  run ${run} ${r.target.padEnd(7)} ${r.nodes} node(s) ${String(r.associations).padStart(2)} assoc ${r.instances} inst  ${
          rec.ok ? `${rec.seconds!.toFixed(2)} s  ${rec.instancesPerSecond!.toFixed(1)} inst/s` : `FAILED: ${rec.error}`
        }${rec.serverCpuMsPerInstance !== undefined ? `  CPU ${rec.serverCpuMsPerInstance.toFixed(2)} ms/inst` : ''}${
          rec.databaseCpuMsPerInstance !== undefined ? ` + PostgreSQL ${rec.databaseCpuMsPerInstance.toFixed(2)}` : ''
        }${rec.processesGone || rec.backendsGone ? ` (gone before the end, their CPU missing: ${rec.processesGone} process(es), ${rec.backendsGone} backend(s))` : ''}  load ${rec.loadAverage1m?.toFixed(1) ?? os.loadavg()[0].toFixed(1)}${
          rec.checks ? `  [checked: index ${rec.checks.indexed}, C-FIND ${rec.checks.findPerNode.join('/')}, files ${rec.checks.files}]` : ''
        }`,
      );
    }
  }
  const loadEnd = os.loadavg();

  for (const r of results) {
    const ok = r.runs.filter((x) => x.ok);
    if (!ok.length) continue;
    r.bestSeconds = Math.min(...ok.map((x) => x.seconds!));
    r.instancesPerSecond = r.instances / r.bestSeconds;
    r.serverCpuMsPerInstance = median(ok.map((x) => x.serverCpuMsPerInstance!));
    r.databaseCpuMsPerInstance = median(ok.map((x) => x.databaseCpuMsPerInstance ?? Number.NaN));
  }
  const orthancAt = (n: number) => results.find((x) => x.target === 'orthanc' && x.nodes === n);
  const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined && b > 0 ? a / b : undefined);

  const totalCpu = (r?: Result) => (r?.serverCpuMsPerInstance !== undefined ? r.serverCpuMsPerInstance + (r.databaseCpuMsPerInstance ?? 0) : undefined);
  const widths = [8, 5, 5, 9, 7, 7, 8, 8, 8, 7, 11, 10, 10];
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join(' ');
  console.log('');
  console.log(
    line(['target', 'nodes', 'assoc', 'instances', 'best s', 'inst/s', 'CPU ms/i', 'PG ms/i', 'sum ms/i', 'ok runs', 'inst/s vs O', 'CPU vs O', 'sum vs O']),
  );
  for (const r of results) {
    const o = r.target === 'pacs' ? orthancAt(r.nodes) : undefined;
    const x = (v: number | undefined, d = 2) => (v === undefined ? '-' : v.toFixed(d));
    const rate = ratio(r.instancesPerSecond, o?.instancesPerSecond);
    const cpu = ratio(r.serverCpuMsPerInstance, o?.serverCpuMsPerInstance);
    const sum = ratio(totalCpu(r), totalCpu(o));
    console.log(
      line([
        r.target,
        String(r.nodes),
        String(r.associations),
        String(r.instances),
        x(r.bestSeconds),
        r.instancesPerSecond !== undefined ? r.instancesPerSecond.toFixed(1) : r.skipped ? 'skipped' : 'FAILED',
        x(r.serverCpuMsPerInstance),
        x(r.databaseCpuMsPerInstance),
        x(totalCpu(r)),
        `${r.runs.filter((y) => y.ok).length}/${r.runs.length}`,
        rate === undefined ? '-' : `${rate.toFixed(2)}x`,
        cpu === undefined ? '-' : `${cpu.toFixed(2)}x`,
        sum === undefined ? '-' : `${sum.toFixed(2)}x`,
      ]),
    );
  }
  console.log(
    `\nCPU ms/i: all the nodes' processes per instance (median of the runs); PG ms/i: the PostgreSQL backends serving them; sum: both.\nvs O: this PACS / Orthanc with as many nodes (inst/s: higher is better; CPU: lower is better).`,
  );
  console.log(`load average (1, 5, 15 min): start ${loadStart.map((v) => v.toFixed(1)).join(', ')}; end ${loadEnd.map((v) => v.toFixed(1)).join(', ')}`);

  const [scu, orthancVersion, pgVersion] = await Promise.all([
    runDcmtk('storescu', ['--version']),
    runDcmtk(ORTHANC_BIN, ['--version']),
    withClient(DB_URL, (c) => c.query<{ v: string }>('SELECT version() AS v')).then((r) => r.rows[0].v),
  ]);
  const outDir = path.join(REPO_ROOT, 'bench/results');
  fs.mkdirSync(outDir, { recursive: true });
  const outFile = path.join(outDir, `scale-out-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(
    outFile,
    `${JSON.stringify(
      {
        bench: 'scale-out',
        date: new Date().toISOString(),
        params: {
          countPerNode: COUNT,
          rows: ROWS,
          cols: COLS,
          bitsAllocated: 16,
          repeat: REPEAT,
          parallelPerNode: PARALLEL,
          nodes: NODE_COUNTS,
          sender: 'storescu',
          tcpNoDelay: true,
        },
        host: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
        versions: {
          storescu: firstLine(scu),
          orthanc: firstLine(orthancVersion),
          orthancIndex: orthancLabel,
          orthancRetries: ORTHANC_RETRIES,
          postgresql: pgVersion,
        },
        results,
        loadAverage: { start: loadStart, end: loadEnd },
      },
      null,
      2,
    )}\n`,
  );
  console.log(`results: ${path.relative(process.cwd(), outFile)}`);
  if (results.some((r) => r.runs.some((x) => !x.ok))) process.exitCode = 1;
}

runBench(main);
