/**
 * Hostile values through DICOMweb and the REST API (issue 15 items 6 and 7), in process:
 * rows already in the index with UIDs that are not UIDs (put there through the index
 * API, as ingest refuses them now) cannot break /metadata JSON or multipart part
 * headers; STOW-RS refuses bad UIDs per part and its Warning header survives any
 * message; a header over limits.dataset.maxHeaderBytes fails its part only; conversions
 * over limits.dataset.maxTranscodeBytes are refused with 406 naming transfer-syntax=*.
 */
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InstanceRecord } from '../../src/archive/index-types.js';
import { parseMediaType } from '../../src/web/dicomweb/media-types.js';
import { writeCtSeries } from '../../scripts/gen-test-data.js';
import { writeSecondaryCapture, type HostileInstance } from '../interop/hostile-instances.js';
import { runDcmtk } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { basic, ctSeries, multipart, parseMultipart, startHarness, type DicomwebHarness } from './dicomweb-setup.js';

let h: DicomwebHarness;
let files: string;
let ct: Awaited<ReturnType<typeof ctSeries>>;
const ROOT = '1.2.826.0.1.3680043.10.1016';

const get = (url: string, headers: Record<string, string> = {}) => h.app.inject({ method: 'GET', url, headers: { ...basic, ...headers } });
const stow = (body: { payload: Buffer; contentType: string }) =>
  h.app.inject({
    method: 'POST',
    url: '/dicomweb/studies',
    payload: body.payload,
    headers: { ...basic, 'content-type': body.contentType, accept: 'application/dicom+json' },
  });
const archive = () => h.roles.archive('main')!;
let n = 0;
function scBytes(o: HostileInstance): Buffer {
  const file = join(files, `sc-${++n}.dcm`);
  writeSecondaryCapture(file, o);
  return readFileSync(file);
}

beforeAll(async () => {
  h = await startHarness();
  files = await makeTempDir('pacs-dicomweb-hostile-');
  ct = await ctSeries(join(files, 'ct'), { count: 1, patientName: 'Real^Patient' });
  const r = await stow(multipart([{ body: ct.bytes[0] }]));
  expect(r.statusCode, r.body).toBe(200);
});

afterAll(async () => {
  await h?.close();
  await removeTempDirs();
});

/** A row put into the index directly (ingest refuses such UIDs), with a copy of the stored CT file. */
let copies = 0;
async function insertRow(over: Partial<InstanceRecord>): Promise<void> {
  const real = (await archive().index.getInstance(ct.sopInstanceUids[0]))!;
  // The key's random part replaced (the last 16 hex digits, whatever the layout).
  const fileKey = real.fileKey.replace(/[0-9a-f]{16}\.dcm$/, `${String(++copies).padStart(16, '0')}.dcm`);
  copyFileSync(archive().blobs.path(real.fileKey), archive().blobs.path(fileKey));
  const record: InstanceRecord = {
    ...real,
    fileKey,
    patientId: ct.patientId,
    patientName: 'Real^Patient',
    receivedAt: new Date().toISOString(),
    ...over,
  };
  expect(await archive().index.insertInstances([record], 'keep')).toEqual([{ status: 'stored' }]);
}

describe('WADO-RS metadata whatever the stored UIDs are (issue 15 item 7)', () => {
  it('stays valid JSON with a row whose series UID and transfer syntax hold quotes, and the patient name cannot be changed', async () => {
    const injected = '1"},"00100010":{"vr":"PN","Value":[{"Alphabetic":"INJECTED^NAME"}]},"00090010":{"vr":"LO","BulkDataURI":"x';
    await insertRow({ sopInstanceUid: `${ROOT}.1.1`, seriesInstanceUid: '1.2.3"x', transferSyntaxUid: '1.2.840.10008.1.2.1"x' });
    await insertRow({ sopInstanceUid: `${ROOT}.1.2`, seriesInstanceUid: injected });
    const r = await get(`/dicomweb/studies/${ct.studyUid}/metadata`, { accept: 'application/dicom+json' });
    expect(r.statusCode).toBe(200);
    const all = JSON.parse(r.body) as Record<string, { Value?: unknown[]; BulkDataURI?: string }>[];
    expect(all).toHaveLength(3);
    expect(all.map((i) => (i['00100010'].Value![0] as { Alphabetic: string }).Alphabetic)).toEqual(['Real^Patient', 'Real^Patient', 'Real^Patient']);
    const quoted = all.find((i) => r.body && i['00083002'].Value![0] === '1.2.840.10008.1.2.1"x')!;
    expect(quoted).toBeDefined();
    // The URI's path segments are percent-encoded: it is still one URL of this instance.
    expect(quoted['7FE00010'].BulkDataURI).toBe(`http://localhost:80/dicomweb/studies/${ct.studyUid}/series/1.2.3%22x/instances/${ROOT}.1.1/bulkdata/7FE00010`);
  });
});

describe('multipart part headers built by an encoder (issue 15 item 7)', () => {
  it('quotes a stored transfer syntax that is not a token: the part type has exactly one parameter', async () => {
    const sop = `${ROOT}.2.1`;
    await insertRow({ sopInstanceUid: sop, seriesInstanceUid: `${ROOT}.2`, transferSyntaxUid: '1.2.840.10008.1.2.1; x-evil=1' });
    const r = await get(`/dicomweb/studies/${ct.studyUid}/series/${ROOT}.2/instances/${sop}`, {
      accept: 'multipart/related; type="application/dicom"; transfer-syntax=*',
    });
    expect(r.statusCode).toBe(200);
    const [part] = parseMultipart(r.rawPayload, String(r.headers['content-type']));
    const type = parseMediaType(part.headers['content-type'])!;
    expect(type.essence).toBe('application/dicom');
    expect([...type.params.entries()]).toEqual([['transfer-syntax', '1.2.840.10008.1.2.1; x-evil=1']]);
    expect(Number(r.headers['content-length'])).toBe(r.rawPayload.length);
  });
});

describe('STOW-RS refuses UIDs that are not UIDs, per part (issue 15 item 7)', () => {
  it('a SOP Instance UID such as 1.2.3x fails its part (0xA900); the others are stored', async () => {
    const good: HostileInstance = { sopInstanceUid: `${ROOT}.3.1`, studyInstanceUid: `${ROOT}.3`, seriesInstanceUid: `${ROOT}.3.1` };
    const bad: HostileInstance = { ...good, sopInstanceUid: '1.2.3x' };
    const r = await stow(multipart([{ body: scBytes(bad) }, { body: scBytes(good) }]));
    expect(r.statusCode, r.body).toBe(202);
    const failed = r.json()['00081198'].Value;
    expect(failed).toHaveLength(1);
    expect(failed[0]['00081197'].Value).toEqual([0xa900]);
    expect(failed[0]['00081155']).toBeUndefined(); // not echoed as a UID: it is not one
    expect(await archive().index.hasInstance('1.2.3x')).toBe(false);
    expect(await archive().index.hasInstance(good.sopInstanceUid)).toBe(true);
    expect(String(r.headers.warning)).toMatch(/MediaStorageSOPInstanceUID \(0002,0003\) is not a UID/);
  });

  it('a series UID with a quote fails its part (0xA900) naming the attribute', async () => {
    const bad: HostileInstance = { sopInstanceUid: `${ROOT}.4.1`, studyInstanceUid: `${ROOT}.4`, seriesInstanceUid: '1.2.3"x' };
    const r = await stow(multipart([{ body: scBytes(bad) }]));
    expect(r.statusCode, r.body).toBe(409);
    expect(r.json()['00081198'].Value[0]['00081197'].Value).toEqual([0xa900]);
    expect(String(r.headers.warning)).toMatch(/SeriesInstanceUID \(0020,000E\) is not a UID/);
  });

  it("a part's transfer-syntax parameter that is not a UID fails that part (0xC000)", async () => {
    const sc = scBytes({ sopInstanceUid: `${ROOT}.5.1`, studyInstanceUid: `${ROOT}.5`, seriesInstanceUid: `${ROOT}.5.1` });
    const r = await stow(multipart([{ body: sc, type: 'application/dicom; transfer-syntax="1.2.840.10008.1.2.1\\"x"' }]));
    expect(r.statusCode, r.body).toBe(409);
    expect(r.json()['00081198'].Value[0]['00081197'].Value).toEqual([0xc000]);
    expect(String(r.headers.warning)).toMatch(/transfer-syntax parameter/);
    expect(await archive().index.hasInstance(`${ROOT}.5.1`)).toBe(false);
  });

  it('a Warning header is sent whatever the failure message holds (a lone line feed in a part type)', async () => {
    const sc = scBytes({ sopInstanceUid: `${ROOT}.6.1`, studyInstanceUid: `${ROOT}.6`, seriesInstanceUid: `${ROOT}.6.1` });
    // A quoted parameter may hold a line feed and any byte (ł is two, read as Latin-1): they reach the failure message.
    const r = await stow(multipart([{ body: sc }, { body: Buffer.from('hello'), type: 'text/plain; x="a\nX-Injected: 1 ł"' }]));
    expect(r.statusCode, r.body).toBe(202);
    expect(r.headers['x-injected']).toBeUndefined();
    expect(String(r.headers.warning)).toBe(
      '299 open-pacs: "1 of 2 instances were not stored: part of type text/plain; x=\\"a?X-Injected: 1 ??\\" (only application/dicom is stored)"',
    );
    expect(await archive().index.hasInstance(`${ROOT}.6.1`)).toBe(true);
  });
});

describe('STOW-RS with limits.dataset.maxHeaderBytes (issue 15 item 3)', () => {
  it('a part whose header is over the limit fails with 0xA700 naming it; the other part is stored', async () => {
    await h.store.update((reg) => ({ ...reg, limits: { ...reg.limits, dataset: { maxHeaderBytes: 1_000_000 } } }));
    try {
      const big: HostileInstance = {
        sopInstanceUid: `${ROOT}.7.1`,
        studyInstanceUid: `${ROOT}.7`,
        seriesInstanceUid: `${ROOT}.7.1`,
        privateUc: { count: 20, bytes: 100_000 },
      };
      const small: HostileInstance = { ...big, sopInstanceUid: `${ROOT}.7.2`, privateUc: undefined };
      const r = await stow(multipart([{ body: scBytes(big) }, { body: scBytes(small) }]));
      expect(r.statusCode, r.body).toBe(202);
      const failed = r.json()['00081198'].Value;
      expect(failed[0]['00081197'].Value).toEqual([0xa700]);
      expect(failed[0]['00081155'].Value).toEqual([big.sopInstanceUid]);
      expect(String(r.headers.warning)).toMatch(/header over limits\.dataset\.maxHeaderBytes \(1000000 bytes\)/);
      expect(await archive().index.hasInstance(big.sopInstanceUid)).toBe(false);
      expect(await archive().index.hasInstance(small.sopInstanceUid)).toBe(true);
    } finally {
      await h.store.update((reg) => ({ ...reg, limits: undefined }));
    }
  });
});

describe('conversion on retrieve bounded by limits.dataset.maxTranscodeBytes (issue 15 item 6)', () => {
  let rle: { study: string; series: string; sop: string };

  beforeAll(async () => {
    const s = await writeCtSeries({ dir: join(files, 'rle-src'), count: 1, rows: 128, cols: 128 });
    const file = join(files, 'rle.dcm');
    const c = await runDcmtk('dcmcrle', [s.files[0], file]);
    expect(c.code, c.stderr).toBe(0);
    const r = await stow(multipart([{ body: readFileSync(file) }]));
    expect(r.statusCode, r.body).toBe(200);
    rle = { study: s.studyUid, series: s.seriesUid, sop: s.sopInstanceUids[0] };
    await h.store.update((reg) => ({ ...reg, limits: { ...reg.limits, dataset: { maxTranscodeBytes: 20_000 } } }));
  });
  afterAll(async () => {
    await h.store.update((reg) => ({ ...reg, limits: undefined }));
  });

  it('WADO-RS: 406 problem saying to ask for transfer-syntax=*; as stored it is sent', async () => {
    const url = `/dicomweb/studies/${rle.study}/series/${rle.series}/instances/${rle.sop}`;
    for (const path of [url, `/dicomweb/studies/${rle.study}`]) {
      const r = await get(path);
      expect(r.statusCode, r.body).toBe(406);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(r.json().detail).toMatch(/maxTranscodeBytes.*transfer-syntax=\*/);
    }
    const stored = await get(url, { accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' });
    expect(stored.statusCode).toBe(200);
  });

  it('WADO-URI: 406 for the conversion, the object as stored otherwise', async () => {
    const q = `/dicomweb/wado?requestType=WADO&studyUID=${rle.study}&seriesUID=${rle.series}&objectUID=${rle.sop}&contentType=application/dicom`;
    const r = await get(`${q}&transferSyntax=1.2.840.10008.1.2.1`);
    expect(r.statusCode, r.body).toBe(406);
    expect(r.json().detail).toMatch(/maxTranscodeBytes/);
    expect((await get(q)).statusCode).toBe(200);
  });
});

describe('REST UIDs checked with the one UID check', () => {
  it('400 naming the field for path and body UIDs that are not UIDs', async () => {
    const api = (method: 'GET' | 'DELETE' | 'POST', url: string, payload?: unknown) =>
      h.app.inject({ method, url, headers: basic, ...(payload ? { payload } : {}) });
    for (const [method, url, field] of [
      ['DELETE', '/api/studies/1..2', 'studyUid'],
      ['GET', '/api/studies/1.2./archive.zip', 'studyUid'],
      ['GET', '/api/mpps/1.2.3x', 'uid'],
    ] as const) {
      const r = await api(method, url);
      expect(r.statusCode, `${method} ${url}: ${r.body}`).toBe(400);
      expect(r.json().field).toBe(field);
    }
    const send = await api('POST', '/api/studies/send', { destination: 'WORKSTATION', studyUid: '.1.2' });
    expect(send.statusCode).toBe(400);
    expect(send.json().field).toBe('studyUid');
    // Worklist entries (REST and CLI share the schema): the same check.
    const mwl = await api('POST', '/api/worklist', { patientId: 'P1', patientName: 'A^B', modality: 'CT', startDate: '20250101', studyInstanceUid: '1.2.3"x' });
    expect(mwl.statusCode).toBe(422);
    expect(mwl.json().field).toBe('studyInstanceUid');
  });
});
