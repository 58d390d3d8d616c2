/** STOW-RS in process (fastify inject): stored through the archive's ingest, per-part failures, bad requests, nothing stored changed. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { basic, ctSeries, multipart, startHarness, type DicomwebHarness } from './dicomweb-setup.js';

let h: DicomwebHarness;
let files: string;

beforeAll(async () => {
  h = await startHarness();
  files = await makeTempDir('pacs-dicomweb-files-');
});

afterAll(async () => {
  await h?.close();
  await removeTempDirs();
});

const stow = (url: string, body: { payload: Buffer; contentType: string }, headers: Record<string, string> = basic) =>
  h.app.inject({ method: 'POST', url, payload: body.payload, headers: { ...headers, 'content-type': body.contentType, accept: 'application/dicom+json' } });

const archive = () => h.roles.archive('main')!;
const storedFile = async (sop: string) => readFileSync(archive().blobs.path((await archive().index.getInstance(sop))!.fileKey));

describe('STOW-RS', () => {
  it('stores every part through the ingest: 200, ReferencedSOPSequence with RetrieveURLs, bytes as sent', async () => {
    const s = await ctSeries(join(files, 'a'), { count: 3 });
    const r = await stow('/dicomweb/studies', multipart(s.bytes.map((body) => ({ body }))));
    expect(r.statusCode, r.body).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/dicom\+json/);
    const body = r.json();
    expect(body['00081190'].Value[0]).toBe(`http://localhost:80/dicomweb/studies/${s.studyUid}`);
    const refs = body['00081199'].Value;
    expect(refs.map((x: Record<string, { Value: string[] }>) => x['00081155'].Value[0])).toEqual(s.sopInstanceUids);
    expect(refs[0]['00081190'].Value[0]).toMatch(new RegExp(`/dicomweb/studies/${s.studyUid}/series/${s.seriesUid}/instances/${s.sopInstanceUids[0]}$`));
    expect(body['00081198']).toBeUndefined();
    for (let i = 0; i < 3; i++) {
      const stored = await storedFile(s.sopInstanceUids[i]);
      // The data set is stored byte for byte; the meta header is rebuilt by the ingest.
      const sent = s.bytes[i];
      expect(stored.subarray(stored.length - 2048).equals(sent.subarray(sent.length - 2048))).toBe(true);
      expect(stored.length - stored.readUInt32LE(140)).toBe(sent.length - sent.readUInt32LE(140));
    }
  });

  it('one broken instance among good ones: 202, the good ones stored, FailedSOPSequence with the reason', async () => {
    const s = await ctSeries(join(files, 'b'), { count: 3 });
    const broken = Buffer.from(s.bytes[1]);
    broken.write('XXXX', 128, 'latin1'); // no DICM
    const truncated = s.bytes[2].subarray(0, 400); // the header cut inside the data set
    const r = await stow('/dicomweb/studies', multipart([{ body: s.bytes[0] }, { body: broken }, { body: truncated }]));
    expect(r.statusCode, r.body).toBe(202);
    const body = r.json();
    expect(body['00081199'].Value).toHaveLength(1);
    const failed = body['00081198'].Value;
    expect(failed).toHaveLength(2);
    expect(failed[0]['00081197'].Value[0]).toBe(0xc000);
    expect(failed[1]['00081155'].Value[0]).toBe(s.sopInstanceUids[2]);
    expect(failed[1]['00081197'].Value[0]).toBe(0xc000);
    expect(await archive().index.hasInstance(s.sopInstanceUids[0])).toBe(true);
    expect(await archive().index.hasInstance(s.sopInstanceUids[1])).toBe(false);
    expect(await archive().index.hasInstance(s.sopInstanceUids[2])).toBe(false);
    expect(r.headers.warning).toMatch(/^299 /);
  });

  it('POST /studies/{study}: instances of another study fail (409 when none stored), nothing changes', async () => {
    const s = await ctSeries(join(files, 'c'), { count: 2 });
    const before = await archive().index.countInstances();
    const r = await stow('/dicomweb/studies/1.2.3.4', multipart(s.bytes.map((body) => ({ body }))));
    expect(r.statusCode, r.body).toBe(409);
    const failed = r.json()['00081198'].Value;
    expect(failed.map((f: Record<string, { Value: number[] }>) => f['00081197'].Value[0])).toEqual([0xa900, 0xa900]);
    expect(await archive().index.countInstances()).toBe(before);
    const ok = await stow(`/dicomweb/studies/${s.studyUid}`, multipart(s.bytes.map((body) => ({ body }))));
    expect(ok.statusCode).toBe(200);
  });

  it('a second copy of a stored instance keeps the stored file unchanged', async () => {
    const s = await ctSeries(join(files, 'd'), { count: 1 });
    expect((await stow('/dicomweb/studies', multipart([{ body: s.bytes[0] }]))).statusCode).toBe(200);
    const first = await storedFile(s.sopInstanceUids[0]);
    const changed = Buffer.from(s.bytes[0]);
    changed[changed.length - 1] ^= 0xff;
    const r = await stow('/dicomweb/studies', multipart([{ body: changed }]));
    expect(r.statusCode).toBe(200);
    expect((await storedFile(s.sopInstanceUids[0])).equals(first)).toBe(true);
  });

  it('refuses wrong content types (415), a missing boundary and malformed bodies (400), too large bodies (413)', async () => {
    const s = await ctSeries(join(files, 'e'), { count: 1 });
    const before = await archive().index.countInstances();
    const good = multipart([{ body: s.bytes[0] }]);
    const r415 = await stow('/dicomweb/studies', { payload: s.bytes[0], contentType: 'application/dicom' });
    expect(r415.statusCode).toBe(415);
    expect(r415.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(r415.json().detail).toMatch(/multipart\/related/);
    expect(
      (await stow('/dicomweb/studies', { payload: good.payload, contentType: 'multipart/related; type="application/dicom+json"; boundary=test-boundary-42' }))
        .statusCode,
    ).toBe(415);
    expect((await stow('/dicomweb/studies', { payload: Buffer.from('{}'), contentType: 'application/json' })).statusCode).toBe(415);
    const noBoundary = await stow('/dicomweb/studies', { payload: good.payload, contentType: 'multipart/related; type="application/dicom"' });
    expect(noBoundary.statusCode).toBe(400);
    expect(noBoundary.json().detail).toMatch(/boundary/);
    const garbage = await stow('/dicomweb/studies', { payload: Buffer.from('no multipart here at all'), contentType: good.contentType });
    expect(garbage.statusCode).toBe(400);
    expect(garbage.json().detail).toMatch(/no boundary delimiter/);
    const empty = await stow('/dicomweb/studies', { payload: Buffer.from('--test-boundary-42--\r\n'), contentType: good.contentType });
    expect(empty.statusCode).toBe(400);
    // Cut inside the part: that part fails, nothing is stored.
    const cut = await stow('/dicomweb/studies', { payload: good.payload.subarray(0, good.payload.length - 300), contentType: good.contentType });
    expect(cut.statusCode).toBe(409);
    expect(cut.json()['00081198'].Value[0]['00081197'].Value[0]).toBe(0xc000);
    await h.settings({ maxStowBytes: 1000 });
    try {
      const big = await stow('/dicomweb/studies', good);
      expect(big.statusCode).toBe(413);
      expect(big.json().detail).toMatch(/limit of 1000 bytes/);
    } finally {
      await h.settings({});
    }
    expect(await archive().index.countInstances()).toBe(before);
  });

  it('needs a login even with open read; path tricks are 400', async () => {
    const s = await ctSeries(join(files, 'f'), { count: 1 });
    await h.settings({ openRead: true });
    try {
      const r = await stow('/dicomweb/studies', multipart([{ body: s.bytes[0] }]), {});
      expect(r.statusCode).toBe(401);
      expect(r.headers['www-authenticate']).toMatch(/^Basic/);
    } finally {
      await h.settings({});
    }
    const trick = await stow('/dicomweb/studies/..%2F..%2Fetc', multipart([{ body: s.bytes[0] }]));
    expect(trick.statusCode).toBe(400);
    expect(trick.json().field).toBe('StudyInstanceUID');
    expect(await archive().index.hasInstance(s.sopInstanceUids[0])).toBe(false);
  });

  it('stores into the Workstation Server under /workstation/dicomweb', async () => {
    const s = await ctSeries(join(files, 'g'), { count: 1 });
    const r = await stow('/workstation/dicomweb/studies', multipart([{ body: s.bytes[0] }]));
    expect(r.statusCode).toBe(200);
    expect(await h.roles.archive('workstation')!.index.hasInstance(s.sopInstanceUids[0])).toBe(true);
    expect(await archive().index.hasInstance(s.sopInstanceUids[0])).toBe(false);
  });
});
