/**
 * The activity log over REST (issue 18), in process over running roles: web actions that
 * change or export data (zip export, delete, AE registry and router rule changes) are
 * events with their user, study and patient; GET /api/activity pages and validates; the
 * Server-Sent Events stream delivers new events, filtered, catches up after a Last-Event-ID,
 * and is bounded (32 streams, then 503).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityEvent, ActivityPage } from '../../src/api-types/activity.js';
import { addAe } from '../../src/config/index.js';
import { inspectFiles, storeFiles } from '../../src/services/storage-scu.js';
import { writeCtSeries, type CtSeriesResult } from '../../scripts/gen-test-data.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { startWebApp, type WebAppFixture } from './web-app-fixture.js';

let web: WebAppFixture;
let base: string;
let ct: CtSeriesResult;
const admin = { authorization: `Basic ${Buffer.from('admin:admin-password').toString('base64')}` };

beforeAll(async () => {
  web = await startWebApp({
    tmpPrefix: 'pacs-activity-api-',
    adminPassword: 'admin-password',
    register: (r) => addAe(r, { aeTitle: 'MOD1', connection: { host: '127.0.0.1' } }),
  });
  await web.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(web.app.server.address() as { port: number }).port}`;
  ct = await writeCtSeries({
    dir: join(await makeTempDir('pacs-activity-src-'), 'ct'),
    count: 3,
    rows: 16,
    cols: 16,
    patientName: 'ACT^ONE',
    patientId: 'ACT-1',
  });
  const { files } = await inspectFiles(ct.files);
  const r = await storeFiles({ host: '127.0.0.1', port: web.ports.pacs, callingAeTitle: 'MOD1', calledAeTitle: 'PACS' }, files);
  expect(r.failed).toEqual([]);
});

afterAll(async () => {
  await web?.close();
  await removeTempDirs();
});

const get = async (query: string): Promise<ActivityPage> => {
  const r = await web.app.inject({ url: `/api/activity${query}`, headers: admin });
  expect(r.statusCode, r.body).toBe(200);
  return r.json();
};
const messages = async (query: string) => (await get(query)).events.map((e) => e.message);

/** Reads an SSE response's events as they come. */
function sse(res: Response): { events: ActivityEvent[]; ids: string[] } {
  const out = { events: [] as ActivityEvent[], ids: [] as string[] };
  let buffer = '';
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block.split('\n').find((l) => l.startsWith('data: '));
        const id = block.split('\n').find((l) => l.startsWith('id: '));
        if (data) out.events.push(JSON.parse(data.slice(6)) as ActivityEvent);
        if (id) out.ids.push(id.slice(4));
      }
    }
  })().catch(() => undefined);
  return out;
}

describe('activity log over REST', () => {
  it('records the association and the web actions that export, delete and configure', async () => {
    await web.roles.activity.flushed();
    const [assoc] = (await get('?kind=association')).events;
    expect(assoc).toMatchObject({ callingAe: 'MOD1', calledAe: 'PACS', outcome: 'released', patientIds: ['ACT-1'], studyUids: [ct.studyUid] });
    expect(assoc.summary?.stored).toEqual({ requests: 3, completed: 3, failed: 0, failures: [] });

    const zip = await web.app.inject({ url: `/api/studies/${ct.studyUid}/archive.zip`, headers: admin });
    expect(zip.statusCode).toBe(200);
    const addRule = await web.app.inject({
      method: 'POST',
      url: '/api/router/rules',
      headers: admin,
      payload: { name: 'ct-to-ws', condition: 'Modality == "CT"', destinations: ['WORKSTATION'] },
    });
    expect(addRule.statusCode, addRule.body).toBe(201);
    const addAeRes = await web.app.inject({
      method: 'POST',
      url: '/api/aes',
      headers: admin,
      payload: { aeTitle: 'CT02', connection: { host: '10.0.0.2', port: 104 } },
    });
    expect(addAeRes.statusCode, addAeRes.body).toBe(201);
    expect((await web.app.inject({ method: 'DELETE', url: '/api/aes/CT02', headers: admin })).statusCode).toBe(204);
    const del = await web.app.inject({ method: 'DELETE', url: `/api/studies/${ct.studyUid}`, headers: admin });
    expect(del.json()).toEqual({ deleted: 3 });
    await web.roles.activity.flushed();

    expect(await messages('?kind=export')).toEqual([`admin: exported study ${ct.studyUid} as a zip: 3 instance(s)`]);
    expect(await messages('?kind=delete')).toEqual([`admin: deleted study ${ct.studyUid}: 3 instance(s)`]);
    expect(await messages('?kind=rules')).toEqual(['admin: added router rule "ct-to-ws"']);
    expect(await messages('?kind=config')).toEqual(['admin: removed AE CT02 from the registry', 'admin: added AE CT02 to the registry']);
    // The study and the patient name the association, the export and the delete.
    expect((await get(`?studyUid=${ct.studyUid}`)).events.map((e) => e.kind)).toEqual(['delete', 'export', 'association']);
    expect((await get('?patientId=ACT-1')).events.map((e) => e.kind)).toEqual(['delete', 'export', 'association']);
    const [deleted] = (await get('?kind=delete')).events;
    expect(deleted).toMatchObject({ user: 'admin', outcome: 'success', peerAddress: '127.0.0.1' });
  });

  it('pages newest first and refuses bad filters naming the field', async () => {
    const all = (await get('')).events;
    expect(all.length).toBe(6);
    const first = await get('?limit=4');
    expect(first.events.map((e) => e.id)).toEqual(all.slice(0, 4).map((e) => e.id));
    const second = await get(`?limit=4&before=${first.nextBefore}`);
    expect(second.events.map((e) => e.id)).toEqual(all.slice(4).map((e) => e.id));
    expect(second.nextBefore).toBeUndefined();
    expect((await get(`?after=${all[2].id}`)).events.map((e) => e.id)).toEqual([all[1].id, all[0].id]);
    for (const [query, field] of [
      ['?limit=0', 'limit'],
      ['?limit=1001', 'limit'],
      ['?kind=coffee', 'kind'],
      ['?from=not-a-time', 'from'],
      ['?studyUid=1.2.x', 'studyUid'],
      ['?ae=ABCDEFGHIJKLMNOPQ', 'ae'],
      ['?colour=red', 'colour'],
    ]) {
      const r = await web.app.inject({ url: `/api/activity${query}`, headers: admin });
      expect(r.statusCode, query).toBe(422);
      expect(r.json().field, query).toBe(field);
    }
  });

  it('streams new events, filtered; catches up after Last-Event-ID; at most 32 streams', async () => {
    const closing = new AbortController();
    const { signal } = closing;
    const newest = (await get('?limit=1')).events[0].id;
    const configOnly = await fetch(`${base}/api/activity/stream?kind=config`, { headers: admin, signal });
    expect(configOnly.status).toBe(200);
    expect(configOnly.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const everything = await fetch(`${base}/api/activity/stream`, { headers: admin, signal });
    const filtered = sse(configOnly);
    const all = sse(everything);
    await new Promise((r) => setTimeout(r, 200));
    await web.app.inject({ method: 'POST', url: '/api/aes', headers: admin, payload: { aeTitle: 'CT03', connection: { host: '10.0.0.3', port: 104 } } });
    await web.app.inject({ method: 'DELETE', url: '/api/router/rules/ct-to-ws', headers: admin });
    await expect.poll(() => all.events.map((e) => e.message)).toEqual(['admin: added AE CT03 to the registry', 'admin: removed router rule "ct-to-ws"']);
    await expect.poll(() => filtered.events.map((e) => e.message)).toEqual(['admin: added AE CT03 to the registry']);
    expect(all.ids).toEqual(all.events.map((e) => String(e.id)));

    // A reconnecting EventSource sends the last id it saw: what came since is sent first.
    const again = await fetch(`${base}/api/activity/stream`, { headers: { ...admin, 'last-event-id': String(newest) }, signal });
    const caught = sse(again);
    await expect.poll(() => caught.events.map((e) => e.message)).toEqual(['admin: added AE CT03 to the registry', 'admin: removed router rule "ct-to-ws"']);

    // 3 open; 29 more fill the 32; the next is refused.
    const more = await Promise.all(Array.from({ length: 29 }, () => fetch(`${base}/api/activity/stream`, { headers: admin, signal })));
    expect(more.map((r) => r.status)).toEqual(Array(29).fill(200));
    const refused = await fetch(`${base}/api/activity/stream`, { headers: admin });
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { detail: string }).detail).toMatch(/32 activity streams are open/);
    for (const r of more) await r.body?.cancel();
    closing.abort();
    // Closed streams free their places.
    const last = new AbortController();
    await expect.poll(async () => (await fetch(`${base}/api/activity/stream?kind=user`, { headers: admin, signal: last.signal })).status).toBe(200);
    last.abort();
  });
});
