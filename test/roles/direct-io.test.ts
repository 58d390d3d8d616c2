/**
 * limits.storage.directIo: the Main and Workstation archives write received files with
 * O_DIRECT where the file system takes it ('auto'), never ('off'), or only so ('on'); the
 * Router's store too (its sender forwards from copies kept in memory, not from the files).
 */
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { FileBlobStore } from '../../src/archive/file-blob-store.js';
import { ConfigStore, describeLimits, effectiveLimits, limitsSchema, setAe, setLimits, setWeb } from '../../src/config/index.js';
import { PacsRoles } from '../../src/roles/pacs-roles.js';
import { freePort } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

const logger = pino({ level: 'silent' });
let roles: PacsRoles | undefined;
let store: ConfigStore | undefined;

afterEach(async () => {
  await roles?.close();
  store?.close();
  roles = undefined;
  store = undefined;
  await removeTempDirs();
});

async function start(directIo?: 'auto' | 'on' | 'off'): Promise<PacsRoles> {
  const dir = await makeTempDir('pacs-direct-io-');
  store = await ConfigStore.open(join(dir, 'data'));
  const ports = { PACS: await freePort(), WORKSTATION: await freePort(), ROUTER: await freePort(), web: await freePort() };
  await store.update((reg) => {
    let r = setWeb(reg, { port: ports.web });
    for (const ae of ['PACS', 'WORKSTATION', 'ROUTER'] as const) r = setAe(r, ae, { connection: { host: '127.0.0.1', port: ports[ae] } });
    return directIo ? setLimits(r, { storage: { directIo } }) : r;
  });
  roles = await PacsRoles.start({ config: store, dataDir: join(dir, 'data'), logger });
  return roles;
}

const directOf = (r: PacsRoles, role: 'main' | 'workstation' | 'router') => (r.archive(role)!.blobs as FileBlobStore).directIo;

describe('limits.storage.directIo', () => {
  it("is 'auto' by default, shown, and refuses anything else by name", () => {
    expect(effectiveLimits({}).storage.directIo).toBe('auto');
    expect(describeLimits({ limits: { storage: { directIo: 'off' } } })).toContain('storage.directIo = "off"');
    const bad = limitsSchema.safeParse({ storage: { directIo: 'yes' } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0].message).toBe("directIo is one of 'auto', 'on', 'off'");
  });

  it('auto: every store writes directly on this ext4', async () => {
    const r = await start();
    expect([directOf(r, 'main'), directOf(r, 'workstation'), directOf(r, 'router')]).toEqual([true, true, true]);
  });

  it('off: every store writes through the page cache', async () => {
    const r = await start('off');
    expect([directOf(r, 'main'), directOf(r, 'workstation'), directOf(r, 'router')]).toEqual([false, false, false]);
  });
});
