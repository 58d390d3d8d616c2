/**
 * `pacs router queue` beside a running `pacs serve`: after instances went through the
 * Router (one delivered to the Workstation, one failing at a closed port), the CLI prints
 * the same destinations and counts as GET /api/router/queue (what the page shows), the
 * failing entry with its patient, study and series, and retries it on demand, recorded in
 * the activity log. (It used to print only its header: deliveries were counted in memory.)
 */
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { writeCtSeries } from '../../scripts/gen-test-data.js';
import { freePort, startPacsServe, stopAllPeers, storescu } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { runPacs as pacs } from './run-pacs.js';

let base: string;
let dataDir: string;
let routerPort: number;
let dir: string;
const auth = { authorization: `Basic ${Buffer.from('admin:cli-password').toString('base64')}` };

async function rest<T>(method: string, path: string, body?: unknown): Promise<T> {
  const r = await fetch(new URL(path, base), {
    method,
    headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

interface Counts {
  destination: string;
  pending: number;
  failed: number;
  dead: number;
  delivered: number;
  lastError: string | null;
}

beforeAll(async () => {
  dir = await makeTempDir('pacs-router-queue-cli-');
  const served = await startPacsServe(join(dir, 'pacs'), 'cli-password');
  base = served.base;
  routerPort = served.routerPort;
  dataDir = join(dir, 'pacs', 'data');
  await rest('POST', '/api/aes', { aeTitle: 'NOWHERE', connection: { host: '127.0.0.1', port: await freePort() } });
  // A slow retry, so the failed entry waits for a person to retry it.
  const settings = await rest<{ queue: Record<string, unknown> }>('GET', '/api/router/rules');
  await rest('PUT', '/api/router/rules', {
    rules: [
      { name: 'ct to nowhere', condition: 'Modality == "CT"', destinations: ['NOWHERE'], continue: true },
      { name: 'everything to the workstation', condition: 'true', destinations: ['WORKSTATION'] },
    ],
    queue: { ...settings.queue, baseDelayMs: 3_600_000, maxDelayMs: 3_600_000 },
  });
}, 120_000);

afterAll(async () => {
  await stopAllPeers();
  await removeTempDirs();
});

it('prints what the page shows after the router stored and forwarded; lists and retries a failed entry', async () => {
  const { files } = await writeCtSeries({ dir: join(dir, 'ct'), count: 1, rows: 32, cols: 32, patientName: 'QUEUE^CLI', patientId: 'Q-CLI-1' });
  const sent = await storescu({ port: routerPort, calledAet: 'ROUTER', files });
  expect(sent.code, sent.stderr).toBe(0);
  // Delivered to the Workstation, failed once for NOWHERE.
  let page: Counts[] = [];
  await expect
    .poll(
      async () => {
        page = await rest<Counts[]>('GET', '/api/router/queue');
        return page.map((c) => [c.destination, c.pending, c.failed, c.dead, c.delivered]);
      },
      { timeout: 60_000, interval: 500 },
    )
    .toEqual([
      ['NOWHERE', 0, 1, 0, 0],
      ['WORKSTATION', 0, 0, 0, 1],
    ]);

  const q = await pacs('router', 'queue', '--data', dataDir);
  expect(q.status, q.stderr).toBe(0);
  expect(q.stdout).toBe(
    [
      'destination\tpending\tfailed\tdead\tdelivered\tlast error',
      ...page.map((c) => `${c.destination}\t${c.pending}\t${c.failed}\t${c.dead}\t${c.delivered}\t${c.lastError ?? ''}`),
      '',
    ].join('\n'),
  );
  expect(page[0].lastError).toMatch(/\S/);

  const listed = await pacs('router', 'queue', '--dest', 'NOWHERE', '--data', dataDir);
  expect(listed.status, listed.stderr).toBe(0);
  const lines = listed.stdout.trimEnd().split('\n');
  expect(lines[0]).toBe('#\tstate\tattempts\tpatient / study / series\tdestination\trule\tlast error');
  expect(lines).toHaveLength(2);
  const [id, state, attempts, described, destination, rule] = lines[1].split('\t');
  expect([state, attempts, destination, rule]).toEqual(['failed', '1', 'NOWHERE', 'ct to nowhere']);
  expect(described).toMatch(/^QUEUE\^CLI \(Q-CLI-1\) \/ \d{8} Synthetic CT phantom \/ CT Water cylinder with bone rod$/);

  const retried = await pacs('router', 'queue', '--dest', 'NOWHERE', '--retry', '--id', id, '--data', dataDir);
  expect(retried.status, retried.stderr).toBe(0);
  expect(retried.stdout.split('\n')[0]).toBe('1 failed or dead entries due now');
  const none = await pacs('router', 'queue', '--dest', 'NOWHERE', '--retry', '--id', '999999', '--data', dataDir);
  expect(none.stderr).toContain('no failed or dead entry 999999 for NOWHERE');
  await expect
    .poll(async () => (await rest<{ events: { message: string }[] }>('GET', '/api/activity?kind=rules')).events.map((e) => e.message), { timeout: 10_000 })
    .toContainEqual(expect.stringMatching(new RegExp(`\\(cli\\): retried queue entry ${id} for NOWHERE$`)));

  // A wrong data directory is said, not shown as an empty queue.
  const wrong = await pacs('router', 'queue', '--data', join(dir, 'elsewhere'));
  expect(wrong.status).toBe(1);
  expect(wrong.stderr).toContain(`no Router index in ${join(dir, 'elsewhere', 'router')}`);
}, 240_000);
