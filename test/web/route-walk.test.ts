/**
 * Every route the web server registers, requested over a real socket in each form a
 * client can spell it: plain, with a percent-encoded letter, as an absolute-form request
 * target, with doubled slashes, with `..` segments, with a trailing slash. Without
 * credentials each must answer 401 (or be one of the documented public routes, or not be
 * routed at all: 404, or the app's HTML shell for a GET); with a `reader` session every
 * admin-only route must answer 403. The route list comes from the server itself, so a
 * route added later is walked too (and, undeclared, must come out admin-only).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Authenticator, Sessions } from '../../src/web/auth.js';
import { LoginThrottle } from '../../src/web/login-throttle.js';
import { guardRoutes } from '../../src/web/route-access.js';
import { addPlugin } from '../../src/config/index.js';
import { routeTable } from '../../src/web/server.js';
import { REPO_ROOT } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { rawRequest, type RawResponse } from './raw-http.js';
import { startWebApp, type WebAppFixture } from './web-app-fixture.js';

const SHELL = '<!-- the app shell -->';
let web: WebAppFixture;
let port: number;

beforeAll(async () => {
  const ui = await makeTempDir('pacs-route-walk-ui-');
  await mkdir(join(ui, 'assets'));
  await writeFile(join(ui, 'index.html'), `<!doctype html>${SHELL}`);
  await writeFile(join(ui, 'viewer.html'), `<!doctype html>${SHELL} viewer`);
  await writeFile(join(ui, 'assets', 'app.js'), 'export {};');
  // An add-in's routes (one read, one admin-only) are walked like the server's own.
  const addIn = join(REPO_ROOT, 'test/roles/fixtures/plugins/file-reader.ts');
  web = await startWebApp({ tmpPrefix: 'pacs-route-walk-', adminPassword: 'admin-password', uiDir: ui, register: (r) => addPlugin(r, { module: addIn }) });
  await web.app.listen({ host: '127.0.0.1', port: 0 });
  port = (web.app.server.address() as { port: number }).port;
});

afterAll(async () => {
  await web?.close();
  await removeTempDirs();
});

/** Routes anybody may use: log in and out, the app's files, the viewer page, CORS preflights, liveness and readiness. */
function isPublic(method: string, url: string): boolean {
  if (method === 'OPTIONS') return true;
  if ((method === 'GET' || method === 'HEAD') && (url === '/api/health' || url === '/api/ready')) return true;
  if (method === 'POST' && (url === '/api/login' || url === '/api/logout')) return true;
  if ((method === 'GET' || method === 'HEAD') && (url === '/' || url === '/viewer' || /^\/[\w.-]+\.html$/.test(url) || url.startsWith('/assets/'))) return true;
  return false;
}

/** What a logged-in reader may do: browse and view; nothing that deletes, configures, sends, retrieves or exports. */
const READER = new Set([
  'GET /api/me',
  'POST /api/me/password',
  'GET /api/me/window-presets',
  'PUT /api/me/window-presets',
  'GET /api/hanging-protocols',
  'GET /api/status',
  'GET /api/config',
  'GET /api/aes',
  'GET /api/aes/:aet',
  'GET /api/worklist',
  'GET /api/worklist/:spsId',
  'GET /api/mpps',
  'GET /api/mpps/:uid',
  'GET /api/commitments',
  'GET /api/patients/conflicts',
  'GET /api/patients/changes',
  'GET /api/router/rules',
  'GET /api/router/rules/:name',
  'POST /api/router/validate',
  'GET /api/router/queue',
  'GET /api/router/queue/:dest',
  'GET /api/router/unrouted',
  'GET /api/workstation/usage',
  'GET /api/jobs',
  'GET /api/jobs/:id',
  'POST /api/remote/:aet/find',
  'POST /api/dictionary/names',
  'GET /api/plugins/file-reader',
]);
function readerMay(method: string, url: string): boolean {
  const m = method === 'HEAD' ? 'GET' : method;
  if (m === 'GET' && /^\/(workstation\/)?dicomweb\//.test(url)) return true;
  return READER.has(`${m} ${url}`);
}

const SAMPLE: Record<string, string> = { aet: 'PACS', dest: 'WORKSTATION', name: 'rule1', frames: '1', tag: '7FE00010', id: '1', spsId: 'SPS1' };
/** A concrete path for a route pattern: UIDs for UID parameters, plausible values for the rest. */
function concrete(url: string): string {
  return url.replace(/:(\w+)/g, (_m, p: string) => SAMPLE[p] ?? (/^(st|se|sop|study|series|instance|uid)$/.test(p) ? '1.2.840.99.1' : 'x')).replace(/\*$/, 'x');
}

/** The same path spelled in each way a client may spell it; `routed` says whether fastify matches it to the same route. */
function spellings(path: string): { form: string; target: string; routed: boolean }[] {
  const letter = path.search(/[a-z]/i);
  const encoded = `${path.slice(0, letter)}%${path.charCodeAt(letter).toString(16)}${path.slice(letter + 1)}`;
  const segs = path.split('/');
  return [
    { form: 'plain', target: path, routed: true },
    { form: 'percent-encoded letter', target: encoded, routed: true },
    { form: 'absolute form', target: `http://127.0.0.1:${port}${path}`, routed: true },
    { form: 'leading double slash', target: `/${path}`, routed: false },
    { form: 'inner double slash', target: segs.length > 2 ? `${segs.slice(0, 2).join('/')}//${segs.slice(2).join('/')}` : `${path}//`, routed: false },
    { form: '.. segment', target: `/x/..${path}`, routed: false },
    { form: 'inner .. segment', target: segs.length > 2 ? `${segs.slice(0, 2).join('/')}/x/../${segs.slice(2).join('/')}` : `/x/..${path}`, routed: false },
    { form: 'trailing slash', target: path.endsWith('/') ? `${path}x` : `${path}/`, routed: false },
  ];
}

/** Not routed to anything: a 404 problem, a 400, or (GET) the app's HTML shell, which holds no data. */
function notRouted(r: RawResponse): boolean {
  return r.status === 404 || r.status === 400 || (r.status === 200 && r.body.includes(SHELL));
}

function walked(): { method: string; url: string }[] {
  const all = routeTable(web.app).filter((r) => !isPublic(r.method, r.url));
  expect(all.length).toBeGreaterThan(60);
  // Routes registered outside registerApi's own list are in the walk too: the add-in's, the activity log's.
  const keys = all.map((r) => `${r.method} ${r.url}`);
  for (const k of ['GET /api/plugins/file-reader', 'POST /api/plugins/file-reader/echo/:id', 'GET /api/activity/stream', 'POST /api/commitments/:uid/retry'])
    expect(keys).toContain(k);
  return all;
}

describe('every route needs a login, however its path is spelled', () => {
  it('answers 401 without credentials', async () => {
    const wrong: string[] = [];
    for (const { method, url } of walked()) {
      for (const s of spellings(concrete(url))) {
        const r = await rawRequest(port, method, s.target);
        const ok = r.status === 401 || (!s.routed && notRouted(r));
        if (!ok) wrong.push(`${method} ${s.target} (${s.form}, route ${url}) -> ${r.status} ${r.body.slice(0, 80)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('answers 403 naming the admin role to a reader on every admin-only route', async () => {
    await web.users.add('reader1', 'reader-password', 'reader');
    const login = await rawRequest(port, 'POST', '/api/login', { body: JSON.stringify({ user: 'reader1', password: 'reader-password' }) });
    expect(login.status).toBe(200);
    const cookie = login.headers['set-cookie'].split(';')[0];
    const wrong: string[] = [];
    let admins = 0;
    for (const { method, url } of walked()) {
      if (readerMay(method, url)) continue;
      admins++;
      for (const s of spellings(concrete(url))) {
        const r = await rawRequest(port, method, s.target, { headers: { cookie, 'x-requested-with': 'test' } });
        const forbidden =
          r.status === 403 &&
          r.headers['content-type']?.startsWith('application/problem+json') &&
          (method === 'HEAD' || /needs the admin role/.test(JSON.parse(r.body).detail));
        if (!(forbidden || (!s.routed && notRouted(r)))) wrong.push(`${method} ${s.target} (${s.form}, route ${url}) -> ${r.status} ${r.body.slice(0, 80)}`);
      }
    }
    expect(admins).toBeGreaterThan(30);
    expect(wrong).toEqual([]);
    // and what a reader may do, it can
    expect((await rawRequest(port, 'GET', '/api/me', { headers: { cookie } })).body).toMatch(/"role":"reader"/);
    expect((await rawRequest(port, 'GET', '/dicomweb/studies', { headers: { cookie } })).status).toBe(200);
  });

  it('challenges a script with Basic, but not the web app (X-Requested-With: no browser dialog)', async () => {
    const script = await rawRequest(port, 'GET', '/%61pi/config');
    expect(script.status).toBe(401);
    expect(script.headers['www-authenticate']).toMatch(/^Basic realm=/);
    const app = await rawRequest(port, 'GET', '/%61pi/config', { headers: { 'x-requested-with': 'fetch' } });
    expect(app.status).toBe(401);
    expect(app.headers['www-authenticate']).toBeUndefined();
  });

  it('lets the public routes through without a login', async () => {
    expect((await rawRequest(port, 'GET', '/')).body).toContain(SHELL);
    expect((await rawRequest(port, 'GET', '/viewer')).body).toContain('viewer');
    expect((await rawRequest(port, 'GET', '/assets/app.js')).status).toBe(200);
    expect((await rawRequest(port, 'GET', '/studies/somewhere')).body).toContain(SHELL);
    expect((await rawRequest(port, 'GET', '/api/health')).status).toBe(200);
    expect((await rawRequest(port, 'GET', '/api/ready')).status).toBe(200);
    expect((await rawRequest(port, 'POST', '/api/login', { body: JSON.stringify({ user: 'admin', password: 'admin-password' }) })).status).toBe(200);
  });

  it('treats a route that declares no access as admin-only', async () => {
    await web.users.add('reader2', 'reader-password', 'reader').catch(() => undefined);
    const app = Fastify();
    const auth = new Authenticator(
      new Sessions(),
      web.users,
      new LoginThrottle({ maxFailuresPerUser: 5, maxFailuresPerAddress: 20, windowMs: 60_000, maxKeys: 100 }),
    );
    const table = guardRoutes(app, { auth, openRead: () => true });
    app.get('/undeclared', async () => ({ secret: 1 }));
    app.get('/declared-read', { config: { access: 'read' } }, async () => ({ ok: 1 }));
    const basic = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
    expect(table.find((r) => r.url === '/undeclared' && r.method === 'GET')?.access).toBe('admin');
    expect((await app.inject({ url: '/undeclared' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/undeclared', headers: basic('reader2', 'reader-password') })).statusCode).toBe(403);
    expect((await app.inject({ url: '/declared-read', headers: basic('reader2', 'reader-password') })).statusCode).toBe(200);
    expect((await app.inject({ url: '/undeclared', headers: basic('admin', 'admin-password') })).json()).toEqual({ secret: 1 });
    await app.close();
  });
});
