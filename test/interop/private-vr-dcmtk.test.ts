/**
 * Implicit VR Little Endian to Explicit VR on retrieve keeps private attributes' VRs
 * (issue 21): a Siemens-style MR stored in Implicit VR and fetched by DCMTK's getscu (which
 * proposes Explicit VR first, so each sub-operation converts) carries its private elements
 * with the VRs DCMTK's own `dcmconv +te` gives them: OB for the CSA headers (0029,xx10/20),
 * CS and LO for their type and version, UN only for what DCMTK's dictionary does not know.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMainServer, type MainServer } from '../../src/roles/main-server.js';
import { freePort, REPO_ROOT, runDcmtk } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

const IMPLICIT_LE = '1.2.840.10008.1.2';
let dir: string;
let server: MainServer;
let port: number;
let file: string;
let study: string;

/** `(gggg,eeee) VR` of every private data element (odd group, element >= 0x1000) in dcmdump's output. */
async function privateVrs(path: string): Promise<string[]> {
  const r = await runDcmtk('dcmdump', [
    '+P',
    '0019,100b',
    '+P',
    '0019,100c',
    '+P',
    '0029,1008',
    '+P',
    '0029,1009',
    '+P',
    '0029,1010',
    '+P',
    '0029,1018',
    '+P',
    '0029,1020',
    path,
  ]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .split('\n')
    .map((l) => /^\((00[12]9,1[0-9a-f]{3})\) ([A-Z]{2})/.exec(l))
    .filter((m) => m !== null)
    .map((m) => `${m[1]} ${m[2]}`);
}

beforeAll(async () => {
  dir = await makeTempDir('pacs-private-vr-');
  file = join(dir, 'mr.dcm');
  study = execFileSync('/usr/bin/python3', [join(REPO_ROOT, 'test/interop/fixtures/siemens-mr-implicit.py'), file], { encoding: 'utf8' }).trim();
  port = await freePort();
  server = await startMainServer({ aeTitle: 'PACS', port, host: '127.0.0.1', dataDir: join(dir, 'data'), logger: pino({ level: 'silent' }) });
  // Proposed in Implicit VR Little Endian only: stored as received.
  const r = await runDcmtk('storescu', ['-aec', 'PACS', '-xi', '127.0.0.1', String(port), file]);
  expect(r.code, r.stderr).toBe(0);
});

afterAll(async () => {
  await server?.close();
  await removeTempDirs();
});

describe('Implicit VR to Explicit VR on retrieve', () => {
  it('gives private attributes the VRs DCMTK gives them (dcmconv +te)', async () => {
    const ref = join(dir, 'ref.dcm');
    const c = await runDcmtk('dcmconv', ['+te', file, ref]);
    expect(c.code, c.stderr).toBe(0);
    const expected = await privateVrs(ref);
    expect(expected).toEqual(['0019,100b UN', '0019,100c UN', '0029,1008 CS', '0029,1009 LO', '0029,1010 OB', '0029,1018 CS', '0029,1020 OB']);

    const out = join(dir, 'get');
    mkdirSync(out);
    const g = await runDcmtk('getscu', [
      '-S',
      '-aec',
      'PACS',
      '-od',
      out,
      '-k',
      'QueryRetrieveLevel=STUDY',
      '-k',
      `StudyInstanceUID=${study}`,
      '127.0.0.1',
      String(port),
    ]);
    expect(g.code, g.stderr).toBe(0);
    const got = readdirSync(out).map((f) => join(out, f));
    expect(got).toHaveLength(1);
    const ts = await runDcmtk('dcmdump', ['-M', '+P', '0002,0010', got[0]]);
    // Converted: getscu accepted Explicit VR first.
    expect(ts.stdout).not.toContain(IMPLICIT_LE + ']');
    expect(ts.stdout).toMatch(/LittleEndianExplicit/);
    expect(await privateVrs(got[0])).toEqual(expected);
  });
});
