import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  addAe,
  ConfigConflictError,
  ConfigStore,
  defaultRegistry,
  findAe,
  listAes,
  registrySchema,
  removeAe,
  setAe,
  setWeb,
  type Registry,
} from '../../src/config/index.js';
import { answersQueries } from '../../src/api-types/registry.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { issues } from './helpers.js';

afterAll(() => removeTempDirs());

const peer = (over: Record<string, unknown> = {}) => ({ aeTitle: 'ORTHANC', connection: { host: '127.0.0.1', port: 4242 }, ...over });

describe('AE registry', () => {
  it('has the five local AEs by default, valid against its own schema', () => {
    const reg = defaultRegistry();
    expect(registrySchema.safeParse(reg).success).toBe(true);
    expect(listAes(reg).map((a) => [a.aeTitle, a.role, a.connection.port])).toEqual([
      ['PACS', 'main', 11112],
      ['WORKSTATION', 'workstation', 11113],
      ['ROUTER', 'router', 11114],
      ['PACS_CLIENT', 'client', undefined],
      ['WS_CLIENT', 'client', undefined],
    ]);
    expect(reg.web.port).toBe(8080);
  });

  it('adds a peer with defaults, in a device of its own', () => {
    const reg = addAe(defaultRegistry(), peer({ aeTitle: '  ORTHANC ' }));
    const ae = findAe(reg, 'ORTHANC')!;
    expect(ae).toMatchObject({ device: 'orthanc', local: false, role: 'peer', moveDestination: false, connection: { tls: false } });
    expect(ae.permissions).toContain('store');
    expect(reg.revision).toBe(2);
  });

  it('AE title: 1-16 characters, no spaces, no backslash or control characters, default repertoire', () => {
    const r = defaultRegistry();
    expect(issues(() => addAe(r, peer({ aeTitle: '' })))).toEqual([['aeTitle', 'AE title must be 1 to 16 characters, got 0']]);
    expect(issues(() => addAe(r, peer({ aeTitle: 'A'.repeat(17) })))).toEqual([['aeTitle', 'AE title must be 1 to 16 characters, got 17']]);
    expect(issues(() => addAe(r, peer({ aeTitle: 'MY PEER' })))[0]).toEqual(['aeTitle', expect.stringMatching(/spaces/)]);
    expect(issues(() => addAe(r, peer({ aeTitle: 'A\\B' })))[0]).toEqual(['aeTitle', expect.stringMatching(/backslash/)]);
    expect(issues(() => addAe(r, peer({ aeTitle: 'A\nB' })))[0]).toEqual(['aeTitle', expect.stringMatching(/control/)]);
    expect(issues(() => addAe(r, peer({ aeTitle: 'ÄRZTE' })))[0]).toEqual(['aeTitle', expect.stringMatching(/repertoire/)]);
  });

  it('host: a host name or an IP address', () => {
    const r = defaultRegistry();
    for (const ok of ['pacs.example.org', 'orthanc', '10.0.0.1', '::1', 'fe80::1'])
      expect(() => addAe(r, peer({ connection: { host: ok, port: 104 } }))).not.toThrow();
    for (const bad of ['bad_host', '', 'a..b', '-x.org', '999.1.1.1', 'x'.repeat(64)]) {
      expect(issues(() => addAe(r, peer({ connection: { host: bad, port: 104 } })))[0][0]).toBe('connection.host');
    }
  });

  it('port: an integer from 1 to 65535', () => {
    const r = defaultRegistry();
    for (const bad of [0, 65536, 1.5, -1, 'abc']) {
      expect(issues(() => addAe(r, peer({ connection: { host: 'h', port: bad } })))).toEqual([['connection.port', 'port must be an integer from 1 to 65535']]);
    }
  });

  it('AE titles are unique', () => {
    const r = addAe(defaultRegistry(), peer());
    expect(issues(() => addAe(r, peer()))).toEqual([['aeTitle', 'AE title "ORTHANC" is already registered']]);
    expect(issues(() => addAe(r, peer({ aeTitle: 'PACS' })))).toEqual([['aeTitle', 'AE title "PACS" is already registered']]);
    expect(issues(() => setAe(r, 'ORTHANC', { aeTitle: 'WORKSTATION' }))).toEqual([['aeTitle', 'AE title "WORKSTATION" is already registered']]);
  });

  it("a role's port is not used by another role or the web server", () => {
    const r = defaultRegistry();
    expect(issues(() => setAe(r, 'ROUTER', { connection: { port: 11112 } }))).toEqual([['connection.port', 'port 11112 is already used by PACS (main)']]);
    expect(issues(() => setAe(r, 'PACS', { connection: { port: 8080 } }))).toEqual([['connection.port', 'port 8080 is already used by the web server']]);
    expect(issues(() => setWeb(r, { port: 11113 }))[0]).toEqual([expect.stringMatching(/connection\.port$/), 'port 11113 is already used by the web server']);
  });

  it('unknown fields, server roles and policies are refused where they do not belong', () => {
    const r = defaultRegistry();
    expect(issues(() => addAe(r, peer({ colour: 'red' })))).toEqual([['colour', 'unknown field "colour"']]);
    expect(issues(() => addAe(r, peer({ role: 'main' })))[0][0]).toBe('role');
    expect(issues(() => addAe(r, peer({ policy: { strict: true } })))[0][0]).toBe('policy');
    expect(issues(() => addAe(r, peer({ permissions: ['fly'] })))[0][0]).toBe('permissions[0]');
    expect(issues(() => addAe(r, peer({ moveDestination: true, connection: { host: 'h' } })))).toEqual([
      ['connection.port', 'a move destination needs a port'],
    ]);
    expect(issues(() => setAe(r, 'PACS', { role: 'peer' }))[0][0]).toBe('role');
  });

  it('queryRetrieve: a peer with a port may say it answers C-FIND; what our roles answer follows from the role', () => {
    const r = addAe(defaultRegistry(), peer({ queryRetrieve: true }));
    const byTitle = new Map(listAes(r).map((a) => [a.aeTitle, a]));
    expect(byTitle.get('ORTHANC')?.queryRetrieve).toBe(true);
    // Offered as query targets: the Main Server and that peer; not the Workstation, the Router, the clients.
    expect(
      listAes(r)
        .filter((a) => answersQueries(a))
        .map((a) => a.aeTitle)
        .sort(),
    ).toEqual(['ORTHANC', 'PACS']);
    expect(issues(() => addAe(defaultRegistry(), peer({ queryRetrieve: true, connection: { host: 'h' } })))).toEqual([
      ['queryRetrieve', 'a query/retrieve peer needs a port to be called on'],
    ]);
    expect(issues(() => setAe(defaultRegistry(), 'WORKSTATION', { queryRetrieve: true }))).toEqual([
      ['queryRetrieve', 'queryRetrieve is for peers: what the workstation role answers follows from the role'],
    ]);
    expect(issues(() => addAe(defaultRegistry(), peer({ queryRetrieve: 'yes' })))[0][0]).toBe('queryRetrieve');
  });

  it('renames and changes AEs; removes peers but not local roles', () => {
    let r = addAe(defaultRegistry(), peer());
    r = setAe(r, 'PACS', { aeTitle: 'ARCHIVE', policy: { strict: true } });
    expect(findAe(r, 'ARCHIVE')).toMatchObject({ role: 'main', policy: { strict: true, unknownCallers: ['echo', 'store'] } });
    r = removeAe(r, 'ORTHANC');
    expect(findAe(r, 'ORTHANC')).toBeUndefined();
    expect(r.devices.some((d) => d.name === 'orthanc')).toBe(false);
    expect(() => removeAe(r, 'ARCHIVE')).toThrow(ConfigConflictError);
    expect(() => removeAe(r, 'NOBODY')).toThrow(/no AE "NOBODY"/);
  });
});

describe('ConfigStore', () => {
  it('creates the defaults on a first start and persists changes atomically (no temp or lock files left)', async () => {
    const dir = await makeTempDir('pacs-config-');
    const store = await ConfigStore.open(dir);
    expect(store.current.revision).toBe(1);
    await store.update((r) => addAe(r, peer()));
    const onDisk = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Registry;
    expect(onDisk.revision).toBe(2);
    expect(findAe(onDisk, 'ORTHANC')).toBeDefined();
    expect(await readdir(dir)).toEqual(['config.json']);
    const again = await ConfigStore.open(dir);
    expect(findAe(again.current, 'ORTHANC')).toBeDefined();
  });

  it('loses no change when two stores (two processes) update at once', async () => {
    const dir = await makeTempDir('pacs-config-');
    const a = await ConfigStore.open(dir);
    const b = await ConfigStore.open(dir);
    await Promise.all([
      ...Array.from({ length: 5 }, (_, i) => a.update((r) => addAe(r, peer({ aeTitle: `A${i}` })))),
      ...Array.from({ length: 5 }, (_, i) => b.update((r) => addAe(r, peer({ aeTitle: `B${i}` })))),
    ]);
    const c = await ConfigStore.open(dir);
    expect(listAes(c.current).filter((x) => x.role === 'peer')).toHaveLength(10);
    expect(c.current.revision).toBe(11);
  });

  it('tells listeners about its own changes and, when watching, about changes by others', async () => {
    const dir = await makeTempDir('pacs-config-');
    const server = await ConfigStore.open(dir);
    server.watch();
    const seen: number[] = [];
    server.onChange((next) => seen.push(next.revision));
    await server.update((r) => addAe(r, peer()));
    const cli = await ConfigStore.open(dir);
    await cli.update((r) => removeAe(r, 'ORTHANC'));
    await expect.poll(() => seen, { timeout: 5000 }).toEqual([2, 3]);
    expect(findAe(server.current, 'ORTHANC')).toBeUndefined();
    server.close();
  });

  it('refuses a broken file naming the field, and a running store keeps its last good registry', async () => {
    const dir = await makeTempDir('pacs-config-');
    const server = await ConfigStore.open(dir);
    server.watch();
    const reg = structuredClone(server.current) as unknown as { devices: { aes: { connection: { port: unknown } }[] }[] };
    reg.devices[0].aes[0].connection.port = 70000;
    await writeFile(join(dir, 'config.json'), JSON.stringify(reg));
    await expect(ConfigStore.open(dir)).rejects.toThrow(/devices\[0\]\.aes\[0\]\.connection\.port: .*port must be an integer from 1 to 65535/);
    await server.reload();
    expect(server.current.devices[0].aes[0].connection.port).toBe(11112);
    await writeFile(join(dir, 'config.json'), '{ not json');
    await expect(ConfigStore.open(dir)).rejects.toThrow(/not valid JSON/);
    server.close();
  });
});
