/**
 * REST API of the router (fastify inject against running roles): rules CRUD and reorder,
 * condition checks with line:column, dry runs (uploaded file, base64 file with unsaved
 * rules, stored instance), the forward queue (counts, entries by state, retry, purge),
 * and the 422/404 problems for bad input.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAe } from '../../src/config/index.js';
import { buildMetaHeader } from '../../src/dicom/part10.js';
import { DimseConnection } from '../../src/dimse/dimse-connection.js';
import { cStore } from '../../src/dimse/scu.js';
import { connect } from '../../src/net/index.js';
import type { PacsRoles } from '../../src/roles/pacs-roles.js';
import type { Router } from '../../src/router/router.js';
import { CT_IMAGE, datasetBytes, EXPLICIT_LE, MR_IMAGE } from '../archive/helpers.js';
import { freePort } from '../support/peers.js';
import { removeTempDirs } from '../support/tmp.js';
import { until } from '../support/until.js';
import { startWebApp, type WebAppFixture } from './web-app-fixture.js';

let web: WebAppFixture;
let app: FastifyInstance;
let roles: PacsRoles;
let router: Router;
let routerPort: number;
const basic = { authorization: `Basic ${Buffer.from('admin:password1').toString('base64')}` };
const uidRoot = `1.2.826.0.1.3680043.10.78.${Date.now() % 1e9}`;

beforeAll(async () => {
  const closed = await freePort();
  web = await startWebApp({
    tmpPrefix: 'pacs-router-web-',
    adminPassword: 'password1',
    // Registered on a port nobody listens on: everything sent there fails.
    register: (reg) => addAe(reg, { aeTitle: 'NOWHERE', connection: { host: '127.0.0.1', port: closed } }),
  });
  ({ app, roles } = web);
  routerPort = web.ports.router;
  router = roles.router()!;
});

afterAll(async () => {
  await web?.close();
  await removeTempDirs();
});

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
const req = (method: Method, url: string, payload?: unknown) => app.inject({ method, url, payload: payload as object, headers: basic });

/** A refused request: status, problem+json, the field named. */
async function refused(method: Method, url: string, payload: unknown, field: string, message: RegExp, status = 422) {
  const r = await req(method, url, payload);
  expect(r.statusCode, r.body).toBe(status);
  expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(r.json().field).toBe(field);
  expect(r.json().detail).toMatch(message);
  return r.json();
}

const names = async (): Promise<string[]> => (await req('GET', '/api/router/rules')).json().rules.map((r: { name: string }) => r.name);

function part10(uid: string, modality = 'CT'): Buffer {
  const sopClassUid = modality === 'MR' ? MR_IMAGE : CT_IMAGE;
  return Buffer.concat([
    buildMetaHeader({ sopClassUid, sopInstanceUid: uid, transferSyntaxUid: EXPLICIT_LE }),
    datasetBytes({ sopInstanceUid: uid, sopClassUid, modality }),
  ]);
}

async function send(uid: string, modality = 'CT'): Promise<void> {
  const assoc = await connect({
    host: '127.0.0.1',
    port: routerPort,
    callingAeTitle: 'MODALITY',
    calledAeTitle: 'ROUTER',
    presentationContexts: [CT_IMAGE, MR_IMAGE].map((abstractSyntax) => ({ abstractSyntax, transferSyntaxes: [EXPLICIT_LE] })),
  });
  const conn = new DimseConnection(assoc);
  try {
    const sopClassUid = modality === 'MR' ? MR_IMAGE : CT_IMAGE;
    await cStore(conn, { sopClassUid, sopInstanceUid: uid, transferSyntaxUid: EXPLICIT_LE }, datasetBytes({ sopInstanceUid: uid, sopClassUid, modality }));
  } finally {
    await assoc.release();
  }
}

describe('REST /api/router/rules', () => {
  it('needs a login', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/router/rules' })).statusCode).toBe(401);
    expect(
      (await app.inject({ method: 'POST', url: '/api/router/dry-run', payload: part10('1.2.3'), headers: { 'content-type': 'application/dicom' } })).statusCode,
    ).toBe(401);
  });

  it('starts with the default rule and the queue policy', async () => {
    const s = (await req('GET', '/api/router/rules')).json();
    expect(s.rules).toEqual([expect.objectContaining({ name: 'everything to the workstation', condition: 'true', destinations: ['WORKSTATION'] })]);
    expect(s.queue).toMatchObject({ maxAttempts: 10 });
  });

  it('adds, reads, replaces (renaming), reorders and deletes rules', async () => {
    const added = await req('POST', '/api/router/rules', { name: 'ct', condition: 'Modality == "CT"', destinations: ['PACS'] });
    expect(added.statusCode, added.body).toBe(201);
    expect(added.headers.location).toBe('/api/router/rules/ct');
    // Added last, after the catch-all default rule: saved, with a warning that it can never match.
    expect(added.json()).toEqual({
      name: 'ct',
      condition: 'Modality == "CT"',
      destinations: ['PACS'],
      changes: {},
      continue: false,
      enabled: true,
      warnings: [
        {
          rule: 'ct',
          message:
            'rule "ct" can never match: the earlier rule "everything to the workstation" matches everything (condition true) and stops the evaluation; move "ct" before it',
        },
      ],
    });
    expect((await req('GET', '/api/router/rules')).json()).toMatchObject({ catchAll: 'everything to the workstation', warnings: [{ rule: 'ct' }] });
    expect((await req('POST', '/api/router/rules?position=0', { name: 'first / mr', condition: 'Modality == "MR"', destinations: ['PACS'] })).statusCode).toBe(
      201,
    );
    expect(await names()).toEqual(['first / mr', 'everything to the workstation', 'ct']);
    expect((await req('GET', `/api/router/rules/${encodeURIComponent('first / mr')}`)).json().condition).toBe('Modality == "MR"');

    const replaced = await req('PUT', '/api/router/rules/ct', {
      name: 'ct anonymised',
      condition: 'Modality == "CT"',
      destinations: ['PACS', 'WORKSTATION'],
      changes: { InstitutionName: 'X' },
      continue: true,
    });
    expect(replaced.statusCode, replaced.body).toBe(200);
    expect(replaced.json()).toMatchObject({ name: 'ct anonymised', changes: { InstitutionName: 'X' }, continue: true });

    const s = (await req('GET', '/api/router/rules')).json();
    const reordered = await req('PUT', '/api/router/rules', { rules: [s.rules[2], s.rules[0], s.rules[1]] });
    expect(reordered.statusCode, reordered.body).toBe(200);
    expect(reordered.json().queue).toEqual(s.queue);
    // The catch-all is last now: nothing is unreachable.
    expect(reordered.json()).toMatchObject({ warnings: [], catchAll: 'everything to the workstation' });
    expect(await names()).toEqual(['ct anonymised', 'first / mr', 'everything to the workstation']);
    expect(router.rules.current.rules.map((r) => r.name)).toEqual(['ct anonymised', 'first / mr', 'everything to the workstation']);

    expect((await req('DELETE', `/api/router/rules/${encodeURIComponent('first / mr')}`)).statusCode).toBe(204);
    expect(await names()).toEqual(['ct anonymised', 'everything to the workstation']);
  });

  it('refuses a condition with a syntax error, naming the field, line and column', async () => {
    const p = await refused(
      'POST',
      '/api/router/rules',
      { name: 'bad', condition: 'Modality ==\n  "CT" &&', destinations: ['PACS'] },
      'condition',
      /^condition: 2:/,
    );
    expect(p).toMatchObject({ type: 'urn:open-pacs:problem:validation', status: 422, line: 2 });
    expect(p.column).toBeGreaterThan(1);
    expect(p.errors[0]).toMatchObject({ field: 'condition', line: 2, column: p.column });
    const unknown = await refused(
      'POST',
      '/api/router/rules',
      { name: 'bad', condition: 'true && Modalty == "CT"', destinations: ['PACS'] },
      'condition',
      /unknown name "Modalty"/,
    );
    expect(unknown).toMatchObject({ line: 1, column: 9 });
    expect(await names()).not.toContain('bad');
  });

  it('refuses a type error, naming the attribute and both types at its line and column; GET and PUT answers can be sent back', async () => {
    const p = await refused(
      'POST',
      '/api/router/rules',
      { name: 'thin slices', condition: 'SliceThickness > "3"', destinations: ['PACS'] },
      'condition',
      /^condition: 1:16: > cannot compare SliceThickness \(number, VR DS\) with "3" \(string\): write 3 without quotes$/,
    );
    expect(p).toMatchObject({ line: 1, column: 16 });
    expect(await names()).not.toContain('thin slices');
    expect((await req('POST', '/api/router/validate', { condition: 'SliceThickness > "3"' })).json()).toEqual({
      ok: false,
      problems: [{ message: '> cannot compare SliceThickness (number, VR DS) with "3" (string): write 3 without quotes', line: 1, column: 16 }],
    });
    const s = (await req('GET', '/api/router/rules')).json();
    expect((await req('PUT', '/api/router/rules', s)).statusCode).toBe(200);
  });

  it('refuses unknown destinations, bad fields, duplicates and bad JSON', async () => {
    await refused('POST', '/api/router/rules', { name: 'x', condition: 'true', destinations: ['NOT_THERE'] }, 'destinations[0]', /not a registered AE/);
    await refused('POST', '/api/router/rules', { name: 'x', condition: 'true', destinations: ['PACS_CLIENT'] }, 'destinations[0]', /client AEs/);
    await refused('POST', '/api/router/rules', { name: 'x', condition: 'true', destinations: [] }, 'destinations', /at least one destination/);
    await refused(
      'POST',
      '/api/router/rules',
      { name: 'x', condition: 'true', destinations: ['PACS'], changes: { PixelData: 'x' } },
      'changes.PixelData',
      /only text attributes/,
    );
    await refused('POST', '/api/router/rules', { name: 'x', condition: 'true', destinations: ['PACS'], colour: 'red' }, 'colour', /unknown field/);
    await refused('POST', '/api/router/rules?position=first', { name: 'x', condition: 'true', destinations: ['PACS'] }, 'position', /number/);
    await refused('POST', '/api/router/rules', { name: 'ct anonymised', condition: 'true', destinations: ['PACS'] }, 'name', /already a rule/, 409);
    const s = (await req('GET', '/api/router/rules')).json();
    const bulk = await refused(
      'PUT',
      '/api/router/rules',
      { rules: [s.rules[0], { ...s.rules[1], condition: 'Modality = "CT"' }] },
      'rules[1].condition',
      /^rules\[1\]\.condition: 1:10:/,
    );
    expect(bulk).toMatchObject({ line: 1, column: 10 });
    await refused('PUT', '/api/router/rules', { rules: [s.rules[0], s.rules[0]] }, 'rules[1].name', /already a rule/);
    await refused('PUT', '/api/router/rules', { order: [] }, 'rules', /expected array/);
    const badJson = await app.inject({
      method: 'POST',
      url: '/api/router/rules',
      payload: '{"name": "x",',
      headers: { ...basic, 'content-type': 'application/json' },
    });
    expect(badJson.statusCode).toBe(400);
    expect(badJson.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(badJson.json().detail).toMatch(/JSON/);
    expect((await req('GET', '/api/router/rules')).json()).toEqual(s);
  });

  it('answers 404 for an unknown rule name', async () => {
    await refused('PUT', '/api/router/rules/nope', { name: 'nope', condition: 'true', destinations: ['PACS'] }, 'name', /no rule named "nope"/, 404);
    await refused('DELETE', '/api/router/rules/nope', undefined, 'name', /no rule named "nope"/, 404);
    expect((await req('GET', '/api/router/rules/nope')).statusCode).toBe(404);
  });
});

describe('POST /api/router/validate', () => {
  it('says ok, or the problem with its line and column', async () => {
    expect((await req('POST', '/api/router/validate', { condition: 'Modality == "CT" && callingAE.startsWith("CT")' })).json()).toEqual({ ok: true });
    const bad = (await req('POST', '/api/router/validate', { condition: 'Modality == "CT"\n&& (' })).json();
    expect(bad.ok).toBe(false);
    expect(bad.problems[0]).toMatchObject({ line: 2, column: expect.any(Number), message: expect.any(String) });
    expect((await req('POST', '/api/router/validate', { condition: 'StudyDate == 1 || Foo' })).json().problems[0]).toMatchObject({
      line: 1,
      column: 19,
      message: expect.stringMatching(/unknown name "Foo"/),
    });
    expect((await req('POST', '/api/router/validate', { condition: '' })).json().problems[0].message).toMatch(/empty/);
    await refused('POST', '/api/router/validate', { expression: 'true' }, 'condition', /expected string/);
  });
});

describe('POST /api/router/dry-run', () => {
  const rules = [
    { name: 'mr only', condition: 'Modality == "MR"', destinations: ['PACS'] },
    { name: 'ct', condition: 'Modality == "CT"', destinations: ['WORKSTATION'], changes: { InstitutionName: 'ROUTED' }, continue: true },
    { name: 'from the scanner', condition: 'callingAE == "CT_SCANNER"', destinations: ['PACS', 'WORKSTATION'] },
    { name: 'after the stop', condition: 'true', destinations: ['PACS'] },
  ];

  it('evaluates an uploaded file against the saved rules, with the calling AE from the query', async () => {
    expect((await req('PUT', '/api/router/rules', { rules })).statusCode).toBe(200);
    const r = await app.inject({
      method: 'POST',
      url: '/api/router/dry-run?callingAE=CT_SCANNER',
      payload: part10(`${uidRoot}.1`),
      headers: { ...basic, 'content-type': 'application/dicom' },
    });
    expect(r.statusCode, r.body).toBe(200);
    const d = r.json();
    expect(d.matches).toEqual([
      { rule: 'mr only', matched: false },
      { rule: 'ct', matched: true },
      { rule: 'from the scanner', matched: true },
      { rule: 'after the stop', matched: false, skipped: 'stopped' },
    ]);
    expect(d).toMatchObject({ stopped: true, stoppedBy: 'from the scanner' });
    expect(d.sends).toEqual([
      { destination: 'WORKSTATION', rule: 'ct', changes: { InstitutionName: 'ROUTED' }, address: expect.stringMatching(/^127\.0\.0\.1:\d+$/) },
      { destination: 'PACS', rule: 'from the scanner', changes: {}, address: expect.stringMatching(/^127\.0\.0\.1:\d+$/) },
    ]);
    const other = await app.inject({
      method: 'POST',
      url: '/api/router/dry-run',
      payload: part10(`${uidRoot}.2`, 'MR'),
      headers: { ...basic, 'content-type': 'application/dicom' },
    });
    expect(other.json().sends.map((s: { destination: string }) => s.destination)).toEqual(['PACS']);
    expect(other.json().stoppedBy).toBe('mr only');
  });

  it('evaluates a base64 file against unsaved rules without saving them', async () => {
    const unsaved = [{ name: 'unsaved', condition: 'PatientName == "Doe^Jane"', destinations: ['NOWHERE'] }];
    const r = await req('POST', '/api/router/dry-run', { file: part10(`${uidRoot}.3`).toString('base64'), rules: unsaved });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toMatchObject({ matches: [{ rule: 'unsaved', matched: true }], stopped: true, sends: [{ destination: 'NOWHERE', rule: 'unsaved' }] });
    expect(await names()).toEqual(rules.map((x) => x.name));
    await refused(
      'POST',
      '/api/router/dry-run',
      { file: part10(`${uidRoot}.3`).toString('base64'), rules: [{ ...unsaved[0], condition: 'Modality ==' }] },
      'rules[0].condition',
      /1:\d+:/,
    );
    await refused(
      'POST',
      '/api/router/dry-run',
      { file: part10(`${uidRoot}.3`).toString('base64'), rules: [{ ...unsaved[0], destinations: ['GHOST'] }] },
      'rules[0].destinations[0]',
      /not a registered AE/,
    );
  });

  it('evaluates an instance stored in the router, and 404s an unknown one', async () => {
    await req('PUT', '/api/router/rules', { rules: [{ name: 'nothing', condition: 'false', destinations: ['PACS'] }] });
    const uid = `${uidRoot}.4`;
    await send(uid);
    const d = (await req('POST', '/api/router/dry-run', { sopInstanceUid: uid, rules })).json();
    expect(d.matches.map((m: { matched: boolean }) => m.matched)).toEqual([false, true, false, true]);
    expect(d).toMatchObject({ stopped: true, stoppedBy: 'after the stop' });
    const continuing = (await req('POST', '/api/router/dry-run', { sopInstanceUid: uid, rules: rules.slice(0, 2) })).json();
    expect(continuing).toMatchObject({ stopped: false, stoppedBy: null, sends: [{ destination: 'WORKSTATION', rule: 'ct' }] });
    // The calling AE recorded at storage (MODALITY), unless overridden.
    expect((await req('POST', '/api/router/dry-run', { sopInstanceUid: uid, rules, callingAE: 'CT_SCANNER' })).json().stoppedBy).toBe('from the scanner');
    await refused('POST', '/api/router/dry-run', { sopInstanceUid: '1.2.3.404' }, 'sopInstanceUid', /no instance 1\.2\.3\.404 in the router archive/, 404);
    await refused('POST', '/api/router/dry-run', { sopInstanceUid: uid, archive: 'main' }, 'sopInstanceUid', /main archive/, 404);
    await refused('POST', '/api/router/dry-run', { sopInstanceUid: uid, archive: 'elsewhere' }, 'archive', /main|workstation|router/);
  });

  it('refuses bytes that are not DICOM, an empty request and bad query parameters', async () => {
    const notDicom = await app.inject({
      method: 'POST',
      url: '/api/router/dry-run',
      payload: Buffer.from('hello, this is not a DICOM file at all'.repeat(10)),
      headers: { ...basic, 'content-type': 'application/dicom' },
    });
    expect(notDicom.statusCode, notDicom.body).toBe(422);
    expect(notDicom.json()).toMatchObject({ field: 'file', detail: expect.stringMatching(/not a DICOM Part 10 file/) });
    await refused('POST', '/api/router/dry-run', { file: Buffer.from('short').toString('base64') }, 'file', /not a DICOM Part 10 file/);
    await refused('POST', '/api/router/dry-run', {}, 'sopInstanceUid', /either sopInstanceUid or file/);
    const badQuery = await app.inject({
      method: 'POST',
      url: '/api/router/dry-run?callingAE=THIS_IS_FAR_TOO_LONG',
      payload: part10(`${uidRoot}.5`),
      headers: { ...basic, 'content-type': 'application/dicom' },
    });
    expect(badQuery.statusCode).toBe(422);
    expect(badQuery.json().field).toBe('callingAE');
  });
});

describe('REST /api/router/queue', () => {
  it('shows what is queued for an unreachable destination; retries and purges it', async () => {
    await req('PUT', '/api/router/rules', {
      rules: [{ name: 'to nowhere', condition: 'true', destinations: ['NOWHERE'] }],
      queue: { maxAttempts: 1, baseDelayMs: 10, maxDelayMs: 20, batchSize: 50, idleReleaseMs: 0 },
    });
    await send(`${uidRoot}.6.1`);
    await send(`${uidRoot}.6.2`);
    const counts = await until('two dead entries', async () => {
      const c = (await req('GET', '/api/router/queue')).json().find((x: { destination: string }) => x.destination === 'NOWHERE');
      return c?.dead === 2 ? c : undefined;
    });
    expect(counts).toMatchObject({ pending: 0, failed: 0, inFlight: 0, dead: 2, nextAttemptAt: null, lastError: expect.any(String) });

    const dead = (await req('GET', '/api/router/queue/NOWHERE?state=dead')).json();
    expect(dead).toMatchObject({ destination: 'NOWHERE', state: 'dead', limit: 100, offset: 0 });
    expect(dead.entries.map((e: { sopInstanceUid: string }) => e.sopInstanceUid)).toEqual([`${uidRoot}.6.1`, `${uidRoot}.6.2`]);
    expect(dead.entries[0]).toMatchObject({ state: 'dead', attempts: 1, rule: 'to nowhere', inFlight: false });
    expect(
      (await req('GET', '/api/router/queue/NOWHERE?state=dead&limit=1&offset=1')).json().entries.map((e: { sopInstanceUid: string }) => e.sopInstanceUid),
    ).toEqual([`${uidRoot}.6.2`]);
    expect((await req('GET', '/api/router/queue/NOWHERE?state=pending')).json().entries).toEqual([]);

    // Retry one: it goes back to pending and, still unreachable, dies again.
    expect((await req('POST', '/api/router/queue/NOWHERE/retry', { id: dead.entries[0].id })).json()).toEqual({ retried: 1 });
    await until('dead again', async () =>
      (await req('GET', '/api/router/queue')).json().find((x: { destination: string; dead: number }) => x.destination === 'NOWHERE' && x.dead === 2),
    );
    await refused('POST', '/api/router/queue/NOWHERE/retry', { id: 999999 }, 'id', /no failed or dead entry 999999/, 404);
    await refused('POST', '/api/router/queue/NOWHERE/retry', { state: 'pending' }, 'state', /failed|dead/);

    expect((await req('POST', '/api/router/queue/NOWHERE/purge', { id: dead.entries[1].id })).json()).toEqual({ purged: 1 });
    expect((await req('POST', '/api/router/queue/NOWHERE/purge', {})).json()).toEqual({ purged: 1 });
    expect((await req('GET', '/api/router/queue/NOWHERE')).json().entries).toEqual([]);
  });

  it('refuses an unknown destination and bad parameters', async () => {
    await refused('GET', '/api/router/queue/UNKNOWN_AE', undefined, 'destination', /no destination "UNKNOWN_AE"/, 404);
    await refused('POST', '/api/router/queue/UNKNOWN_AE/purge', {}, 'destination', /no destination/, 404);
    await refused('GET', '/api/router/queue/NOWHERE?state=lost', undefined, 'state', /pending/);
    await refused('GET', '/api/router/queue/NOWHERE?limit=0', undefined, 'limit', />=1|too small/i);
    await refused('POST', '/api/router/queue/NOWHERE/purge', { state: 'some' }, 'state', /dead|all/);
    await refused('POST', '/api/router/queue/NOWHERE/retry', { id: 'one' }, 'id', /number/);
  });
});

describe('REST /api/router/unrouted', () => {
  it('lists what no rule forwards and what failed, retries it with the current rules, purges it', async () => {
    await req('PUT', '/api/router/rules', { rules: [{ name: 'ct only', condition: 'Modality == "CT"', destinations: ['NOWHERE'] }] });
    const mr = `${uidRoot}.7.1`;
    await send(mr, 'MR');
    const list = (await req('GET', '/api/router/unrouted')).json();
    const entry = list.entries.find((e: { sopInstanceUid: string }) => e.sopInstanceUid === mr);
    expect(entry).toMatchObject({ state: 'unrouted', destination: '', rule: '', lastError: null });
    expect(list.counts.unrouted).toBeGreaterThanOrEqual(1);
    // Not a destination of the queue page.
    expect((await req('GET', '/api/router/queue')).json().some((c: { destination: string }) => c.destination === '')).toBe(false);

    // A failing rule: held with the error, and the dry run says so.
    await req('PUT', '/api/router/rules', {
      rules: [
        { name: 'body part', condition: 'BodyPartExamined.matches("x")', destinations: ['NOWHERE'] },
        { name: 'rest', condition: 'true', destinations: ['NOWHERE'] },
      ],
    });
    const dry = (await req('POST', '/api/router/dry-run', { sopInstanceUid: mr })).json();
    expect(dry).toMatchObject({ outcome: 'rule-failed', sends: [], error: expect.stringMatching(/^rule "body part": /) });
    const retried = (await req('POST', '/api/router/unrouted/retry', { id: entry.id })).json();
    expect(retried).toMatchObject({ retried: 1, failed: 1, routed: 0 });
    const failed = (await req('GET', '/api/router/unrouted?state=rule-failed')).json().entries.find((e: { sopInstanceUid: string }) => e.sopInstanceUid === mr);
    expect(failed).toMatchObject({ state: 'rule-failed', rule: 'body part', lastError: expect.stringMatching(/body part/) });

    // Discarding rules: the dry run says discard; a retry drops the entry without sending.
    await req('PUT', '/api/router/rules', { rules: [{ name: 'drop MR', condition: 'Modality == "MR"', discard: true }] });
    expect((await req('POST', '/api/router/dry-run', { sopInstanceUid: mr })).json()).toMatchObject({ outcome: 'discard', stoppedBy: 'drop MR', sends: [] });
    expect((await req('POST', '/api/router/unrouted/retry', { id: failed.id })).json()).toMatchObject({ retried: 1, discarded: 1 });
    expect((await req('GET', '/api/router/unrouted')).json().entries.some((e: { sopInstanceUid: string }) => e.sopInstanceUid === mr)).toBe(false);

    // Purge.
    const other = `${uidRoot}.7.2`;
    await send(other, 'CT'); // the discard rule does not match a CT: unrouted
    const held = (await req('GET', '/api/router/unrouted?state=unrouted')).json().entries.find((e: { sopInstanceUid: string }) => e.sopInstanceUid === other);
    expect(held.state).toBe('unrouted');
    expect((await req('POST', '/api/router/unrouted/purge', { id: held.id })).json()).toEqual({ purged: 1 });
    await refused('POST', '/api/router/unrouted/purge', { id: held.id }, 'id', /no unrouted entry/, 404);
    await refused('POST', '/api/router/unrouted/retry', { id: held.id }, 'id', /no unrouted entry/, 404);
    await refused('GET', '/api/router/unrouted?state=lost', undefined, 'state', /unrouted/);
  });

  it('refuses a discarding rule with destinations, and a rule with neither', async () => {
    await refused(
      'POST',
      '/api/router/rules',
      { name: 'x', condition: 'true', discard: true, destinations: ['PACS'] },
      'destinations',
      /discards has no destinations/,
    );
    await refused('POST', '/api/router/rules', { name: 'x', condition: 'true' }, 'destinations', /at least one destination AE \(or discard: true\)/);
    await refused('POST', '/api/router/rules', { name: 'x', condition: 'true', discard: true, continue: true }, 'continue', /stops the evaluation/);
  });
});
