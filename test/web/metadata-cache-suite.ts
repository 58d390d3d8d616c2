/**
 * Shared body: the WADO-RS metadata cache (metadata-cache.ts): ETag from the study's change
 * stamp, 304 on If-None-Match, gzip and brotli, answers kept on disk under hashed names,
 * and never a stale answer after a new instance, a deletion, a patient correction or merge.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { basic, ctSeries, multipart, type DicomwebHarness } from './dicomweb-setup.js';

type Json = Record<string, { vr: string; Value?: unknown[] }>[];

/** Every file under `dir`, relative. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

export function metadataCacheSuite(index: string, open: () => Promise<DicomwebHarness>): void {
  describe(`WADO-RS metadata cache (${index})`, () => {
    let h: DicomwebHarness;
    let files: string;
    const get = (url: string, headers: Record<string, string> = {}) => h.app.inject({ method: 'GET', url, headers: { ...basic, ...headers } });
    const archive = () => h.roles.archive('main')!;
    const stow = async (bytes: Buffer[]) => {
      const body = multipart(bytes.map((b) => ({ body: b })));
      const r = await h.app.inject({
        method: 'POST',
        url: '/dicomweb/studies',
        payload: body.payload,
        headers: { ...basic, 'content-type': body.contentType },
      });
      expect(r.statusCode, r.body).toBe(200);
    };
    /** Waits until the cache holds `n` more files than `before` (it is written after the answer went out). */
    const cached = async (before: number, n = 3) => {
      for (let i = 0; i < 200 && archive().metadata.count < before + n; i++) await new Promise((r) => setTimeout(r, 10));
      expect(archive().metadata.count).toBe(before + n);
    };
    const sops = (r: { json: <T>() => T }) =>
      r
        .json<Json>()
        .map((x) => String(x['00080018'].Value![0]))
        .sort();

    beforeAll(async () => {
      h = await open();
      files = await makeTempDir('pacs-metadata-cache-');
    });
    afterAll(async () => {
      await h?.close();
      await removeTempDirs();
    });

    it('an ETag from the stamp, a 304 for it, then the answer from the cache; gzip and brotli when accepted', async () => {
      const s = await ctSeries(join(files, 'a'), { count: 3, patientName: 'CACHE^ONE', patientId: 'CACHE1' });
      await stow(s.bytes);
      const url = `/dicomweb/studies/${s.studyUid}/metadata`;
      const before = archive().metadata.count;
      const r1 = await get(url);
      expect(r1.statusCode, r1.body).toBe(200);
      const etag = String(r1.headers.etag);
      expect(etag).toMatch(/^"[0-9a-f]{16,32}-[A-Za-z0-9_-]{16}"$/);
      expect(r1.headers['cache-control']).toBe('private, no-cache');
      expect(r1.headers.vary).toMatch(/Accept-Encoding/);
      expect(r1.headers['content-encoding']).toBeUndefined();
      expect(sops(r1)).toEqual([...s.sopInstanceUids].sort());
      await cached(before);
      // The cache's files are named by hashes only: no UID or other request text in a path.
      const names = filesUnder(archive().metadata.root);
      expect(names.length).toBeGreaterThanOrEqual(3);
      for (const n of names) expect(n).toMatch(/^[0-9a-f]{2}\/[0-9a-f]{64}\/([0-9a-f]{64}\.bin|key)$/);

      const r2 = await get(url);
      expect(r2.statusCode).toBe(200);
      expect(r2.headers.etag).toBe(etag);
      expect(r2.body).toBe(r1.body);
      expect(r2.headers['content-length']).toBe(String(r1.rawPayload.length));

      const r304 = await get(url, { 'if-none-match': etag });
      expect(r304.statusCode).toBe(304);
      expect(r304.rawPayload.length).toBe(0);
      expect((await get(url, { 'if-none-match': `"other", W/${etag}` })).statusCode).toBe(304);
      expect((await get(url, { 'if-none-match': '"0000000000000000-AAAAAAAAAAAAAAAA"' })).statusCode).toBe(200);

      const gz = await get(url, { 'accept-encoding': 'gzip, deflate' });
      expect(gz.headers['content-encoding']).toBe('gzip');
      expect(gz.headers.etag).toBe(etag.replace(/"$/, '.gz"'));
      expect(gunzipSync(gz.rawPayload).toString()).toBe(r1.body);
      expect(gz.rawPayload.length).toBeLessThan(r1.rawPayload.length / 2);
      const br = await get(url, { 'accept-encoding': 'gzip;q=0.5, br' });
      expect(br.headers['content-encoding']).toBe('br');
      expect(brotliDecompressSync(br.rawPayload).toString()).toBe(r1.body);
      expect((await get(url, { 'accept-encoding': 'br;q=0, gzip;q=0' })).headers['content-encoding']).toBeUndefined();
      // A client holding one coding revalidates with its ETag whatever it asks for now.
      expect((await get(url, { 'accept-encoding': 'br', 'if-none-match': String(gz.headers.etag) })).statusCode).toBe(304);
    });

    it('a new instance, a deletion, a patient correction and a merge each give a new ETag and the new metadata', async () => {
      const s = await ctSeries(join(files, 'b'), { count: 2, patientName: 'CACHE^TWO', patientId: 'CACHE2' });
      await stow(s.bytes);
      const study = `/dicomweb/studies/${s.studyUid}/metadata`;
      const series = `/dicomweb/studies/${s.studyUid}/series/${s.seriesUid}/metadata`;
      const seen = new Set<string>();
      /** Asks twice (the second from the cache once it is there) with the previous ETag: both must be new answers. */
      const fresh = async (url: string, previous: string | undefined) => {
        const before = archive().metadata.count;
        const r = await get(url, previous ? { 'if-none-match': previous } : {});
        expect(r.statusCode, r.body).toBe(200);
        await cached(before);
        const again = await get(url, previous ? { 'if-none-match': previous, 'accept-encoding': 'gzip' } : { 'accept-encoding': 'gzip' });
        expect(again.statusCode).toBe(200);
        expect(gunzipSync(again.rawPayload).toString()).toBe(r.body);
        const etag = String(r.headers.etag);
        expect(seen.has(etag)).toBe(false);
        seen.add(etag);
        return { etag, json: r.json<Json>(), sops: sops(r) };
      };

      let a = await fresh(study, undefined);
      let se = await fresh(series, undefined);
      expect(a.sops).toEqual([...s.sopInstanceUids].sort());

      // A new instance of the study.
      const more = await ctSeries(join(files, 'c'), { count: 1, studyUid: s.studyUid, patientName: 'CACHE^TWO', patientId: 'CACHE2' });
      await stow(more.bytes);
      a = await fresh(study, a.etag);
      expect(a.sops).toEqual([...s.sopInstanceUids, ...more.sopInstanceUids].sort());

      // A deletion (of an instance of the series).
      const del = await h.app.inject({
        method: 'DELETE',
        url: `/api/studies/${s.studyUid}/series/${s.seriesUid}/instances/${s.sopInstanceUids[0]}`,
        headers: basic,
      });
      expect(del.statusCode, del.body).toBeLessThan(300);
      se = await fresh(series, se.etag);
      expect(se.sops).toEqual([s.sopInstanceUids[1]]);
      a = await fresh(study, a.etag);
      expect(a.sops).not.toContain(s.sopInstanceUids[0]);

      // A patient correction: the metadata goes out with the corrected name.
      const patch = await h.app.inject({ method: 'PATCH', url: '/api/patients/CACHE2', payload: { name: 'CORRECTED^NAME', reason: 'typo' }, headers: basic });
      expect(patch.statusCode, patch.body).toBe(200);
      a = await fresh(study, a.etag);
      for (const x of a.json) expect(x['00100010'].Value).toEqual([{ Alphabetic: 'CORRECTED^NAME' }]);

      // A merge into another patient: the metadata names the patient merged into.
      const merge = await h.app.inject({
        method: 'POST',
        url: '/api/patients/merge',
        payload: { from: { patientId: 'CACHE2' }, into: { patientId: 'CACHE2B' }, reason: 'same person' },
        headers: basic,
      });
      expect(merge.statusCode, merge.body).toBe(200);
      a = await fresh(study, a.etag);
      for (const x of a.json) expect(x['00100020'].Value).toEqual(['CACHE2B']);
      se = await fresh(series, se.etag);
      for (const x of se.json) expect(x['00100020'].Value).toEqual(['CACHE2B']);
    });

    it('another URL base is another answer; an absent series is a 404 without an ETag', async () => {
      const s = await ctSeries(join(files, 'd'), { count: 1, patientName: 'CACHE^THREE', patientId: 'CACHE3' });
      await stow(s.bytes);
      const url = `/dicomweb/studies/${s.studyUid}/metadata`;
      const local = await get(url);
      const other = await get(url, { host: 'pacs.example:8443' });
      expect(other.headers.etag).not.toBe(local.headers.etag);
      expect(other.body).toContain('http://pacs.example:8443/dicomweb/studies/');
      expect(local.body).not.toContain('pacs.example');
      const missing = await get(`/dicomweb/studies/${s.studyUid}/series/1.2.3.4.5/metadata`);
      expect(missing.statusCode).toBe(404);
      expect(missing.headers.etag).toBeUndefined();
    });
  });
}
