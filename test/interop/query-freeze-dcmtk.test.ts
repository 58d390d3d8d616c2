/**
 * Issue 15 item 2 against `pacs serve` with DCMTK: one instance with InstitutionName = 40 x
 * 'A' is stored, then `findscu -k QueryRetrieveLevel=STUDY -k "InstitutionName=<30 x *>Z"`
 * (or the same key in a QIDO-RS search). The wildcard used to become a backtracking regular
 * expression run on the one thread every role and the web server share: echoscu got no
 * answer for minutes. Now the query ends with a status (here: no match) and a concurrent
 * echoscu is answered within 1 s (a generous bound: an echo takes a few milliseconds here).
 *
 * The Main Server's policy is set explicitly (unknown callers may echo, store and find), so
 * the test does not depend on the default policy.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigStore, setAe } from '../../src/config/index.js';
import { echoscu, runDcmtk, startPacsServe, startProcess, stopAllPeers, storescu, type PacsPeer } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { writeInstances } from './instance-files.js';

const KEY = `${'*'.repeat(30)}Z`;
const PASSWORD = 'freeze-test-secret';

afterEach(async () => {
  await stopAllPeers();
  await removeTempDirs();
});

/** `pacs serve` holding one instance whose InstitutionName is 40 x 'A'. */
async function serveWithInstance(): Promise<{ pacs: PacsPeer; base: string }> {
  const dir = await makeTempDir('pacs-freeze-');
  const store = await ConfigStore.open(join(dir, 'data'));
  await store.update((r) => setAe(r, 'PACS', { policy: { strict: false, unknownCallers: ['echo', 'store', 'find'] } }));
  store.close();
  const { pacs, base } = await startPacsServe(dir, PASSWORD);
  const [file] = writeInstances(dir, '1.2.826.0.1.3680043.10.1002', 1);
  const modify = await runDcmtk('dcmodify', ['-nb', '-i', `(0008,0080)=${'A'.repeat(40)}`, file.path]);
  expect(modify.code, modify.stderr).toBe(0);
  const stored = await storescu({ port: pacs.port, calledAet: 'PACS', files: [file.path] });
  expect(stored.code, stored.stdout + stored.stderr).toBe(0);
  return { pacs, base };
}

/** echoscu's wall time (process start included). */
async function timedEcho(pacs: PacsPeer): Promise<number> {
  const echo = await echoscu({ port: pacs.port, calledAet: 'PACS' });
  expect(echo.code, `echoscu: exit code ${echo.code}, signal ${echo.signal} after ${echo.ms.toFixed(0)} ms ${echo.stdout}${echo.stderr}`).toBe(0);
  return echo.ms;
}

describe('a backtracking wildcard key does not freeze the server (issue 15 item 2)', () => {
  it('findscu with InstitutionName=<30 x *>Z ends with a status; echoscu meanwhile answers within 1 s', async () => {
    const { pacs } = await serveWithInstance();
    const dir = await makeTempDir('pacs-freeze-find-');
    const find = startProcess({
      name: 'findscu',
      dir,
      command: 'findscu',
      args: [
        '-v',
        '-S',
        '-aet',
        'FINDSCU',
        '-aec',
        'PACS',
        '-to',
        '120',
        '127.0.0.1',
        String(pacs.port),
        '-k',
        'QueryRetrieveLevel=STUDY',
        '-k',
        'StudyInstanceUID',
        '-k',
        `InstitutionName=${KEY}`,
      ],
    });
    // Once findscu has sent its request, the query is running (or, before the fix, frozen).
    await expect.poll(() => readFileSync(find.logFile, 'utf8'), { timeout: 20_000 }).toMatch(/Sending Find Request/);
    const first = await timedEcho(pacs);
    const second = await timedEcho(pacs);
    console.log(`echoscu during the C-FIND: ${first.toFixed(0)} ms, ${second.toFixed(0)} ms`);
    expect(first).toBeLessThan(1000);
    expect(second).toBeLessThan(1000);
    await expect.poll(() => find.exited, { timeout: 20_000 }).toBe(true);
    const log = readFileSync(find.logFile, 'utf8');
    expect(find.exitStatus?.code, log).toBe(0);
    expect(log).toMatch(/Received Final Find Response \(Success\)/);
    expect(log).not.toMatch(/Find Response: 1 \(Pending/); // 40 x 'A' does not end in Z
  }, 180_000);

  it('QIDO-RS with InstitutionName=<30 x *>Z answers; echoscu meanwhile answers within 1 s', async () => {
    const { pacs, base } = await serveWithInstance();
    const auth = { authorization: `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`, accept: 'application/dicom+json' };
    const search = fetch(`${base}/dicomweb/studies?InstitutionName=${encodeURIComponent(KEY)}`, { headers: auth, signal: AbortSignal.timeout(120_000) });
    let settled = false;
    void search.finally(() => (settled = true)).catch(() => undefined);
    // Echoes while the search is out (at least one; a frozen server fails the next one).
    const echoes: number[] = [];
    do echoes.push(await timedEcho(pacs));
    while (!settled && echoes.length < 5);
    const r = await search;
    echoes.push(await timedEcho(pacs));
    console.log(`echoscu during and after the QIDO-RS search: ${echoes.map((ms) => `${ms.toFixed(0)} ms`).join(', ')}`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual([]);
    for (const ms of echoes) expect(ms).toBeLessThan(1000);
    // The same search with a key that matches finds the instance's study.
    const hit = await fetch(`${base}/dicomweb/studies?InstitutionName=${encodeURIComponent(`${'*'.repeat(30)}A`)}`, { headers: auth });
    expect(hit.status).toBe(200);
    expect(await hit.json()).toHaveLength(1);
  }, 180_000);
});
