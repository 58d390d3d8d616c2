/** `pacs config ...`: every validation rule names its option; verify echoes every AE. */
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigStore, findAe } from '../../src/config/index.js';
import { PacsRoles } from '../../src/roles/pacs-roles.js';
import { freePort } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { runPacs, type PacsRun } from './run-pacs.js';

let data: string;
let blocker: Server;
let busyPort: number;

/** Every command here works on this test's data directory. */
function pacs(...args: string[]): Promise<PacsRun> {
  return runPacs(...args, '--data', data);
}

async function refused(args: string[], message: RegExp): Promise<void> {
  const r = await pacs(...args);
  expect(r.status, r.stdout).toBe(1);
  expect(r.stderr).toMatch(message);
}

beforeAll(async () => {
  data = join(await makeTempDir('pacs-cli-config-'), 'data');
  busyPort = await freePort();
  blocker = createServer();
  await new Promise<void>((r) => blocker.listen(busyPort, '0.0.0.0', r));
});

afterAll(async () => {
  blocker?.close();
  await removeTempDirs();
});

describe('pacs config', () => {
  it('shows the five local AEs of a first start', async () => {
    const r = await pacs('config', 'show');
    expect(r.status, r.stderr).toBe(0);
    for (const ae of ['PACS', 'WORKSTATION', 'ROUTER', 'PACS_CLIENT', 'WS_CLIENT']) expect(r.stdout).toMatch(new RegExp(`^${ae}\\s`, 'm'));
    expect(JSON.parse((await pacs('config', 'show', '--json')).stdout).revision).toBe(1);
  });

  it('adds, changes and removes a peer', async () => {
    expect(
      (await pacs('config', 'ae', 'add', 'ORTHANC', '--host', '127.0.0.1', '--port', '4242', '--permissions', 'echo,store', '--move-destination')).status,
    ).toBe(0);
    expect((await pacs('config', 'ae', 'set', 'ORTHANC', '--port', '4243', '--description', 'second PACS')).status).toBe(0);
    const reg = (await ConfigStore.open(data)).current;
    expect(findAe(reg, 'ORTHANC')).toMatchObject({
      connection: { host: '127.0.0.1', port: 4243 },
      permissions: ['echo', 'store'],
      moveDestination: true,
      description: 'second PACS',
    });
    expect((await pacs('config', 'ae', 'rm', 'ORTHANC')).status).toBe(0);
    expect(findAe((await ConfigStore.open(data)).current, 'ORTHANC')).toBeUndefined();
  });

  it('names the option of every validation rule', async () => {
    // Refused changes write nothing, so they can run side by side.
    await Promise.all([
      refused(['config', 'ae', 'add', 'BAD AE', '--host', 'h', '--port', '104'], /^pacs: AE title may not contain spaces/),
      refused(['config', 'ae', 'add', 'A'.repeat(17), '--host', 'h', '--port', '104'], /AE title must be 1 to 16 characters, got 17/),
      refused(['config', 'ae', 'add', 'A\\B', '--host', 'h', '--port', '104'], /backslash/),
      refused(['config', 'ae', 'add', 'A\u0001B', '--host', 'h', '--port', '104'], /control characters/),
      refused(['config', 'ae', 'add', 'X', '--host', 'bad_host', '--port', '104'], /--host: host must be a host name/),
      refused(['config', 'ae', 'add', 'X', '--port', '104'], /--host: host is required/),
      refused(['config', 'ae', 'add', 'X', '--host', 'h', '--port', '0'], /--port: port must be an integer from 1 to 65535/),
      refused(['config', 'ae', 'add', 'X', '--host', 'h', '--port', 'abc'], /--port: port must be an integer from 1 to 65535/),
      refused(['config', 'ae', 'add', 'X', '--host', 'h', '--permissions', 'echo,fly'], /--permissions: permission must be one of/),
      refused(['config', 'ae', 'add', 'WORKSTATION', '--host', 'h', '--port', '104'], /AE title "WORKSTATION" is already registered/),
      refused(['config', 'ae', 'set', 'PACS', '--aet', 'ROUTER'], /--aet: AE title "ROUTER" is already registered/),
      refused(['config', 'ae', 'set', 'ROUTER', '--port', '11112'], /--port: port 11112 is already used by PACS \(main\)/),
      refused(['config', 'ae', 'set', 'ROUTER', '--port', String(busyPort)], new RegExp(`--port: port ${busyPort} is already in use`)),
      refused(['config', 'ae', 'rm', 'PACS'], /local main role; it can be changed but not removed/),
      refused(['config', 'ae', 'rm', 'NOBODY'], /no AE "NOBODY"/),
    ]);
  }, 180_000); // many CLI processes side by side: slow on a loaded 2-core machine

  it('verify: C-ECHOes every AE with a port and tables the round trips', async () => {
    const [p1, p2, p3] = await Promise.all([freePort(), freePort(), freePort()]);
    for (const [ae, p] of [
      ['PACS', p1],
      ['WORKSTATION', p2],
      ['ROUTER', p3],
    ] as const) {
      expect((await pacs('config', 'ae', 'set', ae, '--port', String(p), '--host', '127.0.0.1')).status).toBe(0);
    }
    const store = await ConfigStore.open(data);
    const roles = await PacsRoles.start({ config: store, dataDir: data, logger: pino({ level: 'silent' }) });
    try {
      const ok = await pacs('config', 'verify');
      expect(ok.status, ok.stdout + ok.stderr).toBe(0);
      for (const [ae, p] of [
        ['PACS', p1],
        ['WORKSTATION', p2],
        ['ROUTER', p3],
      ] as const) {
        expect(ok.stdout).toMatch(new RegExp(`^${ae}\\s+\\w+\\s+127\\.0\\.0\\.1:${p}\\s+ok\\s+[\\d.]+ ms`, 'm'));
      }
      expect(ok.stdout).toMatch(/3 of 3 answered/);
      expect((await pacs('config', 'ae', 'add', 'GONE', '--host', '127.0.0.1', '--port', String(await freePort()))).status).toBe(0);
      const bad = await pacs('config', 'verify');
      expect(bad.status).toBe(1);
      expect(bad.stdout).toMatch(/^GONE\s+peer\s+\S+\s+FAILED: cannot connect/m);
      expect(bad.stdout).toMatch(/3 of 4 answered/);
    } finally {
      await roles.close();
    }
  });
});
