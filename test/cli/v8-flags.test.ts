// The V8 flags `pacs serve` needs (src/cli/v8-flags.ts) are passed by its launchers:
// bin/pacs.js's first line and `npm start`; a server started without them says so.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missingServerV8Flags, SERVER_V8_FLAGS } from '../../src/cli/v8-flags.js';
import { freePort, REPO_ROOT } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

afterAll(removeTempDirs);

/** Starts `pacs serve` by `command`, reads its log until the Main Server listens, stops it; returns the log lines. */
async function serveLog(command: string, args: string[]): Promise<string[]> {
  const dir = await makeTempDir();
  const [port, ws, router] = [await freePort(), await freePort(), await freePort()];
  const child = spawn(
    command,
    [
      ...args,
      'serve',
      '--data',
      join(dir, 'data'),
      '--port',
      String(port),
      '--workstation-port',
      String(ws),
      '--router-port',
      String(router),
      '--no-web',
      '--log-level',
      'info',
    ],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "PACS listening" in 60 s: ${out}${err}`)), 60_000);
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('"PACS listening"')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`pacs serve exited ${code}: ${out}${err}`)));
    });
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  return out.split('\n').filter(Boolean);
}

describe('the V8 flags of pacs serve', () => {
  it('are on the first line of bin/pacs.js and in npm start', () => {
    const firstLine = fs.readFileSync(join(REPO_ROOT, 'bin/pacs.js'), 'utf8').split('\n')[0];
    expect(firstLine).toBe(`#!/usr/bin/env -S node ${SERVER_V8_FLAGS.join(' ')}`);
    const pkg = JSON.parse(fs.readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe(`node ${SERVER_V8_FLAGS.join(' ')} bin/pacs.js serve`);
  });

  it('names the flags a process lacks', () => {
    expect(missingServerV8Flags([])).toEqual(['--no-memory-reducer', '--no-flush-bytecode']);
    expect(missingServerV8Flags(['--no-flush-bytecode', '--inspect'])).toEqual(['--no-memory-reducer']);
    expect(missingServerV8Flags([...SERVER_V8_FLAGS])).toEqual([]);
  });

  it('bin/pacs.js run as a program starts the server with them; node bin/pacs.js says which it lacks', async () => {
    const launched = await serveLog(join(REPO_ROOT, 'bin/pacs.js'), []);
    expect(launched.some((l) => l.includes('"PACS listening"'))).toBe(true);
    expect(launched.filter((l) => l.includes('started without these node flags'))).toEqual([]);

    const plain = await serveLog(process.execPath, [join(REPO_ROOT, 'bin/pacs.js')]);
    const warning = plain.map((l) => JSON.parse(l) as { msg: string; missing?: string[] }).find((l) => l.msg.startsWith('started without these node flags'));
    expect(warning?.missing).toEqual([...SERVER_V8_FLAGS]);
  }, 120_000);
});
