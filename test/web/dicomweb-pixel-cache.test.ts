/**
 * Frames and bulk data are cacheable (src/web/dicomweb/pixel-cache.ts): private, a year,
 * immutable, with a weak ETag from the stored blob, the resource and the Accept, and
 * Vary: Accept; a request naming that ETag gets a 304 with no body, one asking for another
 * representation (other frames, another Accept) gets the data; a failure carries no
 * caching headers.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InstanceSummary } from '../../src/archive/index.js';
import { etagMatches, STORED_CACHE, storedEtag } from '../../src/web/dicomweb/pixel-cache.js';
import { writeMultiFrame } from '../../scripts/gen-test-data.js';
import { tempDir } from '../archive/helpers.js';
import { instancePath, parseMultipart, pixelApp, storeFile, type PixelApp, type StoredRef } from './pixel-fixtures.js';

const OCTETS = 'multipart/related; type="application/octet-stream"; transfer-syntax=*';
let px: PixelApp;
let dataDir: string;
let multi: StoredRef;

beforeAll(async () => {
  px = await pixelApp();
  dataDir = tempDir('pacs-pixel-cache-');
  multi = await storeFile(px.archive, (await writeMultiFrame({ dir: dataDir, frames: 3, rows: 32, cols: 24 })).file);
}, 60_000);

afterAll(async () => {
  await px?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const get = (url: string, headers: Record<string, string> = {}) => px.app.inject({ method: 'GET', url, headers });

describe('frames and bulk data', () => {
  for (const resource of ['frames/1', 'frames/3,1', 'bulkdata/7FE00010']) {
    it(`${resource}: cacheable for a year, and a 304 for the ETag the client holds`, async () => {
      const url = `${instancePath(multi)}/${resource}`;
      const first = await get(url, { accept: OCTETS });
      expect(first.statusCode).toBe(200);
      expect(first.headers['cache-control']).toBe('private, max-age=31536000, immutable');
      expect(first.headers.vary).toMatch(/^accept$/i);
      const etag = String(first.headers.etag);
      expect(etag).toMatch(/^W\/"[A-Za-z0-9_-]{27}"$/);
      expect(parseMultipart(first.headers['content-type'], first.rawPayload).length).toBeGreaterThan(0);

      const again = await get(url, { accept: OCTETS, 'if-none-match': etag });
      expect(again.statusCode).toBe(304);
      expect(again.rawPayload.length).toBe(0);
      expect(again.headers.etag).toBe(etag);
      expect(again.headers['cache-control']).toBe(STORED_CACHE);

      // Among others, and in its strong spelling, it matches too.
      const listed = await get(url, { accept: OCTETS, 'if-none-match': `"x", ${etag.slice(2)}` });
      expect(listed.statusCode).toBe(304);

      // Another Accept is another representation: its own ETag, and the data.
      const other = await get(url, { accept: 'multipart/related; type="application/octet-stream"', 'if-none-match': etag });
      expect(other.statusCode).toBe(200);
      expect(other.headers.etag).not.toBe(etag);
      expect(other.rawPayload.length).toBeGreaterThan(0);
    });
  }

  it('gives each frame list its own ETag', async () => {
    const etags = new Set<string>();
    for (const frames of ['1', '2', '1,2', '2,1']) etags.add(String((await get(`${instancePath(multi)}/frames/${frames}`, { accept: OCTETS })).headers.etag));
    expect(etags.size).toBe(4);
  });

  it('sends no caching headers with a failure', async () => {
    const missing = await get(`${instancePath(multi)}/frames/9`, { accept: OCTETS });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['cache-control']).toBeUndefined();
    expect(missing.headers.etag).toBeUndefined();
    const refused = await get(`${instancePath(multi)}/frames/1`, { accept: 'multipart/related; type="image/jpeg"' });
    expect(refused.statusCode).toBe(406);
    expect(refused.headers['cache-control']).toBeUndefined();
  });
});

describe('ETags', () => {
  const row = (fileKey: string) => ({ fileKey }) as InstanceSummary;

  it('change with the stored blob (a replaced instance), the resource and the Accept', () => {
    const base = storedEtag(row('ab/cd/1.0001.dcm'), 'frames/1', OCTETS);
    expect(storedEtag(row('ab/cd/1.0001.dcm'), 'frames/1', OCTETS)).toBe(base);
    expect(storedEtag(row('ab/cd/1.0002.dcm'), 'frames/1', OCTETS)).not.toBe(base);
    expect(storedEtag(row('ab/cd/1.0001.dcm'), 'frames/2', OCTETS)).not.toBe(base);
    expect(storedEtag(row('ab/cd/1.0001.dcm'), 'frames/1', undefined)).not.toBe(base);
  });

  it('match by weak comparison, in a list or as *', () => {
    expect(etagMatches('W/"abc"', 'W/"abc"')).toBe(true);
    expect(etagMatches('"abc"', 'W/"abc"')).toBe(true);
    expect(etagMatches(' "x" , W/"abc"', 'W/"abc"')).toBe(true);
    expect(etagMatches('*', 'W/"abc"')).toBe(true);
    expect(etagMatches('W/"abd"', 'W/"abc"')).toBe(false);
    expect(etagMatches(undefined, 'W/"abc"')).toBe(false);
    expect(etagMatches('', 'W/"abc"')).toBe(false);
  });
});
