// The viewer's DOM-free logic: query string, slice order, hanging, navigation keys,
// orientation labels.
import { describe, expect, it } from 'vitest';
import { paletteEntries, withPaletteValues, type DicomJson, type DicomJsonAttribute } from '../../ui/src/dicom-json.js';
import { hangingOrder, layoutFor } from '../../ui/src/viewer/hanging.js';
import { indexForKey } from '../../ui/src/viewer/keys.js';
import { directionLabel, edgeLabels } from '../../ui/src/viewer/orientation.js';
import { backHref, parseRequest } from '../../ui/src/viewer/request.js';
import { orderSlices } from '../../ui/src/viewer/slice-order.js';

describe('parseRequest', () => {
  it('takes comma lists and repeated parameters, without duplicates', () => {
    expect(parseRequest('?StudyInstanceUIDs=1.2.3,1.2.4&StudyInstanceUIDs=1.2.3')).toEqual({ studyUids: ['1.2.3', '1.2.4'], archive: 'main' });
    expect(parseRequest('?StudyInstanceUIDs=1.2&archive=workstation')).toEqual({ studyUids: ['1.2'], archive: 'workstation' });
  });

  it('says what is wrong', () => {
    expect(parseRequest('')).toEqual({ error: expect.stringMatching(/no study given/) });
    expect(parseRequest('?StudyInstanceUIDs=1.2.x')).toEqual({ error: expect.stringMatching(/not a study instance UID: "1\.2\.x"/) });
    expect(parseRequest(`?StudyInstanceUIDs=${'1.'.repeat(40)}1`)).toEqual({ error: expect.stringMatching(/at most 64/) });
    expect(parseRequest('?StudyInstanceUIDs=..')).toEqual({ error: expect.stringMatching(/not a study instance UID/) });
    expect(parseRequest('?StudyInstanceUIDs=1.2&archive=router')).toEqual({ error: 'unknown archive "router": main or workstation' });
  });
});

function slice(n: number, position?: number[], orientation: number[] = [1, 0, 0, 0, 1, 0]): DicomJson {
  const ds: DicomJson = { '00200013': { vr: 'IS', Value: [n] } };
  if (position) {
    ds['00200032'] = { vr: 'DS', Value: position };
    ds['00200037'] = { vr: 'DS', Value: orientation };
  }
  return ds;
}
const numbers = (xs: DicomJson[]) => xs.map((x) => x['00200013'].Value![0]);

describe('backHref', () => {
  it('returns to the list the study was opened from, and only to a page of the app', () => {
    const back = encodeURIComponent('#/studies?name=DOE&study=1.2.3');
    expect(backHref(`?StudyInstanceUIDs=1.2.3&back=${back}`)).toBe('/#/studies?name=DOE&study=1.2.3');
    expect(backHref('?StudyInstanceUIDs=1.2.3')).toBe('/#/studies');
    for (const bad of ['https://evil.example/', '//evil.example', 'javascript:alert(1)', '#/studies?x=1#y', `#/${'a'.repeat(3000)}`])
      expect(backHref(`?back=${encodeURIComponent(bad)}`), bad).toBe('/#/studies');
  });
});

describe('orderSlices', () => {
  it('orders by position along the normal, not by instance number', () => {
    const r = orderSlices([slice(1, [0, 0, 10]), slice(2, [0, 0, -5]), slice(3, [0, 0, 0])]);
    expect(r.geometry).toBe(true);
    expect(numbers(r.ordered)).toEqual([2, 3, 1]);
  });

  it('uses the normal of oblique and sagittal planes', () => {
    // Sagittal: rows along +y, columns along -z: normal = y x (-z) = -x.
    const r = orderSlices([slice(1, [5, 0, 0], [0, 1, 0, 0, 0, -1]), slice(2, [-5, 0, 0], [0, 1, 0, 0, 0, -1]), slice(3, [0, 0, 0], [0, 1, 0, 0, 0, -1])]);
    expect(numbers(r.ordered)).toEqual([1, 3, 2]);
  });

  it('falls back to instance number when a slice has no geometry', () => {
    const r = orderSlices([slice(3, [0, 0, 0]), slice(1), slice(2, [0, 0, 1])]);
    expect(r.geometry).toBe(false);
    expect(numbers(r.ordered)).toEqual([1, 2, 3]);
  });
});

describe('hanging', () => {
  it('puts series in series-number order, unnumbered last', () => {
    const s = [
      { seriesNumber: undefined, description: 'b' },
      { seriesNumber: 3, description: 'x' },
      { seriesNumber: 1, description: 'y' },
    ];
    expect([...s].sort(hangingOrder).map((x) => x.seriesNumber)).toEqual([1, 3, undefined]);
  });

  it('picks a layout that holds every series up to 3x3', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 12].map(layoutFor)).toEqual([
      [1, 1],
      [1, 1],
      [1, 2],
      [2, 2],
      [2, 2],
      [2, 3],
      [2, 3],
      [3, 3],
      [3, 3],
    ]);
  });
});

describe('indexForKey', () => {
  it('steps, pages and jumps within the stack', () => {
    expect(indexForKey('ArrowDown', 0, 300)).toBe(1);
    expect(indexForKey('ArrowUp', 0, 300)).toBe(0);
    expect(indexForKey('PageDown', 0, 300)).toBe(30);
    expect(indexForKey('PageUp', 10, 300)).toBe(0);
    expect(indexForKey('End', 5, 300)).toBe(299);
    expect(indexForKey('Home', 5, 300)).toBe(0);
    expect(indexForKey('ArrowRight', 299, 300)).toBe(299);
    expect(indexForKey('a', 5, 300)).toBeUndefined();
  });
});

describe('orientation labels', () => {
  it('names the LPS directions and oblique mixtures, strongest first', () => {
    expect(directionLabel([1, 0, 0])).toBe('L');
    expect(directionLabel([-1, 0, 0])).toBe('R');
    expect(directionLabel([0, 1, 0])).toBe('P');
    expect(directionLabel([0, 0, 1])).toBe('H');
    expect(directionLabel([0.3, -0.9, 0])).toBe('AL');
    expect(directionLabel([0.1, 0, -1])).toBe('F');
  });

  it('labels the edges of an axial image, and of it flipped horizontally', () => {
    expect(edgeLabels([1, 0, 0], [0, 1, 0])).toEqual({ left: 'R', right: 'L', top: 'A', bottom: 'P' });
    expect(edgeLabels([-1, 0, 0], [0, 1, 0])).toEqual({ left: 'L', right: 'R', top: 'A', bottom: 'P' });
  });
});

describe('withPaletteValues', () => {
  const b64 = (bytes: number[]) => Buffer.from(bytes).toString('base64');
  const palette = (data: Record<string, DicomJsonAttribute>): DicomJson => ({
    '00280004': { vr: 'CS', Value: ['PALETTE COLOR'] },
    '00281101': { vr: 'US', Value: [4, 0, 16] },
    '00281102': { vr: 'US', Value: [4, 0, 16] },
    '00281103': { vr: 'US', Value: [4, 0, 8] },
    ...data,
  });

  it('decodes the InlineBinary tables into Value: 16-bit words, 8-bit bytes', () => {
    const inst = palette({
      '00281201': { vr: 'OW', InlineBinary: b64([0x00, 0x00, 0x01, 0x01, 0xff, 0x7f, 0xff, 0xff]) },
      '00281202': { vr: 'OW', Value: [1, 2, 3, 4] },
      '00281203': { vr: 'OW', InlineBinary: b64([9, 8, 7, 6]) },
    });
    const out = withPaletteValues(inst);
    expect(out['00281201'].Value).toEqual([0, 257, 32767, 65535]);
    expect(out['00281202'].Value).toEqual([1, 2, 3, 4]);
    expect(out['00281203'].Value).toEqual([9, 8, 7, 6]);
    expect(inst['00281201'].Value).toBeUndefined(); // the metadata itself is not changed
  });

  it('leaves other images alone and says which table is missing or short', () => {
    const grey: DicomJson = { '00280004': { vr: 'CS', Value: ['MONOCHROME2'] } };
    expect(withPaletteValues(grey)).toBe(grey);
    expect(() => withPaletteValues(palette({ '00281201': { vr: 'OW', BulkDataURI: 'http://x/bulkdata/00281201' } }))).toThrow(
      /no inline palette lookup table data \(00281201\)/,
    );
    expect(() => withPaletteValues(palette({ '00281201': { vr: 'OW', InlineBinary: b64([1, 2, 3]) } }))).toThrow(
      /holds 3 bytes, the descriptor says 4 entries/,
    );
  });

  it('reads a descriptor of 0 entries as 65536', () => {
    expect(paletteEntries(new Uint8Array(131072).fill(1), [0, 0, 16])).toHaveLength(65536);
  });
});
