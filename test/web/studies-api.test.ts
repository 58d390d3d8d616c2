/**
 * The study browser's REST operations (fastify inject) over a running Main Server:
 * zip export (plain and de-identified), send to a registered AE as a job, C-FIND of a
 * registered AE, deletes (of the Main Server's and the Workstation's archive); bad UIDs,
 * unknown AEs and unknown studies refused.
 */
import type { FastifyInstance } from 'fastify';
import { unzipSync } from 'fflate';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAe, ConfigStore, setAe, setWeb } from '../../src/config/index.js';
import { getString } from '../../src/dicom/dataset.js';
import { readPart10 } from '../../src/dicom/part10.js';
import { Tags } from '../../src/dicom/tag.js';
import { PacsRoles } from '../../src/roles/pacs-roles.js';
import { inspectFiles, storeFiles } from '../../src/services/storage-scu.js';
import { buildWebApp } from '../../src/web/server.js';
import { UserStore } from '../../src/web/users.js';
import { writeCtSeries, type CtSeriesResult } from '../../scripts/gen-test-data.js';
import { freePort } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

let app: FastifyInstance;
let store: ConfigStore;
let roles: PacsRoles;
const basic = { authorization: `Basic ${Buffer.from('admin:password1').toString('base64')}` };
let ct: CtSeriesResult;
let ct2: CtSeriesResult;
const run = promisify(execFile);

beforeAll(async () => {
  const dir = join(await makeTempDir('pacs-studies-web-'), 'data');
  store = await ConfigStore.open(dir);
  const [p1, p2, p3, web] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const dead = await freePort(); // a registered peer nobody listens for
  await store.update((reg) =>
    addAe(
      setAe(setAe(setAe(setWeb(reg, { port: web }), 'PACS', { connection: { port: p1 } }), 'WORKSTATION', { connection: { port: p2 } }), 'ROUTER', {
        connection: { port: p3 },
      }),
      { aeTitle: 'DEAD', connection: { host: '127.0.0.1', port: dead } },
    ),
  );
  const users = await UserStore.open(dir);
  await users.ensureAdmin('password1');
  roles = await PacsRoles.start({ config: store, dataDir: dir, logger: pino({ level: 'silent' }) });
  app = await buildWebApp({
    config: store,
    users,
    roles,
    logger: pino({ level: 'silent' }),
    web: () => ({ host: '127.0.0.1', port: web }),
    uiDir: join(dir, 'no-ui'),
  });
  const src = await makeTempDir('pacs-studies-src-');
  ct = await writeCtSeries({ dir: join(src, 'a'), count: 3, rows: 32, cols: 32, patientName: 'DOE^JANE', patientId: 'PID-77' });
  ct2 = await writeCtSeries({
    dir: join(src, 'b'),
    count: 2,
    rows: 32,
    cols: 32,
    studyUid: ct.studyUid,
    patientName: 'DOE^JANE',
    patientId: 'PID-77',
    seriesNumber: 2,
  });
  const { files } = await inspectFiles([...ct.files, ...ct2.files]);
  const r = await storeFiles({ host: '127.0.0.1', port: p1, callingAeTitle: 'PACS_CLIENT', calledAeTitle: 'PACS' }, files);
  expect(r.failed).toEqual([]);
});

afterAll(async () => {
  await app?.close();
  await roles?.close();
  store?.close();
  await removeTempDirs();
});

const req = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown) => app.inject({ method, url, payload: payload as object, headers: basic });

async function waitForJob(id: string): Promise<{ state: string; done: number; total: number; failed: number; message: string; failures: unknown[] }> {
  for (;;) {
    const j = (await req('GET', `/api/jobs/${id}`)).json();
    if (j.state !== 'running') return j;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('bad input', () => {
  it('needs a login', async () => {
    expect((await app.inject({ method: 'DELETE', url: `/api/studies/${ct.studyUid}` })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: `/api/studies/${ct.studyUid}/archive.zip` })).statusCode).toBe(401);
  });

  it('refuses malformed UIDs with 400 naming the parameter', async () => {
    for (const [url, field] of [
      ['/api/studies/1.2.abc', 'studyUid'],
      [`/api/studies/${'1'.repeat(65)}`, 'studyUid'],
      [`/api/studies/${ct.studyUid}/series/..%2F..%2Fetc`, 'seriesUid'],
      [`/api/studies/${ct.studyUid}/series/${ct.seriesUid}/instances/1.2.3x`, 'sopInstanceUid'],
    ] as const) {
      const r = await req('DELETE', url);
      expect(r.statusCode, url).toBe(400);
      expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(r.json().field).toBe(field);
    }
    expect((await req('GET', '/api/studies/1.2%20x/archive.zip')).statusCode).toBe(400);
    const send = await req('POST', '/api/studies/send', { destination: 'WORKSTATION', studyUid: 'DROP TABLE' });
    expect(send.statusCode).toBe(400);
  });

  it('says 404 for an unknown study, series, instance, AE or job', async () => {
    expect((await req('DELETE', '/api/studies/1.2.3.999')).statusCode).toBe(404);
    expect((await req('GET', `/api/studies/1.2.3.999/archive.zip`)).statusCode).toBe(404);
    expect((await req('DELETE', `/api/studies/${ct.studyUid}/series/1.2.3.999`)).statusCode).toBe(404);
    // An instance that exists, named under another series.
    expect((await req('DELETE', `/api/studies/${ct.studyUid}/series/${ct2.seriesUid}/instances/${ct.sopInstanceUids[0]}`)).statusCode).toBe(404);
    const noAe = await req('POST', '/api/studies/send', { destination: 'NOBODY', studyUid: ct.studyUid });
    expect(noAe.statusCode).toBe(404);
    expect(noAe.json()).toMatchObject({ field: 'destination', detail: 'no AE "NOBODY" in the registry' });
    expect((await req('POST', '/api/studies/send', { destination: 'WORKSTATION', studyUid: '1.2.3.999' })).statusCode).toBe(404);
    expect((await req('POST', '/api/remote/NOBODY/find', { level: 'STUDY', keys: {} })).statusCode).toBe(404);
    expect((await req('POST', '/api/remote/NOBODY/retrieve', { studyUid: '1.2.3' })).statusCode).toBe(404);
    expect((await req('GET', '/api/jobs/feedbeef')).statusCode).toBe(404);
    // An AE without a port cannot be called.
    expect((await req('POST', '/api/studies/send', { destination: 'WS_CLIENT', studyUid: ct.studyUid })).statusCode).toBe(409);
  });

  it('validates query keys and the send body', async () => {
    const bad = await req('POST', '/api/remote/PACS/find', { level: 'STUDY', keys: { StudyDate: '2025-03-10' } });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().field).toBe('keys.StudyDate');
    expect((await req('POST', '/api/remote/PACS/find', { level: 'IMAGE', keys: {} })).json().field).toBe('level');
    expect((await req('POST', '/api/remote/PACS/find', { keys: { PatientName: 'A\\B' } })).statusCode).toBe(422);
    expect((await req('POST', '/api/studies/send', { destination: 'WORKSTATION', studyUid: ct.studyUid, anonymize: { patientName: 'Ünï' } })).statusCode).toBe(
      422,
    );
    expect((await req('GET', `/api/studies/${ct.studyUid}/archive.zip?anonymize=maybe`)).statusCode).toBe(400);
  });
});

/** The stored study's date (the generator's: today). */
const studyDate = async () => getString(readPart10(await readFile(ct.files[0])).dataset, Tags.StudyDate);

/** Unzips into a new folder; the path of the folder. */
async function unzipTo(zip: Buffer): Promise<string> {
  const dir = await makeTempDir('pacs-zip-out-');
  for (const [name, bytes] of Object.entries(unzipSync(new Uint8Array(zip)))) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), bytes);
  }
  return dir;
}

/** What DCMTK reads in a file-set's DICOMDIR: every referenced file, checked to exist and be DICOM; the record types. */
async function checkFileSet(dir: string): Promise<{ files: string[]; records: string[]; dump: string }> {
  expect((await run('dcmftest', [join(dir, 'DICOMDIR')])).stdout).toMatch(/^yes:/);
  const dump = (await run('dcmdump', ['-q', join(dir, 'DICOMDIR')])).stdout;
  const files = [...dump.matchAll(/\(0004,1500\) CS \[([^\]]*)\]/g)].map((m) => m[1].split('\\').join('/'));
  for (const f of files) {
    expect(f).toMatch(/^[A-Z0-9_]{1,8}(\/[A-Z0-9_]{1,8}){0,7}$/);
    expect(existsSync(join(dir, f)), f).toBe(true);
    expect((await run('dcmftest', [join(dir, f)])).stdout).toMatch(/^yes:/);
  }
  const records = [...dump.matchAll(/\(0004,1430\) CS \[([^\]]*)\]/g)].map((m) => m[1]);
  // dcmmkdir reads the DICOMDIR to append to it: it finds the record already there (+I: it
  // checks the file itself too, and a de-identified file has empty Type 1 keys it must invent).
  const first = join(dir, files[0]);
  const mk = await run('dcmmkdir', ['-v', '+I', '+A', '+D', join(dir, 'DICOMDIR'), '+id', dir, files[0]]).catch((e: { stderr: string }) => ({
    stdout: '',
    stderr: e.stderr,
  }));
  expect(mk.stderr + mk.stdout, first).toMatch(/directory record for this SOP instance already exists/);
  return { files, records, dump };
}

describe('zip export', () => {
  it('streams a study as a file-set: a folder per series, a DICOMDIR DCMTK reads, named by patient and study', async () => {
    const r = await req('GET', `/api/studies/${ct.studyUid}/archive.zip`);
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('application/zip');
    expect(r.headers['content-disposition']).toMatch(new RegExp(`filename="?DOE_JANE_PID-77_${await studyDate()}_Synthetic_CT_phantom\\.zip"?`));
    const entries = unzipSync(new Uint8Array(r.rawPayload));
    expect(Object.keys(entries).sort()).toEqual([
      'DICOM/S0000001/I0000001',
      'DICOM/S0000001/I0000002',
      'DICOM/S0000001/I0000003',
      'DICOM/S0000002/I0000001',
      'DICOM/S0000002/I0000002',
      'DICOMDIR',
    ]);
    const { files, records, dump } = await checkFileSet(await unzipTo(Buffer.from(r.rawPayload)));
    expect(files).toHaveLength(5);
    expect(records).toEqual(['PATIENT', 'STUDY', 'SERIES', 'IMAGE', 'IMAGE', 'IMAGE', 'SERIES', 'IMAGE', 'IMAGE']);
    expect(dump).toContain('(0010,0010) PN [DOE^JANE]');
    expect(dump).toContain(`(0020,000d) UI [${ct.studyUid}]`);
    const sops = Object.entries(entries)
      .filter(([name]) => name !== 'DICOMDIR')
      .map(([, b]) => readPart10(b).meta.mediaStorageSopInstanceUid)
      .sort();
    expect(sops).toEqual([...ct.sopInstanceUids, ...ct2.sopInstanceUids].sort());
    // The stored bytes of the data set as received (the file's own meta header may differ).
    const original = await readFile(ct.files[0]);
    const first = entries['DICOM/S0000001/I0000001'];
    expect(readPart10(first).meta.mediaStorageSopInstanceUid).toBe(ct.sopInstanceUids[0]);
    expect(Buffer.from(first).subarray(-1000).equals(original.subarray(-1000))).toBe(true);
  });

  it('exports one series', async () => {
    const r = await req('GET', `/api/studies/${ct.studyUid}/series/${ct2.seriesUid}/archive.zip`);
    expect(Object.keys(unzipSync(new Uint8Array(r.rawPayload))).sort()).toEqual(['DICOM/S0000001/I0000001', 'DICOM/S0000001/I0000002', 'DICOMDIR']);
    expect(r.headers['content-disposition']).toMatch(new RegExp(`filename="?DOE_JANE_PID-77_${await studyDate()}_Synthetic_CT_phantom_S2_CT`));
    expect((await checkFileSet(await unzipTo(Buffer.from(r.rawPayload)))).files).toHaveLength(2);
  });

  it('de-identifies with ?anonymize=1: new UIDs shared across the files, new patient', async () => {
    const r = await req('GET', `/api/studies/${ct.studyUid}/archive.zip?anonymize=1&patientName=CASE%5E7&patientId=CASE-7`);
    expect(r.statusCode).toBe(200);
    // Named by the new identity only: nothing of the original patient or study.
    expect(r.headers['content-disposition']).toMatch(/^attachment; filename="CASE_7_CASE-7_anonymized\.zip";/);
    const set = await checkFileSet(await unzipTo(Buffer.from(r.rawPayload)));
    expect(set.files).toHaveLength(5);
    expect(set.dump).toContain('(0010,0010) PN [CASE^7]');
    for (const original of [ct.studyUid, ct.seriesUid, ct2.seriesUid, ...ct.sopInstanceUids, 'DOE^JANE', 'PID-77']) expect(set.dump).not.toContain(original);
    const parsed = Object.entries(unzipSync(new Uint8Array(r.rawPayload)))
      .filter(([name]) => name !== 'DICOMDIR')
      .map(([, b]) => readPart10(b).dataset);
    expect(parsed).toHaveLength(5);
    const studies = new Set(parsed.map((d) => getString(d, Tags.StudyInstanceUID)));
    expect(studies.size).toBe(1);
    expect([...studies][0]).not.toBe(ct.studyUid);
    expect(new Set(parsed.map((d) => getString(d, Tags.SeriesInstanceUID))).size).toBe(2);
    for (const d of parsed) {
      expect(getString(d, Tags.PatientName)).toBe('CASE^7');
      expect(getString(d, Tags.PatientID)).toBe('CASE-7');
      expect(ct.sopInstanceUids).not.toContain(getString(d, Tags.SOPInstanceUID));
    }
    expect(Buffer.from(r.rawPayload).includes(Buffer.from('DOE^JANE'))).toBe(false);
  });
});

describe('send and query', () => {
  it('sends a study to a registered AE as PACS_CLIENT, with progress in the job', async () => {
    const ws = roles.archive('workstation')!;
    const before = await ws.index.countInstances();
    const r = await req('POST', '/api/studies/send', { destination: 'WORKSTATION', studyUid: ct.studyUid });
    expect(r.statusCode).toBe(202);
    expect(r.headers.location).toBe(`/api/jobs/${r.json().id}`);
    const job = await waitForJob(r.json().id);
    expect(job).toMatchObject({ state: 'done', done: 5, total: 5, failed: 0 });
    expect(await ws.index.countInstances()).toBe(before + 5);
    expect((await ws.index.getInstance(ct.sopInstanceUids[0]))?.callingAeTitle).toBe('PACS_CLIENT');
    expect((await req('GET', '/api/jobs')).json()[0].id).toBe(r.json().id);
  });

  it('sends one series de-identified', async () => {
    const ws = roles.archive('workstation')!;
    const before = await ws.index.countInstances();
    const r = await req('POST', '/api/studies/send', { destination: 'WORKSTATION', studyUid: ct.studyUid, seriesUid: ct2.seriesUid, anonymize: true });
    const job = await waitForJob(r.json().id);
    expect(job).toMatchObject({ state: 'done', done: 2, total: 2 });
    expect(await ws.index.countInstances()).toBe(before + 2);
    const studies = await ws.index.listStudies();
    const anon = studies.find((s) => s.patientName === 'ANONYMOUS')!;
    expect(anon.studyInstanceUid).not.toBe(ct.studyUid);
    expect(anon.patientId).toMatch(/^ANON\d{10}$/);
  });

  it('reports a refused connection as a failed job', async () => {
    const r = await req('POST', '/api/studies/send', { destination: 'DEAD', studyUid: ct.studyUid, seriesUid: ct.seriesUid });
    const job = await waitForJob(r.json().id);
    expect(job.state).toBe('failed');
    expect(job.failed).toBe(3);
    expect(job.failures).toHaveLength(3);
    expect(job.message).toMatch(/0 of 3 instance\(s\) sent to DEAD, 3 failed/);
    expect(job.message).toMatch(/ECONNREFUSED|refused/);
  });

  it('queries a registered AE with C-FIND (our own Main Server) and gets DICOM JSON', async () => {
    const r = await req('POST', '/api/remote/PACS/find', { level: 'STUDY', keys: { PatientName: 'DOE*', Modality: 'CT' } });
    expect(r.statusCode, r.body).toBe(200);
    const body = r.json();
    expect(body.status).toBe(0);
    const m = body.matches.find((x: Record<string, { Value?: unknown[] }>) => x['0020000D']?.Value?.[0] === ct.studyUid);
    expect(m['00100010'].Value[0]).toEqual({ Alphabetic: 'DOE^JANE' });
    expect(m['00201208'].Value[0]).toBe(5);
    const none = await req('POST', '/api/remote/PACS/find', { keys: { PatientID: 'NO-SUCH-PATIENT' } });
    expect(none.json().matches).toEqual([]);
    const series = await req('POST', '/api/remote/PACS/find', { level: 'SERIES', keys: { StudyInstanceUID: ct.studyUid } });
    expect(series.json().matches).toHaveLength(2);
  });

  it('retrieves into the Workstation Server as WS_CLIENT with destination WORKSTATION (C-MOVE from our own Main Server)', async () => {
    const ws = roles.archive('workstation')!;
    await ws.deleteInstance(ct2.sopInstanceUids[0]);
    await ws.deleteInstance(ct2.sopInstanceUids[1]);
    const r = await req('POST', '/api/remote/PACS/retrieve', { studyUid: ct.studyUid, seriesUid: ct2.seriesUid, destination: 'WORKSTATION' });
    expect(r.statusCode, r.body).toBe(202);
    expect(r.json().label).toMatch(/to WORKSTATION$/);
    const job = await waitForJob(r.json().id);
    expect(job).toMatchObject({ state: 'done', done: 2, total: 2, failed: 0 });
    const row = await ws.index.getInstance(ct2.sopInstanceUids[0]);
    expect(row?.seriesInstanceUid).toBe(ct2.seriesUid);
    // The C-MOVE sub-operations come from PACS; the move itself was requested as WS_CLIENT.
    expect(row?.callingAeTitle).toBe('PACS');
  });

  it('sends from the Workstation archive with archive "workstation", as WS_CLIENT', async () => {
    const main = roles.archive('main')!;
    await main.deleteInstance(ct2.sopInstanceUids[1]);
    expect(await main.index.getInstance(ct2.sopInstanceUids[1])).toBeUndefined();
    const r = await req('POST', '/api/studies/send', { destination: 'PACS', studyUid: ct.studyUid, seriesUid: ct2.seriesUid, archive: 'workstation' });
    expect(r.statusCode, r.body).toBe(202);
    const job = await waitForJob(r.json().id);
    expect(job).toMatchObject({ state: 'done', done: 2, total: 2, failed: 0 });
    expect((await main.index.getInstance(ct2.sopInstanceUids[1]))?.callingAeTitle).toBe('WS_CLIENT');
  });

  it('refuses a retrieve destination that is unknown or not a local storage role, and a bad archive or client', async () => {
    const unknown = await req('POST', '/api/remote/PACS/retrieve', { studyUid: ct.studyUid, destination: 'NOBODY' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ field: 'destination', detail: 'no AE "NOBODY" in the registry' });
    for (const destination of ['DEAD', 'ROUTER', 'WS_CLIENT']) {
      const bad = await req('POST', '/api/remote/PACS/retrieve', { studyUid: ct.studyUid, destination });
      expect(bad.statusCode, destination).toBe(422);
      expect(bad.json().field).toBe('destination');
      expect(bad.json().detail).toMatch(/not a local storage role; retrieve into PACS or WORKSTATION/);
    }
    const archive = await req('POST', '/api/studies/send', { destination: 'PACS', studyUid: ct.studyUid, archive: 'router' });
    expect(archive.statusCode).toBe(422);
    expect(archive.json().field).toBe('archive');
    const notThere = await req('POST', '/api/studies/send', { destination: 'PACS', studyUid: '1.2.3.4', archive: 'workstation' });
    expect(notThere.statusCode).toBe(404);
    expect(notThere.json().field).toBe('studyUid');
    const client = await req('POST', '/api/remote/PACS/find', { keys: {}, client: 'router' });
    expect(client.statusCode).toBe(422);
    expect(client.json().field).toBe('client');
  });

  it('says 502 when the remote AE is not listening', async () => {
    const r = await req('POST', '/api/remote/DEAD/find', { keys: {} });
    expect(r.statusCode).toBe(502);
    expect(r.json().detail).toMatch(/C-FIND at DEAD/);
  });
});

describe('delete', () => {
  it('deletes from the Workstation archive with ?archive=workstation, leaving the Main Server its copy; usage follows', async () => {
    const ws = roles.archive('workstation')!;
    let inWs = 0;
    let bytesInWs = 0;
    for (const se of await ws.index.listSeries(ct.studyUid))
      for (const i of await ws.index.listInstances(se.seriesInstanceUid)) {
        inWs++;
        bytesInWs += i.fileSize;
      }
    expect(inWs).toBeGreaterThan(0);
    const before = await req('GET', '/api/workstation/usage');
    expect(before.statusCode).toBe(200);
    expect(before.json().maxBytes).toBe(20 * 1024 ** 3);
    const bad = await req('DELETE', `/api/studies/${ct.studyUid}?archive=router`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ field: 'archive', detail: 'archive must be main or workstation' });
    expect((await req('DELETE', `/api/studies/${ct.studyUid}?archive=workstation`)).json()).toEqual({ deleted: inWs });
    expect(await ws.index.listSeries(ct.studyUid)).toEqual([]);
    expect((await roles.archive('main')!.index.listSeries(ct.studyUid)).length).toBe(2);
    expect((await req('GET', '/api/workstation/usage')).json()).toEqual({
      bytes: before.json().bytes - bytesInWs,
      instances: before.json().instances - inWs,
      maxBytes: 20 * 1024 ** 3,
    });
    expect((await req('DELETE', `/api/studies/${ct.studyUid}?archive=workstation`)).statusCode).toBe(404);
  });

  it('deletes an instance, a series and a study: rows and files gone', async () => {
    const a = roles.archive('main')!;
    const row = (await a.index.getInstance(ct.sopInstanceUids[0]))!;
    const file = a.blobs.path(row.fileKey);
    expect(existsSync(file)).toBe(true);
    const one = await req('DELETE', `/api/studies/${ct.studyUid}/series/${ct.seriesUid}/instances/${ct.sopInstanceUids[0]}`);
    expect(one.json()).toEqual({ deleted: 1 });
    expect(existsSync(file)).toBe(false);
    expect(await a.index.hasInstance(ct.sopInstanceUids[0])).toBe(false);

    expect((await req('DELETE', `/api/studies/${ct.studyUid}/series/${ct2.seriesUid}`)).json()).toEqual({ deleted: 2 });
    expect((await a.index.listSeries(ct.studyUid)).map((s) => s.seriesInstanceUid)).toEqual([ct.seriesUid]);
    expect((await req('DELETE', `/api/studies/${ct.studyUid}`)).json()).toEqual({ deleted: 2 });
    expect(await a.index.listSeries(ct.studyUid)).toEqual([]);
    expect((await req('DELETE', `/api/studies/${ct.studyUid}`)).statusCode).toBe(404);
  });
});
