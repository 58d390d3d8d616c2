// The V8 flags `pacs serve` needs (src/cli/v8-flags.ts) are passed by its launchers:
// bin/pacs.js's first line and `npm start`; a server started without them says so.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missingServerV8Flags, SERVER_V8_FLAGS } from '../../src/cli/v8-flags.js';
import { REPO_ROOT, startPacs, stopAllPeers } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

afterAll(async () => {
  await stopAllPeers();
  await removeTempDirs();
});

/** Starts `pacs serve` by `command` with `args` before `serve`, waits until it listens, stops it; returns its log lines. */
async function serveLog(command: string, args: string[]): Promise<string[]> {
  const pacs = await startPacs({
    dir: await makeTempDir(),
    command,
    args: [...args, 'serve', '--data', '{data}', '--port', '{port}', '--aet', '{aet}', '--log-level', 'info'],
  });
  await pacs.stop();
  return fs.readFileSync(pacs.logFile, 'utf8').split('\n').filter(Boolean);
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
    expect(plain.some((l) => l.includes('"PACS listening"'))).toBe(true);
    const warning = plain
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; missing?: string[] })
      .find((l) => l.msg.startsWith('started without these node flags'));
    expect(warning?.missing).toEqual([...SERVER_V8_FLAGS]);
  }, 120_000);
});
