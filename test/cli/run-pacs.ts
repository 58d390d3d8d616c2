// The `pacs` command line run as a child process, as a user runs it, so the tests see
// its exit status and both output streams exactly as printed.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/peers.js';

export interface PacsRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `bin/pacs.js ARGS...` to completion. */
export function runPacs(...args: string[]): Promise<PacsRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/pacs.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
