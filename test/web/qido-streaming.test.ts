/**
 * QIDO-RS over 20,000 instances through a real HTTP socket: a large answer is streamed
 * (its first bytes arrive while the search is still reading the index), within the
 * server's maximum limit and with the Warning that says more may be asked for; a search
 * that hits its cost limit after the answer began is cut off, so that no client can take
 * it for a complete answer.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Archive } from '../../src/archive/archive.js';
import type { InstanceRecord } from '../../src/archive/index-types.js';
import type { QueryLimits } from '../../src/config/limits.js';
import { EXPLICIT_VR_LITTLE_ENDIAN } from '../../src/dicom/transfer-syntax.js';
import { registerDicomweb } from '../../src/web/dicomweb/index.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

const TOTAL = 20_000;
const STUDY_UID = '1.2.826.0.1.3680043.10.1001.1';

let archive: Archive;
let app: FastifyInstance;
let base: string;
let limits: Partial<QueryLimits> = {};

function* records(): Generator<InstanceRecord> {
  const now = new Date().toISOString();
  for (let i = 0; i < TOTAL; i++) {
    const series = `${STUDY_UID}.${(i % 10) + 1}`;
    const uid = `${series}.${i + 1}`;
    const json = JSON.stringify({
      '00080016': { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] },
      '00080018': { vr: 'UI', Value: [uid] },
      '00080080': { vr: 'LO', Value: ['Streaming General Hospital'] },
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Stream^Web' }] },
      '00100020': { vr: 'LO', Value: ['STREAM-2'] },
      '0020000D': { vr: 'UI', Value: [STUDY_UID] },
      '0020000E': { vr: 'UI', Value: [series] },
      '00181030': { vr: 'LO', Value: ['Streaming protocol with a long enough name to look real'] },
      '00200032': { vr: 'DS', Value: [-125, -125, i * 0.5] },
      '00200037': { vr: 'DS', Value: [1, 0, 0, 0, 1, 0] },
    });
    yield {
      sopInstanceUid: uid,
      sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
      studyInstanceUid: STUDY_UID,
      seriesInstanceUid: series,
      patientId: 'STREAM-2',
      patientName: 'Stream^Web',
      studyDate: '20240101',
      modality: 'CT',
      seriesNumber: (i % 10) + 1,
      instanceNumber: Math.floor(i / 10) + 1,
      transferSyntaxUid: EXPLICIT_VR_LITTLE_ENDIAN,
      fileKey: `none/${i}`,
      fileSize: 0,
      receivedAt: now,
      callingAeTitle: 'LOADER',
      json,
    };
  }
}

beforeAll(async () => {
  const dir = await makeTempDir('pacs-qido-stream-');
  archive = await Archive.open({ dataDir: join(dir, 'data') });
  await archive.index.insertInstances([...records()]);
  app = Fastify();
  await registerDicomweb(app, {
    prefix: '/dicomweb',
    name: 'the Main Server',
    archive: () => archive,
    settings: () => ({ openRead: true }),
    queryLimits: () => limits,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const a = app.server.address();
  base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
}, 120_000);

afterAll(async () => {
  await app?.close();
  await archive?.close();
  await removeTempDirs();
});

/** Counts the archive's index reads (one per page of a search). */
function countReads(): { reads: () => number; restore: () => void } {
  const index = archive.index;
  const read = index.read.bind(index);
  let n = 0;
  index.read = (fn) => {
    n++;
    return read(fn);
  };
  return { reads: () => n, restore: () => (index.read = read) };
}

/** GET over a socket; the body as received, how many index reads had happened at its first byte, and how it ended. */
function get(
  path: string,
  reads: () => number,
): Promise<{ status: number; headers: Record<string, unknown>; body: string; readsAtFirstByte: number; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const rq = request(`${base}${path}`, { headers: { accept: 'application/dicom+json' } }, (res) => {
      const chunks: Buffer[] = [];
      let readsAtFirstByte = -1;
      const done = (complete: boolean) =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
          readsAtFirstByte,
          complete,
        });
      res.on('data', (c: Buffer) => {
        if (readsAtFirstByte < 0) readsAtFirstByte = reads();
        chunks.push(c);
      });
      res.on('end', () => done(res.complete));
      res.on('aborted', () => done(false));
      res.on('error', () => done(false));
    });
    rq.on('error', reject);
    rq.end();
  });
}

describe('QIDO-RS streaming', () => {
  it('a large answer is written as the search goes, within qidoMaxLimit, with the Warning', async () => {
    limits = { qidoDefaultLimit: 5000, qidoMaxLimit: 5000 };
    const { reads, restore } = countReads();
    try {
      const r = await get(`/dicomweb/studies/${STUDY_UID}/instances?includefield=all&InstitutionName=Streaming*`, reads);
      expect(r.status).toBe(200);
      expect(r.complete).toBe(true);
      // The first bytes left before the search had read its last page.
      expect(r.readsAtFirstByte, `index reads: ${r.readsAtFirstByte} at the first byte, ${reads()} in all`).toBeGreaterThan(0);
      expect(reads(), `index reads: ${r.readsAtFirstByte} at the first byte, ${reads()} in all`).toBeGreaterThan(r.readsAtFirstByte);
      const results = JSON.parse(r.body) as Record<string, { Value?: unknown[] }>[];
      expect(results).toHaveLength(5000);
      expect(new Set(results.map((x) => x['00080018'].Value![0])).size).toBe(5000);
      expect(r.body.length).toBeGreaterThan(2 * 1024 * 1024); // larger than what is held back before the headers
      expect(r.headers.warning).toMatch(/^299 .*Additional results can be requested\."$/);
    } finally {
      restore();
      limits = {};
    }
  }, 60_000);

  it('past maxRowsExamined after the answer began, the response is cut off, not closed as if complete', async () => {
    limits = { maxRowsExamined: 4000, qidoMaxLimit: 10_000 };
    try {
      const r = await get(`/dicomweb/studies/${STUDY_UID}/instances?includefield=all&InstitutionName=Streaming*&limit=10000`, () => 0);
      expect(r.status).toBe(200);
      expect(r.body.startsWith('[{')).toBe(true);
      expect(r.complete).toBe(false);
      expect(() => JSON.parse(r.body)).toThrow();
    } finally {
      limits = {};
    }
  }, 60_000);
});
