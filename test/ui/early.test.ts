// What the viewer asks for before its scripts have loaded (ui/src/viewer/early.ts, first-image.ts): the
// series it will hang first and the instance it will show first, by the same rules as the
// viewer (hanging order without reports; slices by position), so the early requests are
// the ones the viewer then makes; and the Accept that makes the loader's request a cache hit.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
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
