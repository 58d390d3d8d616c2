/** Shared body: WADO-RS instances and metadata, and the scope's authentication, CORS and errors (fastify inject). */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPart10 } from '../../src/dicom/part10.js';
import { writeCtSeries } from '../../scripts/gen-test-data.js';
import { runDcmtk } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { basic, ctSeries, multipart, parseMultipart, type DicomwebHarness } from './dicomweb-setup.js';

/** Registers the suite against the harness `open` starts (SQLite or PostgreSQL index). */
export function wadoSuite(index: string, open: () => Promise<DicomwebHarness>): void {
  let h: DicomwebHarness;
  let s: Awaited<ReturnType<typeof ctSeries>>;
  let rleSop: string;
  let rleStored: Buffer;
  let rleSource: Buffer;

  const get = (url: string, headers: Record<string, string> = {}, auth: Record<string, string> = basic) =>
    h.app.inject({ method: 'GET', url, headers: { ...auth, ...headers } });
  const archive = () => h.roles.archive('main')!;
  const storedFile = async (sop: string) => readFileSync(archive().blobs.path((await archive().index.getInstance(sop))!.fileKey));

  beforeAll(async () => {
    h = await open();
    const files = await makeTempDir('pacs-dicomweb-files-');
    s = await ctSeries(join(files, 'a'), { count: 3, patientName: 'WADO^TEST' });
    // One more instance of the same series, RLE compressed by DCMTK.
    const extra = await ctSeries(join(files, 'b'), { count: 1, studyUid: s.studyUid, patientName: 'WADO^TEST' });
    rleSource = extra.bytes[0];
    const rle = join(files, 'rle.dcm');
    const conv = await runDcmtk('dcmcrle', [extra.files[0], rle]);
    expect(conv.code, conv.stderr).toBe(0);
    rleSop = extra.sopInstanceUids[0];
    const body = multipart([...s.bytes.map((b) => ({ body: b })), { body: readFileSync(rle) }]);
    const r = await h.app.inject({ method: 'POST', url: '/dicomweb/studies', payload: body.payload, headers: { ...basic, 'content-type': body.contentType } });
    expect(r.statusCode, r.body).toBe(200);
    rleStored = await storedFile(rleSop);
  });

  afterAll(async () => {
    await h?.close();
    await removeTempDirs();
  });

  describe(`WADO-RS instances (${index})`, () => {
    it('transfer-syntax=*: every stored file, bytes unchanged, one part each', async () => {
      const r = await get(`/dicomweb/studies/${s.studyUid}`, { accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' });
      expect(r.statusCode, r.body).toBe(200);
      expect(r.headers['content-type']).toMatch(/^multipart\/related; type="application\/dicom"; boundary=/);
      const parts = parseMultipart(r.rawPayload, String(r.headers['content-type']));
      expect(parts).toHaveLength(4);
      for (const [i, sop] of s.sopInstanceUids.entries()) {
        expect(parts[i].body.equals(await storedFile(sop))).toBe(true);
        expect(parts[i].headers['content-type']).toBe('application/dicom; transfer-syntax=1.2.840.10008.1.2.1');
      }
      expect(parts[3].body.equals(rleStored)).toBe(true);
      expect(parts[3].headers['content-type']).toBe('application/dicom; transfer-syntax=1.2.840.10008.1.2.5');
      // Sent as stored, the length is known up front: no chunked framing.
      expect(r.headers['content-length']).toBe(String(r.rawPayload.length));
    });

    it('a file larger than a whole read (4 MiB) is streamed from the blob store, still with its exact Content-Length', async () => {
      const big = await writeCtSeries({
        dir: join(await makeTempDir('pacs-dicomweb-big-'), 'big'),
        rows: 1500,
        cols: 1500,
        count: 1,
        patientName: 'BIG^FILE',
        patientId: 'BIG1',
      });
      const bytes = readFileSync(big.files[0]);
      expect(bytes.length).toBeGreaterThan(4 << 20);
      const body = multipart([{ body: bytes }]);
      const stow = await h.app.inject({
        method: 'POST',
        url: '/dicomweb/studies',
        payload: body.payload,
        headers: { ...basic, 'content-type': body.contentType },
      });
      expect(stow.statusCode, stow.body).toBe(200);
      const r = await get(`/dicomweb/studies/${big.studyUid}`, { accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' });
      expect(r.statusCode).toBe(200);
      expect(r.headers['content-length']).toBe(String(r.rawPayload.length));
      const parts = parseMultipart(r.rawPayload, String(r.headers['content-type']));
      expect(parts).toHaveLength(1);
      expect(parts[0].body.equals(await storedFile(big.sopInstanceUids[0]))).toBe(true);
    });

    it('a stored file whose size is not the indexed one ends the response early (short of its Content-Length), and the server goes on', async () => {
      const file = archive().blobs.path((await archive().index.getInstance(s.sopInstanceUids[1]))!.fileKey);
      const original = readFileSync(file);
      const url = `/dicomweb/studies/${s.studyUid}/series/${s.seriesUid}`;
      const accept = { accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' };
      const whole = await get(url, accept);
      try {
        writeFileSync(file, Buffer.concat([original, Buffer.from('extra')]));
        const r = await get(url, accept).then(
          (res) => res.rawPayload.length,
          (err: Error) => err,
        );
        // Either the injected response is cut short or it fails: never a complete-looking body with the wrong bytes.
        if (typeof r === 'number') expect(r).toBeLessThan(Number(whole.headers['content-length']));
        else expect(r).toBeInstanceOf(Error);
      } finally {
        writeFileSync(file, original);
      }
      const again = await get(url, accept);
      expect(again.statusCode).toBe(200);
      expect(again.rawPayload.length).toBe(Number(again.headers['content-length']));
    });

    it('no transfer-syntax (or Explicit VR Little Endian asked for): the RLE instance is decompressed', async () => {
      for (const accept of [
        undefined,
        'multipart/related; type="application/dicom"',
        'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.1',
      ]) {
        const r = await get(`/dicomweb/studies/${s.studyUid}/series/${s.seriesUid}`, accept ? { accept } : {});
        expect(r.statusCode, r.body).toBe(200);
        const parts = parseMultipart(r.rawPayload, String(r.headers['content-type']));
        expect(parts).toHaveLength(3);
        expect(parts.every((p) => p.headers['content-type'] === 'application/dicom; transfer-syntax=1.2.840.10008.1.2.1')).toBe(true);
      }
      const study = await get(`/dicomweb/studies/${s.studyUid}`);
      expect(parseMultipart(study.rawPayload, String(study.headers['content-type']))).toHaveLength(4);
      expect(study.headers['content-length']).toBeUndefined(); // one instance converted: streamed without a length
      const one = await get(`/dicomweb/studies/${s.studyUid}/series/${(await archive().index.getInstance(rleSop))!.seriesInstanceUid}/instances/${rleSop}`);
      expect(one.statusCode).toBe(200);
      const [part] = parseMultipart(one.rawPayload, String(one.headers['content-type']));
      const { meta, dataset } = readPart10(part.body);
      expect(meta.transferSyntaxUid).toBe('1.2.840.10008.1.2.1');
      const pixels = dataset.get(0x7fe00010)!;
      expect(pixels.fragments).toBeUndefined();
      expect(pixels.value!.length).toBe(32 * 32 * 2);
      // The same pixels as the file before DCMTK compressed it.
      const source = readPart10(rleSource).dataset.get(0x7fe00010)!.value!;
      expect(Buffer.from(pixels.value!).equals(Buffer.from(source))).toBe(true);
    });

    it('406 for a syntax it cannot produce or a media type it does not serve; 404 for unknown UIDs; 400 for path tricks', async () => {
      const jpeg = await get(`/dicomweb/studies/${s.studyUid}`, {
        accept: 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.50',
      });
      expect(jpeg.statusCode).toBe(406);
      expect(jpeg.json().detail).toMatch(/transfer-syntax=\*/);
      expect((await get(`/dicomweb/studies/${s.studyUid}`, { accept: 'multipart/related; type="application/octet-stream"' })).statusCode).toBe(406);
      expect((await get(`/dicomweb/studies/${s.studyUid}`, { accept: 'text/html' })).statusCode).toBe(406);
      // The first acceptable entry wins.
      const q = await get(`/dicomweb/studies/${s.studyUid}`, { accept: 'text/html, multipart/related; type="application/dicom"; transfer-syntax=*;q=0.5' });
      expect(q.statusCode).toBe(200);
      const nf = await get('/dicomweb/studies/1.2.3.999');
      expect(nf.statusCode).toBe(404);
      expect(nf.json().detail).toMatch(/no study 1\.2\.3\.999/);
      expect((await get(`/dicomweb/studies/${s.studyUid}/series/1.2.3`)).statusCode).toBe(404);
      expect((await get(`/dicomweb/studies/${s.studyUid}/series/${s.seriesUid}/instances/1.2.3`)).statusCode).toBe(404);
      for (const bad of ['..%2F..%2Fetc%2Fpasswd', '1.2.3a', '1..2', `1.${'2'.repeat(70)}`, '%00']) {
        const r = await get(`/dicomweb/studies/${bad}`);
        expect(r.statusCode, bad).toBe(400);
        expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
      }
      expect((await get('/dicomweb/nonsense')).statusCode).toBe(404);
    });
  });

  describe(`WADO-RS metadata (${index})`, () => {
    it('study, series and instance metadata from the index, with BulkDataURI and the stored transfer syntax', async () => {
      const r = await get(`/dicomweb/studies/${s.studyUid}/metadata`, { accept: 'application/dicom+json' });
      expect(r.statusCode, r.body).toBe(200);
      expect(r.headers['content-type']).toMatch(/^application\/dicom\+json/);
      const all = r.json<Record<string, { vr: string; Value?: unknown[]; BulkDataURI?: string }>[]>();
      expect(all).toHaveLength(4);
      const first = all.find((x) => x['00080018'].Value![0] === s.sopInstanceUids[0])!;
      expect(first['00100010'].Value![0]).toEqual({ Alphabetic: 'WADO^TEST' });
      expect(first['00280010']).toEqual({ vr: 'US', Value: [32] });
      expect(first['7FE00010']).toEqual({
        vr: 'OW',
        BulkDataURI: `http://localhost:80/dicomweb/studies/${s.studyUid}/series/${s.seriesUid}/instances/${s.sopInstanceUids[0]}/bulkdata/7FE00010`,
      });
      expect(first['00083002'].Value).toEqual(['1.2.840.10008.1.2.1']);
      const rle = all.find((x) => x['00080018'].Value![0] === rleSop)!;
      expect(rle['7FE00010'].vr).toBe('OB');
      expect(rle['00083002'].Value).toEqual(['1.2.840.10008.1.2.5']);
      const series = (await get(`/dicomweb/studies/${s.studyUid}/series/${s.seriesUid}/metadata`)).json();
      expect(series).toHaveLength(3);
      const one = (await get(`/dicomweb/studies/${s.studyUid}/series/${s.seriesUid}/instances/${s.sopInstanceUids[1]}/metadata`)).json();
      expect(one).toHaveLength(1);
      expect(one[0]['00200013'].Value).toEqual([2]);
      expect((await get(`/dicomweb/studies/${s.studyUid}/metadata`, { accept: 'application/dicom+xml' })).statusCode).toBe(406);
      expect((await get(`/dicomweb/studies/1.2.3.4/metadata`)).statusCode).toBe(404);
      expect((await get(`/dicomweb/studies/${s.studyUid}/series/${s.sopInstanceUids[0]}/metadata`)).statusCode).toBe(404);
    });
  });

  describe(`DICOMweb access (${index})`, () => {
    it('needs a login (Basic or the /api session cookie) unless open read is set; open read does not open /api', async () => {
      const url = `/dicomweb/studies/${s.studyUid}/metadata`;
      const anon = await get(url, {}, {});
      expect(anon.statusCode).toBe(401);
      expect(anon.headers['www-authenticate']).toMatch(/^Basic/);
      expect((await get(url, {}, { authorization: `Basic ${Buffer.from('admin:wrong-pass').toString('base64')}` })).statusCode).toBe(401);
      const login = await h.app.inject({ method: 'POST', url: '/api/login', payload: { user: 'admin', password: 'password1' } });
      const cookie = String(login.headers['set-cookie']).split(';')[0];
      expect((await get(url, {}, { cookie })).statusCode).toBe(200);
      await h.settings({ openRead: true });
      try {
        expect((await get(url, {}, {})).statusCode).toBe(200);
        expect((await get(`/dicomweb/studies?PatientName=WADO*`, {}, {})).json()).toHaveLength(1);
        expect((await get('/api/aes', {}, {})).statusCode).toBe(401);
      } finally {
        await h.settings({});
      }
      expect((await get(url, {}, {})).statusCode).toBe(401);
    });

    it('CORS is off by default and answers only the configured origins', async () => {
      const pre = () =>
        h.app.inject({
          method: 'OPTIONS',
          url: '/dicomweb/studies',
          headers: { origin: 'https://viewer.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
        });
      expect((await pre()).headers['access-control-allow-origin']).toBeUndefined();
      await h.settings({ corsOrigins: ['https://viewer.example'] });
      try {
        const ok = await pre();
        expect(ok.statusCode).toBe(204);
        expect(ok.headers['access-control-allow-origin']).toBe('https://viewer.example');
        expect(ok.headers['access-control-allow-credentials']).toBe('true');
        const other = await h.app.inject({ method: 'GET', url: '/dicomweb/studies', headers: { ...basic, origin: 'https://evil.example' } });
        expect(other.headers['access-control-allow-origin']).toBeUndefined();
        const simple = await h.app.inject({ method: 'GET', url: '/dicomweb/studies', headers: { ...basic, origin: 'https://viewer.example' } });
        expect(simple.headers['access-control-allow-origin']).toBe('https://viewer.example');
      } finally {
        await h.settings({});
      }
      const bad = await h.app.inject({ method: 'PATCH', url: '/api/config/web', payload: { dicomweb: { corsOrigins: ['not an origin'] } }, headers: basic });
      expect(bad.statusCode).toBe(422);
      expect(bad.json().field).toMatch(/^dicomweb\.corsOrigins/);
    });
  });
}
