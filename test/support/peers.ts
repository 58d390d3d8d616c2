// Real DICOM peers for tests and benchmarks: DCMTK tools, DCMTK storescp, Orthanc and
// this PACS, each on free ports in its own directory.
//
// Every process started here runs in its own process group and is tracked; stop it
// with peer.stop(), or stop them all with stopAllPeers() (put it in afterAll/afterEach:
// it runs even when a test fails). Anything still running when the Node process exits
// is SIGKILLed by an exit handler. TCP_NODELAY=1 is set for every DCMTK tool and for
// Orthanc (DESIGN.md section 6: without it Nagle adds ~44 ms per instance).
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVER_V8_FLAGS } from '../../src/cli/v8-flags.js';

export const ORTHANC_BIN = process.env.ORTHANC_BIN ?? '/usr/sbin/Orthanc';
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Environment for DCMTK tools and Orthanc: the current env plus TCP_NODELAY=1. */
export function peerEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, TCP_NODELAY: '1', ...extra };
}

// ---------------------------------------------------------------------------
// Process tracking

const live = new Set<ChildProcess>();

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal); // the whole group: storescp --fork children too
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

process.on('exit', () => {
  for (const c of live) killGroup(c, 'SIGKILL');
});

function track(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  live.add(child);
  return new Promise((resolve) => {
    const done = (code: number | null, signal: NodeJS.Signals | null) => {
      live.delete(child);
      resolve({ code, signal });
    };
    child.once('exit', done);
    child.once('error', () => done(-1, null));
  });
}

// ---------------------------------------------------------------------------
// One-shot tools

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** wall time from spawn to exit */
  ms: number;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** kill the tool (SIGKILL) after this long; default 120 s */
  timeoutMs?: number;
}

/** Runs a DCMTK tool (or any program) to completion with TCP_NODELAY=1 in its env. */
export function runDcmtk(tool: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const started = performance.now();
  const child = spawn(tool, args, {
    cwd: opts.cwd,
    env: peerEnv(opts.env),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const exit = track(child);
  let stdout = '';
  let stderr = '';
  let spawnError = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.on('error', (e) => (spawnError = String(e)));
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), opts.timeoutMs ?? 120_000);
  return new Promise((resolve) => {
    // 'close' waits for stdout/stderr to drain as well as for the exit.
    child.once('close', () => {
      clearTimeout(timer);
      // exit never rejects: track() settles it on 'exit' and on 'error'.
      void exit.then(({ code, signal }) => {
        resolve({ code, signal, stdout, stderr: spawnError ? `${stderr}${spawnError}\n` : stderr, ms: performance.now() - started });
      });
    });
  });
}

/** storescu: sends files over one association. Proposes the files' own transfer syntaxes. */
export function storescu(o: {
  host?: string;
  port: number;
  calledAet: string;
  callingAet?: string;
  files: string[];
  args?: string[];
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}): Promise<RunResult> {
  return runDcmtk('storescu', ['-aet', o.callingAet ?? 'STORESCU', '-aec', o.calledAet, ...(o.args ?? []), o.host ?? '127.0.0.1', String(o.port), ...o.files], {
    env: o.env,
    timeoutMs: o.timeoutMs,
  });
}

/** echoscu: C-ECHO. */
export function echoscu(o: { host?: string; port: number; calledAet: string; callingAet?: string }): Promise<RunResult> {
  return runDcmtk('echoscu', ['-aet', o.callingAet ?? 'ECHOSCU', '-aec', o.calledAet, o.host ?? '127.0.0.1', String(o.port)], {
    timeoutMs: 30_000,
  });
}

// ---------------------------------------------------------------------------
// Ports

const handedOut = new Set<number>();

/** A TCP port free right now on all interfaces (never the same one twice per process). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = net.createServer();
      srv.unref();
      srv.once('error', reject);
      srv.listen(0, () => {
        const addr = srv.address();
        const p = typeof addr === 'object' && addr ? addr.port : 0;
        srv.close(() => resolve(p));
      });
    });
    if (port && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('freePort: no free port found');
}

/** Resolves once a TCP connection to host:port succeeds; rejects after timeoutMs, or as
 *  soon as `peer` (if given) exits, with the tail of its log. */
export async function waitForPort(port: number, opts: { host?: string; timeoutMs?: number; peer?: Peer } = {}): Promise<void> {
  const host = opts.host ?? '127.0.0.1';
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  for (;;) {
    if (opts.peer?.exited) {
      throw new Error(`${opts.peer.name} exited before port ${port} opened: ${JSON.stringify(opts.peer.exitStatus)}\n${opts.peer.logTail()}`);
    }
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
      s.setTimeout(1000, () => {
        s.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    if (Date.now() > deadline) {
      throw new Error(`port ${host}:${port} did not open in time${opts.peer ? `\n${opts.peer.logTail()}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---------------------------------------------------------------------------
// Long-running peers

export interface Peer {
  name: string;
  pid: number;
  /** the peer's working directory */
  dir: string;
  logFile: string;
  exited: boolean;
  exitStatus?: { code: number | null; signal: NodeJS.Signals | null };
  /** last lines of the peer's stdout/stderr */
  logTail(lines?: number): string;
  /** SIGTERM to the process group, SIGKILL after graceMs (default 10 s); idempotent */
  stop(graceMs?: number): Promise<void>;
}

const peers = new Set<Peer>();

/** Starts a long-running process (own process group, output to dir/<name>.log), tracked. */
export function startProcess(o: { name: string; command: string; args: string[]; dir: string; cwd?: string; env?: NodeJS.ProcessEnv }): Peer {
  fs.mkdirSync(o.dir, { recursive: true });
  const logFile = path.join(o.dir, `${o.name}.log`);
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(o.command, o.args, {
    cwd: o.cwd ?? o.dir,
    env: o.env ?? peerEnv(),
    stdio: ['ignore', fd, fd],
    detached: true,
  });
  fs.closeSync(fd);
  const exit = track(child);
  const peer: Peer = {
    name: o.name,
    pid: child.pid ?? -1,
    dir: o.dir,
    logFile,
    exited: false,
    logTail(lines = 30) {
      try {
        return fs.readFileSync(logFile, 'utf8').split('\n').slice(-lines).join('\n');
      } catch {
        return '';
      }
    },
    async stop(graceMs = 10_000) {
      peers.delete(peer);
      if (peer.exited) return;
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
      killGroup(child, 'SIGKILL'); // stragglers in the group (e.g. forked storescp children)
    },
  };
  void exit.then((s) => {
    peer.exited = true;
    peer.exitStatus = s;
  });
  peers.add(peer);
  return peer;
}

/** Stops every peer started in this process that is still running. */
export async function stopAllPeers(): Promise<void> {
  await Promise.all([...peers].map((p) => p.stop()));
}

// ---------------------------------------------------------------------------
// DCMTK storescp

export interface StorescpPeer extends Peer {
  aet: string;
  port: number;
  /** where received files land (dir/received) */
  storageDir: string;
  /** number of DICOM files received so far */
  countFiles(): Promise<number>;
}

/**
 * storescp on a free port (or `port`), writing into dir/received. fork: one process per
 * association (`--fork`). Accepts all transfer syntaxes it supports (+xa) unless
 * acceptAll is false, and every SOP class (--promiscuous) unless promiscuous is false.
 */
export async function startStorescp(o: {
  aet?: string;
  port?: number;
  dir: string;
  fork?: boolean;
  acceptAll?: boolean;
  promiscuous?: boolean;
  args?: string[];
}): Promise<StorescpPeer> {
  const aet = o.aet ?? 'STORESCP';
  const port = o.port ?? (await freePort());
  const storageDir = path.join(o.dir, 'received');
  fs.mkdirSync(storageDir, { recursive: true });
  const args = [
    ...(o.fork ? ['--fork'] : []),
    ...(o.acceptAll === false ? [] : ['+xa']),
    ...(o.promiscuous === false ? [] : ['--promiscuous']),
    '-aet',
    aet,
    '-od',
    storageDir,
    '-dhl',
    ...(o.args ?? []),
    String(port),
  ];
  const peer = startProcess({ name: 'storescp', command: 'storescp', args, dir: o.dir });
  try {
    await waitForPort(port, { peer });
  } catch (e) {
    await peer.stop();
    throw e;
  }
  return Object.assign(peer, { aet, port, storageDir, countFiles: () => countDicomFiles(storageDir) });
}

// ---------------------------------------------------------------------------
// Orthanc

export interface OrthancStatistics {
  CountPatients: number;
  CountStudies: number;
  CountSeries: number;
  CountInstances: number;
  TotalDiskSize: string;
  [k: string]: unknown;
}

export interface OrthancPeer extends Peer {
  aet: string;
  dicomPort: number;
  httpPort: number;
  /** http://127.0.0.1:<httpPort> */
  url: string;
  /** GET (or other method) on the REST API; JSON-decodes the answer; throws on HTTP errors */
  rest<T = unknown>(urlPath: string, init?: RequestInit): Promise<T>;
  statistics(): Promise<OrthancStatistics>;
}

/**
 * Orthanc (default SQLite index) with its own config in dir: storage dir/storage, index
 * dir/index, no modalities, no authentication, no plugins unless given. Resolves once
 * REST /system answers and the DICOM port accepts connections.
 */
export async function startOrthanc(o: {
  aet?: string;
  dicomPort?: number;
  httpPort?: number;
  dir: string;
  plugins?: string[];
  /** extra configuration keys, merged over the defaults */
  config?: Record<string, unknown>;
}): Promise<OrthancPeer> {
  const aet = o.aet ?? 'ORTHANC';
  const dicomPort = o.dicomPort ?? (await freePort());
  const httpPort = o.httpPort ?? (await freePort());
  fs.mkdirSync(o.dir, { recursive: true });
  const config = {
    Name: `test-${aet}`,
    StorageDirectory: path.join(o.dir, 'storage'),
    IndexDirectory: path.join(o.dir, 'index'),
    StorageCompression: false,
    DicomAet: aet,
    DicomPort: dicomPort,
    DicomServerEnabled: true,
    DicomCheckCalledAet: false,
    HttpServerEnabled: true,
    HttpPort: httpPort,
    RemoteAccessAllowed: true,
    AuthenticationEnabled: false,
    DicomModalities: {},
    OrthancPeers: {},
    Plugins: o.plugins ?? [],
    SaveJobs: false,
    ...o.config,
  };
  const configFile = path.join(o.dir, 'orthanc.json');
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
  const peer = startProcess({ name: 'orthanc', command: ORTHANC_BIN, args: [configFile], dir: o.dir });
  const url = `http://127.0.0.1:${httpPort}`;
  const rest = async <T>(urlPath: string, init?: RequestInit): Promise<T> => {
    const res = await fetch(`${url}${urlPath}`, init);
    const text = await res.text();
    if (!res.ok) throw new Error(`Orthanc ${init?.method ?? 'GET'} ${urlPath}: HTTP ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (peer.exited) throw new Error(`Orthanc exited at start: ${JSON.stringify(peer.exitStatus)}\n${peer.logTail()}`);
      try {
        await rest('/system');
        break;
      } catch {
        if (Date.now() > deadline) throw new Error(`Orthanc REST did not answer in 30 s\n${peer.logTail()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await waitForPort(dicomPort, { peer });
  } catch (e) {
    await peer.stop();
    throw e;
  }
  return Object.assign(peer, {
    aet,
    dicomPort,
    httpPort,
    url,
    rest,
    statistics: () => rest<OrthancStatistics>('/statistics'),
  });
}

// ---------------------------------------------------------------------------
// This PACS (as a child process)

export interface PacsPeer extends Peer {
  aet: string;
  port: number;
  dataDir: string;
}

/**
 * This PACS: `node <SERVER_V8_FLAGS> bin/pacs.js serve --data <dir>/data --port <port> --aet <aet>`.
 * `args` replace what follows the V8 flags ({data}, {port}, {aet} substituted); with
 * `command` the command line is `command args` as given, without the flags.
 */
export async function startPacs(o: {
  dir: string;
  aet?: string;
  port?: number;
  command?: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  readyTimeoutMs?: number;
}): Promise<PacsPeer> {
  const aet = o.aet ?? 'PACS';
  const port = o.port ?? (await freePort());
  const dataDir = path.join(o.dir, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  const subst = (s: string) => s.replace('{data}', dataDir).replace('{port}', String(port)).replace('{aet}', aet);
  const command = o.command ?? process.execPath;
  // Node started as bin/pacs.js's first line starts it.
  const nodeFlags = o.command === undefined ? SERVER_V8_FLAGS : [];
  const args = [...nodeFlags, ...(o.args ?? [path.join(REPO_ROOT, 'bin/pacs.js'), 'serve', '--data', '{data}', '--port', '{port}', '--aet', '{aet}'])].map(
    subst,
  );
  // `serve` also starts the Workstation Server, the Router and the web server: give the
  // two DICOM roles free ports and leave the web server out, unless the caller chose.
  if (args.includes('serve') && !args.includes('--workstation-port')) {
    args.push('--workstation-port', String(await freePort()), '--router-port', String(await freePort()));
    if (!args.includes('--web-port')) args.push('--no-web');
  }
  const peer = startProcess({ name: 'pacs', command, args, dir: o.dir, cwd: REPO_ROOT, env: peerEnv(o.env) });
  try {
    await waitForPort(port, { peer, timeoutMs: o.readyTimeoutMs ?? 60_000 });
  } catch (e) {
    await peer.stop();
    throw e;
  }
  return Object.assign(peer, { aet, port, dataDir });
}

/**
 * `pacs serve` with its three AEs and web server on free ports, the admin password
 * `password`; resolves once the web port answers, with the web base URL and the ports.
 * A test whose peers must know a port before the start (Orthanc's DicomModalities)
 * passes it in `ports`.
 */
export async function startPacsServe(
  dir: string,
  password: string,
  ports: { main?: number; workstation?: number; router?: number } = {},
): Promise<{ pacs: PacsPeer; base: string; workstationPort: number; routerPort: number; webPort: number }> {
  const [ws, router, web] = await Promise.all([ports.workstation ?? freePort(), ports.router ?? freePort(), freePort()]);
  const pacs = await startPacs({
    dir,
    port: ports.main,
    args: [
      path.join(REPO_ROOT, 'bin/pacs.js'),
      'serve',
      '--data',
      '{data}',
      '--port',
      '{port}',
      '--workstation-port',
      String(ws),
      '--router-port',
      String(router),
      '--web-port',
      String(web),
    ],
    env: { PACS_ADMIN_PASSWORD: password },
  });
  await waitForPort(web, { peer: pacs });
  return { pacs, base: `http://127.0.0.1:${web}`, workstationPort: ws, routerPort: router, webPort: web };
}

// ---------------------------------------------------------------------------
// Counting what arrived

async function* walk(dir: string): AsyncGenerator<string> {
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (e.isFile()) yield p;
  }
}

async function readHead(file: string, n: number): Promise<Buffer> {
  const fh = await fs.promises.open(file, 'r');
  try {
    const b = Buffer.alloc(n);
    const { bytesRead } = await fh.read(b, 0, n, 0);
    return b.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * Counts DICOM Part 10 files (DICM at offset 128) under dir, recursively. With
 * `sopInstanceUids`, counts only the distinct ones among them whose Media Storage SOP
 * Instance UID (0002,0003) is in the set.
 */
export async function countDicomFiles(dir: string, sopInstanceUids?: Set<string>): Promise<number> {
  const seen = new Set<string>();
  let n = 0;
  for await (const f of walk(dir)) {
    const head = await readHead(f, sopInstanceUids ? 1024 : 132).catch(() => Buffer.alloc(0));
    if (head.length < 132 || head.toString('latin1', 128, 132) !== 'DICM') continue;
    if (!sopInstanceUids) {
      n++;
      continue;
    }
    const uid = metaSopInstanceUid(head);
    if (uid && sopInstanceUids.has(uid)) seen.add(uid);
  }
  return sopInstanceUids ? seen.size : n;
}

function metaSopInstanceUid(head: Buffer): string | undefined {
  let pos = 132;
  while (pos + 8 <= head.length && head.readUInt16LE(pos) === 0x0002) {
    const elem = head.readUInt16LE(pos + 2);
    const vr = head.toString('latin1', pos + 4, pos + 6);
    const long = ['OB', 'OW', 'OF', 'SQ', 'UT', 'UN', 'UC', 'UR', 'OD', 'OL', 'OV', 'SV', 'UV'].includes(vr);
    const len = long ? head.readUInt32LE(pos + 8) : head.readUInt16LE(pos + 6);
    const valuePos = pos + (long ? 12 : 8);
    if (elem === 0x0003) return head.toString('latin1', valuePos, Math.min(head.length, valuePos + len)).replace(/[\0 ]+$/, '');
    pos = valuePos + len;
  }
  return undefined;
}
