/**
 * The Workstation Server's size cap (limits.workstation) on the running roles: studies
 * stored with DCMTK storescu into WORKSTATION, the cap lowered below what they take; the
 * studies received or viewed longest ago are deleted until the archive is under the cap,
 * the newest stay, the index and the files on disk agree, and each clean-up is in the
 * activity log and the server log. A study in use (received or read within inUseSeconds)
 * is kept even when the archive stays over the cap.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCtSeries, type CtSeriesResult } from '../../scripts/gen-test-data.js';
import { studyUsage } from '../../src/archive/study-usage.js';
import { ConfigStore, effectiveLimits, setAe, setLimits, setWeb } from '../../src/config/index.js';
import { PacsRoles } from '../../src/roles/pacs-roles.js';
import { freePort, storescu } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { until } from '../support/until.js';

let store: ConfigStore;
let roles: PacsRoles;
let dataDir: string;
let wsPort: number;
const logLines: string[] = [];
const studies: Record<string, CtSeriesResult> = {};

const ws = () => roles.archive('workstation')!;
const cap = () => roles.workstationCap()!;
const setCap = (workstation: Record<string, number | null>) => store.update((reg) => setLimits(reg, { workstation }));

async function storeStudy(name: string): Promise<void> {
  const r = await storescu({ port: wsPort, calledAet: 'WORKSTATION', files: studies[name].files });
  expect(r.code, r.stderr).toBe(0);
}

/** Which of the named studies the Workstation's index holds. */
async function present(): Promise<string[]> {
  const out: string[] = [];
  for (const [name, s] of Object.entries(studies)) if ((await ws().index.listSeries(s.studyUid)).length > 0) out.push(name);
  return out.sort();
}

/** Bytes per study in the index, by name. */
async function sizes(): Promise<Record<string, number>> {
  const byUid = new Map((await studyUsage(ws().index)).map((u) => [u.studyInstanceUid, u.bytes]));
  return Object.fromEntries(Object.entries(studies).map(([n, s]) => [n, byUid.get(s.studyUid) ?? 0]));
}

/** Every non-empty stored file under the Workstation's blobs/s (empty ones are the store's pre-created pool). */
async function filesOnDisk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || !e.name.endsWith('.dcm')) continue;
    const p = join(e.parentPath, e.name);
    if ((await stat(p)).size > 0) out.push(p);
  }
  return out.sort();
}

/** The index's rows and the files on disk are the same set, and their sizes sum to what the cap measures. */
async function expectIndexAndFilesAgree(): Promise<number> {
  const paths: string[] = [];
  let bytes = 0;
  for (const s of Object.values(studies))
    for (const se of await ws().index.listSeries(s.studyUid))
      for (const i of await ws().index.listInstances(se.seriesInstanceUid)) {
        paths.push(ws().blobs.path(i.fileKey));
        expect((await stat(ws().blobs.path(i.fileKey))).size).toBe(i.fileSize);
        bytes += i.fileSize;
      }
  expect(await filesOnDisk(join(dataDir, 'workstation', 'blobs', 's'))).toEqual(paths.sort());
  expect((await cap().usage()).bytes).toBe(bytes);
  return bytes;
}

async function cleanUpEvents() {
  await roles.activity.flushed();
  return (await roles.activity.query({ kind: 'delete' })).events.filter((e) => e.role === 'workstation');
}

beforeAll(async () => {
  const dir = await makeTempDir('pacs-ws-cap-');
  dataDir = join(dir, 'data');
  for (const name of ['A', 'B', 'C', 'D', 'E'])
    studies[name] = await writeCtSeries({ dir: join(dir, name), count: 3, rows: 64, cols: 64, patientName: `CAP^${name}`, patientId: `CAP-${name}` });
  store = await ConfigStore.open(dataDir);
  const ports = { PACS: await freePort(), WORKSTATION: await freePort(), ROUTER: await freePort() };
  wsPort = ports.WORKSTATION;
  const webPort = await freePort();
  await store.update((reg) => {
    let r = setWeb(reg, { port: webPort });
    for (const [ae, port] of Object.entries(ports)) r = setAe(r, ae, { connection: { host: '127.0.0.1', port } });
    return r;
  });
  const log = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  roles = await PacsRoles.start({ config: store, dataDir, logger: pino({ level: 'info' }, log) });
}, 60_000);

afterAll(async () => {
  await roles?.close();
  store?.close();
  await removeTempDirs();
});

describe('the Workstation archive size cap', () => {
  it('has a default that lets a first start keep its studies', async () => {
    expect(effectiveLimits(store.current).workstation).toEqual({ maxBytes: 20 * 1024 ** 3, inUseSeconds: 600 });
    for (const name of ['A', 'B', 'C', 'D']) await storeStudy(name);
    expect(await cap().check()).toBeUndefined();
    expect(await present()).toEqual(['A', 'B', 'C', 'D']);
    await expectIndexAndFilesAgree();
  });

  it('deletes the studies received or viewed longest ago until under the cap; the newest stay', async () => {
    const s = await sizes();
    expect(Object.values(s).filter((n) => n > 0)).toHaveLength(4);
    // A, received first, was viewed since: B and C are now the least recently used.
    cap().opened(studies.A.studyUid);
    const maxBytes = s.A + s.D + Math.floor(s.C / 2);
    await setCap({ maxBytes, inUseSeconds: 0 });
    await until('the clean-up', async () => (await present()).length === 2);
    expect(await present()).toEqual(['A', 'D']);
    expect(await expectIndexAndFilesAgree()).toBe(s.A + s.D);

    const [event] = await cleanUpEvents();
    expect(event).toMatchObject({ kind: 'delete', outcome: 'success', role: 'workstation', target: 'limits.workstation.maxBytes' });
    expect(event.studyUids).toEqual([studies.B.studyUid, studies.C.studyUid]);
    expect(event.patientIds).toEqual(['CAP-B', 'CAP-C']);
    expect(event.message).toMatch(/^Workstation clean-up: .* over the cap of .*, deleted 2 stud\(ies\) received or viewed longest ago/);
    const line = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => String(l.msg).startsWith('Workstation clean-up'));
    expect(line).toMatchObject({ maxBytes, bytesAfter: s.A + s.D, deleted: [studies.B.studyUid, studies.C.studyUid] });
  });

  it('cleans up after a store takes the archive over the cap', async () => {
    const before = await sizes();
    await storeStudy('E');
    // D is now the least recently used: it goes, A (viewed after D arrived) and E stay.
    await until('the clean-up after the store', async () => (await present()).join() === 'A,E');
    const after = await sizes();
    expect(await expectIndexAndFilesAgree()).toBe(before.A + after.E);
    expect(after.A + after.E).toBeLessThanOrEqual(effectiveLimits(store.current).workstation.maxBytes);
    const events = await cleanUpEvents();
    expect(events).toHaveLength(2);
    expect(events[0].studyUids).toEqual([studies.D.studyUid]);
  });

  it('keeps studies in use even over the cap, and deletes them once they are not', async () => {
    await setCap({ maxBytes: 1, inUseSeconds: null });
    await roles.settled();
    // A and E were received or viewed within the last 600 s.
    const kept = await cap().check();
    expect(kept).toMatchObject({ deleted: [], keptInUse: 2, maxBytes: 1 });
    expect(await present()).toEqual(['A', 'E']);
    expect(logLines.some((l) => l.includes('"level":40') && l.includes('still over the cap: 2 stud(ies) in use kept'))).toBe(true);
    expect(await cleanUpEvents()).toHaveLength(2);

    await setCap({ inUseSeconds: 0 });
    await until('the last clean-up', async () => (await present()).length === 0);
    expect(await expectIndexAndFilesAgree()).toBe(0);
    expect(await cap().usage()).toEqual({ bytes: 0, instances: 0, maxBytes: 1 });
    expect((await cleanUpEvents())[0].studyUids?.sort()).toEqual([studies.A.studyUid, studies.E.studyUid].sort());
  });

  it('refuses a cap that is not a positive number of bytes, naming the field', () => {
    expect(() => setLimits(store.current, { workstation: { maxBytes: 0 } })).toThrow(/limits\.workstation\.maxBytes must be a positive integer/);
    expect(() => setLimits(store.current, { workstation: { inUseSeconds: -1 } })).toThrow(/inUseSeconds must be 0 or more seconds/);
  });
});
