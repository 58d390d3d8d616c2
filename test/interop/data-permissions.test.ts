/**
 * The data directory is owner-only (issue 15 item 9): after `pacs serve` started on a
 * data directory that other users could read (0755, as the harness creates it) and
 * received instances with DCMTK's storescu on the Main Server and on the Router (which
 * forwards to the Workstation Server), and rendered a thumbnail, every directory under it
 * is 0700 and every file 0600, and the widened top directory was reported; a CLI command
 * writing a fresh data directory leaves it owner-only too. The test process keeps the
 * usual umask (022), so what it checks is the server's own doing.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCtSeries } from '../../scripts/gen-test-data.js';
import { runPacs } from '../cli/run-pacs.js';
import { startPacsServe, stopAllPeers, storescu } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { until } from '../support/until.js';

afterAll(async () => {
  await stopAllPeers();
  await removeTempDirs();
});

/** Paths under dir (dir itself included) whose group or other permission bits are set, with their modes. */
function notOwnerOnly(dir: string): string[] {
  const bad: string[] = [];
  const check = (p: string, rel: string) => {
    const st = statSync(p);
    const mode = st.mode & 0o777;
    const want = st.isDirectory() ? 0o700 : 0o600;
    if ((mode & 0o077) !== 0) bad.push(`${rel || '.'} ${mode.toString(8)} (want ${want.toString(8)})`);
  };
  check(dir, '');
  for (const rel of readdirSync(dir, { recursive: true }).map(String)) check(join(dir, rel), rel);
  return bad;
}

let files: string[];
let dir: string;

beforeAll(async () => {
  dir = await makeTempDir('pacs-perms-');
  files = (await writeCtSeries({ dir: join(dir, 'ct'), count: 3, rows: 64, cols: 64 })).files;
  expect(process.umask()).not.toBe(0o077);
});

describe('data directory permissions', () => {
  it('pacs serve: owner-only after a start on a 0755 directory, stores, forwarding and a thumbnail; the widening is reported', async () => {
    const served = await startPacsServe(join(dir, 'serve'), 'perm-password');
    const data = served.pacs.dataDir;
    const main = await storescu({ port: served.pacs.port, calledAet: 'PACS', files });
    expect(main.code, main.stderr).toBe(0);
    const routed = await storescu({ port: served.routerPort, calledAet: 'ROUTER', files });
    expect(routed.code, routed.stderr).toBe(0);
    const auth = { authorization: `Basic ${Buffer.from('admin:perm-password').toString('base64')}` };
    const studies = (await (await fetch(`${served.base}/dicomweb/studies`, { headers: auth })).json()) as Record<string, { Value: string[] }>[];
    const study = studies[0]['0020000D'].Value[0];
    expect((await fetch(`${served.base}/dicomweb/studies/${study}/thumbnail`, { headers: auth })).status).toBe(200);
    await until('forwarded to the workstation', async () => {
      const r = await fetch(`${served.base}/workstation/dicomweb/studies/${study}/series`, { headers: auth });
      return r.status === 200 && ((await r.json()) as unknown[]).length > 0;
    });
    await served.pacs.stop();
    const bad = notOwnerOnly(data);
    expect(bad, `readable by other users:\n${bad.join('\n')}`).toEqual([]);
    // What was checked: the archives, indexes, thumbnails and the configuration.
    const all = readdirSync(data, { recursive: true }).map(String);
    for (const expected of ['blobs', 'index.sqlite', 'thumbnails', join('workstation', 'index.sqlite'), join('router', 'rules.json'), 'users.json']) {
      expect(all, expected).toContain(expected);
    }
    expect(served.pacs.logTail(200)).toMatch(/data directory .* was readable by other users.*0700/);
  }, 180_000);

  it('a CLI command writing a new data directory leaves it owner-only', async () => {
    const data = join(dir, 'cli-data');
    const r = await runPacs('router', 'rules', 'add', 'ct', 'Modality == "CT"', '--dest', 'WORKSTATION', '--data', data);
    expect(r.status, r.stderr).toBe(0);
    const bad = notOwnerOnly(data);
    expect(bad, `readable by other users:\n${bad.join('\n')}`).toEqual([]);
  }, 120_000);
});
