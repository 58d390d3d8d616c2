// System calls of a server process (all threads, forked children too) while a run goes on:
// `strace -c -f -p <pid>`, its summary parsed. Counts per stored instance let this PACS be
// read beside storescp's and Orthanc's (file-system calls: how many trips to the kernel
// and the thread pool one instance costs). strace slows the traced process down, so the
// traced run is never a timed one.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';

/** System calls that act on files or directories (socket reads and writes are counted apart: strace -c cannot tell them from file writes). */
export const FILE_SYSCALLS = new Set([
  'open',
  'openat',
  'creat',
  'close',
  'pwrite64',
  'pwritev',
  'pwritev2',
  'fsync',
  'fdatasync',
  'sync_file_range',
  'rename',
  'renameat',
  'renameat2',
  'link',
  'linkat',
  'unlink',
  'unlinkat',
  'mkdir',
  'mkdirat',
  'rmdir',
  'stat',
  'lstat',
  'fstat',
  'newfstatat',
  'statx',
  'ftruncate',
  'fallocate',
  'lseek',
  'getdents64',
  'pread64',
  'preadv',
]);

export interface SyscallCounts {
  /** Calls per syscall name over the traced run. */
  calls: Record<string, number>;
  total: number;
  /** Calls in FILE_SYSCALLS. */
  fileCalls: number;
  /** write and writev: files, sockets and (Node) the thread pool's wake-ups alike. */
  writes: number;
  /** futex: thread hand-offs (Node's thread pool). */
  futex: number;
}

export class SyscallTrace {
  private readonly proc: ChildProcess;
  private readonly out: string;
  private constructor(proc: ChildProcess, out: string) {
    this.proc = proc;
    this.out = out;
  }

  /** Attaches to `pid` (and its threads and future children); resolves once strace is attached. */
  static async attach(pid: number, outFile: string): Promise<SyscallTrace> {
    const proc = spawn('strace', ['-c', '-f', '-o', outFile, '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      let err = '';
      const timer = setTimeout(resolve, 3000); // strace prints nothing on some systems: give it time
      proc.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        if (/attached/i.test(err)) {
          clearTimeout(timer);
          setTimeout(resolve, 200);
        }
      });
      proc.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      proc.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`strace exited ${code}: ${err.trim()}`));
      });
    });
    return new SyscallTrace(proc, outFile);
  }

  /** Detaches and parses the summary. */
  async stop(): Promise<SyscallCounts> {
    this.proc.removeAllListeners('exit'); // attach()'s: an exit now is the one asked for
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      const exited = new Promise((r) => this.proc.once('exit', r));
      this.proc.kill('SIGINT');
      await exited;
    }
    return parseStraceSummary(fs.readFileSync(this.out, 'utf8'));
  }
}

/** Parses `strace -c` output: "% time seconds usecs/call calls [errors] syscall" rows. */
export function parseStraceSummary(text: string): SyscallCounts {
  const calls: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5 || !/^[0-9.]+$/.test(f[0]) || f[f.length - 1] === 'total') continue;
    const name = f[f.length - 1];
    const n = Number(f[3]);
    if (Number.isFinite(n)) calls[name] = (calls[name] ?? 0) + n;
  }
  let total = 0;
  let fileCalls = 0;
  let writes = 0;
  for (const [name, n] of Object.entries(calls)) {
    total += n;
    if (FILE_SYSCALLS.has(name)) fileCalls += n;
    if (name === 'write' || name === 'writev') writes += n;
  }
  return { calls, total, fileCalls, writes, futex: calls.futex ?? 0 };
}
