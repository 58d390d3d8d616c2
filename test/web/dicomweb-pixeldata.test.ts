/**
 * The series' Pixel Data resource (src/web/dicomweb/pixeldata.ts): the frames of many
 * instances in one multipart/related response, one part per frame named by its frame URL,
 * in the order `?instances=` names them (else the whole series), each part's bytes those of
 * the instance's own frames resource; and the requests it refuses, naming why.
 */
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCtSeries, writeMultiFrame, type CtSeriesResult, type MultiFrameResult } from '../../scripts/gen-test-data.js';
import { MAX_INSTANCES } from '../../src/web/dicomweb/pixeldata.js';
import { BATCH_ACCEPT, batchParts, type BatchPart } from '../../ui/src/viewer/batch-parts.js';
import { boundaryOf, readMultipart } from '../../ui/src/viewer/multipart-reader.js';
import { tempDir } from '../archive/helpers.js';
import { parseMultipart, pixelApp, storeFile, writeJ2kVariant, type PixelApp } from './pixel-fixtures.js';

const AS_STORED = 'multipart/related; type="application/octet-stream"; transfer-syntax=*';
const DEFLATED_TS = '1.2.840.10008.1.2.8.1';
/** What the viewer's stack asks for: deflated frames, else as stored. */
const DEFLATED_ELSE_STORED = BATCH_ACCEPT;
let px: PixelApp;
let dataDir: string;
let ct: CtSeriesResult;
let multi: MultiFrameResult;

beforeAll(async () => {
  px = await pixelApp();
  dataDir = tempDir('pacs-pixeldata-');
  ct = await writeCtSeries({ dir: dataDir, count: 5, rows: 16, cols: 12 });
  for (const f of ct.files) await storeFile(px.archive, f);
  multi = await writeMultiFrame({ dir: dataDir, frames: 3, rows: 8, cols: 6 });
  await storeFile(px.archive, multi.file);
}, 60_000);

afterAll(async () => {
  await px?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const get = (url: string, accept = AS_STORED) => px.app.inject({ method: 'GET', url, headers: { accept } });
const seriesPath = (study: string, series: string) => `/dicomweb/studies/${study}/series/${series}`;
const framePath = (study: string, series: string, sop: string, n: number) => `${seriesPath(study, series)}/instances/${sop}/frames/${n}`;

/** The one part of an instance's own frames resource. */
async function ownFrame(study: string, series: string, sop: string, n: number, accept = AS_STORED): Promise<Buffer> {
  const res = await get(framePath(study, series, sop, n), accept);
  expect(res.statusCode).toBe(200);
  return parseMultipart(res.headers['content-type'], res.rawPayload)[0].body;
}

describe('series pixeldata', () => {
  it('answers the named instances in the order named, one part per frame, the bytes of their frames resources', async () => {
    const [s0, , s2, , s4] = ct.sopInstanceUids;
    const res = await get(`${seriesPath(ct.studyUid, ct.seriesUid)}/pixeldata?instances=${s2},${s4},${s0}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toMatch(/^multipart\/related; type="application\/octet-stream"; boundary=/);
    const parts = parseMultipart(res.headers['content-type'], res.rawPayload);
    expect(parts.map((p) => p.headers['content-location'])).toEqual([s2, s4, s0].map((s) => framePath(ct.studyUid, ct.seriesUid, s, 1)));
    for (const [i, sop] of [s2, s4, s0].entries()) {
      expect(parts[i].headers['content-type']).toBe('application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1');
      expect(parts[i].headers['content-length']).toBe('384'); // 16 x 12 x 2 bytes
      expect(Buffer.compare(parts[i].body, await ownFrame(ct.studyUid, ct.seriesUid, sop, 1))).toBe(0);
    }
  });

  it('without instances, every instance of the series', async () => {
    const res = await get(`${seriesPath(ct.studyUid, ct.seriesUid)}/pixeldata`);
    expect(res.statusCode).toBe(200);
    const locations = parseMultipart(res.headers['content-type'], res.rawPayload).map((p) => p.headers['content-location']);
    expect([...locations].sort()).toEqual(ct.sopInstanceUids.map((s) => framePath(ct.studyUid, ct.seriesUid, s, 1)).sort());
  });

  it("a multi-frame instance: all its frames, in order, each its frame's bytes", async () => {
    const res = await get(`${seriesPath(multi.studyUid, multi.seriesUid)}/pixeldata?instances=${multi.sopInstanceUid}`);
    expect(res.statusCode).toBe(200);
    const parts = parseMultipart(res.headers['content-type'], res.rawPayload);
    expect(parts.map((p) => p.headers['content-location'])).toEqual([1, 2, 3].map((n) => framePath(multi.studyUid, multi.seriesUid, multi.sopInstanceUid, n)));
    for (const n of [1, 2, 3]) expect(Buffer.compare(parts[n - 1].body, await ownFrame(multi.studyUid, multi.seriesUid, multi.sopInstanceUid, n))).toBe(0);
  });

  it("reads back part by part with the viewer's streaming reader, also split into 7-byte pieces", async () => {
    const res = await get(`${seriesPath(ct.studyUid, ct.seriesUid)}/pixeldata?instances=${ct.sopInstanceUids.join(',')}`);
    const body = res.rawPayload;
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < body.length; i += 7) c.enqueue(new Uint8Array(body.subarray(i, i + 7)));
        c.close();
      },
    });
    const got: string[] = [];
    for await (const part of readMultipart(stream, boundaryOf(String(res.headers['content-type']))!)) {
      expect(part.body.length).toBe(384);
      got.push(part.headers['content-location']);
    }
    expect(got).toEqual(ct.sopInstanceUids.map((s) => framePath(ct.studyUid, ct.seriesUid, s, 1)));
  });

  it('named instances are immutable: an ETag from their blobs (and order and Accept), a 304 for it; the whole series is not', async () => {
    const [s0, s1] = ct.sopInstanceUids;
    const url = `${seriesPath(ct.studyUid, ct.seriesUid)}/pixeldata?instances=${s0},${s1}`;
    const res = await get(url);
    expect(res.headers['cache-control']).toBe('private, max-age=31536000, immutable');
    const etag = String(res.headers.etag);
    expect(etag).toMatch(/^W\/"[A-Za-z0-9_-]{27}"$/);
    expect((await get(url)).headers.etag).toBe(etag);
    const again = await px.app.inject({ method: 'GET', url, headers: { accept: AS_STORED, 'if-none-match': etag } });
    expect(again.statusCode).toBe(304);
    expect(again.rawPayload.length).toBe(0);
    // Another order or another representation is another ETag.
    expect((await get(`${seriesPath(ct.studyUid, ct.seriesUid)}/pixeldata?instances=${s1},${s0}`)).headers.etag).not.toBe(etag);
    expect((await get(url, 'multipart/related; type="application/octet-stream"')).headers.etag).not.toBe(etag);
    const whole = await get(`${seriesPath(ct.studyUid, ct.seriesUid)}/pixeldata`);
    expect(whole.headers.etag).toBeUndefined();
    expect(whole.headers['cache-control']).toBeUndefined();
  });

  it('a client that goes away mid-body leaves no file open (the one read ahead included)', async () => {
    const { pixelDataResponse } = await import('../../src/web/dicomweb/pixeldata.js');
    const rows = await Promise.all(ct.sopInstanceUids.map(async (s) => (await px.archive.index.getInstance(s))!));
    const before = (await import('node:fs')).readdirSync('/proc/self/fd').length;
    const { body } = await pixelDataResponse(px.archive, rows, AS_STORED, (r, n) => `${r.sopInstanceUid}/${n}`);
    for await (const chunk of body) {
      void chunk;
      break; // the first chunk only: the stream is destroyed
    }
    await new Promise((r) => setTimeout(r, 100));
    expect((await import('node:fs')).readdirSync('/proc/self/fd').length).toBeLessThanOrEqual(before);
  });

  it('refuses what it cannot serve, naming why', async () => {
    const base = `${seriesPath(ct.studyUid, ct.seriesUid)}/pixeldata`;
    const elsewhere = await get(`${base}?instances=${ct.sopInstanceUids[0]},${multi.sopInstanceUid}`);
    expect(elsewhere.statusCode).toBe(404);
    expect(elsewhere.json().detail).toBe(`instance ${multi.sopInstanceUid} is not stored in series ${ct.seriesUid} of study ${ct.studyUid}`);
    const twice = await get(`${base}?instances=${ct.sopInstanceUids[0]},${ct.sopInstanceUids[0]}`);
    expect(twice.statusCode).toBe(400);
    expect(twice.json().detail).toBe(`instance ${ct.sopInstanceUids[0]} is named twice`);
    const many = await get(`${base}?instances=${Array.from({ length: MAX_INSTANCES + 1 }, (_, i) => `1.2.${i}`).join(',')}`);
    expect(many.statusCode).toBe(400);
    expect(many.json().detail).toBe('more than 100 instances in one request');
    const notUid = await get(`${base}?instances=1.2.x`);
    expect(notUid.statusCode).toBe(400);
    expect(notUid.json().detail).toBe('instances "1.2.x" is not a UID: it may hold only digits and dots');
    const noSeries = await get(`${seriesPath(ct.studyUid, '1.2.3.4')}/pixeldata`);
    expect(noSeries.statusCode).toBe(404);
    expect(noSeries.json().detail).toBe(`series 1.2.3.4 of study ${ct.studyUid} is not stored`);
  });
});

describe('series pixeldata, deflated (Deflated Image Frame Compression)', () => {
  let mixed: CtSeriesResult;
  let j2kSop: string;

  beforeAll(async () => {
    // One instance stored uncompressed, one as JPEG 2000, in one series.
    mixed = await writeCtSeries({ dir: path.join(dataDir, 'mixed'), count: 2, rows: 16, cols: 12 });
    await storeFile(px.archive, mixed.files[0]);
    const j2k = await writeJ2kVariant(mixed.files[1], path.join(dataDir, 'mixed', 'j2k.dcm'), 'jpeg2000');
    j2kSop = (await storeFile(px.archive, j2k)).sop;
  }, 60_000);

  it('sends frames stored uncompressed deflated: each part inflates to the frame, byte-identical to the frame resource asked the same way', async () => {
    const batches = [
      { study: ct.studyUid, series: ct.seriesUid, sops: ct.sopInstanceUids.slice(0, 3), frames: [1] },
      { study: multi.studyUid, series: multi.seriesUid, sops: [multi.sopInstanceUid], frames: [1, 2, 3] },
    ];
    let checked = 0;
    for (const b of batches) {
      const res = await get(`${seriesPath(b.study, b.series)}/pixeldata?instances=${b.sops.join(',')}`, DEFLATED_ELSE_STORED);
      expect(res.statusCode, res.body).toBe(200);
      const parts = parseMultipart(res.headers['content-type'], res.rawPayload);
      expect(parts).toHaveLength(b.sops.length * b.frames.length);
      let i = 0;
      for (const sop of b.sops) {
        for (const n of b.frames) {
          const part = parts[i++];
          expect(part.headers['content-location']).toBe(framePath(b.study, b.series, sop, n));
          expect(part.headers['content-type']).toBe(`application/octet-stream; transfer-syntax=${DEFLATED_TS}`);
          const native = await ownFrame(b.study, b.series, sop, n);
          expect(part.body.length).toBeLessThan(native.length);
          expect(Buffer.compare(inflateRawSync(part.body), native)).toBe(0);
          expect(Buffer.compare(part.body, await ownFrame(b.study, b.series, sop, n, DEFLATED_ELSE_STORED))).toBe(0);
          checked++;
        }
      }
    }
    expect(checked).toBe(6);
  });

  it("reads back with the viewer's batch reader as the frames resource's native bytes; a part it cannot size or inflate is refused, the rest kept", async () => {
    const sops = ct.sopInstanceUids;
    const res = await get(`${seriesPath(ct.studyUid, ct.seriesUid)}/pixeldata?instances=${sops.join(',')}`, BATCH_ACCEPT);
    const origin = 'http://viewer.test';
    const href = (sop: string) => `${origin}${framePath(ct.studyUid, ct.seriesUid, sop, 1)}`;
    const body = res.rawPayload;
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < body.length; i += 50) c.enqueue(new Uint8Array(body.subarray(i, i + 50)));
        c.close();
      },
    });
    // The header's size of each frame (16 x 12 x 16 bits), but none for the second and a wrong one for the third.
    const sizes: Record<string, number> = Object.fromEntries(sops.map((s) => [href(s), 384]));
    delete sizes[href(sops[1])];
    sizes[href(sops[2])] = 380;
    const got: BatchPart[] = [];
    for await (const p of batchParts(stream, boundaryOf(String(res.headers['content-type']))!, origin, (h) => sizes[h])) got.push(p);
    expect(got.map((p) => p.href)).toEqual(sops.map(href));
    for (const [i, p] of got.entries()) {
      if (i === 1) expect(p.refused).toBe('the header does not give the size a deflated frame must inflate to');
      else if (i === 2) expect(p.refused).toBe('the deflated frame holds more than the 380 bytes of a frame');
      else {
        expect(p.refused).toBeUndefined();
        expect(p.contentType).toBe('application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1');
        expect(Buffer.compare(Buffer.from(p.body!), await ownFrame(ct.studyUid, ct.seriesUid, sops[i], 1))).toBe(0);
      }
    }
  });

  it('sends a compressed frame as stored, not decoded and deflated, beside deflated ones', async () => {
    const res = await get(`${seriesPath(mixed.studyUid, mixed.seriesUid)}/pixeldata?instances=${mixed.sopInstanceUids[0]},${j2kSop}`, DEFLATED_ELSE_STORED);
    expect(res.statusCode, res.body).toBe(200);
    const parts = parseMultipart(res.headers['content-type'], res.rawPayload);
    expect(parts.map((p) => p.headers['content-type'])).toEqual([
      `application/octet-stream; transfer-syntax=${DEFLATED_TS}`,
      'image/jp2; transfer-syntax=1.2.840.10008.1.2.4.90',
    ]);
    expect(Buffer.compare(parts[1].body, await ownFrame(mixed.studyUid, mixed.seriesUid, j2kSop, 1))).toBe(0);
    // Asked for deflated only, the compressed frame is refused with the forms it has.
    const only = await get(
      framePath(mixed.studyUid, mixed.seriesUid, j2kSop, 1),
      `multipart/related; type="application/octet-stream"; transfer-syntax=${DEFLATED_TS}`,
    );
    expect(only.statusCode).toBe(406);
    expect(only.json().detail).toContain('it can be sent as multipart/related; type="application/octet-stream" or multipart/related; type="image/jp2"');
  });

  it('bulk data is not sent deflated (one native value): asked for only that, a 406', async () => {
    const sop = ct.sopInstanceUids[0];
    const res = await get(
      `${seriesPath(ct.studyUid, ct.seriesUid)}/instances/${sop}/bulkdata/7FE00010`,
      `multipart/related; type="application/octet-stream"; transfer-syntax=${DEFLATED_TS}`,
    );
    expect(res.statusCode).toBe(406);
  });
});
