/**
 * The activity log against DCMTK (issue 18): a strict-mode Main Server; a registered
 * modality's storescu of 30 instances and an unknown AE's echoscu (rejected, reason 3)
 * appear in GET /api/activity with their details (AEs, peer address, TLS, contexts,
 * duration, outcome and reason, what was stored, patient and study), the filters select
 * them, each is one `info` line of the process log, and `pacs log` prints them (and,
 * with --follow, the next association as it ends). Only admins read the log.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityEvent, ActivityPage } from '../../src/api-types/activity.js';
import { addAe, ConfigStore, setAe } from '../../src/config/index.js';
import { echoscu, REPO_ROOT, startPacsServe, stopAllPeers, storescu, type PacsPeer } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { writeInstances } from './instance-files.js';

const PASSWORD = 'activity-admin-password';
const STUDY = '1.2.826.0.1.3680043.10.1.1'; // writeInstances' study, patient PID42
let pacs: PacsPeer;
let base: string;
const admin = { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}` };

const activity = async (query = ''): Promise<ActivityEvent[]> => {
  const r = await fetch(`${base}/api/activity${query}`, { headers: admin });
  expect(r.status, await r.clone().text()).toBe(200);
  return ((await r.json()) as ActivityPage).events;
};

beforeAll(async () => {
  const dir = await makeTempDir('pacs-activity-');
  const store = await ConfigStore.open(join(dir, 'pacs', 'data'));
  await store.update((r) => addAe(setAe(r, 'PACS', { policy: { strict: true } }), { aeTitle: 'MODALITY1', connection: { host: '127.0.0.1' } }));
  store.close();
  ({ pacs, base } = await startPacsServe(join(dir, 'pacs'), PASSWORD));
  mkdirSync(join(dir, 'files'));
  const files = writeInstances(join(dir, 'files'), '1.2.826.0.1.3680043.10.77', 30).map((w) => w.path);
  const stored = await storescu({ port: pacs.port, calledAet: 'PACS', callingAet: 'MODALITY1', files });
  expect(stored.code, stored.stderr).toBe(0);
  const refused = await echoscu({ port: pacs.port, calledAet: 'PACS', callingAet: 'UNKNOWN1' });
  expect(refused.stdout + refused.stderr).toMatch(/Calling AE Title Not Recognized/i);
}, 120_000);

afterAll(async () => {
  await stopAllPeers();
  await removeTempDirs();
});

describe('activity log with DCMTK', () => {
  it('holds the storescu of 30 instances and the rejected association with their details', async () => {
    await expect.poll(async () => (await activity('?kind=association')).length, { timeout: 5000 }).toBe(2);
    const [rejected, released] = await activity('?kind=association');
    expect(released).toMatchObject({
      kind: 'association',
      outcome: 'released',
      role: 'main',
      callingAe: 'MODALITY1',
      calledAe: 'PACS',
      tls: false,
      summary: { stored: { requests: 30, completed: 30, failed: 0, failures: [] } },
      patientIds: ['PID42'],
      studyUids: [STUDY],
    });
    // storescu proposes every storage SOP class; the log names each accepted one once, the one used first.
    expect(released.contexts![0]).toBe('CT Image Storage');
    expect(released.contexts).toContain('MR Image Storage');
    expect(new Set(released.contexts).size).toBe(released.contexts!.length);
    expect(released.peerAddress).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
    expect(released.durationMs).toBeGreaterThanOrEqual(0);
    expect(released.message).toMatch(/^MODALITY1 -> PACS \((::ffff:)?127\.0\.0\.1\): released after \d+\.\d s; stored 30$/);
    expect(rejected).toMatchObject({ kind: 'association', outcome: 'rejected', role: 'main', callingAe: 'UNKNOWN1', calledAe: 'PACS', tls: false });
    expect(rejected.reason).toBe('calling AE title "UNKNOWN1" is not registered (strict mode)');
    expect(rejected.id).toBeGreaterThan(released.id);
  });

  it('filters by AE, outcome, patient, study and time', async () => {
    const kinds = (events: ActivityEvent[]) => events.map((e) => `${e.callingAe}:${e.outcome}`);
    expect(kinds(await activity('?ae=UNKNOWN1'))).toEqual(['UNKNOWN1:rejected']);
    expect(kinds(await activity('?outcome=released'))).toEqual(['MODALITY1:released']);
    expect(kinds(await activity('?patientId=PID42'))).toEqual(['MODALITY1:released']);
    expect(kinds(await activity(`?studyUid=${STUDY}`))).toEqual(['MODALITY1:released']);
    expect(kinds(await activity(`?studyUid=${STUDY}&outcome=rejected`))).toEqual([]);
    expect(await activity(`?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).toEqual([]);
    const bad = await fetch(`${base}/api/activity?outcome=maybe`, { headers: admin });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { field: string }).field).toBe('outcome');
  });

  it('writes one info line per event to the process log', () => {
    const lines = readFileSync(pacs.logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"activity":'))
      .map((l) => JSON.parse(l) as { level: number; msg: string; activity: { kind: string; outcome: string } });
    const assoc = lines.filter((l) => l.activity.kind === 'association');
    expect(assoc.map((l) => [l.level, l.activity.outcome])).toEqual([
      [30, 'released'],
      [30, 'rejected'],
    ]);
    expect(assoc[0].msg).toMatch(/stored 30$/);
  });

  it('records logins and is for admins only', async () => {
    const failed = await fetch(`${base}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'admin', password: 'wrong' }),
    });
    expect(failed.status).toBe(401);
    await expect.poll(async () => (await activity('?kind=login')).map((e) => `${e.user}:${e.outcome}`), { timeout: 5000 }).toEqual(['admin:failure']);
    const add = await fetch(`${base}/api/users`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'rita', password: 'reader-password' }),
    });
    expect(add.status).toBe(201);
    expect((await activity('?kind=user')).map((e) => e.message)).toEqual(['admin: added user rita (reader)']);
    const reader = { authorization: `Basic ${Buffer.from('rita:reader-password').toString('base64')}` };
    expect((await fetch(`${base}/api/activity`, { headers: reader })).status).toBe(403);
    expect((await fetch(`${base}/api/activity/stream`, { headers: reader })).status).toBe(403);
    expect((await fetch(`${base}/api/activity`)).status).toBe(401);
  });

  it('pacs log prints the events, filtered, and --follow prints the next one', async () => {
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, [join(REPO_ROOT, 'bin/pacs.js'), 'log', '--data', pacs.dataDir, ...args], { encoding: 'utf8' });
    const all = cli('--kind', 'association');
    expect(all.status, all.stderr).toBe(0);
    const lines = all.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z {2}association released {2}MODALITY1 -> PACS .*stored 30$/);
    expect(lines[1]).toMatch(
      /association rejected {2}UNKNOWN1 -> PACS .*: association rejected: calling AE title "UNKNOWN1" is not registered \(strict mode\)$/,
    );
    expect(cli('--aet', 'UNKNOWN1').stdout.trim().split('\n')).toHaveLength(1);
    const bad = cli('--since', 'yesterday-ish');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--since: from must be a date and time/);

    const follow = spawn(process.execPath, [join(REPO_ROOT, 'bin/pacs.js'), 'log', '--data', pacs.dataDir, '--follow', '--aet', 'MODALITY1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    follow.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await expect.poll(() => out.split('\n').filter(Boolean).length, { timeout: 10_000 }).toBe(1);
      const echo = await echoscu({ port: pacs.port, calledAet: 'PACS', callingAet: 'MODALITY1' });
      expect(echo.code, echo.stderr).toBe(0);
      await expect.poll(() => out.split('\n').filter(Boolean).length, { timeout: 10_000 }).toBe(2);
      expect(out.split('\n')[1]).toMatch(/association released {2}MODALITY1 -> PACS .*; echoed 1$/);
    } finally {
      follow.kill();
    }
  });
});
