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

/** CPU time (user + system, all threads) the process has used so far, in ms; NaN where /proc is missing. */
export function cpuMs(pid: number): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

/** CPU time (ms) of the process's main thread (its tid is the pid) and of all its other threads; NaN where /proc is missing. */
export function cpuMsSplit(pid: number): { main: number; others: number } {
  const all = cpuMs(pid);
  try {
    const fields = fs.readFileSync(`/proc/${pid}/task/${pid}/stat`, 'latin1').split(') ')[1].split(' ');
    const main = ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
    return { main, others: all - main };
  } catch {
    return { main: Number.NaN, others: Number.NaN };
  }
}
