/** A PACS web app in process (fastify inject) with its roles, and helpers for DICOMweb tests. */
import type { FastifyInstance } from 'fastify';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { ConfigStore, setAe, setWeb, type DicomwebSettings } from '../../src/config/index.js';
import { PacsRoles } from '../../src/roles/pacs-roles.js';
import { buildWebApp } from '../../src/web/server.js';
import { UserStore } from '../../src/web/users.js';
import { writeCtSeries, type CtSeriesResult } from '../../scripts/gen-test-data.js';
import { dropSchema, freshSchemaName, PG_URL, postgresAvailable } from '../archive/pg-support.js';
import { freePort } from '../support/peers.js';
import { makeTempDir } from '../support/tmp.js';

export const basic = { authorization: `Basic ${Buffer.from('admin:password1').toString('base64')}` };

export interface DicomwebHarness {
  app: FastifyInstance;
  store: ConfigStore;
  roles: PacsRoles;
  dir: string;
  close(): Promise<void>;
  settings(s: DicomwebSettings): Promise<void>;
}

/**
 * The web app with its roles; `postgres: true` puts the Main Server's index in a fresh
 * PostgreSQL schema (test/archive/pg-support.ts; dropped by close()).
 */
export async function startHarness(o: { postgres?: boolean } = {}): Promise<DicomwebHarness> {
  const dir = join(await makeTempDir('pacs-dicomweb-'), 'data');
  const store = await ConfigStore.open(dir);
  const [p1, p2, p3, web] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  await store.update((reg) =>
    setAe(setAe(setAe(setWeb(reg, { port: web }), 'PACS', { connection: { port: p1 } }), 'WORKSTATION', { connection: { port: p2 } }), 'ROUTER', {
      connection: { port: p3 },
    }),
  );
  const users = await UserStore.open(dir);
  await users.ensureAdmin('password1');
  const schema = o.postgres ? freshSchemaName() : undefined;
  if (schema && !(await postgresAvailable())) throw new Error(`PostgreSQL is not reachable at ${PG_URL} (or set PACS_TEST_DATABASE_URL)`);
  const roles = await PacsRoles.start({
    config: store,
    dataDir: dir,
    logger: pino({ level: 'silent' }),
    index: schema ? { postgres: PG_URL, schema } : undefined,
  });
  const app = await buildWebApp({
    config: store,
    users,
    roles,
    logger: pino({ level: 'silent' }),
    web: () => ({ host: '127.0.0.1', port: web }),
    uiDir: join(dir, 'no-ui'),
  });
  return {
    app,
    store,
    roles,
    dir,
    async close() {
      await app.close();
      await roles.close();
      store.close();
      if (schema) await dropSchema(schema);
    },
    async settings(s) {
      await store.update((reg) => setWeb(reg, { dicomweb: s }));
    },
  };
}

/** A multipart/related body of the given parts (each with its own Content-Type, or none). */
export function multipart(parts: { body: Buffer; type?: string | null }[], boundary = 'test-boundary-42'): { payload: Buffer; contentType: string } {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const header = p.type === null ? '' : `Content-Type: ${p.type ?? 'application/dicom'}\r\n`;
    chunks.push(Buffer.from(`--${boundary}\r\n${header}\r\n`), p.body, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), contentType: `multipart/related; type="application/dicom"; boundary=${boundary}` };
}

/** Splits a multipart/related response body into its parts (headers, bytes). */
export function parseMultipart(body: Buffer, contentType: string): { headers: Record<string, string>; body: Buffer }[] {
  const m = /boundary=("?)([^";]+)\1/.exec(contentType);
  if (!m) throw new Error(`no boundary in ${contentType}`);
  const delim = Buffer.from(`--${m[2]}`);
  const out: { headers: Record<string, string>; body: Buffer }[] = [];
  let at = body.indexOf(delim);
  for (;;) {
    const start = at + delim.length;
    if (body.subarray(start, start + 2).toString() === '--') return out;
    const headEnd = body.indexOf('\r\n\r\n', start);
    const headers: Record<string, string> = {};
    for (const line of body
      .subarray(start + 2, headEnd)
      .toString('latin1')
      .split('\r\n')) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delim]), headEnd + 4);
    out.push({ headers, body: body.subarray(headEnd + 4, next) });
    at = next + 2;
  }
}

/** A small CT series (32x32) written to files, and the files' bytes. */
export async function ctSeries(
  dir: string,
  o: { count?: number; patientName?: string; patientId?: string; studyUid?: string; seriesNumber?: number } = {},
): Promise<CtSeriesResult & { bytes: Buffer[] }> {
  const s = await writeCtSeries({ dir, rows: 32, cols: 32, count: o.count ?? 3, ...o });
  return { ...s, bytes: s.files.map((f) => readFileSync(f)) };
}
