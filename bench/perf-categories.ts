// Where the server's CPU goes per instance, from `perf script` text of a `perf record -g`
// of the server (bench/ingest-profile.ts --perf, server started with `node
// --perf-basic-prof`): the time of each thread, and the main thread's samples by
// category: each sample counts for the first category one of its frames matches, from
// the leaf to the root (so GC or CRC-32 inside the header parse count as GC or CRC-32).
//   perf script -i perf.data -F comm,pid,tid,ip,sym,dso > perf.txt
//   npx tsx bench/perf-categories.ts perf.txt --instances 900 [--hz 999]
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';

const CATEGORIES: Array<[string, RegExp]> = [
  ['CRC-32 of the file body', /crc32/],
  ['SQLite (statements, COMMIT, WAL writes)', /sqlite3|better_sqlite3|Statement::|sqlite-index\.ts|index-sql\.ts|base-index\.ts/],
  ['GC', /Scavenger|Heap::|MarkCompact|ConcurrentMarking|GCTracer|Sweeper/],
  ['DICOM JSON of the index row', /dataset-json\.ts/],
  ['header parse (dataset reader)', /dataset-reader\.ts|dataset\.ts|vr\.ts/],
  ['index record / ingest sink', /ingest\.ts/],
  ['blob writer / file store JS', /blob-writer\.ts|file-blob-store\.ts|blob-seal\.ts/],
  ['fs completions (pool -> loop)', /uv__work_done|FSReqCallback|AfterInteger|AfterNoArgs|uv__async_io/],
  ['fs submissions', /uv_fs_|uv__work_submit|node::fs::/],
  [
    'socket read + PDU/DIMSE receive',
    /pdu-framer|pdu-codec|association\.ts|dimse-connection|sink-writer|scp-dispatcher|command-set|pdata|OnUvRead|uv__read|tcp_recvmsg|stream_base_commons|onStreamRead/,
  ],
  ['socket write (response)', /tcp_sendmsg|DoTryWrite|writeGeneric/],
  ['service, roles, audit hooks', /services\/|roles\/|audit\/|router\//],
  ['logging', /pino|sonic-boom/],
  ['promise / microtask machinery', /RunMicrotasks|PromiseFulfill|AsyncFunction/],
  ['event loop (epoll)', /epoll|uv__io_poll|uv_run/],
];

const { values, positionals } = parseArgs({ allowPositionals: true, options: { instances: { type: 'string' }, hz: { type: 'string', default: '999' } } });
const perInstance = (samples: number): number => ((samples / Number(values.hz)) * 1000) / Number(values.instances);
const threads = new Map<string, number>();
const main = new Map<string, number>();
let pid: string | undefined;
let tid: string | undefined;
let frames: string[] = [];
const flush = (): void => {
  if (tid === undefined) return;
  threads.set(tid, (threads.get(tid) ?? 0) + 1);
  if (tid === pid) {
    const cat = frames.map((f) => CATEGORIES.find(([, re]) => re.test(f))?.[0]).find((c) => c !== undefined) ?? 'other';
    main.set(cat, (main.get(cat) ?? 0) + 1);
  }
  frames = [];
};
for (const line of fs.readFileSync(positionals[0], 'utf8').split('\n')) {
  const head = /^\s*\S+\s+(\d+)\/(\d+)\s/.exec(line);
  if (head) {
    flush();
    pid ??= head[1];
    tid = head[2];
  } else if (line.trim()) frames.push(line.trim());
}
flush();
const total = [...threads.values()].reduce((a, b) => a + b, 0);
const fmt = (n: number): string => perInstance(n).toFixed(3).padStart(7);
console.log(`${fmt(total)} ms/instance, all threads`);
for (const [t, n] of [...threads].sort((a, b) => b[1] - a[1])) console.log(`${fmt(n)}   thread ${t}${t === pid ? ' (main)' : ''}`);
console.log('main thread by category:');
for (const [c, n] of [...main].sort((a, b) => b[1] - a[1])) console.log(`${fmt(n)}   ${c}`);
