/**
 * The registry routes' DICOM access rules (issue 15 item 4), in process (fastify inject):
 * a peer added by POST /api/aes may echo and store only and is bound to its host unless
 * the body says otherwise; a role's policy (strict, unknown callers, host binding) is set
 * by PATCH; the built-in client AEs cannot be deleted (409 with a clear message).
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTempDirs } from '../support/tmp.js';
import { startWebApp, type WebAppFixture } from './web-app-fixture.js';

let web: WebAppFixture;
let app: FastifyInstance;
const basic = { authorization: `Basic ${Buffer.from('admin:correct-horse').toString('base64')}` };

beforeAll(async () => {
  web = await startWebApp({ tmpPrefix: 'pacs-aes-access-', adminPassword: 'correct-horse' });
  app = web.app;
});

afterAll(async () => {
  await web?.close();
  await removeTempDirs();
});

const req = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
  app.inject({ method, url, payload: payload as object, headers: basic });

describe('registry routes: DICOM access rules', () => {
  it('POST /api/aes: a new peer may echo and store only and is bound to its host', async () => {
    const r = await req('POST', '/api/aes', { aeTitle: 'CT1', connection: { host: '10.1.2.3', port: 104 } });
    expect(r.statusCode, r.body).toBe(201);
    expect(r.json()).toMatchObject({ aeTitle: 'CT1', permissions: ['echo', 'store'], checkHost: true });
    const open = await req('POST', '/api/aes', { aeTitle: 'ANYWHERE', connection: { host: '10.1.2.4' }, checkHost: false, permissions: ['echo', 'find'] });
    expect(open.json()).toMatchObject({ permissions: ['echo', 'find'], checkHost: false });
  });

  it("PATCH /api/aes/PACS sets the role's policy", async () => {
    const r = await req('PATCH', '/api/aes/PACS', { policy: { strict: true, unknownCallers: ['echo'], checkCallerHosts: false } });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().policy).toEqual({ strict: true, unknownCallers: ['echo'], checkCallerHosts: false });
  });

  it('DELETE refuses the built-in client AEs with 409 and says why', async () => {
    for (const t of ['PACS_CLIENT', 'WS_CLIENT']) {
      const r = await req('DELETE', `/api/aes/${t}`);
      expect(r.statusCode, t).toBe(409);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(r.json().detail).toMatch(new RegExp(`"${t}" is one of this PACS's own client AEs`));
    }
    expect((await req('GET', '/api/aes/PACS_CLIENT')).statusCode).toBe(200);
    expect((await req('DELETE', '/api/aes/CT1')).statusCode).toBe(204);
  });
});
