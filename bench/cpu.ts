// CPU time of a server process from /proc/<pid>/stat (Linux): a measure other load on the
// machine disturbs less than wall-clock time.
import { execSync } from 'node:child_process';
import * as fs from 'node:fs';

export const CLOCK_TICKS = (() => {
  try {
    return Number(execSync('getconf CLK_TCK').toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime, stime, cutime and cstime (ms) from a /proc stat file; throws where it is missing. */
function statMs(file: string): [number, number, number, number] {
  const f = fs.readFileSync(file, 'latin1').split(') ')[1].split(' ');
  const ms = (i: number) => (Number(f[i]) * 1000) / CLOCK_TICKS;
  return [ms(11), ms(12), ms(13), ms(14)];
}

/** CPU time (user + system, all threads) the process has used so far, in ms; NaN where /proc is missing. */
export function cpuMs(pid: number): number {
  try {
    const [user, system] = statMs(`/proc/${pid}/stat`);
    return user + system;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU time (ms) of the process and of its children that have exited and been reaped
 * (cutime + cstime): storescp --fork's children, once they are gone.
 */
export function cpuMsWithReapedChildren(pid: number): number {
  try {
    const [user, system, childUser, childSystem] = statMs(`/proc/${pid}/stat`);
    return user + system + childUser + childSystem;
  } catch {
    return Number.NaN;
  }
}

/** CPU time (ms) of the process's main thread (its tid is the pid) and of all its other threads; NaN where /proc is missing. */
export function cpuMsSplit(pid: number): { main: number; others: number } {
  const all = cpuMs(pid);
  try {
    const [user, system] = statMs(`/proc/${pid}/task/${pid}/stat`);
    return { main: user + system, others: all - user - system };
  } catch {
    return { main: Number.NaN, others: Number.NaN };
  }
}

/**
 * CPU time (ms) of each of the process's threads, by tid ('main' for the thread whose tid
 * is the pid; Node 20 leaves its other threads unnamed); threads that have exited are not
 * counted.
 */
export function cpuMsByThread(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const [user, system] = statMs(`/proc/${pid}/task/${tid}/stat`);
      out.set(tid === String(pid) ? 'main' : tid, user + system);
    } catch {
      // the thread exited meanwhile
    }
  }
  return out;
}

/** The pids of the process's live descendants (children, grandchildren...), from /proc/<pid>/task/<tid>/children. */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift()!;
    let tids: string[];
    try {
      tids = fs.readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      let text: string;
      try {
        text = fs.readFileSync(`/proc/${p}/task/${tid}/children`, 'latin1');
      } catch {
        continue;
      }
      for (const c of text.split(' ').filter(Boolean).map(Number)) {
        out.push(c);
        queue.push(c);
      }
    }
  }
  return out;
}

/**
 * CPU time (ms) of each process and its live descendants so far, keyed by pid, so that
 * a child started during a measurement counts from zero and one alive at both ends counts
 * its difference. A child that exits in between is lost (its time goes to the parent's
 * cutime only once reaped): cpuDeltaMs() says how many were.
 */
export function treeCpuSnapshot(pids: number[]): Map<number, number> {
  const snap = new Map<number, number>();
  for (const pid of pids) for (const p of [pid, ...descendants(pid)]) snap.set(p, cpuMs(p));
  return snap;
}

/** CPU time (ms) used between two snapshots of treeCpuSnapshot, and how many processes of the first had gone. */
export function cpuDeltaMs(before: Map<number, number>, after: Map<number, number>): { ms: number; gone: number } {
  let ms = 0;
  let gone = 0;
  for (const [pid, t] of after) {
    const b = before.get(pid);
    if (Number.isFinite(t)) ms += t - (b !== undefined && Number.isFinite(b) ? b : 0);
  }
  for (const [pid, t] of before) if (Number.isFinite(t) && !Number.isFinite(after.get(pid) ?? Number.NaN)) gone++;
  return { ms, gone };
}

/** The machine's CPU time so far (all CPUs, ms): busy (not idle, not iowait) and in all, from /proc/stat. */
export function machineCpuMs(): { busy: number; total: number } {
  const f = fs.readFileSync('/proc/stat', 'latin1').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const idle = f[3] + (f[4] ?? 0);
  return { busy: ((total - idle) * 1000) / CLOCK_TICKS, total: (total * 1000) / CLOCK_TICKS };
}

/**
 * Waits until the machine is quiet: the share of all CPUs busy over a 250 ms window below
 * `share` (default 0.25), at most `maxMs` (default 15 s). A server still busy after its
 * run (Orthanc's writeback and housekeeping) would otherwise slow the next target's run.
 * Returns the share of the last window.
 */
export async function waitForQuietMachine(share = 0.25, maxMs = 15_000): Promise<number> {
  const deadline = Date.now() + maxMs;
  for (;;) {
    const a = machineCpuMs();
    await new Promise((r) => setTimeout(r, 250));
    const b = machineCpuMs();
    const busy = (b.busy - a.busy) / Math.max(1, b.total - a.total);
    if (busy < share || Date.now() >= deadline) return busy;
  }
}

/**
 * Waits until a process stops using CPU: no more than one clock tick in `quietMs` (default
 * 250), at most `maxMs` (default 5 s). After a run, before its CPU is read: what a server
 * does after its last answer (closing files, sealing batches, index checkpoints, Orthanc's
 * housekeeping) then counts in the run that caused it, not between runs. Returns the ms waited.
 */
export async function waitForIdleProcess(cpu: () => number, quietMs = 250, maxMs = 5000): Promise<number> {
  const started = Date.now();
  let last = cpu();
  for (;;) {
    await new Promise((r) => setTimeout(r, quietMs));
    const now = cpu();
    if (!(now - last > 1000 / CLOCK_TICKS) || Date.now() - started >= maxMs) return Date.now() - started;
    last = now;
  }
}
