/**
 * Safe defaults against DCMTK (issue 15 item 4), on `pacs serve` with its first-start
 * registry: an unknown caller may C-ECHO and C-STORE but its C-FIND is refused; once
 * `pacs config ae add` has registered it with the find permission, the same findscu
 * finds what was stored (no restart).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoscu, REPO_ROOT, runDcmtk, startPacs, stopAllPeers, storescu, type PacsPeer } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { writeInstances } from './instance-files.js';

let pacs: PacsPeer;
let dir: string;

beforeAll(async () => {
  dir = await makeTempDir('pacs-dicom-access-');
  pacs = await startPacs({ dir });
});

afterAll(async () => {
  await stopAllPeers();
  await removeTempDirs();
});

/** findscu at STUDY level as `calling`; the responses it wrote (one file per match). */
async function find(calling: string, out: string) {
  mkdirSync(out, { recursive: true });
  const r = await runDcmtk('findscu', [
    '-S',
    '-aet',
    calling,
    '-aec',
    'PACS',
    '-X',
    '-od',
    out,
    '-k',
    'QueryRetrieveLevel=STUDY',
    '-k',
    'StudyInstanceUID',
    '127.0.0.1',
    String(pacs.port),
  ]);
  return { ...r, matches: readdirSync(out).length };
}

describe('DICOM access defaults with DCMTK', () => {
  it('admits an unknown caller for C-ECHO and C-STORE, refuses its C-FIND', async () => {
    expect((await echoscu({ port: pacs.port, calledAet: 'PACS', callingAet: 'STRANGER' })).code).toBe(0);
    const files = writeInstances(dir, '1.2.826.0.1.3680043.10.543.15.4', 2);
    const stored = await storescu({ port: pacs.port, calledAet: 'PACS', callingAet: 'STRANGER', files: files.map((f) => f.path) });
    expect(stored.code, stored.stderr).toBe(0);

    const refused = await find('STRANGER', join(dir, 'find-refused'));
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).toMatch(/No Acceptable Presentation Contexts|No presentation context/i);
    expect(refused.matches).toBe(0);
  });

  it('lets the caller C-FIND once registered with the find permission', async () => {
    const add = spawnSync(
      process.execPath,
      [join(REPO_ROOT, 'bin/pacs.js'), 'config', 'ae', 'add', 'STRANGER', '--host', '127.0.0.1', '--permissions', 'echo,store,find', '--data', pacs.dataDir],
      {
        encoding: 'utf8',
      },
    );
    expect(add.status, add.stderr).toBe(0);
    // The running server follows the registry file; give it a moment to notice.
    let n = 0;
    await expect.poll(async () => (await find('STRANGER', join(dir, `find-${n++}`))).matches, { timeout: 10_000, interval: 300 }).toBeGreaterThanOrEqual(1);
  });
});
