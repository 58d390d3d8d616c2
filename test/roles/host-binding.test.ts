/**
 * Who may call our server roles (issue 15 item 4): unknown callers may only echo and
 * store by default; a registered AE bound to its host is refused from any other address
 * (real sockets from 127.0.0.1 and 127.0.0.2, both loopback on Linux); our own client
 * titles (PACS_CLIENT, WS_CLIENT) are accepted from loopback only.
 */
import { lookup } from 'node:dns/promises';
import * as net from 'node:net';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAe, ConfigStore, defaultRegistry, setAe, setWeb, type Registry, type ServerRole } from '../../src/config/index.js';
import { DimseConnection } from '../../src/dimse/dimse-connection.js';
import { cEcho } from '../../src/dimse/scu.js';
import { connect, type Association } from '../../src/net/index.js';
import { rejection } from '../net/helpers.js';
import { registryAccessControl, type AdmissionResult } from '../../src/roles/access-control.js';
import { HostResolver } from '../../src/roles/host-addresses.js';
import { PacsRoles } from '../../src/roles/pacs-roles.js';
import { freePort } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

const VERIFICATION = '1.2.840.10008.1.1';
const ELE = '1.2.840.10008.1.2.1';
const TITLES: Record<ServerRole, string> = { main: 'PACS', workstation: 'WORKSTATION', router: 'ROUTER' };

/** The admission decision of `role` for a caller at `address`, against `reg`. */
async function admit(reg: Registry, role: ServerRole, calling: string, address: string): Promise<AdmissionResult> {
  return registryAccessControl(role, () => reg).admit(calling, TITLES[role], address);
}

const permissions = (r: AdmissionResult) => ('admitted' in r ? [...r.admitted.permissions].sort() : r);

describe('admission (pure: registry + peer address)', () => {
  it('unknown callers may echo and store only, on every role, by default', async () => {
    const reg = defaultRegistry();
    for (const role of ['main', 'workstation', 'router'] as const) {
      expect(permissions(await admit(reg, role, 'STRANGER', '127.0.0.1')), role).toEqual(['echo', 'store']);
    }
  });

  it('refuses PACS_CLIENT claimed from a non-loopback address, strict mode or not', async () => {
    const open = defaultRegistry();
    const strict = setAe(open, 'PACS', { policy: { strict: true } });
    for (const reg of [open, strict]) {
      for (const address of ['192.0.2.10', '::ffff:192.0.2.10', '2001:db8::1']) {
        const r = await admit(reg, 'main', 'PACS_CLIENT', address);
        expect(r, address).toMatchObject({ refused: 'calling-ae' });
        expect('refused' in r && r.message).toContain(address);
      }
      expect(await admit(reg, 'main', 'WS_CLIENT', '192.0.2.10')).toMatchObject({ refused: 'calling-ae' });
    }
  });

  it('accepts the client titles from any loopback address, IPv4-mapped included', async () => {
    const reg = defaultRegistry();
    for (const address of ['127.0.0.1', '127.0.0.5', '::ffff:127.0.0.1', '::1']) {
      expect((await admit(reg, 'main', 'PACS_CLIENT', address)) as object, address).toHaveProperty('admitted');
    }
  });

  it('admits our own roles calling each other from the specific address they listen on, and no other', async () => {
    const reg = setAe(defaultRegistry(), 'PACS', { connection: { host: '192.0.2.5' } });
    expect(permissions(await admit(reg, 'workstation', 'PACS', '192.0.2.5'))).toHaveLength(8);
    expect(permissions(await admit(reg, 'workstation', 'PACS', '127.0.0.1'))).toHaveLength(8);
    expect(await admit(reg, 'workstation', 'PACS', '192.0.2.6')).toMatchObject({ refused: 'calling-ae' });
    // With the wildcard host (the default), loopback only.
    expect(await admit(defaultRegistry(), 'workstation', 'PACS', '192.0.2.5')).toMatchObject({ refused: 'calling-ae' });
  });

  it('binds a newly registered AE to its host: refused from another address, admitted from its own', async () => {
    const reg = addAe(defaultRegistry(), { aeTitle: 'MODALITY', connection: { host: '127.0.0.2' }, permissions: ['echo', 'store', 'find'] });
    expect(await admit(reg, 'main', 'MODALITY', '127.0.0.1')).toMatchObject({ refused: 'calling-ae' });
    expect(await admit(reg, 'main', 'MODALITY', '192.0.2.10')).toMatchObject({ refused: 'calling-ae' });
    expect(permissions(await admit(reg, 'main', 'MODALITY', '127.0.0.2'))).toEqual(['echo', 'find', 'store']);
    expect(permissions(await admit(reg, 'main', 'MODALITY', '::ffff:127.0.0.2'))).toEqual(['echo', 'find', 'store']);
  });

  it('resolves a host name (all its addresses) when the caller is admitted, once per cache period', async () => {
    const reg = addAe(defaultRegistry(), { aeTitle: 'BY_NAME', connection: { host: 'localhost' }, permissions: ['echo'] });
    let lookups = 0;
    const resolver = new HostResolver({
      lookup: async (host) => {
        lookups++;
        return (await lookup(host, { all: true })).map((a) => a.address);
      },
    });
    const ac = registryAccessControl('main', () => reg, resolver);
    expect(permissions(await ac.admit('BY_NAME', 'PACS', '127.0.0.1'))).toEqual(['echo']);
    expect(permissions(await ac.admit('BY_NAME', 'PACS', '::ffff:127.0.0.1'))).toEqual(['echo']);
    expect(await ac.admit('BY_NAME', 'PACS', '192.0.2.10')).toMatchObject({ refused: 'calling-ae' });
    expect(lookups).toBe(1);
    // A name that does not resolve refuses the caller, saying so.
    const unresolvable = addAe(defaultRegistry(), { aeTitle: 'NOWHERE', connection: { host: 'no-such-host.invalid' } });
    const r = await registryAccessControl('main', () => unresolvable).admit('NOWHERE', 'PACS', '127.0.0.1');
    expect(r).toMatchObject({ refused: 'calling-ae' });
    expect('refused' in r && r.message).toMatch(/bound to host no-such-host\.invalid, which could not be resolved/);
  });
});

// ---------------------------------------------------------------------------------------
// The same over real sockets: a PACS listening on 127.0.0.1 and 127.0.0.2 (0.0.0.0).

let store: ConfigStore;
let roles: PacsRoles;
let port: number;
const logLines: string[] = [];

beforeAll(async () => {
  const dir = await makeTempDir('pacs-host-binding-');
  store = await ConfigStore.open(join(dir, 'data'));
  port = await freePort();
  const [ws, router, web] = [await freePort(), await freePort(), await freePort()];
  await store.update((reg) => {
    let r = setWeb(reg, { port: web });
    r = setAe(r, 'PACS', { connection: { port } });
    r = setAe(r, 'WORKSTATION', { connection: { host: '127.0.0.1', port: ws } });
    r = setAe(r, 'ROUTER', { connection: { host: '127.0.0.1', port: router } });
    return addAe(r, { aeTitle: 'BOUND', connection: { host: '127.0.0.2' } });
  });
  const log = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  roles = await PacsRoles.start({ config: store, dataDir: join(dir, 'data'), logger: pino({ level: 'warn' }, log) });
});

afterAll(async () => {
  await roles?.close();
  store?.close();
  await removeTempDirs();
});

function openFrom(localAddress: string, calling: string): Promise<Association> {
  return connect({
    host: '127.0.0.1',
    port,
    callingAeTitle: calling,
    calledAeTitle: 'PACS',
    presentationContexts: [{ abstractSyntax: VERIFICATION, transferSyntaxes: [ELE] }],
    socketFactory: () => net.connect({ host: '127.0.0.1', port, localAddress, noDelay: true }),
  });
}

describe('host binding over real sockets', () => {
  it('refuses an AE bound to 127.0.0.2 calling from 127.0.0.1 (calling AE not recognized), admits it from 127.0.0.2', async () => {
    expect(await rejection(openFrom('127.0.0.1', 'BOUND'))).toBe(3);
    // A warning says who was refused and from where.
    const warning = logLines.map((l) => JSON.parse(l)).find((l) => /association rejected/.test(l.msg) && l.calling === 'BOUND');
    expect(warning).toMatchObject({ level: 40, peer: { address: expect.stringMatching(/^(::ffff:)?127\.0\.0\.1$/) } });
    expect(warning.msg).toMatch(/"BOUND" is bound to host 127\.0\.0\.2 \(127\.0\.0\.2\); refused from (::ffff:)?127\.0\.0\.1/);
    const a = await openFrom('127.0.0.2', 'BOUND');
    await cEcho(new DimseConnection(a));
    await a.release();
  });

  it('admits PACS_CLIENT from 127.0.0.2 (loopback), and a bound AE anywhere once its binding is turned off', async () => {
    const c = await openFrom('127.0.0.2', 'PACS_CLIENT');
    await c.release();
    await store.update((r) => setAe(r, 'BOUND', { checkHost: false }));
    const a = await openFrom('127.0.0.1', 'BOUND');
    await cEcho(new DimseConnection(a));
    await a.release();
  });
});
