/**
 * The router over a PostgreSQL index: queue rows written in the ingest's transaction
 * (also before attach, when the hook creates the table), forwarded to a live destination,
 * held rows re-routed, the retention. The forward queue store is the same interface on
 * both backends (test/archive/forward-queue-*.test.ts); this runs the router on the one
 * its role does not use by default.
 */
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Archive } from '../../src/archive/archive.js';
import { addAe, ConfigStore } from '../../src/config/index.js';
import { startStorageRole, type StorageRole } from '../../src/roles/storage-role.js';
import { RuleStore } from '../../src/router/rule-store.js';
import { Router } from '../../src/router/router.js';
import { CT_IMAGE, datasetBytes, MR_IMAGE, storeRequest } from '../archive/helpers.js';
import { dropSchema, freshSchemaName, PG_URL, postgresAvailable } from '../archive/pg-support.js';
import { freePort } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { until } from '../support/until.js';

const logger = pino({ level: 'silent' });
const schema = freshSchemaName();
let config: ConfigStore;
let router: Router;
let archive: Archive | undefined;
let down: StorageRole;

beforeAll(async () => {
  if (!(await postgresAvailable())) throw new Error(`PostgreSQL is not reachable at ${PG_URL}`);
  const dir = await makeTempDir('pacs-router-pg-');
  const port = await freePort();
  config = await ConfigStore.open(join(dir, 'data'));
  await config.update((reg) => addAe(reg, { aeTitle: 'DOWNSTREAM', connection: { host: '127.0.0.1', port } }));
  down = await startStorageRole({ aeTitle: 'DOWNSTREAM', port, host: '127.0.0.1', dataDir: join(dir, 'downstream'), logger });
  const rules = await RuleStore.open(join(dir, 'data'), { registry: () => config.current });
  await rules.update((s) => ({ ...s, rules: [{ name: 'ct', condition: 'Modality == "CT"', destinations: ['DOWNSTREAM'] }] }));
  router = new Router({ rules, registry: () => config.current, logger });
  archive = await Archive.open({ dataDir: join(dir, 'router'), index: { postgres: PG_URL, schema }, afterInsert: router.afterInsert, logger });
});

afterAll(async () => {
  await router?.close();
  await archive?.close();
  await down?.close();
  config?.close();
  await dropSchema(schema);
  await removeTempDirs();
});

async function store(uid: string, modality: string): Promise<void> {
  const sopClassUid = modality === 'MR' ? MR_IMAGE : CT_IMAGE;
  const sink = archive!.beginStore(storeRequest({ sopInstanceUid: uid, sopClassUid }));
  await sink.write(datasetBytes({ sopInstanceUid: uid, sopClassUid, modality }));
  expect((await sink.end()).status).toBe('stored');
}

it('queues in the ingest transaction (before and after attach), forwards, re-routes held rows and applies the retention', async () => {
  // Before attach: the hook creates the queue's table in PostgreSQL's dialect.
  await store('1.2.826.0.1.3680043.10.99.1', 'CT');
  await store('1.2.826.0.1.3680043.10.99.2', 'MR');
  await router.attach(archive!);
  await until('the CT stored before attach delivered', () => down.archive.index.hasInstance('1.2.826.0.1.3680043.10.99.1'));
  await store('1.2.826.0.1.3680043.10.99.3', 'CT');
  await until('the CT stored after attach delivered', () => down.archive.index.hasInstance('1.2.826.0.1.3680043.10.99.3'));
  await until('the queue empty', async () => (await router.entries()).length === 0);

  // The MR matched no rule: held, kept from the retention until re-routed.
  const [held] = await router.unrouted();
  expect(held).toMatchObject({ sopInstanceUid: '1.2.826.0.1.3680043.10.99.2', state: 'unrouted', destination: '' });
  expect(await router.unroutedCounts()).toEqual({ unrouted: 1, ruleFailed: 0 });
  const dayLater = Date.now() + 25 * 3_600_000;
  await router.rules.update((s) => ({ ...s, queue: { ...s.queue, deleteForwardedAfterHours: 24 } }));
  // The instances' received time is now: a day later the two forwarded CTs go (once the
  // sender has deleted their delivered rows), the held MR stays.
  let deleted = 0;
  await until('the forwarded CTs deleted by the retention', async () => (deleted += await router.deleteForwarded(dayLater)) >= 2);
  expect(deleted).toBe(2);
  expect(await archive!.index.hasInstance('1.2.826.0.1.3680043.10.99.1')).toBe(false);
  expect(await archive!.index.hasInstance('1.2.826.0.1.3680043.10.99.2')).toBe(true);

  await router.rules.update((s) => ({ ...s, rules: [{ name: 'all', condition: 'true', destinations: ['DOWNSTREAM'] }] }));
  expect(await router.reroute()).toMatchObject({ retried: 1, routed: 1 });
  await until('the re-routed MR delivered', () => down.archive.index.hasInstance('1.2.826.0.1.3680043.10.99.2'));
  await until('the queue empty again', async () => (await router.entries()).length === 0);
  expect(await router.unrouted()).toEqual([]);
  await until('the re-routed MR deleted by the retention', async () => (await router.deleteForwarded(dayLater)) === 1);
  expect(await archive!.index.countInstances()).toBe(0);
});
