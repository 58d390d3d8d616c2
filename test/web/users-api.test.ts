/**
 * Users over REST (fastify inject): admins list, add, reset and remove users; a reader
 * cannot (403 naming the role) and cannot delete or export either; the last admin stays;
 * a new password ends the user's sessions; everyone changes their own password with the
 * old one. users.json from before roles: those users are admins.
 */
import type { FastifyInstance } from 'fastify';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserStore } from '../../src/web/users.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { startWebApp, type WebAppFixture } from './web-app-fixture.js';

let web: WebAppFixture;
let app: FastifyInstance;
const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const admin = basic('admin', 'admin-password');

beforeAll(async () => {
  web = await startWebApp({ tmpPrefix: 'pacs-users-api-', adminPassword: 'admin-password' });
  app = web.app;
});

afterAll(async () => {
  await web?.close();
  await removeTempDirs();
});

const login = async (user: string, password: string) => {
  const r = await app.inject({ method: 'POST', url: '/api/login', payload: { user, password } });
  return { status: r.statusCode, cookie: r.statusCode === 200 ? String(r.headers['set-cookie']).split(';')[0] : '' };
};

describe('users over REST', () => {
  it('lets an admin add, list, reset and remove users, with field errors', async () => {
    const added = await app.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { name: 'rita', password: 'reader-password' } });
    expect(added.statusCode).toBe(201);
    expect(added.headers.location).toBe('/api/users/rita');
    expect(added.json()).toMatchObject({ name: 'rita', role: 'reader' });
    expect(added.body).not.toMatch(/hash|salt|password/);
    const list = await app.inject({ url: '/api/users', headers: admin });
    expect(list.json().map((u: { name: string; role: string }) => `${u.name}:${u.role}`)).toEqual(['admin:admin', 'rita:reader']);

    const field = async (payload: object, name: string, status = 422) => {
      const r = await app.inject({ method: 'POST', url: '/api/users', headers: admin, payload });
      expect(r.statusCode, r.body).toBe(status);
      expect(r.json().field).toBe(name);
    };
    await field({ name: 'no spaces', password: 'long-enough' }, 'name');
    await field({ name: 'bob', password: 'short' }, 'password');
    await field({ name: 'bob', password: 'long-enough', role: 'root' }, 'role');
    await field({ name: 'rita', password: 'long-enough' }, 'name', 409);

    const reset = await app.inject({ method: 'PATCH', url: '/api/users/rita', headers: admin, payload: { password: 'rita-password-2' } });
    expect(reset.json()).toMatchObject({ name: 'rita', role: 'reader' });
    expect((await login('rita', 'reader-password')).status).toBe(401);
    expect((await login('rita', 'rita-password-2')).status).toBe(200);
    expect((await app.inject({ method: 'PATCH', url: '/api/users/nobody', headers: admin, payload: { role: 'admin' } })).statusCode).toBe(404);
  });

  it('refuses a reader everything an admin does, with 403 naming the role', async () => {
    const { cookie } = await login('rita', 'rita-password-2');
    const asReader = { cookie, 'x-requested-with': 'test' };
    for (const [method, url] of [
      ['GET', '/api/users'],
      ['POST', '/api/users'],
      ['DELETE', '/api/users/admin'],
      ['DELETE', '/api/studies/1.2.3'],
      ['GET', '/api/studies/1.2.3/archive.zip?anonymize=1'],
      ['POST', '/api/studies/send'],
      ['PATCH', '/api/config/web'],
      ['POST', '/dicomweb/studies'],
    ] as const) {
      const r = await app.inject({ method, url, headers: asReader, payload: method === 'GET' || method === 'DELETE' ? undefined : {} });
      expect(r.statusCode, `${method} ${url}`).toBe(403);
      expect(r.json()).toMatchObject({ status: 403, title: 'Forbidden', detail: 'this needs the admin role; "rita" is a reader' });
    }
    expect((await app.inject({ url: '/api/me', headers: asReader })).json()).toEqual({ user: 'rita', role: 'reader' });
    expect((await app.inject({ url: '/dicomweb/studies', headers: asReader })).statusCode).toBe(200);
  });

  it('keeps the last admin, and applies a demotion at once', async () => {
    expect((await app.inject({ method: 'DELETE', url: '/api/users/admin', headers: admin })).json()).toMatchObject({ status: 409, field: 'name' });
    expect((await app.inject({ method: 'PATCH', url: '/api/users/admin', headers: admin, payload: { role: 'reader' } })).json()).toMatchObject({
      status: 409,
      field: 'role',
    });
    expect(
      (await app.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { name: 'ada', password: 'ada-password', role: 'admin' } })).statusCode,
    ).toBe(201);
    const ada = await login('ada', 'ada-password');
    expect((await app.inject({ url: '/api/users', headers: { cookie: ada.cookie } })).statusCode).toBe(200);
    await app.inject({ method: 'PATCH', url: '/api/users/ada', headers: admin, payload: { role: 'reader' } });
    expect((await app.inject({ url: '/api/users', headers: { cookie: ada.cookie } })).statusCode).toBe(403);
    expect((await app.inject({ method: 'DELETE', url: '/api/users/ada', headers: admin })).statusCode).toBe(204);
    expect((await app.inject({ url: '/api/me', headers: { cookie: ada.cookie } })).statusCode).toBe(401);
  });

  it("changes one's own password with the old one; other sessions end, this one goes on", async () => {
    const first = await login('rita', 'rita-password-2');
    const second = await login('rita', 'rita-password-2');
    const wrong = await app.inject({
      method: 'POST',
      url: '/api/me/password',
      headers: { cookie: first.cookie },
      payload: { oldPassword: 'not-it', newPassword: 'rita-password-3' },
    });
    expect(wrong.json()).toMatchObject({ status: 422, field: 'oldPassword' });
    const short = await app.inject({
      method: 'POST',
      url: '/api/me/password',
      headers: { cookie: first.cookie },
      payload: { oldPassword: 'rita-password-2', newPassword: 'short' },
    });
    expect(short.json()).toMatchObject({ status: 422, field: 'newPassword' });
    const ok = await app.inject({
      method: 'POST',
      url: '/api/me/password',
      headers: { cookie: first.cookie },
      payload: { oldPassword: 'rita-password-2', newPassword: 'rita-password-3' },
    });
    expect(ok.statusCode).toBe(204);
    const renewed = String(ok.headers['set-cookie']).split(';')[0];
    expect((await app.inject({ url: '/api/me', headers: { cookie: renewed } })).statusCode).toBe(200);
    expect((await app.inject({ url: '/api/me', headers: { cookie: second.cookie } })).statusCode).toBe(401);
    expect((await login('rita', 'rita-password-3')).status).toBe(200);
    // a cached Basic header with the old password stops working too
    expect((await app.inject({ url: '/api/me', headers: basic('rita', 'rita-password-2') })).statusCode).toBe(401);
  });

  it('reads a users.json from before roles: its users are admins', async () => {
    const dir = await makeTempDir('pacs-users-old-');
    const current = JSON.parse(await readFile(join(web.dir, 'users.json'), 'utf8')) as { users: Record<string, unknown>[] };
    const old = { users: current.users.filter((u) => u.name === 'admin').map(({ role: _role, ...u }) => u) };
    expect(JSON.stringify(old)).not.toMatch(/role/);
    await writeFile(join(dir, 'users.json'), JSON.stringify(old));
    const store = await UserStore.open(dir);
    expect(await store.list()).toMatchObject([{ name: 'admin', role: 'admin' }]);
    expect(await store.verify('admin', 'admin-password')).toMatchObject({ role: 'admin' });
  });
});
