/**
 * DICOMweb pixel routes (src/web/dicomweb/pixel-routes.ts) with fastify inject on a real
 * Archive holding instances in every transfer syntax the installed tools write (DCMTK's
 * dcmconv / dcmcjpeg / dcmcjpls / dcmcrle) plus JPEG 2000 and HTJ2K (dcmjs-codecs'
 * encoders): decoded frames equal the uncompressed original for lossless syntaxes,
 * as-stored frames are the stored fragments byte for byte, rendered images have the
 * expected size and values, and bad requests get 400 / 404 / 406 with a reason.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import jpeg from 'jpeg-js';
import { decode as decodePng } from 'fast-png';
import { readPart10 } from '../../src/dicom/part10.js';
import { getNumber } from '../../src/dicom/dataset.js';
import { voiValue } from '../../src/dicom/render/index.js';
import { multiFramePixel, writeMultiFrame, writeTransferSyntaxVariants, type TransferSyntaxVariant } from '../../scripts/gen-test-data.js';
import { tempDir } from '../archive/helpers.js';
import {
  instancePath,
  nativePixels,
  parseMultipart,
  pixelApp,
  storedCodestream,
  storedValues,
  storeFile,
  writeJ2kVariant,
  type PixelApp,
  type StoredRef,
} from './pixel-fixtures.js';
import { spawnSync } from 'node:child_process';

const AS_STORED = 'multipart/related; type="application/octet-stream"; transfer-syntax=*';

let px: PixelApp;
let dataDir: string;
const stored = new Map<string, StoredRef & { variant: TransferSyntaxVariant }>();
let multi: StoredRef;
let multiRle: StoredRef;

const key = (source: string, name: string): string => `${source}/${name}`;

beforeAll(async () => {
  px = await pixelApp();
  dataDir = tempDir('pacs-pixel-data-');
  const variants = await writeTransferSyntaxVariants({ dir: dataDir });
  for (const v of variants) {
    if (v.ok) stored.set(key(v.source, v.name), { ...(await storeFile(px.archive, v.file)), variant: v });
  }
  for (const source of ['ct16', 'mono8', 'rgb'] as const) {
    const explicit = stored.get(key(source, 'explicit-le'))!;
    for (const [name, kind, ts] of [
      ['jpeg2000-lossless', 'jpeg2000', '1.2.840.10008.1.2.4.90'],
      ['htj2k-lossless', 'htj2k', '1.2.840.10008.1.2.4.201'],
    ] as const) {
      const file = await writeJ2kVariant(explicit.variant.sourceFile, join(dataDir, `${source}-${name}.dcm`), kind);
      const variant: TransferSyntaxVariant = { ...explicit.variant, name, transferSyntaxUid: ts, ok: true, file };
      stored.set(key(source, name), { ...(await storeFile(px.archive, file)), variant });
    }
  }
  const mf = await writeMultiFrame({ dir: dataDir, frames: 3, rows: 64, cols: 48 });
  multi = await storeFile(px.archive, mf.file);
  const rleFile = join(dataDir, 'mf-rle.dcm');
  expect(spawnSync('dcmcrle', [mf.file, rleFile]).status).toBe(0);
  expect(spawnSync('dcmodify', ['-nb', '-gin', rleFile]).status).toBe(0);
  multiRle = await storeFile(px.archive, rleFile);
}, 120_000);

afterAll(async () => {
  await px?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const get = (url: string, accept?: string) => px.app.inject({ method: 'GET', url, headers: accept ? { accept } : {} });

const LOSSLESS = [
  'implicit-le',
  'explicit-le',
  'explicit-be',
  'deflated-le',
  'ge-private-implicit-le-be-pixels',
  'jpeg-lossless',
  'jpeg-lossless-sv1',
  'jpegls-lossless',
  'rle',
  'jpeg2000-lossless',
  'htj2k-lossless',
];
const ENCAPSULATED = [
  'jpeg-baseline',
  'jpeg-extended',
  'jpeg-lossless',
  'jpeg-lossless-sv1',
  'jpegls-lossless',
  'jpegls-near-lossless',
  'rle',
  'jpeg2000-lossless',
  'htj2k-lossless',
];

describe('frames', () => {
  it('every expected variant was generated and stored', () => {
    for (const name of LOSSLESS) for (const source of ['ct16', 'mono8', 'rgb']) expect(stored.has(key(source, name)), key(source, name)).toBe(true);
    expect(stored.has(key('mono8', 'jpeg-baseline'))).toBe(true);
  });

  for (const source of ['ct16', 'mono8', 'rgb']) {
    for (const name of LOSSLESS) {
      it(`${source} ${name}: decoded frame (application/octet-stream) equals the uncompressed original`, async () => {
        const ref = stored.get(key(source, name))!;
        const res = await get(`${instancePath(ref)}/frames/1`, 'multipart/related; type="application/octet-stream"');
        expect(res.statusCode, res.body).toBe(200);
        expect(res.headers['content-type']).toMatch(/^multipart\/related; type="application\/octet-stream"; boundary=/);
        const parts = parseMultipart(res.headers['content-type'], res.rawPayload);
        expect(parts).toHaveLength(1);
        expect(parts[0].headers['content-type']).toBe('application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1');
        expect(parts[0].headers['content-location']).toBe(`${instancePath(ref)}/frames/1`);
        const orig = nativePixels(ref.variant.sourceFile);
        expect(parts[0].body.length).toBe(orig.pixels.length);
        expect(storedValues(parts[0].body, orig.bits, orig.stored, orig.signed)).toEqual(storedValues(orig.pixels, orig.bits, orig.stored, orig.signed));
      });
    }
  }

  for (const name of ENCAPSULATED) {
    it(`${name}: as stored (transfer-syntax=*) is the stored codestream byte for byte, typed by its transfer syntax`, async () => {
      for (const source of ['ct16', 'mono8', 'rgb']) {
        const ref = stored.get(key(source, name));
        if (!ref) continue; // e.g. DCMTK writes no 16-bit JPEG baseline
        const res = await get(`${instancePath(ref)}/frames/1`, AS_STORED);
        expect(res.statusCode, res.body).toBe(200);
        const [part] = parseMultipart(res.headers['content-type'], res.rawPayload);
        expect(part.headers['content-type']).toMatch(new RegExp(`; transfer-syntax=${ref.transferSyntaxUid.replace(/\./g, '\\.')}$`));
        expect(part.body.equals(storedCodestream(ref.file))).toBe(true);
      }
    });
  }

  it('serves a stored compressed frame in its own media type and refuses one that does not match (406)', async () => {
    const jls = stored.get(key('ct16', 'jpegls-lossless'))!;
    const ok = await get(`${instancePath(jls)}/frames/1`, 'multipart/related; type="image/jls"');
    expect(ok.statusCode).toBe(200);
    expect(parseMultipart(ok.headers['content-type'], ok.rawPayload)[0].headers['content-type']).toBe('image/jls; transfer-syntax=1.2.840.10008.1.2.4.80');
    const bad = await get(`${instancePath(jls)}/frames/1`, 'multipart/related; type="image/jpeg"');
    expect(bad.statusCode).toBe(406);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(bad.json().detail).toMatch(/stored as 1\.2\.840\.10008\.1\.2\.4\.80/);
    const baseline = stored.get(key('mono8', 'jpeg-baseline'))!;
    const jpg = await get(`${instancePath(baseline)}/frames/1`, 'multipart/related; type="image/jpeg"; transfer-syntax=1.2.840.10008.1.2.4.50');
    expect(parseMultipart(jpg.headers['content-type'], jpg.rawPayload)[0].body.equals(storedCodestream(baseline.file))).toBe(true);
  });

  it("answers cornerstone's dicom-image-loader default Accept with each frame as stored", async () => {
    const accept = 'multipart/related; type=application/octet-stream; transfer-syntax=*';
    for (const [name, type] of [
      ['explicit-le', 'application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1'],
      ['explicit-be', 'application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1'],
      ['jpeg2000-lossless', 'image/jp2; transfer-syntax=1.2.840.10008.1.2.4.90'],
      ['rle', 'image/dicom-rle; transfer-syntax=1.2.840.10008.1.2.5'],
    ]) {
      const ref = stored.get(key('ct16', name))!;
      const res = await get(`${instancePath(ref)}/frames/1`, accept);
      expect(res.statusCode, name).toBe(200);
      expect(parseMultipart(res.headers['content-type'], res.rawPayload)[0].headers['content-type'], name).toBe(type);
    }
  });

  it('decodes lossy JPEG baseline close to the original', async () => {
    for (const source of ['mono8', 'rgb']) {
      const ref = stored.get(key(source, 'jpeg-baseline'))!;
      const res = await get(`${instancePath(ref)}/frames/1`);
      const [part] = parseMultipart(res.headers['content-type'], res.rawPayload);
      const orig = nativePixels(ref.variant.sourceFile).pixels;
      expect(part.body.length).toBe(orig.length);
      let sum = 0;
      for (let i = 0; i < orig.length; i++) sum += Math.abs(part.body[i] - orig[i]);
      expect(sum / orig.length).toBeLessThan(4);
      expect(part.body.equals(orig)).toBe(false); // lossy: not identical
    }
  });

  it('returns the frames of a multi-frame instance in the order asked, each with its Content-Location', async () => {
    for (const ref of [multi, multiRle]) {
      const res = await get(`${instancePath(ref)}/frames/3,1`);
      expect(res.statusCode, res.body).toBe(200);
      const parts = parseMultipart(res.headers['content-type'], res.rawPayload);
      expect(parts.map((p) => p.headers['content-location'])).toEqual([`${instancePath(ref)}/frames/3`, `${instancePath(ref)}/frames/1`]);
      for (const [p, f] of [
        [parts[0], 2],
        [parts[1], 0],
      ] as const) {
        const expected = Buffer.alloc(64 * 48 * 2);
        for (let r = 0; r < 64; r++) for (let c = 0; c < 48; c++) expected.writeUInt16LE(multiFramePixel(f, r, c, 64, 48), (r * 48 + c) * 2);
        expect(p.body.equals(expected)).toBe(true);
      }
    }
  });

  it('refuses frame numbers out of range (404) and malformed frame lists (400)', async () => {
    const res = await get(`${instancePath(multi)}/frames/2,4`);
    expect(res.statusCode).toBe(404);
    expect(res.json().detail).toBe('frame 4 does not exist: the instance has 3 frame(s)');
    for (const bad of ['0', 'a', '1,,2', '-1']) {
      const r = await get(`${instancePath(multi)}/frames/${bad}`);
      expect(r.statusCode, bad).toBe(400);
      expect(r.json().field).toBe('frames');
    }
  });
});

describe('bulk data', () => {
  it('streams native Pixel Data as one octet-stream part and encapsulated Pixel Data as its frames', async () => {
    const res = await get(`${instancePath(multi)}/bulkdata/7FE00010`);
    expect(res.statusCode, res.body).toBe(200);
    const [part] = parseMultipart(res.headers['content-type'], res.rawPayload);
    expect(part.body.equals(nativePixels(multi.file).pixels)).toBe(true);
    const enc = await get(`${instancePath(multiRle)}/bulkdata/7fe00010`, AS_STORED);
    const parts = parseMultipart(enc.headers['content-type'], enc.rawPayload);
    expect(parts).toHaveLength(3);
    expect(parts[0].headers['content-type']).toBe('image/dicom-rle; transfer-syntax=1.2.840.10008.1.2.5');
    const frags = readPart10(readFileSync(multiRle.file)).dataset.get(0x7fe00010)!.fragments!;
    parts.forEach((p, i) => expect(p.body.equals(Buffer.from(frags[i + 1].value!))).toBe(true));
    // Asked for application/octet-stream (dicomweb-client's default): decompressed, all frames in one part.
    const dec = await get(`${instancePath(multiRle)}/bulkdata/7FE00010`, 'multipart/related; type="application/octet-stream"');
    const [whole] = parseMultipart(dec.headers['content-type'], dec.rawPayload);
    expect(whole.headers['content-type']).toBe('application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1');
    expect(whole.body.equals(nativePixels(multi.file).pixels)).toBe(true);
  });

  it('swaps big endian Pixel Data to little endian', async () => {
    const be = stored.get(key('ct16', 'explicit-be'))!;
    const res = await get(`${instancePath(be)}/bulkdata/7FE00010`);
    expect(res.statusCode, res.body).toBe(200);
    const [part] = parseMultipart(res.headers['content-type'], res.rawPayload);
    expect(part.body.equals(nativePixels(be.variant.sourceFile).pixels)).toBe(true);
  });

  it('returns other top-level values and says which are absent or malformed', async () => {
    const ref = stored.get(key('ct16', 'explicit-le'))!;
    const res = await get(`${instancePath(ref)}/bulkdata/00080018`);
    expect(res.statusCode).toBe(200);
    expect(parseMultipart(res.headers['content-type'], res.rawPayload)[0].body.toString('latin1').replace(/\0$/, '')).toBe(ref.sop);
    expect((await get(`${instancePath(ref)}/bulkdata/00091234`)).statusCode).toBe(404);
    const bad = await get(`${instancePath(ref)}/bulkdata/7FE0001`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().detail).toMatch(/8 hex digits/);
  });
});

describe('rendered and thumbnails', () => {
  const ct = () => stored.get(key('ct16', 'explicit-le'))!;

  it('renders a CT frame with the request window exactly as the VOI formula says (PNG)', async () => {
    for (const name of ['explicit-le', 'jpeg-lossless', 'htj2k-lossless']) {
      const ref = stored.get(key('ct16', name))!;
      const res = await get(`${instancePath(ref)}/rendered?window=40,400`, 'image/png');
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers['content-type']).toBe('image/png');
      const png = decodePng(res.rawPayload);
      const o = nativePixels(ref.variant.sourceFile);
      expect([png.width, png.height, png.channels]).toEqual([o.cols, o.rows, 1]);
      const expected = storedValues(o.pixels, o.bits, o.stored, o.signed).map((v) =>
        voiValue(v * o.slope + o.intercept, { center: 40, width: 400, fn: 'linear' }),
      );
      expect([...png.data]).toEqual(expected);
    }
  });

  it('renders JPEG by default, of the viewport size, and the window changes it', async () => {
    const a = await get(`${instancePath(ct())}/rendered?viewport=64,64`);
    expect(a.statusCode).toBe(200);
    expect(a.headers['content-type']).toBe('image/jpeg');
    const ja = jpeg.decode(a.rawPayload, { useTArray: true });
    expect([ja.width, ja.height]).toEqual([64, 64]);
    const b = jpeg.decode((await get(`${instancePath(ct())}/rendered?viewport=64,64&window=1000,200`)).rawPayload, { useTArray: true });
    const mean = (d: Uint8Array) => d.reduce((s, v) => s + v, 0) / d.length;
    expect(Math.abs(mean(ja.data) - mean(b.data))).toBeGreaterThan(20);
  });

  it('renders colour as RGB equal to the original', async () => {
    const ref = stored.get(key('rgb', 'rle'))!;
    const png = decodePng((await get(`${instancePath(ref)}/rendered`, 'image/png')).rawPayload);
    expect(png.channels).toBe(3);
    expect(Buffer.from(png.data as Uint8Array).equals(nativePixels(ref.variant.sourceFile).pixels)).toBe(true);
  });

  it('renders a chosen frame, the series and the study', async () => {
    // Pixel (0,0) holds the frame index (0, 1, 2): a window of 1,2 makes 0 black and 2 white.
    const f3 = decodePng((await get(`${instancePath(multi)}/frames/3/rendered?window=1,2`, 'image/png')).rawPayload);
    const f1 = decodePng((await get(`${instancePath(multi)}/frames/1/rendered?window=1,2`, 'image/png')).rawPayload);
    expect([f1.data[0], f3.data[0]]).toEqual([0, 255]);
    expect((await get(`${instancePath(multi)}/frames/4/rendered`)).statusCode).toBe(404);
    const series = await get(`/dicomweb/studies/${multi.study}/series/${multi.series}/rendered`);
    expect(series.headers['content-type']).toBe('image/jpeg');
    const study = await get(`/dicomweb/studies/${multi.study}/rendered`, 'multipart/related; type="image/png"');
    const parts = parseMultipart(study.headers['content-type'], study.rawPayload);
    expect(parts.length).toBeGreaterThanOrEqual(1);
    expect(decodePng(parts[0].body).width).toBe(48);
    // The RLE copy was made from the same file: same study and series.
    expect(parts.map((p) => p.headers['content-location']).sort()).toEqual([`${instancePath(multi)}/rendered`, `${instancePath(multiRle)}/rendered`].sort());
  });

  it('makes a small JPEG thumbnail and keeps it on disk keyed by hashes', async () => {
    const ref = ct();
    const res = await get(`/dicomweb/studies/${ref.study}/series/${ref.series}/thumbnail`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('image/jpeg');
    const j = jpeg.decode(res.rawPayload, { useTArray: true });
    expect(Math.max(j.width, j.height)).toBe(128);
    const dir = join(px.dir, 'thumbnails');
    expect(existsSync(dir)).toBe(true);
    const files = readdirSync(dir, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.bin'));
    expect(files.length).toBeGreaterThan(0);
    // A directory per stored file (named by the hash of its blob key), a file per variant.
    for (const f of files) expect(f).toMatch(/^[0-9a-f]{2}\/[0-9a-f]{64}\/[0-9a-f]{64}\.bin$/);
    const again = await get(`/dicomweb/studies/${ref.study}/series/${ref.series}/thumbnail`);
    expect(again.rawPayload.equals(res.rawPayload)).toBe(true);
    expect((await get(`/dicomweb/studies/${ref.study}/thumbnail`)).statusCode).toBe(200);
    expect((await get(`${instancePath(ref)}/thumbnail`)).statusCode).toBe(200);
  });

  it('refuses bad rendering parameters (400) and unacceptable media types (406)', async () => {
    const base = `${instancePath(ct())}/rendered`;
    for (const [q, field] of [
      ['window=abc,10', 'window'],
      ['window=10', 'window'],
      ['window=10,0', 'window'],
      ['window=1,10,cubic', 'window'],
      ['viewport=0,10', 'viewport'],
      ['viewport=1,2,3', 'viewport'],
      ['quality=101', 'quality'],
    ]) {
      const r = await get(`${base}?${q}`);
      expect(r.statusCode, q).toBe(400);
      expect(r.json().field, q).toBe(field);
    }
    const gif = await get(base, 'image/gif');
    expect(gif.statusCode).toBe(406);
    expect(gif.json().detail).toMatch(/image\/jpeg or image\/png/);
  });
});

describe('lookup errors', () => {
  it('validates UIDs (400) and answers 404 for unknown or mismatched instances', async () => {
    const ref = stored.get(key('mono8', 'explicit-le'))!;
    const bad = await get(`/dicomweb/studies/1.2.abc/series/${ref.series}/instances/${ref.sop}/frames/1`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().detail).toMatch(/not a UID/);
    expect((await get(`/dicomweb/studies/${ref.study}/series/${ref.series}/instances/${'1.'.repeat(40)}1/frames/1`)).statusCode).toBe(400);
    const unknown = await get(`/dicomweb/studies/${ref.study}/series/${ref.series}/instances/1.2.3.999/frames/1`);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().detail).toMatch(/1\.2\.3\.999 is not stored/);
    expect((await get(`/dicomweb/studies/${ref.study}/series/1.2.3/instances/${ref.sop}/rendered`)).statusCode).toBe(404);
    expect((await get(`/dicomweb/studies/1.2.3/series/1.2.3/thumbnail`)).statusCode).toBe(404);
  });
});

describe('WADO-URI', () => {
  const wado = (ref: StoredRef, extra = '') => `/dicomweb/wado?requestType=WADO&studyUID=${ref.study}&seriesUID=${ref.series}&objectUID=${ref.sop}${extra}`;

  it('returns the stored file as application/dicom, or decompressed when transferSyntax asks', async () => {
    const ref = stored.get(key('ct16', 'jpegls-lossless'))!;
    const file = readFileSync(px.archive.blobs.path((await px.archive.index.getInstance(ref.sop))!.fileKey));
    // transferSyntax=* (any; what OHIF's WADO-URI loader sends) is the stored file too.
    for (const extra of ['', '&transferSyntax=*']) {
      const res = await get(wado(ref, `&contentType=application/dicom${extra}`));
      expect(res.statusCode, extra).toBe(200);
      expect(res.headers['content-type']).toBe('application/dicom');
      expect(res.rawPayload.equals(file), extra).toBe(true);
    }
    const dec = await get(wado(ref, '&contentType=application/dicom&transferSyntax=1.2.840.10008.1.2.1'));
    expect(dec.statusCode, dec.body).toBe(200);
    const { meta, dataset } = readPart10(dec.rawPayload);
    expect(meta.transferSyntaxUid).toBe('1.2.840.10008.1.2.1');
    const o = nativePixels(ref.variant.sourceFile);
    expect(storedValues(dataset.get(0x7fe00010)!.value!, 16, o.stored, o.signed)).toEqual(storedValues(o.pixels, 16, o.stored, o.signed));
    expect(getNumber(dataset, 0x00280010)).toBe(o.rows);
    const refused = await get(wado(ref, '&contentType=application/dicom&transferSyntax=1.2.840.10008.1.2.4.50'));
    expect(refused.statusCode).toBe(406);
  });

  it('renders JPEG by default with rows / columns, region and window', async () => {
    const ref = stored.get(key('ct16', 'explicit-le'))!;
    const res = await get(wado(ref, '&columns=32&windowCenter=40&windowWidth=400'));
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('image/jpeg');
    expect(jpeg.decode(res.rawPayload, { useTArray: true }).width).toBe(32);
    const png = decodePng((await get(wado(ref, '&contentType=image/png&region=0,0,0.5,0.25'))).rawPayload);
    expect([png.width, png.height]).toEqual([64, 32]);
    const mf = decodePng((await get(wado(multi, '&contentType=image/png&frameNumber=2&windowCenter=2048&windowWidth=4096'))).rawPayload);
    expect(mf.data[0]).toBe(voiValue(1, { center: 2048, width: 4096, fn: 'linear' }));
  });

  it('refuses bad requests with the parameter at fault', async () => {
    const ref = stored.get(key('ct16', 'explicit-le'))!;
    const cases: [string, number, string][] = [
      [`/dicomweb/wado?studyUID=${ref.study}&seriesUID=${ref.series}&objectUID=${ref.sop}`, 400, 'requestType'],
      [`/dicomweb/wado?requestType=WADO&studyUID=${ref.study}&seriesUID=${ref.series}`, 400, 'objectUID'],
      [wado(ref, '&windowCenter=40'), 400, 'windowWidth'],
      [wado(ref, '&region=0.5,0,0.2,1'), 400, 'region'],
      [wado(ref, '&frameNumber=0'), 400, 'frameNumber'],
      [wado(ref, '&contentType=image/gif'), 406, 'contentType'],
      [wado(ref, '&contentType=application/dicom&transferSyntax=1.2.*'), 400, 'transferSyntax'],
      [wado(ref, '&frameNumber=2'), 404, ''],
      [wado(ref, '&presentationUID=1.2.3'), 400, 'presentationSeriesUID'],
      [wado(ref, '&presentationSeriesUID=1.2.3'), 400, 'presentationUID'],
      [wado(ref, '&presentationUID=1.2.3&presentationSeriesUID=1.2.4&contentType=application/dicom'), 400, 'presentationUID'],
      [wado(ref, '&presentationUID=1.2.3&presentationSeriesUID=1.2.4'), 400, 'presentationUID'],
      [`/dicomweb/wado?requestType=WADO&studyUID=${ref.study}&seriesUID=${ref.series}&objectUID=1.2.3&rows=0`, 400, 'rows'],
      [`/dicomweb/wado?requestType=WADO&studyUID=${ref.study}&seriesUID=${ref.series}&objectUID=1.2.3`, 404, ''],
    ];
    for (const [url, status, field] of cases) {
      const r = await get(url);
      expect(r.statusCode, url).toBe(status);
      if (field) expect(r.json().field, url).toBe(field);
    }
    const ps = await get(wado(ref, '&presentationUID=1.2.3&presentationSeriesUID=1.2.4'));
    expect(ps.json().detail).toMatch(/^rendering through a presentation state \(presentationUID\) is not supported by this server/);
  });
});
