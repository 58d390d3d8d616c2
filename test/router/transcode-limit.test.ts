/**
 * The router's forwarded copies hold an instance in memory when they are re-encoded (a
 * rule's attribute changes, or a conversion for a destination that refused the stored
 * syntax): over limits.dataset.maxTranscodeBytes, the queue entry fails at once (dead,
 * not retried: a retry cannot make it smaller) with the reason; within it, it is delivered.
 */
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigStore, setAe, setWeb } from '../../src/config/index.js';
import { DimseConnection } from '../../src/dimse/dimse-connection.js';
import { cStore } from '../../src/dimse/scu.js';
import { connect } from '../../src/net/index.js';
import { PacsRoles } from '../../src/roles/pacs-roles.js';
import type { Router } from '../../src/router/router.js';
import { CT_IMAGE, datasetBytes, EXPLICIT_LE } from '../archive/helpers.js';
import { freePort } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { until } from '../support/until.js';

const logger = pino({ level: 'silent' });
let store: ConfigStore;
let roles: PacsRoles;
let router: Router;
let routerPort: number;
const uidRoot = `1.2.826.0.1.3680043.10.78.${Date.now() % 1e9}`;

beforeAll(async () => {
  const dir = await makeTempDir('pacs-router-limit-');
  store = await ConfigStore.open(join(dir, 'data'));
  const ports = { PACS: await freePort(), WORKSTATION: await freePort(), ROUTER: await freePort() };
  routerPort = ports.ROUTER;
  const webPort = await freePort();
  await store.update((reg) => {
    let r = setWeb(reg, { port: webPort });
    for (const [ae, port] of Object.entries(ports)) r = setAe(r, ae, { connection: { host: '127.0.0.1', port } });
    return { ...r, limits: { dataset: { maxTranscodeBytes: 10_000 } } };
  });
  roles = await PacsRoles.start({ config: store, dataDir: join(dir, 'data'), logger });
  router = roles.router()!;
  await router.rules.update((s) => ({
    rules: [{ name: 'changed copy', condition: 'true', destinations: ['WORKSTATION'], changes: { InstitutionName: 'Routed Hospital' } }],
    queue: { ...s.queue, maxAttempts: 5, baseDelayMs: 20, maxDelayMs: 40 },
  }));
});

afterAll(async () => {
  await roles?.close();
  store?.close();
  await removeTempDirs();
});

async function send(uid: string, pixelBytes: number): Promise<void> {
  const assoc = await connect({
    host: '127.0.0.1',
    port: routerPort,
    callingAeTitle: 'MODALITY',
    calledAeTitle: 'ROUTER',
    presentationContexts: [{ abstractSyntax: CT_IMAGE, transferSyntaxes: [EXPLICIT_LE] }],
  });
  try {
    await cStore(
      new DimseConnection(assoc),
      { sopClassUid: CT_IMAGE, sopInstanceUid: uid, transferSyntaxUid: EXPLICIT_LE },
      datasetBytes({ sopInstanceUid: uid, pixelBytes }),
    );
  } finally {
    await assoc.release();
  }
}

describe('router copies over limits.dataset.maxTranscodeBytes', () => {
  it('fail their queue entry at once with the reason; a smaller one is delivered', async () => {
    await send(`${uidRoot}.1`, 20_000);
    await send(`${uidRoot}.2`, 2_000);
    await until('the small one delivered', () => roles.archive('workstation')!.index.hasInstance(`${uidRoot}.2`));
    await until('the large one dead', async () => (await router.entries({ state: 'dead' })).length === 1);
    const [dead] = await router.entries({ state: 'dead' });
    expect(dead.sopInstanceUid).toBe(`${uidRoot}.1`);
    expect(dead.attempts).toBe(1); // not retried
    expect(dead.lastError).toMatch(/^over limits\.dataset\.maxTranscodeBytes \(10000\): the stored file of /);
    expect(await roles.archive('workstation')!.index.hasInstance(`${uidRoot}.1`)).toBe(false);
  });
});
