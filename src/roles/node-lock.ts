/**
 * One `pacs serve` per data directory. The registry (config.json), the users, the
 * Workstation's and the Router's SQLite indexes and the start-up sweep of temporary blob
 * files all assume that no other process serves the same directory: a second one would
 * move the first one's listeners (issue 17) and sweep its in-flight writes. So a node
 * takes `<data>/serve.lock` (created exclusively) before it opens anything, and a second
 * node is refused with a message naming the holder.
 *
 * With PostgreSQL several nodes share a data directory (the registry, the node table and
 * their leases are in the database; each node marks its open blob batches apart): each
 * node takes `<data>/nodes/<node id>.lock` instead, so only two processes with the same
 * node id are refused. A node of either kind refuses to start beside a live one of the
 * other (an SQLite node owns the directory alone).
 *
 * A lock left by a node that died is taken over when its holder is provably gone: same
 * host and no process with its pid. A holder on another host (shared storage) cannot be
 * checked from here, so it is refused with the file's path to remove by hand.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { NODE_ID_RE } from '../archive/blob-keys.js';

export const LOCK_FILE = 'serve.lock';
/** With PostgreSQL: `<data>/nodes/<node id>.lock`, one per node. */
export const NODE_LOCK_DIR = 'nodes';

/** Why `id` cannot be a node id, or undefined. */
export function nodeIdProblem(id: string): string | undefined {
  return NODE_ID_RE.test(id) ? undefined : `node id must be 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit, got "${id}"`;
}

export interface LockHolder {
  nodeId: string;
  host: string;
  pid: number;
  startedAt: string;
}

/** The data directory is served by another live node. */
export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
  constructor(
    readonly file: string,
    readonly holder: LockHolder | undefined,
  ) {
    const who = holder
      ? `node "${holder.nodeId}" (pid ${holder.pid} on host ${holder.host}, since ${holder.startedAt})`
      : 'another node (its lock file is unreadable)';
    super(
      `the data directory is already served by ${who}: one pacs serve per data directory. ` + `Stop that node first; if it is gone for good, remove ${file}`,
    );
  }
}

/** Another process with the same node id runs on this (shared) data directory. */
export class NodeIdLockedError extends Error {
  override readonly name = 'NodeIdLockedError';
  constructor(
    readonly file: string,
    readonly holder: LockHolder | undefined,
  ) {
    const who = holder ? `pid ${holder.pid} on host ${holder.host}, since ${holder.startedAt}` : 'its lock file is unreadable';
    super(
      `node id "${holder?.nodeId ?? basename(file, '.lock')}" already runs on this data directory (${who}): give this node another --node-id. If it is gone for good, remove ${file}`,
    );
  }
}

export interface NodeLock {
  readonly holder: LockHolder;
  release(): void;
}

function readHolder(file: string): LockHolder | undefined {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockHolder>;
    if (typeof v.pid !== 'number' || typeof v.host !== 'string' || typeof v.nodeId !== 'string' || typeof v.startedAt !== 'string') return undefined;
    return v as LockHolder;
  } catch {
    return undefined;
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Lock files this process holds: a lock naming our own pid that is not among them was left by an earlier process with the same pid (a restarted container). */
const heldHere = new Set<string>();

/** The holder is gone for certain: this host, and no such process (or our pid, but not our lock). */
function provablyGone(file: string, holder: LockHolder | undefined): boolean {
  if (holder === undefined || holder.host !== hostname()) return false;
  if (holder.pid === process.pid) return !heldHere.has(file);
  return !processAlive(holder.pid);
}

/** The live holder of `file` (not provably gone), if any. */
function liveHolder(file: string): { holder: LockHolder | undefined } | undefined {
  if (!existsSync(file)) return undefined;
  const holder = readHolder(file);
  return provablyGone(file, holder) ? undefined : { holder };
}

/**
 * Takes the data directory's lock (one node on SQLite), or throws DataDirLockedError
 * naming the live holder (or a live node of a shared directory).
 */
export function acquireNodeLock(dataDir: string, nodeId: string = hostname()): NodeLock {
  for (const name of nodeLockFiles(dataDir)) {
    const file = join(dataDir, NODE_LOCK_DIR, name);
    const live = liveHolder(file);
    if (live) throw new DataDirLockedError(file, live.holder);
  }
  return takeLock(join(dataDir, LOCK_FILE), nodeId, (file, holder) => new DataDirLockedError(file, holder));
}

/**
 * Takes this node's lock in a data directory several nodes share (PostgreSQL): refused
 * (NodeIdLockedError) while another process with the same node id holds it, and
 * (DataDirLockedError) while a single node serves the directory.
 */
export function acquireSharedNodeLock(dataDir: string, nodeId: string = hostname()): NodeLock {
  const problem = nodeIdProblem(nodeId);
  if (problem) throw new Error(problem);
  const single = join(dataDir, LOCK_FILE);
  const live = liveHolder(single);
  if (live) throw new DataDirLockedError(single, live.holder);
  mkdirSync(join(dataDir, NODE_LOCK_DIR), { recursive: true, mode: 0o700 });
  return takeLock(join(dataDir, NODE_LOCK_DIR, `${nodeId}.lock`), nodeId, (file, holder) => new NodeIdLockedError(file, holder));
}

function nodeLockFiles(dataDir: string): string[] {
  try {
    return readdirSync(join(dataDir, NODE_LOCK_DIR)).filter((n) => n.endsWith('.lock'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

function takeLock(file: string, nodeId: string, refused: (file: string, holder: LockHolder | undefined) => Error): NodeLock {
  const holder: LockHolder = { nodeId, host: hostname(), pid: process.pid, startedAt: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const current = readHolder(file);
      if (attempt > 0 || !provablyGone(file, current)) throw refused(file, current);
      try {
        unlinkSync(file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      continue;
    }
    try {
      writeSync(fd, `${JSON.stringify(holder)}\n`);
    } finally {
      closeSync(fd);
    }
    heldHere.add(file);
    let released = false;
    return {
      holder,
      release() {
        if (released) return;
        released = true;
        heldHere.delete(file);
        // Only our own lock: never a successor's that took over after we were presumed dead.
        const now = readHolder(file);
        if (now?.pid === holder.pid && now.host === holder.host && now.startedAt === holder.startedAt) {
          try {
            unlinkSync(file);
          } catch {
            // Gone already: nothing to release.
          }
        }
      },
    };
  }
}
