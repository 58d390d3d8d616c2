/** The REST API, in process (fastify inject): login, AE CRUD with every validation rule, echo, status. */
import type { FastifyInstance } from 'fastify';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PacsRoles } from '../../src/roles/pacs-roles.js';
import { freePort } from '../support/peers.js';
import { removeTempDirs } from '../support/tmp.js';
import { startWebApp, type WebAppFixture } from './web-app-fixture.js';

let web: WebAppFixture;
let app: FastifyInstance;
let roles: PacsRoles;
let blocker: Server;
let busyPort: number;
const basic = { authorization: `Basic ${Buffer.from('admin:correct-horse').toString('base64')}` };

beforeAll(async () => {
  web = await startWebApp({ tmpPrefix: 'pacs-web-', adminPassword: 'correct-horse' });
  ({ app, roles } = web);
  expect(web.adminCreated).toEqual({ created: true });
  expect(await web.users.ensureAdmin('other')).toEqual({ created: false });
  busyPort = await freePort();
  blocker = createServer();
  await new Promise<void>((r) => blocker.listen(busyPort, '0.0.0.0', r));
});

afterAll(async () => {
  await web?.close();
  blocker?.close();
  await removeTempDirs();
});

const req = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown, headers: Record<string, string> = basic) =>
  app.inject({ method, url, payload: payload as object, headers });

/** A refused request: status, problem+json content type, the field named. */
async function refused(method: 'POST' | 'PUT' | 'PATCH', url: string, payload: unknown, field: string, message: RegExp, status = 422) {
  const r = await req(method, url, payload);
  expect(r.statusCode, r.body).toBe(status);
  expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = r.json();
  expect(body.field).toBe(field);
  expect(body.detail).toMatch(message);
  return body;
}

const peer = (over: Record<string, unknown> = {}) => ({ aeTitle: 'ORTHANC', connection: { host: '127.0.0.1', port: 4242 }, ...over });

describe('REST API', () => {
  it('needs a login: 401 without, session cookie from POST /api/login, HTTP Basic', async () => {
    const anon = await req('GET', '/api/aes', undefined, {});
    expect(anon.statusCode).toBe(401);
    expect(anon.headers['www-authenticate']).toMatch(/^Basic/);
    expect((await req('POST', '/api/login', { user: 'admin', password: 'wrong' }, {})).statusCode).toBe(401);
    expect((await req('POST', '/api/login', { user: 'admin' }, {})).json()).toMatchObject({ status: 422, field: 'password' });
    const login = await req('POST', '/api/login', { user: 'admin', password: 'correct-horse' }, {});
    expect(login.statusCode).toBe(200);
    const cookie = String(login.headers['set-cookie']).split(';')[0];
    expect(String(login.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);
    expect((await req('GET', '/api/me', undefined, { cookie })).json()).toEqual({ user: 'admin', role: 'admin' });
    await req('POST', '/api/logout', undefined, { cookie });
    expect((await req('GET', '/api/me', undefined, { cookie })).statusCode).toBe(401);
    expect((await req('GET', '/api/me')).json()).toEqual({ user: 'admin', role: 'admin' });
  });

  it('lists, adds, reads, changes and removes AEs', async () => {
    expect((await req('GET', '/api/aes')).json().map((a: { aeTitle: string }) => a.aeTitle)).toEqual([
      'PACS',
      'WORKSTATION',
      'ROUTER',
      'PACS_CLIENT',
      'WS_CLIENT',
    ]);
    const created = await req('POST', '/api/aes', peer({ description: 'second PACS' }));
    expect(created.statusCode).toBe(201);
    expect(created.headers.location).toBe('/api/aes/ORTHANC');
    expect(created.json()).toMatchObject({ aeTitle: 'ORTHANC', role: 'peer', device: 'orthanc', connection: { tls: false } });
    expect((await req('PATCH', '/api/aes/ORTHANC', { connection: { port: 4243 } })).json().connection).toEqual({ host: '127.0.0.1', port: 4243, tls: false });
    const put = await req('PUT', '/api/aes/ORTHANC', { connection: { host: 'orthanc.local', port: 104 }, permissions: ['echo'] });
    expect(put.json()).toMatchObject({ aeTitle: 'ORTHANC', description: '', permissions: ['echo'], connection: { host: 'orthanc.local', port: 104 } });
    expect((await req('GET', '/api/aes/ORTHANC')).json().connection.port).toBe(104);
    expect((await req('DELETE', '/api/aes/ORTHANC')).statusCode).toBe(204);
    expect((await req('GET', '/api/aes/ORTHANC')).statusCode).toBe(404);
  });

  it('names the field of every validation rule', async () => {
    await refused('POST', '/api/aes', peer({ aeTitle: 'BAD AE' }), 'aeTitle', /spaces/);
    await refused('POST', '/api/aes', peer({ aeTitle: 'A'.repeat(17) }), 'aeTitle', /1 to 16 characters, got 17/);
    await refused('POST', '/api/aes', peer({ aeTitle: 'A\\B' }), 'aeTitle', /backslash/);
    await refused('POST', '/api/aes', peer({ aeTitle: 'A\u0007B' }), 'aeTitle', /control/);
    await refused('POST', '/api/aes', peer({ connection: { host: 'no_such host', port: 104 } }), 'connection.host', /host name .* or an IP address/);
    await refused('POST', '/api/aes', peer({ connection: { host: 'h', port: 0 } }), 'connection.port', /1 to 65535/);
    await refused('POST', '/api/aes', peer({ connection: { host: 'h', port: 65536 } }), 'connection.port', /1 to 65535/);
    await refused('POST', '/api/aes', peer({ connection: { host: 'h', port: '104x' } }), 'connection.port', /1 to 65535/);
    await refused('POST', '/api/aes', peer({ aeTitle: 'WORKSTATION' }), 'aeTitle', /already registered/);
    await refused('PATCH', '/api/aes/ROUTER', { connection: { port: roles.status()[0].port } }, 'connection.port', /already used by PACS \(main\)/);
    await refused('PATCH', '/api/aes/ROUTER', { connection: { port: busyPort } }, 'connection.port', new RegExp(`port ${busyPort} is already in use`));
    await refused('PATCH', '/api/aes/PACS', { aeTitle: 'ROUTER' }, 'aeTitle', /already registered/);
    await refused('POST', '/api/aes', peer({ role: 'router' }), 'role', /already exists/);
    await refused('POST', '/api/aes', peer({ colour: 'red' }), 'colour', /unknown field/);
    await refused('PATCH', '/api/aes/NOBODY', { description: 'x' }, 'aeTitle', /no AE "NOBODY"/, 404);
    const rm = await req('DELETE', '/api/aes/PACS');
    expect(rm.statusCode).toBe(409);
    expect(rm.json().detail).toMatch(/can be changed but not removed/);
  });

  it('echoes an AE and reports the result; status shows every role', async () => {
    const ok = (await req('POST', '/api/aes/WORKSTATION/echo')).json();
    expect(ok).toMatchObject({ aeTitle: 'WORKSTATION', ok: true });
    await req('POST', '/api/aes', peer({ aeTitle: 'DEAD', connection: { host: '127.0.0.1', port: await freePort() } }));
    const dead = (await req('POST', '/api/aes/DEAD/echo')).json();
    expect(dead.ok).toBe(false);
    expect(dead.error).toBeTruthy();
    const status = (await req('GET', '/api/status')).json();
    expect(status.roles.map((r: { role: string; listening: boolean; instancesStored: number }) => [r.role, r.listening, r.instancesStored])).toEqual([
      ['main', true, 0],
      ['workstation', true, 0],
      ['router', true, 0],
    ]);
  });

  it('a changed role port re-opens that listener', async () => {
    const port = await freePort();
    const r = await req('PATCH', '/api/aes/ROUTER', { connection: { port } });
    expect(r.statusCode, r.body).toBe(200);
    const router = (await req('GET', '/api/status')).json().roles[2];
    expect(router).toMatchObject({ port, listening: true });
    expect((await req('POST', '/api/aes/ROUTER/echo')).json().ok).toBe(true);
  });

  it('answers unknown API paths and malformed JSON with problem+json', async () => {
    const nf = await req('GET', '/api/nothing');
    expect(nf.statusCode).toBe(404);
    expect(nf.headers['content-type']).toMatch(/problem\+json/);
    const bad = await app.inject({ method: 'POST', url: '/api/aes', payload: '{oops', headers: { ...basic, 'content-type': 'application/json' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toMatch(/problem\+json/);
  });
});
