/** REST API of the worklist, MPPS and storage commitments (fastify inject), with validation naming the field. */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MppsStore } from '../../src/archive/mpps-store.js';
import type { PacsRoles } from '../../src/roles/pacs-roles.js';
import { removeTempDirs } from '../support/tmp.js';
import { startWebApp, type WebAppFixture } from './web-app-fixture.js';

let web: WebAppFixture;
let app: FastifyInstance;
let roles: PacsRoles;
const basic = { authorization: `Basic ${Buffer.from('admin:password1').toString('base64')}` };

beforeAll(async () => {
  web = await startWebApp({ tmpPrefix: 'pacs-wl-web-', adminPassword: 'password1' });
  ({ app, roles } = web);
});

afterAll(async () => {
  await web?.close();
  await removeTempDirs();
});

const req = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
  app.inject({ method, url, payload: payload as object, headers: basic });

const entry = (over: Record<string, unknown> = {}) => ({
  patientId: 'P1',
  patientName: 'DOE^JOHN',
  modality: 'CT',
  stationAeTitle: 'CT01',
  startDate: '20250310',
  startTime: '0930',
  accessionNumber: 'A1',
  ...over,
});

describe('REST /api/worklist', () => {
  it('needs a login', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/worklist' })).statusCode).toBe(401);
  });

  it('creates, lists, reads, changes and cancels entries', async () => {
    const created = await req('POST', '/api/worklist', entry({ spsId: 'R1' }));
    expect(created.statusCode, created.body).toBe(201);
    expect(created.headers.location).toBe('/api/worklist/R1');
    expect(created.json()).toMatchObject({ spsId: 'R1', status: 'SCHEDULED', studyInstanceUid: expect.stringMatching(/^2\.25\./) });
    const generated = (await req('POST', '/api/worklist', entry({ patientId: 'P2', modality: 'MR', startDate: '20250311' }))).json();
    expect(generated.spsId).toMatch(/^SPS[0-9A-F]{12}$/);
    expect((await req('GET', '/api/worklist')).json().map((e: { spsId: string }) => e.spsId)).toEqual(['R1', generated.spsId]);
    expect((await req('GET', '/api/worklist?modality=MR')).json()).toHaveLength(1);
    expect((await req('GET', '/api/worklist?date=20250310')).json()).toHaveLength(1);
    const one = (await req('GET', '/api/worklist/R1?dicom=true')).json();
    expect(one.dicom['00400100'].Value[0]['00400009']).toEqual({ vr: 'SH', Value: ['R1'] });
    const changed = await req('PATCH', '/api/worklist/R1', { startTime: '1000', accessionNumber: null });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json()).toMatchObject({ startTime: '1000' });
    expect(changed.json().accessionNumber).toBeUndefined();
    expect((await req('DELETE', '/api/worklist/R1')).statusCode).toBe(204);
    expect((await req('GET', '/api/worklist/R1')).json().status).toBe('CANCELED');
    expect((await req('GET', '/api/worklist')).json()).toHaveLength(1);
    expect((await req('GET', '/api/worklist?all=true')).json()).toHaveLength(2);
    expect((await req('GET', '/api/worklist?status=CANCELED')).json()).toHaveLength(1);
    expect((await req('DELETE', '/api/worklist/R1?purge=true')).statusCode).toBe(204);
    expect((await req('GET', '/api/worklist/R1')).statusCode).toBe(404);
  });

  it.each([
    [{ patientId: undefined }, 'patientId', /required|expected string/i],
    [{ patientName: '' }, 'patientName', /required/],
    [{ startDate: '20250230' }, 'startDate', /YYYYMMDD/],
    [{ startTime: '2500' }, 'startTime', /HHMM/],
    [{ modality: 'ct' }, 'modality', /upper-case/],
    [{ stationAeTitle: 'WAY_TOO_LONG_AE_TITLE' }, 'stationAeTitle', /1 to 16/],
    [{ accessionNumber: 'A\\B' }, 'accessionNumber', /backslash/],
    [{ studyInstanceUid: '1.2.x' }, 'studyInstanceUid', /UID/],
    [{ status: 'DONE' }, 'status', /one of/],
    [{ colour: 'red' }, 'colour', /unknown field/],
  ])('refuses %j naming %s', async (over, field, message) => {
    const r = await req('POST', '/api/worklist', entry(over));
    expect(r.statusCode, r.body).toBe(422);
    expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(r.json().field).toBe(field);
    expect(r.json().detail).toMatch(message);
  });

  it('refuses a duplicate step ID, an unknown entry, a bad filter', async () => {
    await req('POST', '/api/worklist', entry({ spsId: 'DUP' }));
    const dup = await req('POST', '/api/worklist', entry({ spsId: 'DUP' }));
    expect(dup.statusCode).toBe(422);
    expect(dup.json().field).toBe('spsId');
    expect((await req('PATCH', '/api/worklist/NOPE', { startTime: '1000' })).statusCode).toBe(404);
    expect((await req('DELETE', '/api/worklist/NOPE')).json()).toMatchObject({ status: 404, field: 'spsId' });
    expect((await req('PATCH', '/api/worklist/DUP', { spsId: 'X' })).json()).toMatchObject({ status: 422, field: 'spsId' });
    expect((await req('PATCH', '/api/worklist/DUP', { startDate: 'today' })).json()).toMatchObject({ status: 422, field: 'startDate' });
    expect((await req('GET', '/api/worklist?status=DONE')).json()).toMatchObject({ status: 422, field: 'status' });
    expect((await req('GET', '/api/worklist?date=2025')).json()).toMatchObject({ status: 422, field: 'date' });
  });
});

describe('REST /api/mpps and /api/commitments', () => {
  it('lists performed procedure steps and commitments', async () => {
    const mpps = await MppsStore.open(roles.archive('main')!.index);
    await mpps.create({ sopInstanceUid: '1.2.3.4', status: 'IN PROGRESS', callingAeTitle: 'CT01', spsIds: [], json: {} });
    expect((await req('GET', '/api/mpps')).json()).toEqual([expect.objectContaining({ sopInstanceUid: '1.2.3.4', status: 'IN PROGRESS' })]);
    expect((await req('GET', '/api/mpps/1.2.3.4')).json().callingAeTitle).toBe('CT01');
    expect((await req('GET', '/api/mpps/9.9')).statusCode).toBe(404);
    expect((await req('GET', '/api/commitments')).json()).toEqual([]);
  });
});
