/**
 * The three roles from the AE registry, in process: access control at association and
 * request level, and configuration changes applied while running.
 */
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAe, ConfigStore, setAe, setWeb } from '../../src/config/index.js';
import { DimseConnection } from '../../src/dimse/dimse-connection.js';
import { cEcho, cStore } from '../../src/dimse/scu.js';
import { connect, type Association } from '../../src/net/index.js';
import { rejection } from '../net/helpers.js';
import { PacsRoles } from '../../src/roles/pacs-roles.js';
import { requiredPermission } from '../../src/roles/access-control.js';
import { freePort } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

const VERIFICATION = '1.2.840.10008.1.1';
const CT = '1.2.840.10008.5.1.4.1.1.2';
const ELE = '1.2.840.10008.1.2.1';

let store: ConfigStore;
let roles: PacsRoles;
const ports: Record<string, number> = {};

beforeAll(async () => {
  const dir = await makeTempDir('pacs-roles-');
  store = await ConfigStore.open(join(dir, 'data'));
  for (const r of ['PACS', 'WORKSTATION', 'ROUTER']) ports[r] = await freePort();
  const webPort = await freePort();
  await store.update((reg) => {
    let r = setWeb(reg, { port: webPort });
    for (const ae of ['PACS', 'WORKSTATION', 'ROUTER']) r = setAe(r, ae, { connection: { host: '127.0.0.1', port: ports[ae] } });
    return setAe(r, 'PACS', { policy: { strict: true } });
  });
  roles = await PacsRoles.start({ config: store, dataDir: join(dir, 'data'), logger: pino({ level: 'silent' }) });
});

afterAll(async () => {
  await roles?.close();
  store?.close();
  await removeTempDirs();
});

function open(called: string, port: number, calling: string, contexts = [VERIFICATION, CT]): Promise<Association> {
  return connect({
    host: '127.0.0.1',
    port,
    callingAeTitle: calling,
    calledAeTitle: called,
    presentationContexts: contexts.map((abstractSyntax) => ({ abstractSyntax, transferSyntaxes: [ELE] })),
  });
}

const accepted = (a: Association) => [...a.contexts.values()].map((c) => c.abstractSyntax).sort();

describe('roles from the registry', () => {
  it('runs the three roles, each with its own archive', () => {
    expect(roles.status().map((s) => [s.role, s.aeTitle, s.port, s.listening])).toEqual([
      ['main', 'PACS', ports.PACS, true],
      ['workstation', 'WORKSTATION', ports.WORKSTATION, true],
      ['router', 'ROUTER', ports.ROUTER, true],
    ]);
    expect(new Set([roles.archive('main'), roles.archive('workstation'), roles.archive('router')]).size).toBe(3);
  });

  it('strict mode refuses an unknown calling AE with reason 3, a wrong called AE with reason 7; accepts once registered', async () => {
    expect(await rejection(open('PACS', ports.PACS, 'STRANGER'))).toBe(3);
    expect(await rejection(open('NOT_PACS', ports.PACS, 'PACS_CLIENT'))).toBe(7);
    await store.update((r) => addAe(r, { aeTitle: 'STRANGER', connection: { host: '127.0.0.1' } }));
    const a = await open('PACS', ports.PACS, 'STRANGER');
    await cEcho(new DimseConnection(a));
    await a.release();
  });

  it('non-strict roles admit unknown callers with the policy permissions only', async () => {
    await store.update((r) => setAe(r, 'ROUTER', { policy: { unknownCallers: ['echo'] } }));
    const a = await open('ROUTER', ports.ROUTER, 'SOMEONE');
    expect(accepted(a)).toEqual([VERIFICATION]);
    await a.release();
    const ws = await open('WORKSTATION', ports.WORKSTATION, 'SOMEONE');
    expect(accepted(ws)).toEqual([VERIFICATION, CT]);
    await ws.release();
  });

  it('refuses contexts a registered caller may not use, and answers a request it may not make with 0x0124', async () => {
    await store.update((r) => addAe(r, { aeTitle: 'ECHO_ONLY', connection: { host: '127.0.0.1' }, permissions: ['echo'] }));
    const a = await open('PACS', ports.PACS, 'ECHO_ONLY');
    expect(accepted(a)).toEqual([VERIFICATION]);
    await a.release();
    // A C-GET caller gets storage contexts (for the C-STOREs coming back), but may not store itself.
    await store.update((r) => addAe(r, { aeTitle: 'GETTER', connection: { host: '127.0.0.1' }, permissions: ['echo', 'get'] }));
    const g = await open('PACS', ports.PACS, 'GETTER');
    expect(accepted(g)).toEqual([VERIFICATION, CT]);
    const conn = new DimseConnection(g);
    await expect(cStore(conn, { sopClassUid: CT, sopInstanceUid: '1.2.3.4', transferSyntaxUid: ELE }, Buffer.alloc(8))).rejects.toMatchObject({
      status: 0x0124,
    });
    await g.release();
  });

  it('re-opens only the listener whose port changed; a rename applies at once', async () => {
    const before = roles.status();
    const mainAssoc = await open('PACS', ports.PACS, 'PACS_CLIENT');
    const newPort = await freePort();
    await store.update((r) => setAe(setAe(r, 'WORKSTATION', { connection: { port: newPort } }), 'PACS', { aeTitle: 'ARCHIVE' }));
    await roles.settled();
    const after = roles.status();
    expect(after[1]).toMatchObject({ port: newPort, listening: true });
    expect(after[0].port).toBe(before[0].port);
    // The association on the Main Server survived the change.
    await cEcho(new DimseConnection(mainAssoc));
    await mainAssoc.release();
    await expect(open('WORKSTATION', ports.WORKSTATION, 'PACS_CLIENT')).rejects.toThrow(/cannot connect/);
    const w = await open('WORKSTATION', newPort, 'PACS_CLIENT');
    await w.release();
    expect(await rejection(open('PACS', ports.PACS, 'PACS_CLIENT'))).toBe(7);
    const renamed = await open('ARCHIVE', ports.PACS, 'PACS_CLIENT');
    await renamed.release();
  });

  it('maps SOP classes to permissions', () => {
    expect(requiredPermission(VERIFICATION)).toBe('echo');
    expect(requiredPermission(CT)).toBe('store');
    expect(requiredPermission('1.2.840.10008.5.1.4.1.2.2.1')).toBe('find');
    expect(requiredPermission('1.2.840.10008.5.1.4.1.2.2.2')).toBe('move');
    expect(requiredPermission('1.2.840.10008.5.1.4.1.2.1.3')).toBe('get');
    expect(requiredPermission('1.2.840.10008.5.1.4.31')).toBe('worklist');
    expect(requiredPermission('1.2.840.10008.3.1.2.3.3')).toBe('mpps');
    expect(requiredPermission('1.2.840.10008.1.20.1')).toBe('commit');
  });
});
