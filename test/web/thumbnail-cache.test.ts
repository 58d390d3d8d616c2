/**
 * Thumbnails on disk (issue 15 item 6): one cache entry per normalized parameter set
 * (`128,128` and `0128,128` are one), the size clamped to a thumbnail's maximum, the
 * cache bounded by total bytes (here a small cap), and nothing of a study left on disk
 * once DELETE /api/studies/{st} answered.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import jpeg from 'jpeg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCtSeries, type CtSeriesResult } from '../../scripts/gen-test-data.js';
import { Archive } from '../../src/archive/archive.js';
import { describeLimits, effectiveLimits, limitsSchema } from '../../src/config/index.js';
import { registerPixelRoutes } from '../../src/web/dicomweb/pixel-routes.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { instancePath, storeFile, type StoredRef } from './pixel-fixtures.js';
import { startWebApp, type WebAppFixture } from './web-app-fixture.js';

const CAP = 64 * 1024;

/** Every regular file under dir with its size (none when dir does not exist). */
function filesUnder(dir: string): { path: string; size: number }[] {
  let names: string[];
  try {
    names = readdirSync(dir, { recursive: true }).map(String);
  } catch {
    return [];
  }
  return names
    .map((n) => ({ path: n, st: statSync(join(dir, n)) }))
    .filter((f) => f.st.isFile())
    .map((f) => ({ path: f.path, size: f.st.size }));
}

let dir: string;
let series: CtSeriesResult;

beforeAll(async () => {
  dir = await makeTempDir('pacs-thumbs-');
  series = await writeCtSeries({ dir: join(dir, 'ct'), count: 2, rows: 256, cols: 256 });
});

afterAll(removeTempDirs);

describe('the thumbnail cache of an archive', () => {
  let archive: Archive;
  let app: FastifyInstance;
  let ref: StoredRef;
  const thumbs = () => join(dir, 'data', 'thumbnails');
  const get = (query: string) => app.inject({ method: 'GET', url: `${instancePath(ref)}/thumbnail${query}` });

  beforeAll(async () => {
    archive = await Archive.open({ dataDir: join(dir, 'data'), thumbnailCacheBytes: CAP });
    app = Fastify();
    await app.register(async (scope) => registerPixelRoutes(scope, { archive }), { prefix: '/dicomweb' });
    await app.ready();
    ref = await storeFile(archive, series.files[0]);
  });

  afterAll(async () => {
    await app?.close();
    await archive?.close();
  });

  it('keeps one entry for one normalized parameter set: 128,128 and 0128,128 are one', async () => {
    const a = await get('?viewport=128,128');
    expect(a.statusCode, a.body).toBe(200);
    const after = filesUnder(thumbs()).length;
    const b = await get('?viewport=0128,128&quality=085');
    expect(b.statusCode, b.body).toBe(200);
    expect(b.rawPayload.equals(a.rawPayload)).toBe(true);
    expect(filesUnder(thumbs()).length, 'a second cache file for the same parameters').toBe(after);
  });

  it('clamps a viewport larger than the maximum (512 on the longer side), keeping its aspect ratio', async () => {
    const r = await get('?viewport=8192,4096');
    expect(r.statusCode, r.body).toBe(200);
    const j = jpeg.decode(r.rawPayload, { useTArray: true });
    // The 256x256 image fitted into 512x256 (unclamped: into 8192x4096, 4096x4096).
    expect([j.width, j.height], 'a thumbnail larger than 512 was rendered').toEqual([256, 256]);
    // 600,300 clamps to the same 512,256: the same entry.
    const files = filesUnder(thumbs()).length;
    expect((await get('?viewport=600,300')).rawPayload.equals(r.rawPayload)).toBe(true);
    expect(filesUnder(thumbs()).length).toBe(files);
  });

  it('stays within its byte cap after 1,000 thumbnails with different parameters', async () => {
    for (let i = 0; i < 1000; i++) {
      const r = await get(`?quality=${1 + (i % 100)}&window=${40 + Math.floor(i / 100)},400`);
      expect(r.statusCode).toBe(200);
    }
    const files = filesUnder(thumbs());
    const total = files.reduce((s, f) => s + f.size, 0);
    expect(total, `the thumbnail cache holds ${files.length} files, ${total} bytes; its cap is ${CAP}`).toBeLessThanOrEqual(CAP);
    expect(files.length).toBeGreaterThan(5);
  });
});

describe('DELETE /api/studies/{st}', () => {
  let web: WebAppFixture;
  const basic = { authorization: `Basic ${Buffer.from('admin:password1').toString('base64')}` };

  beforeAll(async () => {
    web = await startWebApp({ tmpPrefix: 'pacs-thumbs-web-', adminPassword: 'password1' });
  });

  afterAll(async () => {
    await web?.close();
  });

  it('leaves no thumbnail of the study on disk', async () => {
    const archive = web.roles.archive('main')!;
    const refs = [await storeFile(archive, series.files[0]), await storeFile(archive, series.files[1])];
    for (const r of refs) {
      for (const q of ['', '?viewport=96,96', '?quality=50']) {
        const res = await web.app.inject({ method: 'GET', url: `${instancePath(r)}/thumbnail${q}`, headers: basic });
        expect(res.statusCode, res.body).toBe(200);
      }
    }
    expect(
      (await web.app.inject({ method: 'GET', url: `/dicomweb/studies/${series.studyUid}/series/${series.seriesUid}/thumbnail`, headers: basic })).statusCode,
    ).toBe(200);
    const thumbs = join(web.dir, 'thumbnails');
    expect(filesUnder(thumbs).length).toBeGreaterThanOrEqual(6);
    const del = await web.app.inject({ method: 'DELETE', url: `/api/studies/${series.studyUid}`, headers: basic });
    expect(del.json()).toEqual({ deleted: 2 });
    const left = filesUnder(thumbs);
    expect(
      left.map((f) => f.path),
      'thumbnails of the deleted study are still on disk',
    ).toEqual([]);
  });
});

describe('the cap setting', () => {
  it('is limits.storage.thumbnailCacheMiB in the registry: 256 by default, shown, positive', () => {
    expect(effectiveLimits({}).storage.thumbnailCacheMiB).toBe(256);
    expect(describeLimits({ limits: { storage: { thumbnailCacheMiB: 64 } } })).toContain('storage.thumbnailCacheMiB = 64');
    const bad = limitsSchema.safeParse({ storage: { thumbnailCacheMiB: 0 } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0].message).toMatch(/thumbnailCacheMiB must be a positive integer/);
  });
});
