/**
 * The administrators' hanging protocols over REST (GET/PUT /api/hanging-protocols): kept
 * in the data directory, readable by every logged-in user (the viewer reads them), replaced
 * by admins only, a bad body refused with 422 naming the field and leaving the stored list
 * (as the rest of the API refuses a bad field); a body that is not JSON at all is a 400.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HangingProtocol } from '../../src/api-types/index.js';
import { HANGING_PROTOCOLS_FILE } from '../../src/web/hanging-protocols.js';
import { removeTempDirs } from '../support/tmp.js';
import { startWebApp, type WebAppFixture } from './web-app-fixture.js';

let web: WebAppFixture;
let app: FastifyInstance;
const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const admin = basic('admin', 'admin-password');
const rita = basic('rita', 'reader-password');

const ctCompare: HangingProtocol = {
  name: 'CT chest compare',
  match: { modality: 'CT', bodyPart: 'CHEST|THORAX' },
  rows: 1,
  cols: 2,
  viewports: [{ series: { description: '*lung*' } }, { study: 'prior', sameAsViewport: 0 }],
};

beforeAll(async () => {
  web = await startWebApp({ tmpPrefix: 'pacs-hanging-', adminPassword: 'admin-password' });
  app = web.app;
  const added = await app.inject({ method: 'POST', url: '/api/users', headers: admin, payload: { name: 'rita', password: 'reader-password' } });
  expect(added.statusCode).toBe(201);
});

afterAll(async () => {
  await web?.close();
  await removeTempDirs();
});

const put = (payload: unknown, headers = admin) => app.inject({ method: 'PUT', url: '/api/hanging-protocols', headers, payload: payload as object });

describe('hanging protocols API', () => {
  it('starts empty, stores an admin\u2019s list in the data directory, and gives it to readers', async () => {
    expect((await app.inject({ url: '/api/hanging-protocols', headers: rita })).json()).toEqual({ protocols: [] });
    const r = await put({ protocols: [ctCompare] });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toEqual({ protocols: [ctCompare] });
    expect((await app.inject({ url: '/api/hanging-protocols', headers: rita })).json()).toEqual({ protocols: [ctCompare] });
    const file = JSON.parse(await readFile(join(web.dir, HANGING_PROTOCOLS_FILE), 'utf8')) as unknown;
    expect(file).toEqual({ protocols: [ctCompare] });
  });

  it('lets only admins replace them', async () => {
    const r = await put({ protocols: [] }, rita);
    expect(r.statusCode).toBe(403);
    expect((await app.inject({ url: '/api/hanging-protocols' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/api/hanging-protocols', headers: rita })).json().protocols).toHaveLength(1);
  });

  it.each([
    [{ protocols: [{ ...ctCompare, rows: 0 }] }, 'protocols[0].rows', /rows is at least 1/],
    [{ protocols: [{ ...ctCompare, cols: 9 }] }, 'protocols[0].cols', /cols is at most 5/],
    [{ protocols: [{ ...ctCompare, name: ' ' }] }, 'protocols[0].name', /a protocol needs a name/],
    [{ protocols: [{ ...ctCompare, match: { modality: '' } }] }, 'protocols[0].match.modality', /a pattern is not empty/],
    [{ protocols: [{ ...ctCompare, match: { modality: 'C\u0000T' } }] }, 'protocols[0].match.modality', /no control characters/],
    [{ protocols: [{ ...ctCompare, match: { modality: `${'*a'.repeat(65)}` } }] }, 'protocols[0].match.modality', /at most 128 characters/],
    [{ protocols: [{ ...ctCompare, match: { colour: 'red' } }] }, 'protocols[0].match.colour', /unknown field "colour"/],
    [{ protocols: [{ ...ctCompare, viewports: [{ study: 'older' }] }] }, 'protocols[0].viewports[0].study', /study is 'current' or 'prior'/],
    [{ protocols: [{ ...ctCompare, rows: 1, cols: 1 }] }, 'protocols[0].viewports', /2 viewports do not fit a 1x1 layout/],
    [
      { protocols: [{ ...ctCompare, viewports: [{}, { study: 'prior', sameAsViewport: 4 }] }] },
      'protocols[0].viewports[1].sameAsViewport',
      /viewport 4 does not exist \(the protocol places 2\)/,
    ],
    [{ protocols: [{ ...ctCompare, viewports: [{}, { sameAsViewport: 0 }] }] }, 'protocols[0].viewports[1].sameAsViewport', /for a prior study/],
    [{ protocols: [ctCompare, { ...ctCompare, name: 'ct CHEST compare ' }] }, 'protocols[1].name', /two protocols are named "ct CHEST compare"/],
    [{ protocols: 'all of them' }, 'protocols', /expected array/],
  ])('refuses %j with 422 naming %s', async (body, field, message) => {
    const r = await put(body);
    expect(r.statusCode, r.body).toBe(422);
    expect(r.json().type).toBe('urn:open-pacs:problem:validation');
    expect(r.json().field).toBe(field);
    expect(r.json().detail).toMatch(message);
    expect(r.json().detail.startsWith(`${field}: `)).toBe(true);
    expect((await app.inject({ url: '/api/hanging-protocols', headers: admin })).json()).toEqual({ protocols: [ctCompare] });
  });

  it('refuses a body that is not JSON with 400', async () => {
    const r = await app.inject({
      method: 'PUT',
      url: '/api/hanging-protocols',
      headers: { ...admin, 'content-type': 'application/json' },
      payload: '{"protocols": [',
    });
    expect(r.statusCode).toBe(400);
  });
});
