/**
 * Each user's own W/L presets over REST (GET/PUT /api/me/window-presets): kept per user
 * in the data directory, invisible to other users, checked field by field, and removed
 * with the user.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTempDirs } from '../support/tmp.js';
import { startWebApp, type WebAppFixture } from './web-app-fixture.js';

let web: WebAppFixture;
let app: FastifyInstance;
const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const admin = basic('admin', 'admin-password');
const rita = basic('rita', 'reader-password');

beforeAll(async () => {
  web = await startWebApp({ tmpPrefix: 'pacs-user-settings-', adminPassword: 'admin-password' });
  app = web.app;
  const added = await app.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { name: 'rita', password: 'reader-password' } });
  expect(added.statusCode).toBe(201);
});

afterAll(async () => {
  await web?.close();
  await removeTempDirs();
});

describe('per-user window presets', () => {
  it('stores a reader\u2019s presets for that reader only', async () => {
    expect((await app.inject({ url: '/api/me/window-presets', headers: rita })).json()).toEqual({ presets: [] });
    const presets = [
      { label: 'Liver', center: 60, width: 160, modality: 'CT' },
      { label: 'T2 soft', center: 700, width: 1400 },
    ];
    const put = await app.inject({ method: 'PUT', url: '/api/me/window-presets', headers: rita, payload: { presets } });
    expect(put.statusCode, put.body).toBe(200);
    expect((await app.inject({ url: '/api/me/window-presets', headers: rita })).json()).toEqual({ presets });
    expect((await app.inject({ url: '/api/me/window-presets', headers: admin })).json()).toEqual({ presets: [] });
  });

  it('refuses a bad preset naming the field, and keeps the stored ones', async () => {
    const bad = await app.inject({ method: 'PUT', url: '/api/me/window-presets', headers: rita, payload: { presets: [{ label: 'x', center: 1, width: 0 }] } });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().detail).toMatch(/width must be at least 1/);
    const noLabel = await app.inject({
      method: 'PUT',
      url: '/api/me/window-presets',
      headers: rita,
      payload: { presets: [{ label: ' ', center: 1, width: 2 }] },
    });
    expect(noLabel.statusCode).toBe(422);
    expect((await app.inject({ url: '/api/me/window-presets', headers: rita })).json().presets).toHaveLength(2);
    expect((await app.inject({ url: '/api/me/window-presets' })).statusCode).toBe(401);
  });

  it('forgets the presets of a removed user', async () => {
    expect((await app.inject({ method: 'DELETE', url: '/api/users/rita', headers: admin })).statusCode).toBe(204);
    const again = await app.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { name: 'rita', password: 'reader-password' } });
    expect(again.statusCode).toBe(201);
    expect((await app.inject({ url: '/api/me/window-presets', headers: rita })).json()).toEqual({ presets: [] });
  });
});
