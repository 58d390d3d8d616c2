/**
 * `pacs config` for DICOM access and limits (issue 15 items 4, 5): a new AE may echo and
 * store only and is bound to its host (--check-host / --no-check-host); a role's host
 * binding policy; the client AEs cannot be removed; `pacs config limits set` and
 * `pacs config show` for the `limits.dicom` section; `pacs serve --max-associations`
 * and `--idle-timeout` write the registry's limits.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigStore, effectiveLimits, findAe } from '../../src/config/index.js';
import { startPacs, stopAllPeers } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { runPacs, type PacsRun } from './run-pacs.js';

let data: string;
let dir: string;

function pacs(...args: string[]): Promise<PacsRun> {
  return runPacs(...args, '--data', data);
}
const registry = async () => (await ConfigStore.open(data)).current;

beforeAll(async () => {
  dir = await makeTempDir('pacs-cli-access-');
  data = join(dir, 'data');
});

afterAll(async () => {
  await stopAllPeers();
  await removeTempDirs();
});

describe('pacs config: DICOM access', () => {
  it('adds a peer with echo and store only, bound to its host; --no-check-host and --check-host change that', async () => {
    expect((await pacs('config', 'ae', 'add', 'CT1', '--host', '10.1.2.3', '--port', '104')).status).toBe(0);
    expect(findAe(await registry(), 'CT1')).toMatchObject({ permissions: ['echo', 'store'], checkHost: true });
    expect((await pacs('config', 'ae', 'add', 'CT2', '--host', '10.1.2.4', '--no-check-host')).status).toBe(0);
    expect(findAe(await registry(), 'CT2')?.checkHost).toBe(false);
    expect((await pacs('config', 'ae', 'set', 'CT2', '--check-host')).status).toBe(0);
    expect(findAe(await registry(), 'CT2')?.checkHost).toBe(true);
    const show = await pacs('config', 'show');
    expect(show.stdout).toMatch(/^CT1\s+peer\s+10\.1\.2\.3\s+104\s+no\s+echo,store\s+no\s+bound\s/m);
  });

  it("sets a role's host-binding policy and refuses to remove a client AE", async () => {
    expect((await pacs('config', 'ae', 'set', 'ROUTER', '--no-check-caller-hosts')).status).toBe(0);
    expect(findAe(await registry(), 'ROUTER')?.policy?.checkCallerHosts).toBe(false);
    const rm = await pacs('config', 'ae', 'rm', 'PACS_CLIENT');
    expect(rm.status).toBe(1);
    expect(rm.stderr).toMatch(/"PACS_CLIENT" is one of this PACS's own client AEs/);
    expect(findAe(await registry(), 'PACS_CLIENT')).toBeDefined();
    // On the command line, --force removes it all the same.
    expect((await pacs('config', 'ae', 'rm', 'WS_CLIENT', '--force')).status).toBe(0);
    expect(findAe(await registry(), 'WS_CLIENT')).toBeUndefined();
  });

  it('sets limits with `pacs config limits set` and shows them with `pacs config show`', async () => {
    const before = await pacs('config', 'show');
    expect(before.stdout).toMatch(/^ {2}dicom\.maxAssociations = 64$/m);
    expect(before.stdout).toMatch(/^ {2}dicom\.idleTimeoutSeconds = 300$/m);
    expect(before.stdout).toMatch(/^ {2}dicom\.artimTimeoutSeconds = 30$/m);
    const set = await pacs('config', 'limits', 'set', 'dicom.maxAssociations=10', 'dicom.idleTimeoutSeconds=120');
    expect(set.status, set.stderr).toBe(0);
    expect(effectiveLimits(await registry()).dicom).toMatchObject({ maxAssociations: 10, idleTimeoutSeconds: 120 });
    expect((await pacs('config', 'show')).stdout).toMatch(/^ {2}dicom\.maxAssociations = 10$/m);

    const bad = await pacs('config', 'limits', 'set', 'dicom.maxAssociations=none');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/limits\.dicom\.maxAssociations: maxAssociations must be a positive integer/);
    const unknown = await pacs('config', 'limits', 'set', 'dicom.maxAssocs=3');
    expect(unknown.stderr).toMatch(/limits\.dicom\.maxAssocs: unknown field/);
    const malformed = await pacs('config', 'limits', 'set', 'maxAssociations');
    expect(malformed.stderr).toMatch(/expected SECTION\.FIELD=VALUE/);
    expect(effectiveLimits(await registry()).dicom.maxAssociations).toBe(10);

    // The Workstation archive's size cap: 20 GiB on a first start, set like any limit.
    expect(before.stdout).toMatch(/^ {2}workstation\.maxBytes = 21474836480$/m);
    const capSet = await pacs('config', 'limits', 'set', 'workstation.maxBytes=53687091200');
    expect(capSet.status, capSet.stderr).toBe(0);
    expect((await pacs('config', 'show')).stdout).toMatch(/^ {2}workstation\.maxBytes = 53687091200$/m);
    const capBad = await pacs('config', 'limits', 'set', 'workstation.maxBytes=0');
    expect(capBad.stderr).toMatch(/limits\.workstation\.maxBytes: limits\.workstation\.maxBytes must be a positive integer/);
  });

  it('sets the prefetch of priors with `pacs config prefetch set`, naming a bad field', async () => {
    const set = await pacs('config', 'prefetch', 'set', 'enabled=true', 'source=ORTHANC', 'priors=2', 'modalities=CT,MR', 'onArrival=false');
    expect(set.status, set.stderr).toBe(0);
    expect((await registry()).prefetch).toEqual({ enabled: true, source: 'ORTHANC', priors: 2, modalities: ['CT', 'MR'], onArrival: false });
    expect((await pacs('config', 'prefetch', 'set', 'priors=')).status).toBe(0);
    expect((await registry()).prefetch?.priors).toBeUndefined();
    const bad = await pacs('config', 'prefetch', 'set', 'priors=0');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/prefetch\.priors: priors must be at least 1/);
    expect((await registry()).prefetch?.source).toBe('ORTHANC');
  });

  it('`pacs serve --max-associations --idle-timeout` writes them into the registry', async () => {
    const served = await startPacs({
      dir: join(dir, 'serve'),
      args: [join(process.cwd(), 'bin/pacs.js'), 'serve', '--data', '{data}', '--port', '{port}', '--max-associations', '7', '--idle-timeout', '90'],
    });
    const reg = (await ConfigStore.open(served.dataDir)).current;
    expect(effectiveLimits(reg).dicom).toMatchObject({ maxAssociations: 7, idleTimeoutSeconds: 90 });
    await served.stop();
  });
});
