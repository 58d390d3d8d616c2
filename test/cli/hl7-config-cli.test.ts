/** `pacs config hl7 set`: turns the intake on and off in the registry, and names every bad option. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigStore } from '../../src/config/index.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { runPacs, type PacsRun } from './run-pacs.js';

let data: string;
const pacs = (...args: string[]): Promise<PacsRun> => runPacs(...args, '--data', data);

beforeAll(async () => {
  data = join(await makeTempDir('pacs-cli-hl7-'), 'data');
});
afterAll(removeTempDirs);

describe('pacs config hl7 set', () => {
  it('enables the intake on a port with allowed hosts, saved in the registry; disables it', async () => {
    const on = await pacs('config', 'hl7', 'set', '--enable', '--port', '6661', '--allowed-hosts', '10.1.2.3, 10.1.2.4', '--idle-timeout', '60');
    expect(on.status, on.stderr).toBe(0);
    expect(on.stdout).toBe('HL7 intake on 0.0.0.0:6661, from 10.1.2.3, 10.1.2.4\n');
    expect((await ConfigStore.open(data)).current.hl7).toEqual({
      enabled: true,
      host: '0.0.0.0',
      port: 6661,
      allowedHosts: ['10.1.2.3', '10.1.2.4'],
      maxMessageBytes: 1048576,
      idleTimeoutSeconds: 60,
      maxConnections: 16,
    });
    const any = await pacs('config', 'hl7', 'set', '--allowed-hosts', '');
    expect(any.stdout).toBe('HL7 intake on 0.0.0.0:6661\n');
    expect((await pacs('config', 'show')).stdout).toMatch(/^HL7 intake on 0\.0\.0\.0:6661$/m);
    const off = await pacs('config', 'hl7', 'set', '--disable');
    expect(off.stdout).toBe('HL7 intake off\n');
    expect((await ConfigStore.open(data)).current.hl7).toMatchObject({ enabled: false, port: 6661 });
    expect((await pacs('config', 'show')).stdout).toMatch(/^HL7 intake off$/m);
  });

  it.each([
    [['--port', '70000'], /hl7\.port: port must be an integer from 1 to 65535/],
    [['--allowed-hosts', 'ris.example.org'], /hl7\.allowedHosts\[0\]: an allowed host is an IP address/],
    [['--max-connections', 'many'], /hl7\.maxConnections/],
    [['--enable', '--disable'], /--enable and --disable contradict each other/],
  ])('refuses %j', async (args, message) => {
    const r = await pacs('config', 'hl7', 'set', ...args);
    expect(r.status, r.stdout).toBe(1);
    expect(r.stderr).toMatch(message);
  });
});
