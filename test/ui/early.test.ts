// What the viewer asks for before its scripts have loaded (ui/src/viewer/early.ts, first-image.ts): the
// series it will hang first and the instance it will show first, by the same rules as the
// viewer (hanging order without reports; slices by position), so the early requests are
// the ones the viewer then makes; and the Accept that makes the loader's request a cache hit.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DicomJson } from '../../ui/src/dicom-json.js';
import { firstHungSeries, firstShown, firstShownInstance, LOADER_FRAME_ACCEPT } from '../../ui/src/viewer/first-image.js';

const series = (uid: string, modality: string, number?: number, description = ''): DicomJson => ({
  '0020000E': { vr: 'UI', Value: [uid] },
  '00080060': { vr: 'CS', Value: [modality] },
  ...(number === undefined ? {} : { '00200011': { vr: 'IS', Value: [number] } }),
  '0008103E': { vr: 'LO', Value: [description] },
});

const slice = (sop: string, z: number, instanceNumber: number): DicomJson => ({
  '00080018': { vr: 'UI', Value: [sop] },
  '00280010': { vr: 'US', Value: [4] },
  '00200013': { vr: 'IS', Value: [instanceNumber] },
  '00200032': { vr: 'DS', Value: [0, 0, z] },
  '00200037': { vr: 'DS', Value: [1, 0, 0, 0, 1, 0] },
});

describe('the early requests', () => {
  it('pick the series the viewer hangs first: lowest number, no reports', () => {
    const list = [series('1.3', 'CT', 3), series('1.9', 'SR', 1), series('1.2', 'CT', 2, 'b'), series('1.1', 'CT', 2, 'a'), series('1.4', 'PR', 0)];
    expect(firstHungSeries(list)?.['0020000E'].Value).toEqual(['1.1']);
    expect(firstHungSeries([series('1.9', 'SR', 1), series('1.8', 'KO', 2)])).toBeUndefined();
  });

  it('pick the instance the viewer shows first: the lowest position along the normal, images only', () => {
    const report: DicomJson = { '00080018': { vr: 'UI', Value: ['9.9'] } };
    const inst = firstShownInstance([slice('1.3', 5, 1), report, slice('1.1', -2.5, 3), slice('1.2', 0, 2)]);
    expect(inst?.['00080018'].Value).toEqual(['1.1']);
    expect(firstShownInstance([report])).toBeUndefined();
    // The stack's length as the viewer counts it (one image per frame): "Im: 1/N" of the preview.
    const multi: DicomJson = { ...slice('2.1', 0, 1), '00280008': { vr: 'IS', Value: [3] } };
    expect(firstShown([slice('1.1', 0, 1), multi, report])?.frames).toBe(4);
  });

  it("ask for frames with the dicom-image-loader's own Accept (else the cache, which varies on it, would miss)", () => {
    const require = createRequire(import.meta.url);
    const loader = readFileSync(require.resolve('@cornerstonejs/dicom-image-loader').replace(/index\.js$/, 'imageLoader/wadors/loadImage.js'), 'utf8');
    expect(loader).toContain(`const mediaType = '${LOADER_FRAME_ACCEPT}';`);
  });
});

// early.ts is typed against the DOM (its imports use \`location\`, \`Blob\`): imported at run
// time only, so that this project's Node type check does not take it in.
type AskEarly = (client: unknown, studyUids: string[], preview?: unknown) => Promise<void>;
const earlyModule = '../../ui/src/viewer/early.js';
const loadAskEarly = async () => ((await import(earlyModule)) as { askEarly: AskEarly }).askEarly;

describe("the end of the first image's early part (when the viewer's code may start loading)", () => {
  afterEach(() => vi.unstubAllGlobals());

  const boundary = 'b0';
  /** A 2 x 2 CT slice stored as `ts`, and a server whose frame answers when `release()` is called. */
  function setUp(ts: string) {
    const inst: DicomJson = {
      ...slice('1.2.3', 0, 1),
      '00080060': { vr: 'CS', Value: ['CT'] },
      '00280011': { vr: 'US', Value: [2] },
      '00280010': { vr: 'US', Value: [2] },
      '00280002': { vr: 'US', Value: [1] },
      '00280004': { vr: 'CS', Value: ['MONOCHROME2'] },
      '00280100': { vr: 'US', Value: [16] },
      '00083002': { vr: 'UI', Value: [ts] },
    };
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const frameBody = `--${boundary}\r\nContent-Type: application/octet-stream; transfer-syntax=${ts}\r\n\r\n\x00\x00\x01\x00\x02\x00\x03\x00\r\n--${boundary}--`;
    vi.stubGlobal('fetch', async (url: string) => {
      if (String(url).includes('/frames/')) {
        await released;
        return new Response(Buffer.from(frameBody, 'latin1'), {
          headers: { 'content-type': `multipart/related; type="application/octet-stream"; boundary=${boundary}` },
        });
      }
      return new Response('{"protocols":[]}', { headers: { 'content-type': 'application/json' } });
    });
    const client = {
      root: '/dicomweb',
      series: async () => [series('1.1', 'CT', 1)],
      seriesMetadata: async () => [inst],
      frameImageId: (st: string, se: string, sop: string, f: number) =>
        `wadors:http://pacs.test/dicomweb/studies/${st}/series/${se}/instances/${sop}/frames/${f}`,
      pixelDataUrl: (st: string, se: string) => `http://pacs.test/dicomweb/studies/${st}/series/${se}/pixeldata`,
      qido: async () => [],
    };
    const shown: string[] = [];
    const preview = { show: (uid: string) => shown.push(uid) };
    return { client, preview, shown, release };
  }
  const settledWithin = (p: Promise<void>, ms: number) => Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

  it('waits for the frame and the preview of an uncompressed slice', async () => {
    const { client, preview, shown, release } = setUp('1.2.840.10008.1.2.1');
    const done = (await loadAskEarly())(client, ['9.9'], preview);
    expect(await settledWithin(done, 200)).toBe(false); // the frame is not in yet
    release();
    expect(await settledWithin(done, 2000)).toBe(true);
    expect(shown).toEqual(['1.1']);
  });

  it('does not wait for the frame of a compressed one (no preview can come of it)', async () => {
    const { client, preview, shown, release } = setUp('1.2.840.10008.1.2.4.90');
    const done = (await loadAskEarly())(client, ['9.9'], preview);
    expect(await settledWithin(done, 2000)).toBe(true); // with the frame still held back
    release();
    expect(shown).toEqual([]);
  });
});
