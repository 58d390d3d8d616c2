/**
 * The Router role in process: what it stores is queued in the same transaction and
 * forwarded by rules; a destination that is down gets everything once it is up; dead
 * letters, manual retry and purge; attribute changes on the forwarded copy.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAe, ConfigStore, setAe, setWeb } from '../../src/config/index.js';
import { DimseConnection } from '../../src/dimse/dimse-connection.js';
import { cStore } from '../../src/dimse/scu.js';
import { connect } from '../../src/net/index.js';
import { PacsRoles } from '../../src/roles/pacs-roles.js';
import { startStorageRole, type StorageRole } from '../../src/roles/storage-role.js';
import type { Router } from '../../src/router/router.js';
import { CT_IMAGE, datasetBytes, EXPLICIT_LE, MR_IMAGE } from '../archive/helpers.js';
import { freePort } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { until } from '../support/until.js';

const logger = pino({ level: 'silent' });
let dir: string;
let store: ConfigStore;
let roles: PacsRoles;
let router: Router;
const ports: Record<string, number> = {};
const uidRoot = `1.2.826.0.1.3680043.10.77.${Date.now() % 1e9}`;

beforeAll(async () => {
  dir = await makeTempDir('pacs-router-');
  store = await ConfigStore.open(join(dir, 'data'));
  for (const r of ['PACS', 'WORKSTATION', 'ROUTER', 'DOWNSTREAM']) ports[r] = await freePort();
  const webPort = await freePort();
  await store.update((reg) => {
    let r = setWeb(reg, { port: webPort });
    for (const ae of ['PACS', 'WORKSTATION', 'ROUTER']) r = setAe(r, ae, { connection: { host: '127.0.0.1', port: ports[ae] } });
    return addAe(r, { aeTitle: 'DOWNSTREAM', connection: { host: '127.0.0.1', port: ports.DOWNSTREAM } });
  });
  roles = await PacsRoles.start({ config: store, dataDir: join(dir, 'data'), logger });
  router = roles.router()!;
  expect(router).toBeDefined();
});

afterAll(async () => {
  await roles?.close();
  store?.close();
  await removeTempDirs();
});

async function send(instances: { uid: string; modality?: string; sopClassUid?: string }[], calling = 'MODALITY'): Promise<void> {
  const assoc = await connect({
    host: '127.0.0.1',
    port: ports.ROUTER,
    callingAeTitle: calling,
    calledAeTitle: 'ROUTER',
    presentationContexts: [CT_IMAGE, MR_IMAGE].map((abstractSyntax) => ({ abstractSyntax, transferSyntaxes: [EXPLICIT_LE] })),
  });
  const conn = new DimseConnection(assoc);
  try {
    for (const i of instances) {
      const sopClassUid = i.sopClassUid ?? CT_IMAGE;
      await cStore(
        conn,
        { sopClassUid, sopInstanceUid: i.uid, transferSyntaxUid: EXPLICIT_LE },
        datasetBytes({ sopInstanceUid: i.uid, sopClassUid, modality: i.modality }),
      );
    }
  } finally {
    await assoc.release();
  }
}

describe('Router role', () => {
  it('forwards by the default rule to the Workstation Server', async () => {
    await send([{ uid: `${uidRoot}.1` }]);
    const ws = roles.archive('workstation')!;
    await until('the workstation has it', () => ws.index.hasInstance(`${uidRoot}.1`));
    expect(await router.entries()).toEqual([]);
  });

  it('counts each delivered instance once while the deletion of its queue row commits', async () => {
    const queue = roles.archive('router')!.index.forwardQueue;
    const deliveredToWorkstation = async () => (await router.status()).find((s) => s.destination === 'WORKSTATION')?.delivered ?? 0;
    const before = await deliveredToWorkstation();
    const uids = [1, 2, 3].map((i) => `${uidRoot}.9.${i}`);
    const original = queue.delivered.bind(queue);
    let committed!: () => void;
    const commit = new Promise<void>((resolve) => (committed = resolve));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // The flush that deletes the last row commits, then its sender hears of it late.
    queue.delivered = async (entries) => {
      await original(entries);
      if (entries.some((e) => e.sopInstanceUid === uids[2])) {
        committed();
        await held;
      }
    };
    try {
      await send(uids.map((uid) => ({ uid })));
      await commit;
      const during = router.status();
      setTimeout(release, 100);
      expect((await during).find((s) => s.destination === 'WORKSTATION')).toMatchObject({ delivered: before + 3, pending: 0, failed: 0 });
      expect(await deliveredToWorkstation()).toBe(before + 3);
    } finally {
      release();
      queue.delivered = original;
    }
  });

  it('queues for a destination that is down and delivers everything when it comes up, with changed attributes', async () => {
    await router.rules.update(() => ({
      rules: [
        {
          name: 'ct downstream',
          condition: 'Modality == "CT" && callingAE == "CT_1"',
          destinations: ['DOWNSTREAM'],
          changes: { InstitutionName: 'Routed Hospital', PatientSex: null },
        },
        { name: 'rest', condition: 'true', destinations: ['WORKSTATION'] },
      ],
      queue: { maxAttempts: 1000, baseDelayMs: 50, maxDelayMs: 300, batchSize: 7, idleReleaseMs: 100 },
    }));
    const uids = Array.from({ length: 30 }, (_, i) => `${uidRoot}.2.${i}`);
    await send(
      uids.map((uid) => ({ uid })),
      'CT_1',
    );
    await send([{ uid: `${uidRoot}.3`, modality: 'MR', sopClassUid: MR_IMAGE }], 'CT_1');
    // every acknowledged instance is in the queue at once (same transaction as the store)
    const queued = await router.entries({ destination: 'DOWNSTREAM' });
    expect(queued.map((e) => e.sopInstanceUid).sort()).toEqual([...uids].sort());
    await until('failed attempts', async () => (await router.status()).find((s) => s.destination === 'DOWNSTREAM' && s.failed === 30));
    expect((await router.status()).find((s) => s.destination === 'DOWNSTREAM')?.lastError).toMatch(/cannot send to DOWNSTREAM/);
    await until('the MR at the workstation', () => roles.archive('workstation')!.index.hasInstance(`${uidRoot}.3`));

    const down: StorageRole = await startStorageRole({
      aeTitle: 'DOWNSTREAM',
      port: ports.DOWNSTREAM,
      host: '127.0.0.1',
      dataDir: join(dir, 'downstream'),
      logger,
    });
    try {
      await until('all 30 delivered', async () => (await down.archive.index.countInstances()) === 30, 30_000);
      await until('the queue empty', async () => (await router.entries({ destination: 'DOWNSTREAM' })).length === 0);
      const row = await down.archive.index.getInstance(uids[0]);
      const json = JSON.parse(row!.json) as Record<string, { Value?: unknown[] }>;
      expect(json['00080080'].Value).toEqual(['Routed Hospital']);
      expect(json['00100040']).toBeUndefined();
      expect(json['00100010'].Value).toEqual([{ Alphabetic: 'Doe^Jane' }]);
      expect(row!.callingAeTitle).toBe('ROUTER');
    } finally {
      await down.close();
    }
  });

  it('dead-letters after maxAttempts; retry and purge by hand', async () => {
    await router.rules.update((s) => ({
      rules: [{ name: 'all down', condition: 'true', destinations: ['DOWNSTREAM'] }],
      queue: { ...s.queue, maxAttempts: 2, baseDelayMs: 20, maxDelayMs: 40 },
    }));
    await send([{ uid: `${uidRoot}.4.1` }, { uid: `${uidRoot}.4.2` }]);
    await until('dead', async () => (await router.status()).find((s) => s.destination === 'DOWNSTREAM' && s.dead === 2));
    const dead = await router.entries({ destination: 'DOWNSTREAM', state: 'dead' });
    expect(dead.map((e) => e.attempts)).toEqual([2, 2]);
    expect(await router.retry({ destination: 'DOWNSTREAM', ids: [dead[0].id] })).toBe(1);
    await until('dead again', async () => (await router.status()).find((s) => s.destination === 'DOWNSTREAM' && s.dead === 2));
    expect(await router.purge({ destination: 'DOWNSTREAM' })).toBe(2);
    expect(await router.entries({ destination: 'DOWNSTREAM' })).toEqual([]);
  });

  it('sends each instance once when new ones stream in while a failed one waits for its retry', async () => {
    await router.rules.update(() => ({
      rules: [{ name: 'all downstream', condition: 'true', destinations: ['DOWNSTREAM'] }],
      queue: { maxAttempts: 100, baseDelayMs: 150, maxDelayMs: 300, batchSize: 4, idleReleaseMs: 100 },
    }));
    const before = (await router.status()).find((s) => s.destination === 'DOWNSTREAM')?.delivered ?? 0;
    const first = `${uidRoot}.5.0`;
    await send([{ uid: first }]); // DOWNSTREAM is down: a failed attempt, retried later (found by a scan)
    await until('a failed attempt', async () => (await router.status()).find((s) => s.destination === 'DOWNSTREAM' && s.failed === 1));
    const down: StorageRole = await startStorageRole({
      aeTitle: 'DOWNSTREAM',
      port: ports.DOWNSTREAM,
      host: '127.0.0.1',
      dataDir: join(dir, 'downstream-5'),
      logger,
    });
    try {
      // These are handed to the sender in memory as they are committed, one per round
      // (batchSize 1), while manual retries keep asking for scans of the index, which
      // then also return entries already handed over (and, past 64, already deleted as delivered).
      await router.rules.update((s) => ({ ...s, queue: { ...s.queue, batchSize: 1 } }));
      const uids = Array.from({ length: 100 }, (_, i) => `${uidRoot}.5.${i + 1}`);
      let sending = true;
      const scans = (async () => {
        while (sending) {
          await router.retry({ destination: 'DOWNSTREAM' });
          await new Promise((r) => setTimeout(r, 3));
        }
      })();
      await Promise.all([send(uids.slice(0, 50).map((uid) => ({ uid }))), send(uids.slice(50).map((uid) => ({ uid })))]).finally(() => void (sending = false));
      await scans;
      await until('all 101 delivered', async () => (await down.archive.index.countInstances()) === 101, 30_000);
      await until('the queue empty', async () => (await router.entries({ destination: 'DOWNSTREAM' })).length === 0);
      expect(await down.archive.index.hasInstance(first)).toBe(true);
      // Exactly one successful C-STORE per instance: none taken from memory and from a scan both.
      const status = (await router.status()).find((s) => s.destination === 'DOWNSTREAM')!;
      expect(status.delivered - before).toBe(101);
      expect(status.failed + status.pending + status.dead).toBe(0);
    } finally {
      await down.close();
    }
  });

  it('a stored file gone when its turn comes (read ahead of the one before) fails that entry alone; the rest are delivered, one from the copy kept in memory', async () => {
    await router.rules.update(() => ({
      rules: [{ name: 'all downstream', condition: 'true', destinations: ['DOWNSTREAM'] }],
      queue: { maxAttempts: 1000, baseDelayMs: 100, maxDelayMs: 200, batchSize: 10, idleReleaseMs: 100 },
    }));
    const uids = Array.from({ length: 5 }, (_, i) => `${uidRoot}.60.${i}`);
    await send(uids.map((uid) => ({ uid }))); // DOWNSTREAM is down: each gets a failed attempt
    await until('5 failed attempts', async () => (await router.status()).find((s) => s.destination === 'DOWNSTREAM' && s.failed === 5));
    const routerArchive = roles.archive('router')!;
    const gone = await routerArchive.index.getInstance(uids[2]);
    await routerArchive.blobs.delete(gone!.fileKey); // file and copy
    // A file removed behind the store's back: the sender forwards the copy it kept of it.
    const fromMemory = await routerArchive.index.getInstance(uids[3]);
    rmSync(routerArchive.blobs.path(fromMemory!.fileKey));
    const down: StorageRole = await startStorageRole({
      aeTitle: 'DOWNSTREAM',
      port: ports.DOWNSTREAM,
      host: '127.0.0.1',
      dataDir: join(dir, 'downstream-6'),
      logger,
    });
    try {
      await until('4 delivered', async () => (await down.archive.index.countInstances()) === 4, 30_000);
      for (const [i, uid] of uids.entries()) expect(await down.archive.index.hasInstance(uid)).toBe(i !== 2);
      await until('only the one without a file left', async () => (await router.entries({ destination: 'DOWNSTREAM' })).length === 1);
      const [left] = await router.entries({ destination: 'DOWNSTREAM' });
      expect(left.sopInstanceUid).toBe(uids[2]);
      expect(left.lastError).toMatch(/ENOENT/);
    } finally {
      await down.close();
    }
    // Clean-up for the next test. Not counted: delivered rows whose deletion is not flushed yet go too
    // (entries() hides them), and the entry left may be in flight for its retry.
    await router.purge({ destination: 'DOWNSTREAM', all: true });
  });

  it('dry-runs the rules against a stored instance', async () => {
    await router.rules.update((s) => ({
      ...s,
      rules: [
        { name: 'mr', condition: 'Modality == "MR"', destinations: ['PACS'] },
        { name: 'from CT_1', condition: 'callingAE == "CT_1" && StudyDescription.matches("(?i)HEAD")', destinations: ['DOWNSTREAM'] },
      ],
    }));
    const d = await router.testInstance(`${uidRoot}.2.0`);
    expect(d?.matches.map((m) => m.matched)).toEqual([false, true]);
    expect(d?.sends.map((x) => x.destination)).toEqual(['DOWNSTREAM']);
    expect(await router.testInstance('1.2.3.404')).toBeUndefined();
  });

  it('deletes instances with nothing left to send once past their retention, and keeps queued ones', async () => {
    await router.rules.update((s) => ({
      rules: [
        { name: 'mr down', condition: 'Modality == "MR"', destinations: ['DOWNSTREAM'] },
        { name: 'rest', condition: 'true', destinations: ['WORKSTATION'] },
      ],
      queue: { ...s.queue, batchSize: 10, deleteForwardedAfterHours: 24 },
    }));
    const routed = `${uidRoot}.6.1`;
    const waiting = `${uidRoot}.6.2`;
    await send([{ uid: routed }, { uid: waiting, modality: 'MR', sopClassUid: MR_IMAGE }]);
    const own = roles.archive('router')!;
    await until('forwarded to the workstation', () => roles.archive('workstation')!.index.hasInstance(routed));
    const file = own.blobs.path((await own.index.getInstance(routed))!.fileKey);
    expect(existsSync(file)).toBe(true);
    // Within the retention nothing goes; a day later the forwarded one goes (once its
    // delivered entry is deleted from the queue), the one still queued stays.
    expect(await router.deleteForwarded()).toBe(0);
    const dayLater = Date.now() + 25 * 3_600_000;
    await until('the forwarded instance deleted', async () => (await router.deleteForwarded(dayLater), !(await own.index.hasInstance(routed))));
    expect(existsSync(file)).toBe(false);
    expect(await own.index.hasInstance(waiting)).toBe(true);
    expect((await router.entries({ destination: 'DOWNSTREAM' })).some((e) => e.sopInstanceUid === waiting)).toBe(true);
    // null keeps everything.
    await router.rules.update((s) => ({ ...s, queue: { ...s.queue, deleteForwardedAfterHours: null } }));
    await router.purge({ destination: 'DOWNSTREAM', all: true });
    expect(await router.deleteForwarded(Date.now() + 1e12)).toBe(0);
    expect(await own.index.hasInstance(waiting)).toBe(true);
  });
});

describe('what no rule forwards (issue 15 item 8)', () => {
  const own = () => roles.archive('router')!;
  const dayLater = () => Date.now() + 25 * 3_600_000;

  it('keeps an MR sent to a router whose only rule is Modality == "CT" past the retention', async () => {
    await router.rules.update((s) => ({
      rules: [{ name: 'ct only', condition: 'Modality == "CT"', destinations: ['WORKSTATION'] }],
      queue: { ...s.queue, deleteForwardedAfterHours: 24 },
    }));
    const mr = `${uidRoot}.8.1`;
    await send([{ uid: mr, modality: 'MR', sopClassUid: MR_IMAGE }]);
    expect(await own().index.hasInstance(mr)).toBe(true);
    await router.deleteForwarded(dayLater());
    expect(await own().index.hasInstance(mr), 'the unrouted MR was deleted by the retention').toBe(true);
    // Listed as unrouted, apart from the destinations' queues.
    const held = await router.unrouted();
    expect(held.filter((e) => e.sopInstanceUid === mr).map((e) => [e.state, e.destination])).toEqual([['unrouted', '']]);
    expect(await router.entries({ destination: 'WORKSTATION' })).toEqual([]);
    expect((await router.unroutedCounts()).unrouted).toBeGreaterThanOrEqual(1);
  });

  it('keeps an instance whose rule failed to evaluate, as a failed entry carrying the error; a retry after the fix routes it', async () => {
    await router.rules.update((s) => ({
      rules: [{ name: 'body part', condition: 'BodyPartExamined.matches("(?i)head")', destinations: ['WORKSTATION'] }],
      queue: { ...s.queue, deleteForwardedAfterHours: 24 },
    }));
    const ct = `${uidRoot}.8.2`;
    await send([{ uid: ct }]); // no BodyPartExamined: a method on null is an evaluation error
    await router.deleteForwarded(dayLater());
    expect(await own().index.hasInstance(ct), 'the instance whose rule failed was deleted by the retention').toBe(true);
    const [failed] = (await router.unrouted({ state: 'rule-failed' })).filter((e) => e.sopInstanceUid === ct);
    expect(failed).toMatchObject({ state: 'rule-failed', rule: 'body part', destination: '' });
    expect(failed.lastError).toMatch(/body part/);
    // Still failing: the instance stays held, with the error, under a new id (ids are never given twice).
    expect(await router.reroute({ ids: [failed.id] })).toMatchObject({ failed: 1, routed: 0 });
    const [again] = (await router.unrouted({ state: 'rule-failed' })).filter((e) => e.sopInstanceUid === ct);
    expect(again).toMatchObject({ state: 'rule-failed', rule: 'body part' });
    expect(again.id).toBeGreaterThan(failed.id);
    expect(await router.reroute({ ids: [failed.id] }), 'the old id names nothing now').toMatchObject({ retried: 0 });
    await router.rules.update((s) => ({
      ...s,
      rules: [
        { name: 'body part', condition: 'BodyPartExamined != null && BodyPartExamined.matches("(?i)head")', destinations: ['PACS'] },
        { name: 'rest', condition: 'true', destinations: ['WORKSTATION'] },
      ],
    }));
    expect(await router.reroute({ ids: [again.id] })).toMatchObject({ routed: 1, failed: 0 });
    await until('re-routed to the workstation', () => roles.archive('workstation')!.index.hasInstance(ct));
    expect((await router.unrouted()).some((e) => e.sopInstanceUid === ct)).toBe(false);
  });

  it('purging an unrouted entry makes its instance eligible for the retention', async () => {
    await router.rules.update((s) => ({ ...s, rules: [{ name: 'ct only', condition: 'Modality == "CT"', destinations: ['WORKSTATION'] }] }));
    const mr = `${uidRoot}.8.3`;
    await send([{ uid: mr, modality: 'MR', sopClassUid: MR_IMAGE }]);
    const entry = (await router.unrouted()).find((e) => e.sopInstanceUid === mr)!;
    expect(entry.state).toBe('unrouted');
    await router.deleteForwarded(dayLater());
    expect(await own().index.hasInstance(mr)).toBe(true);
    expect(await router.purgeUnrouted({ ids: [entry.id] })).toBe(1);
    await router.deleteForwarded(dayLater());
    expect(await own().index.hasInstance(mr)).toBe(false);
  });

  it('a rule that discards: no entry, so the retention deletes the instance', async () => {
    await router.rules.update((s) => ({
      ...s,
      rules: [
        { name: 'drop MR', condition: 'Modality == "MR"', destinations: [], discard: true },
        { name: 'ct only', condition: 'Modality == "CT"', destinations: ['WORKSTATION'] },
      ],
    }));
    const mr = `${uidRoot}.8.4`;
    await send([{ uid: mr, modality: 'MR', sopClassUid: MR_IMAGE }]);
    expect(await own().index.hasInstance(mr)).toBe(true);
    expect((await router.unrouted()).some((e) => e.sopInstanceUid === mr)).toBe(false);
    await router.deleteForwarded(dayLater());
    expect(await own().index.hasInstance(mr)).toBe(false);
  });
});
