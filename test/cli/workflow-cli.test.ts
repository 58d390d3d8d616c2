/**
 * `pacs worklist add|set|list|rm|query`, `pacs mpps create|set`, `pacs commit` against a
 * Main Server running in this process on the same data directory.
 */
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorklistStore } from '../../src/archive/worklist-store.js';
import { startMainServer, type MainServer } from '../../src/roles/main-server.js';
import { freePort } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { runPacs as pacs } from './run-pacs.js';

let data: string;
let port: number;
let server: MainServer;

beforeAll(async () => {
  data = join(await makeTempDir('pacs-wl-cli-'), 'data');
  port = await freePort();
  server = await startMainServer({ aeTitle: 'PACS', port, host: '127.0.0.1', dataDir: data, logger: pino({ level: 'silent' }) });
});

afterAll(async () => {
  await server?.close();
  await removeTempDirs();
});

describe('pacs worklist / mpps / commit', () => {
  it('adds, lists and cancels entries; a bad value names its option', async () => {
    const bad = await pacs('worklist', 'add', '--data', data, '--patient-id', 'P1', '--patient-name', 'DOE^JOHN', '--modality', 'CT', '--date', '2025-03-10');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--date: must be a date YYYYMMDD/);
    const missing = await pacs('worklist', 'add', '--data', data, '--patient-name', 'DOE^JOHN', '--modality', 'CT');
    expect(missing.stderr).toMatch(/--patient-id/);
    const ok = await pacs(
      'worklist',
      'add',
      '--data',
      data,
      '--patient-id',
      'P1',
      '--patient-name',
      'DOE^JOHN',
      '--modality',
      'CT',
      '--station',
      'CT01',
      '--date',
      '20250310',
      '--time',
      '0930',
      '--sps-id',
      'C1',
      '--accession',
      'ACC1',
    );
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^scheduled C1 \(study 2\.25\.\d+\)/);
    const other = await pacs('worklist', 'add', '--data', data, '--patient-id', 'P2', '--patient-name', 'ROE^JANE', '--modality', 'MR', '--sps-id', 'C2');
    expect(other.status, other.stderr).toBe(0);
    const list = await pacs('worklist', 'list', '--data', data);
    expect(
      list.stdout
        .split('\n')
        .filter((l) => /^C\d/.test(l))
        .map((l) => l.split('\t')[0]),
    ).toEqual(['C1', 'C2']);
    expect((await pacs('worklist', 'rm', '--data', data, 'C2')).stdout).toMatch(/cancelled C2/);
    expect((await pacs('worklist', 'rm', '--data', data, 'NOPE')).stderr).toMatch(/no worklist entry/);
    const json = (await pacs('worklist', 'list', '--data', data, '--all', '--json')).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(json.map((e) => [e.spsId, e.status])).toEqual([
      ['C1', 'SCHEDULED'],
      ['C2', 'CANCELED'],
    ]);
  });

  it('queries the worklist, performs the step through MPPS, the entry follows', async () => {
    const q = await pacs('worklist', 'query', '127.0.0.1', String(port), '-k', 'ScheduledProcedureStepSequence[0].Modality=CT');
    expect(q.status, q.stderr).toBe(0);
    expect(q.stdout.trim().split('\t').slice(0, 4)).toEqual(['C1', '20250310 0930', 'CT', 'CT01']);
    expect(q.stderr).toMatch(/1 item\(s\), status 0x0000/);
    const create = await pacs('mpps', 'create', '127.0.0.1', String(port), '--patient-id', 'P1', '--modality', 'CT', '--sps-id', 'C1', '--station', 'CT01');
    expect(create.status, create.stderr).toBe(0);
    const uid = create.stdout.trim();
    const worklist = await WorklistStore.open(server.archive.index);
    expect((await worklist.get('C1'))?.status).toBe('STARTED');
    const done = await pacs('mpps', 'set', '127.0.0.1', String(port), uid, '--status', 'COMPLETED');
    expect(done.status, done.stderr).toBe(0);
    expect((await worklist.get('C1'))?.status).toBe('COMPLETED');
    const again = await pacs('mpps', 'set', '127.0.0.1', String(port), uid, '--status', 'DISCONTINUED');
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/0x0110.*may no longer be updated/);
  });

  it('commit prints both lists (report on the same association)', async () => {
    const r = await pacs('commit', '127.0.0.1', String(port), '1.2.840.10008.5.1.4.1.1.2:1.2.3.999', '--timeout', '10');
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/same-association/);
    expect(r.stdout).toMatch(/committed: 0/);
    expect(r.stdout).toMatch(/failed: 1\n {2}1\.2\.3\.999 \(1\.2\.840\.10008\.5\.1\.4\.1\.1\.2\): reason 0x0112/);
    expect((await pacs('commit', '127.0.0.1', String(port), 'not-a-uid')).stderr).toMatch(/neither a file nor a UID/);
  });

  it('config ae add --commitment-report sets the report mode of an AE, validated', async () => {
    const cfg = join(data, '..', 'cfg');
    const ok = await pacs('config', 'ae', 'add', 'MOD1', '--host', '127.0.0.1', '--port', '4100', '--commitment-report', 'new', '--data', cfg);
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse((await pacs('config', 'show', '--json', '--data', cfg)).stdout).devices.flatMap((d: { aes: unknown[] }) => d.aes)).toContainEqual(
      expect.objectContaining({ aeTitle: 'MOD1', commitmentReport: 'new' }),
    );
    const bad = await pacs('config', 'ae', 'set', 'MOD1', '--commitment-report', 'later', '--data', cfg);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--commitment-report: commitmentReport must be same or new/);
  });
});
