/**
 * Failed logins are throttled per user name (from one address) and per address: past the
 * limit the answer is 429 with Retry-After and a problem+json body, before any password
 * is hashed; another address still logs in; a success resets the user's count. The same
 * for HTTP Basic on any route.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { removeTempDirs } from '../support/tmp.js';
import { startWebApp, type WebAppFixture } from './web-app-fixture.js';

let web: WebAppFixture;
let app: FastifyInstance;

beforeAll(async () => {
  web = await startWebApp({ tmpPrefix: 'pacs-throttle-', adminPassword: 'admin-password' });
  app = web.app;
});

afterAll(async () => {
  await web?.close();
  await removeTempDirs();
});

const login = (user: string, password: string, remoteAddress: string) =>
  app.inject({ method: 'POST', url: '/api/login', payload: { user, password }, remoteAddress });
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('login throttling', () => {
  it('answers 429 after 5 failures of one user name, without hashing; another address still logs in', async () => {
    for (let i = 0; i < 5; i++) expect((await login('admin', `wrong-${i}`, '10.0.0.1')).statusCode).toBe(401);
    const verify = vi.spyOn(web.users, 'verify');
    const r = await login('admin', 'admin-password', '10.0.0.1');
    expect(r.statusCode).toBe(429);
    expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(r.headers['retry-after'])).toBeLessThanOrEqual(15 * 60);
    expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(r.json()).toMatchObject({ status: 429, title: 'Too many failed logins' });
    expect(r.json().detail).toMatch(/admin/);
    expect(verify).not.toHaveBeenCalled();
    verify.mockRestore();
    // the right password from another address is not refused
    const other = await login('admin', 'admin-password', '10.0.0.2');
    expect(other.statusCode).toBe(200);
  });

  it('answers 429 after 20 failures from one address, whatever the user names', async () => {
    for (let i = 0; i < 20; i++) expect((await login(`user${i}`, 'wrong-password', '10.0.1.1')).statusCode).toBe(401);
    const r = await login('admin', 'admin-password', '10.0.1.1');
    expect(r.statusCode).toBe(429);
    expect(r.json().detail).toMatch(/address/);
    expect((await login('admin', 'admin-password', '10.0.1.2')).statusCode).toBe(200);
  });

  it('resets the count of a user name on a success', async () => {
    for (let i = 0; i < 4; i++) expect((await login('admin', 'wrong', '10.0.2.1')).statusCode).toBe(401);
    expect((await login('admin', 'admin-password', '10.0.2.1')).statusCode).toBe(200);
    for (let i = 0; i < 4; i++) expect((await login('admin', 'wrong', '10.0.2.1')).statusCode).toBe(401);
    expect((await login('admin', 'admin-password', '10.0.2.1')).statusCode).toBe(200);
  });

  it('throttles HTTP Basic on any route the same way', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await app.inject({ method: 'GET', url: '/api/status', headers: { authorization: basic('admin', `bad-${i}`) }, remoteAddress: '10.0.3.1' });
      expect(r.statusCode).toBe(401);
    }
    const dicomweb = await app.inject({
      method: 'GET',
      url: '/dicomweb/studies',
      headers: { authorization: basic('admin', 'admin-password') },
      remoteAddress: '10.0.3.1',
    });
    expect(dicomweb.statusCode).toBe(429);
    expect(Number(dicomweb.headers['retry-after'])).toBeGreaterThan(0);
    const elsewhere = await app.inject({
      method: 'GET',
      url: '/api/status',
      headers: { authorization: basic('admin', 'admin-password') },
      remoteAddress: '10.0.3.2',
    });
    expect(elsewhere.statusCode).toBe(200);
  });

  it('counts concurrent attempts before hashing: 16 at once get no more 401s than the limit', async () => {
    const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => login('admin', `wrong-${i}`, '10.0.4.1')));
    const statuses = answers.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 401).length).toBe(5);
    expect(statuses.filter((s) => s === 429).length).toBe(11);
  });
});
