/**
 * The built web app over a real socket: a hashed bundle comes brotli- or gzip-compressed
 * as the request accepts (the siblings written by the build's precompress step, which
 * decode to the file byte for byte) and cacheable for a year without revalidation; the
 * pages come with `no-cache` and an ETag (a 304 when unchanged); a missing bundle is a
 * 404, not the app's shell; a client-side route still gets the shell.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { precompressDir } from '../../scripts/precompress.js';
import { cacheControlFor, IMMUTABLE_CACHE, namesAFile, REVALIDATE_CACHE } from '../../src/web/static-files.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { rawRequest } from './raw-http.js';
import { startWebApp, type WebAppFixture } from './web-app-fixture.js';

const SHELL = '<!-- the app shell -->';
const BUNDLE = 'assets/viewer-Ab12Cd34.js';
const TINY = 'assets/tiny-Zz99Yy88.js';
let ui: string;
let web: WebAppFixture;
let port: number;

/** Compressible text with some randomness, so that each encoding gives different bytes. */
function scriptText(lines: number): string {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) out.push(`export const v${i} = ${JSON.stringify(randomBytes(6).toString('hex'))}; // line ${i} of the bundle`);
  return out.join('\n');
}

beforeAll(async () => {
  ui = await makeTempDir('pacs-static-ui-');
  await mkdir(join(ui, 'assets'));
  const page = (name: string) => `<!doctype html>${SHELL} ${name}\n${'<!-- padding so that the page is worth compressing -->\n'.repeat(40)}`;
  await writeFile(join(ui, 'index.html'), page('index'));
  await writeFile(join(ui, 'viewer.html'), page('viewer'));
  await writeFile(join(ui, BUNDLE), scriptText(3000));
  await writeFile(join(ui, TINY), 'export {};');
  const made = await precompressDir(ui);
  expect(made.files).toBe(3); // the two pages and the bundle; the tiny file is not worth it
  web = await startWebApp({ tmpPrefix: 'pacs-static-', adminPassword: 'admin-password', uiDir: ui });
  await web.app.listen({ host: '127.0.0.1', port: 0 });
  port = (web.app.server.address() as { port: number }).port;
});

afterAll(async () => {
  await web?.close();
  await removeTempDirs();
});

const get = (target: string, headers: Record<string, string> = {}) => rawRequest(port, 'GET', target, { headers });
const bytesOf = (body: string) => Buffer.from(body, 'latin1');

describe('hashed bundles', () => {
  it('come brotli-compressed when accepted, decoding to the file, cacheable for a year', async () => {
    const file = await readFile(join(ui, BUNDLE));
    const r = await get(`/${BUNDLE}`, { 'accept-encoding': 'gzip, deflate, br' });
    expect(r.status).toBe(200);
    expect(r.headers['content-encoding']).toBe('br');
    expect(r.headers['content-type']).toMatch(/^(text|application)\/javascript/);
    expect(r.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(r.headers.vary).toMatch(/accept-encoding/i);
    const body = bytesOf(r.body);
    expect(body.length).toBeLessThan(file.length / 2);
    expect(body.length).toBe((await stat(join(ui, `${BUNDLE}.br`))).size);
    expect(brotliDecompressSync(body).equals(file)).toBe(true);
  });

  it('come gzip-compressed to a client that accepts only gzip', async () => {
    const file = await readFile(join(ui, BUNDLE));
    const r = await get(`/${BUNDLE}`, { 'accept-encoding': 'gzip' });
    expect(r.status).toBe(200);
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(r.headers['cache-control']).toBe(IMMUTABLE_CACHE);
    expect(gunzipSync(bytesOf(r.body)).equals(file)).toBe(true);
  });

  it('come as they are to a client that accepts no encoding, still cacheable', async () => {
    const file = await readFile(join(ui, BUNDLE));
    for (const headers of [{}, { 'accept-encoding': 'identity' }] as Record<string, string>[]) {
      const r = await get(`/${BUNDLE}`, headers);
      expect(r.status).toBe(200);
      expect(r.headers['content-encoding']).toBeUndefined();
      expect(r.headers['cache-control']).toBe(IMMUTABLE_CACHE);
      expect(bytesOf(r.body).equals(file)).toBe(true);
    }
  });

  it('too small to compress come as they are', async () => {
    const r = await get(`/${TINY}`, { 'accept-encoding': 'br, gzip' });
    expect(r.status).toBe(200);
    expect(r.headers['content-encoding']).toBeUndefined();
    expect(r.body).toBe('export {};');
    expect(r.headers['cache-control']).toBe(IMMUTABLE_CACHE);
  });

  it("are not served under the compressed file's own name", async () => {
    const r = await get(`/${BUNDLE}.br`, { 'accept-encoding': 'br' });
    expect(r.status).toBe(404);
  });

  it("that do not exist are a 404 problem, not the app's shell", async () => {
    for (const target of ['/assets/viewer-00000000.js', '/assets/gone', '/old-bundle.js', '/deep/path/style.css']) {
      const r = await get(target, { 'accept-encoding': 'br' });
      expect(r.status, target).toBe(404);
      expect(r.headers['content-type'], target).toMatch(/^application\/problem\+json/);
      expect(r.body, target).not.toContain(SHELL);
    }
  });
});

describe('pages', () => {
  it('are revalidated on every load: no-cache with an ETag, 304 when unchanged', async () => {
    for (const [target, name] of [
      ['/', 'index'],
      ['/viewer?StudyInstanceUIDs=1.2.3', 'viewer'],
    ]) {
      const r = await get(target, { 'accept-encoding': 'br' });
      expect(r.status, target).toBe(200);
      expect(r.headers['cache-control'], target).toBe(REVALIDATE_CACHE);
      expect(r.headers['content-type'], target).toMatch(/^text\/html/);
      expect(r.headers['content-encoding'], target).toBe('br');
      expect(brotliDecompressSync(bytesOf(r.body)).toString(), target).toContain(`${SHELL} ${name}`);
      const etag = r.headers.etag;
      expect(etag, target).toBeTruthy();
      const again = await get(target, { 'accept-encoding': 'br', 'if-none-match': etag });
      expect(again.status, target).toBe(304);
      expect(again.body, target).toBe('');
    }
  });

  it('a client-side route gets the shell (no-cache), a UID-like last segment too', async () => {
    for (const target of ['/studies', '/some/page', '/studies/1.2.840.10008.5']) {
      const r = await get(target);
      expect(r.status, target).toBe(200);
      expect(r.body, target).toContain(`${SHELL} index`);
      expect(r.headers['cache-control'], target).toBe(REVALIDATE_CACHE);
    }
  });
});

describe('which paths are which', () => {
  it('names bundles immutable, everything else revalidated', () => {
    expect(cacheControlFor('assets/main-Cx1.js')).toBe(IMMUTABLE_CACHE);
    expect(cacheControlFor('index.html')).toBe(REVALIDATE_CACHE);
    expect(cacheControlFor('assets/sub/x.js')).toBe(REVALIDATE_CACHE);
    expect(cacheControlFor('favicon.svg')).toBe(REVALIDATE_CACHE);
  });

  it('tells a file from a client-side route', () => {
    expect(namesAFile('/assets/x')).toBe(true);
    expect(namesAFile('/x.js')).toBe(true);
    expect(namesAFile('/a/b.wasm')).toBe(true);
    expect(namesAFile('/studies')).toBe(false);
    expect(namesAFile('/studies/1.2.840.10008')).toBe(false);
  });
});
