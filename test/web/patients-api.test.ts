/** REST API of patient identity (fastify inject): conflicts, update, merge, the record of changes, errors naming the field. */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InstanceRecord } from '../../src/archive/index-types.js';
import type { PacsRoles } from '../../src/roles/pacs-roles.js';
import { removeTempDirs } from '../support/tmp.js';
import { startWebApp, type WebAppFixture } from './web-app-fixture.js';

let web: WebAppFixture;
let app: FastifyInstance;
let roles: PacsRoles;
const basic = (user: string, pw: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}` });
const admin = basic('admin', 'password1');

function rec(n: number, study: string, patientId: string, patientName: string, issuer?: string): InstanceRecord {
  return {
    sopInstanceUid: `1.2.3.${n}`,
    sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
    studyInstanceUid: study,
    seriesInstanceUid: `${study}.1`,
    patientId,
    issuerOfPatientId: issuer ?? null,
    patientName,
    patientSex: 'F',
    transferSyntaxUid: '1.2.840.10008.1.2.1',
    fileKey: `k${n}`,
    fileSize: 1,
    receivedAt: '2026-12-06T00:00:00Z',
    callingAeTitle: 'T',
    json: '{}',
  };
}

beforeAll(async () => {
  web = await startWebApp({ tmpPrefix: 'pacs-patients-web-', adminPassword: 'password1' });
  ({ app, roles } = web);
  await web.users.add('reader1', 'password2', 'reader');
  await roles
    .archive('main')!
    .index.insertInstances([
      rec(1, '1.2.9.1', 'P1', 'OLD^NAME'),
      rec(2, '1.2.9.2', 'P1', 'NEW^NAME'),
      rec(3, '1.2.9.3', 'P1', 'OTHER^HOSPITAL', 'H2'),
      rec(4, '1.2.9.4', 'P2', 'TARGET^NAME'),
    ]);
});

afterAll(async () => {
  await web?.close();
  await removeTempDirs();
});

const req = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown, headers = admin) =>
  app.inject({ method, url, payload: payload as object, headers });

describe('REST /api/patients', () => {
  it('lists the conflict: one patient, each study with its own name', async () => {
    const r = await req('GET', '/api/patients/conflicts');
    expect(r.statusCode, r.body).toBe(200);
    expect(
      r
        .json()
        .map((c: { patientId: string; issuer: string; studies: { patientName: string }[] }) => [
          c.patientId,
          c.issuer,
          c.studies.map((s) => s.patientName).sort(),
        ]),
    ).toEqual([['P1', '', ['NEW^NAME', 'OLD^NAME']]]);
  });

  it('refuses a reader an update and a merge (403), lets it read the conflicts', async () => {
    const reader = basic('reader1', 'password2');
    expect((await req('GET', '/api/patients/conflicts', undefined, reader)).statusCode).toBe(200);
    expect((await req('PATCH', '/api/patients/P1', { name: 'X^Y', reason: 'r' }, reader)).statusCode).toBe(403);
    expect((await req('POST', '/api/patients/merge', { from: { patientId: 'P1' }, into: { patientId: 'P2' }, reason: 'r' }, reader)).statusCode).toBe(403);
  });

  it.each([
    ['PATCH', '/api/patients/P1', { name: 'A\\B', reason: 'typo' }, 422, 'name'],
    ['PATCH', '/api/patients/P1', { birthDate: '19990231', reason: 'typo' }, 422, 'birthDate'],
    ['PATCH', '/api/patients/P1', { sex: 'X', reason: 'typo' }, 422, 'sex'],
    ['PATCH', '/api/patients/P1', { reason: 'nothing' }, 422, 'name'],
    ['PATCH', '/api/patients/P1', { name: 'A^B', reason: '' }, 422, 'reason'],
    ['PATCH', '/api/patients/NOBODY', { name: 'A^B', reason: 'r' }, 404, 'patient'],
    ['PATCH', '/api/patients/P1?issuer=H9', { name: 'A^B', reason: 'r' }, 404, 'patient'],
    ['PATCH', '/api/patients/P1?issuer=H2', { name: 'A^B', issuer: 'H3', reason: 'r' }, 400, 'issuer'],
    ['POST', '/api/patients/merge', { from: { patientId: 'P1' }, into: { patientId: 'P1' }, reason: 'r' }, 422, 'into'],
    ['POST', '/api/patients/merge', { from: { patientId: 'NOBODY' }, into: { patientId: 'P2' }, reason: 'r' }, 404, 'from'],
  ] as const)('%s %s %j -> %i naming %s', async (method, url, body, status, field) => {
    const r = await req(method, url, body);
    expect(r.statusCode, r.body).toBe(status);
    expect(r.json().field).toBe(field);
  });

  it('updates the patient of one issuer only, and records it', async () => {
    const r = await req('PATCH', '/api/patients/P1?issuer=H2', { name: 'FIXED^NAME', birthDate: '19800101', reason: 'ADT^A08 from HIS' });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toEqual({ studies: 1 });
    const studies = await roles.archive('main')!.index.listStudies();
    expect(studies.map((s) => `${s.studyInstanceUid}|${s.patientId}|${s.issuerOfPatientId}|${s.patientName}|${s.patientBirthDate ?? ''}`).sort()).toEqual([
      '1.2.9.1|P1||OLD^NAME|',
      '1.2.9.2|P1||NEW^NAME|',
      '1.2.9.3|P1|H2|FIXED^NAME|19800101',
      '1.2.9.4|P2||TARGET^NAME|',
    ]);
  });

  it("merges P1 into P2: the studies move and take P2's name; the conflict is gone; both changes are recorded", async () => {
    const r = await req('POST', '/api/patients/merge', { from: { patientId: 'P1' }, into: { patientId: 'P2', issuer: '' }, reason: 'duplicate' });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toEqual({ studies: 2 });
    const studies = await roles.archive('main')!.index.listStudies();
    expect(
      studies
        .filter((s) => s.patientId === 'P2')
        .map((s) => `${s.studyInstanceUid}|${s.patientName}`)
        .sort(),
    ).toEqual(['1.2.9.1|TARGET^NAME', '1.2.9.2|TARGET^NAME', '1.2.9.4|TARGET^NAME']);
    expect((await req('GET', '/api/patients/conflicts')).json()).toEqual([]);
    const changes = (await req('GET', '/api/patients/changes')).json();
    expect(
      changes.map((c: { action: string; patient: { patientId: string; issuer: string }; reason: string; studies: number }) => [
        c.action,
        c.patient.patientId,
        c.patient.issuer,
        c.reason,
        c.studies,
      ]),
    ).toEqual([
      ['merge', 'P2', '', 'duplicate', 2],
      ['update', 'P1', 'H2', 'ADT^A08 from HIS', 1],
    ]);
  });
});
