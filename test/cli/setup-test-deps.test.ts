/**
 * scripts/setup-test-deps.sh never stops processes it did not start. The script runs in a
 * PID namespace of its own (unshare), together with a stand-in "Orthanc" (a copy of
 * /bin/sleep), so that even a regression cannot reach any other process of the machine;
 * dpkg, apt-get, sudo, systemctl and service are stand-ins that record how they were
 * called, so both paths (everything installed; orthanc installed by this run) run without
 * touching the system.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

let dir: string;

beforeAll(async () => {
  dir = await makeTempDir('pacs-setup-deps-');
});

afterAll(removeTempDirs);

interface Run {
  status: number | null;
  output: string;
  /** Calls of the stand-in commands, one line each: `name args...`. */
  calls: string[];
  orthancAlive: boolean;
}

/**
 * Runs the script with `missing` packages reported as not installed by the stand-in dpkg;
 * the stand-in service managers report the Debian Orthanc service running before the
 * install only when `serviceRunning`.
 */
function runScript(name: string, missing: string[], serviceRunning = false): Run {
  const root = join(dir, name);
  const fakeBin = join(root, 'bin');
  const ohif = join(root, 'ohif');
  mkdirSync(fakeBin, { recursive: true });
  mkdirSync(ohif, { recursive: true });
  writeFileSync(join(ohif, 'index.html'), '<!doctype html>');
  const log = join(root, 'calls.log');
  writeFileSync(log, '');
  const record = (cmd: string, body = 'exit 0') => {
    const file = join(fakeBin, cmd);
    writeFileSync(file, `#!/bin/sh\necho "${cmd} $*" >> "${log}"\n${body}\n`);
    chmodSync(file, 0o755);
  };
  // dpkg -s PKG: installed unless listed as missing.
  record('dpkg', `for m in ${missing.join(' ')}; do [ "$2" = "$m" ] && exit 1; done; exit 0`);
  for (const cmd of ['apt-get', 'npm']) record(cmd);
  // `systemctl is-active orthanc` / `service orthanc status`: 0 running, 3 stopped (as the real ones).
  const status = `case "$*" in *is-active*|*status*) exit ${serviceRunning ? 0 : 3};; esac; exit 0`;
  for (const cmd of ['systemctl', 'service']) record(cmd, status);
  record('sudo', '"$@"');
  const orthanc = join(root, 'Orthanc');
  copyFileSync('/bin/sleep', orthanc);
  chmodSync(orthanc, 0o755);

  const inner = [
    `"${orthanc}" 600 & pid=$!`,
    'sleep 0.2',
    `PATH="${fakeBin}:$PATH" PACS_OHIF_DIR="${ohif}" bash "${join(REPO_ROOT, 'scripts/setup-test-deps.sh')}"`,
    'status=$?',
    'if kill -0 "$pid" 2>/dev/null; then echo ORTHANC-ALIVE; else echo ORTHANC-GONE; fi',
    'kill "$pid" 2>/dev/null',
    'exit $status',
  ].join('\n');
  const ns = process.getuid?.() === 0 ? [] : ['--user', '--map-root-user'];
  const r = spawnSync('unshare', [...ns, '--pid', '--fork', '--mount-proc', 'bash', '-c', inner], { encoding: 'utf8', timeout: 60_000 });
  const output = `${r.stdout}${r.stderr}${r.error ? String(r.error) : ''}`;
  return {
    status: r.status,
    output,
    calls: existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [],
    orthancAlive: /ORTHANC-ALIVE/.test(r.stdout),
  };
}

describe('scripts/setup-test-deps.sh', () => {
  it('leaves a running Orthanc it did not start alone when everything is installed (no apt, no service stop)', () => {
    const r = runScript('installed', []);
    expect(r.status, r.output).toBe(0);
    expect(r.orthancAlive, `a process named Orthanc was killed by the script\n${r.output}`).toBe(true);
    expect(r.calls.filter((c) => !c.startsWith('dpkg '))).toEqual([]);
  });

  it('stops only the Debian service its own install started, and no other Orthanc', () => {
    const r = runScript('installs-orthanc', ['orthanc']);
    expect(r.status, r.output).toBe(0);
    expect(r.orthancAlive, `a process named Orthanc was killed by the script\n${r.output}`).toBe(true);
    expect(r.calls).toContain('apt-get install -y -q orthanc');
    expect(
      r.calls.some((c) => /^(systemctl stop orthanc|service orthanc stop)$/.test(c)),
      r.calls.join('\n'),
    ).toBe(true);
  });

  it('leaves alone a Debian Orthanc service that was running before its install', () => {
    const r = runScript('service-was-running', ['orthanc-postgresql'], true);
    expect(r.status, r.output).toBe(0);
    expect(r.orthancAlive, `a process named Orthanc was killed by the script\n${r.output}`).toBe(true);
    expect(r.calls).toContain('apt-get install -y -q orthanc-postgresql');
    expect(r.calls.filter((c) => /^(systemctl stop|service orthanc stop)/.test(c))).toEqual([]);
  });
});
