/**
 * The reading tools' DICOM objects without a browser: a GSPS written and read back (window,
 * area, rotation, flip, inversion, graphic and text objects, per-image items), a GSPS in
 * DISPLAY units, a Key Object Selection and a rejection note, and the window presets
 * offered from an image's header.
 */
import { describe, expect, it } from 'vitest';
import { buildGsps, forImage, GSPS_SOP_CLASS, GspsError, readGsps, type GspsDisplay } from '../../ui/src/viewer/gsps.js';
import { buildKeyObject, readKeyObject } from '../../ui/src/viewer/key-object.js';
import { headerPresets, modalityPresets, userPresetsFor } from '../../ui/src/viewer/window-presets.js';

const img = (n: number) => ({ sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: `1.2.3.${n}`, seriesUid: '1.2.3' });
const id = { seriesUid: '1.2.9', sopInstanceUid: '1.2.9.1', seriesNumber: 800, now: new Date(2026, 0, 2, 3, 4, 5) };

describe('GSPS', () => {
  it('reads back what it writes', () => {
    const display: GspsDisplay = {
      images: [img(1), img(2)],
      windows: [{ value: { center: -600, width: 1500 } }, { refs: [{ sopInstanceUid: '1.2.3.2' }], value: { center: 40, width: 400 } }],
      areas: [{ value: { tlhc: [65, 65], brhc: [192, 192], sizeMode: 'SCALE TO FIT', pixelSpacing: [0.7, 0.7] } }],
      invert: true,
      rotation: 270,
      horizontalFlip: true,
      annotations: [
        { image: img(1), layer: 'TEXT', graphics: [], texts: [{ text: 'note', anchor: [10.5, 20.25] }] },
        {
          image: img(1),
          layer: 'RECTANGLE',
          graphics: [
            {
              type: 'POLYLINE',
              points: [
                [1, 1],
                [5, 1],
                [5, 4],
                [1, 4],
                [1, 1],
              ],
            },
          ],
          texts: [],
        },
      ],
      layers: ['TEXT', 'RECTANGLE'],
      label: 'my display',
      description: 'what I saw',
      creator: 'rita',
    };
    const ds = buildGsps({ StudyInstanceUID: '1.2', PatientID: 'P1' }, id, display, { intercept: -1024, slope: 1, type: 'HU' });
    expect(ds.SOPClassUID).toBe(GSPS_SOP_CLASS);
    expect(ds.ContentLabel).toBe('MY DISPLAY');
    expect(ds.ImageRotation).toBe(270);
    expect(ds.PresentationLUTShape).toBe('INVERSE');
    expect(ds.RescaleType).toBe('HU');
    const back = readGsps(ds);
    expect(back.rotation).toBe(270);
    expect(back.horizontalFlip).toBe(true);
    expect(back.invert).toBe(true);
    expect(back.images.map((i) => i.sopInstanceUid)).toEqual(['1.2.3.1', '1.2.3.2']);
    expect(forImage(back.windows, '1.2.3.1')).toEqual({ center: -600, width: 1500 });
    expect(forImage(back.windows, '1.2.3.2')).toEqual({ center: 40, width: 400 });
    expect(forImage(back.areas, '1.2.3.2')).toEqual({ tlhc: [65, 65], brhc: [192, 192], sizeMode: 'SCALE TO FIT', pixelSpacing: [0.7, 0.7] });
    expect(back.annotations).toEqual([
      { image: img(1), layer: 'TEXT', graphics: [], texts: [{ text: 'note', anchor: [10.5, 20.25] }] },
      {
        image: img(1),
        layer: 'RECTANGLE',
        graphics: [
          {
            type: 'POLYLINE',
            points: [
              [1, 1],
              [5, 1],
              [5, 4],
              [1, 4],
              [1, 1],
            ],
            filled: false,
          },
        ],
        texts: [],
      },
    ]);
    expect(back.layers).toEqual(['TEXT', 'RECTANGLE']);
  });

  it('converts DISPLAY units with the displayed area, and refuses what it cannot show', () => {
    const ds = {
      SOPClassUID: GSPS_SOP_CLASS,
      ReferencedSeriesSequence: [
        { SeriesInstanceUID: '1.2.3', ReferencedImageSequence: [{ ReferencedSOPClassUID: '1.2', ReferencedSOPInstanceUID: '1.2.3.1' }] },
      ],
      DisplayedAreaSelectionSequence: [
        { DisplayedAreaTopLeftHandCorner: [1, 1], DisplayedAreaBottomRightHandCorner: [200, 100], PresentationSizeMode: 'SCALE TO FIT' },
      ],
      GraphicAnnotationSequence: [
        { GraphicLayer: 'L', GraphicObjectSequence: [{ GraphicAnnotationUnits: 'DISPLAY', GraphicData: [0.5, 0.5], GraphicType: 'POINT' }] },
      ],
    };
    expect(readGsps(ds).annotations[0].graphics[0].points).toEqual([[100, 50]]);
    expect(() => readGsps({ ...ds, ImageRotation: 45 })).toThrow(GspsError);
    expect(() => readGsps({ ...ds, SOPClassUID: '1.2.840.10008.5.1.4.1.1.88.59' })).toThrow(/not a grayscale softcopy presentation state/);
    expect(() =>
      readGsps({ ...ds, GraphicAnnotationSequence: [{ GraphicLayer: 'L', GraphicObjectSequence: [{ GraphicData: [1, 2, 3], GraphicType: 'POLYLINE' }] }] }),
    ).toThrow(/3 values, not column\/row pairs/);
  });
});

describe('Key Object Selection', () => {
  it('lists the key images in order, with frames, and ignores rejection notes', () => {
    const kos = buildKeyObject({ StudyInstanceUID: '1.2' }, id, [img(2), { ...img(5), frame: 3 }], 'for the tumour board');
    const back = readKeyObject(kos)!;
    expect(back.images).toEqual([img(2), { ...img(5), frame: 3 }]);
    expect(back.description).toBe('for the tumour board');
    expect(back.title).toBe('Of Interest');
    const rejected = { ...kos, ConceptNameCodeSequence: [{ CodeValue: '113001', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Rejected for Quality Reasons' }] };
    expect(readKeyObject(rejected)).toBeUndefined();
  });
});

describe('window presets', () => {
  it('names the header windows by their explanation, in step, and skips widths below 1', () => {
    const inst = {
      '00281050': { vr: 'DS', Value: [600, 1200, 5] },
      '00281051': { vr: 'DS', Value: [1200, 2400, 0] },
      '00281055': { vr: 'LO', Value: ['T1 SOFT', ''] },
    };
    expect(headerPresets(inst)).toEqual([
      { label: 'T1 SOFT', center: 600, width: 1200, group: 'image' },
      { label: 'Header 2', center: 1200, width: 2400, group: 'image' },
    ]);
  });

  it('gives MR presets from the image range and CT ones in HU; user presets by modality', () => {
    expect(modalityPresets('MR', { min: 0, max: 1000 })[0]).toEqual({ label: 'Full dynamic', center: 500, width: 1000, group: 'modality' });
    expect(modalityPresets('MR')).toEqual([]);
    expect(modalityPresets('CT').find((p) => p.label === 'Lung')).toEqual({ label: 'Lung', center: -600, width: 1500, group: 'modality' });
    const mine = [
      { label: 'a', center: 1, width: 2, modality: 'MR' },
      { label: 'b', center: 1, width: 2 },
    ];
    expect(userPresetsFor(mine, 'CT').map((p) => p.label)).toEqual(['b']);
    expect(userPresetsFor(mine, 'MR').map((p) => p.label)).toEqual(['a', 'b']);
  });
});
