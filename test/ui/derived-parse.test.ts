/**
 * The viewer's readers of DICOM SEG, RTSTRUCT and SR (naturalized data sets, as dcmjs gives
 * them) without a browser: what they read from well-formed objects, and the specific error
 * each malformed one gets. The CIELab colours of segments.
 */
import { describe, expect, it } from 'vitest';
import { defaultColour, dicomLabToRgb } from '../../ui/src/viewer/cielab.js';
import { parseRtStruct, RtStructError } from '../../ui/src/viewer/rtstruct-parse.js';
import { parseSeg, SegError } from '../../ui/src/viewer/seg-parse.js';
import { parseSr, SrError } from '../../ui/src/viewer/sr-parse.js';

type Natural = Record<string, unknown>;

/** A 3x3 binary SEG of two frames (segments 1 and 2), bits packed across the frame boundary as PS3.5 8.1.1 has it. */
function binarySeg(over: Natural = {}): Natural {
  // Frame 1: the centre pixel (bit 4); frame 2: the first row (bits 9, 10, 11).
  const bits = [4, 9, 10, 11];
  const packed = new Uint8Array(3);
  for (const b of bits) packed[b >> 3] |= 1 << (b & 7);
  const frame = (segment: number, z: number, sop: string) => ({
    SegmentIdentificationSequence: [{ ReferencedSegmentNumber: segment }],
    DerivationImageSequence: [{ SourceImageSequence: [{ ReferencedSOPInstanceUID: sop }] }],
    PlanePositionSequence: [{ ImagePositionPatient: [-1, -1, z] }],
  });
  return {
    Modality: 'SEG',
    SOPInstanceUID: '1.2.3.9',
    SeriesInstanceUID: '1.2.3.8',
    SeriesDescription: 'Organs',
    FrameOfReferenceUID: '1.2.3.7',
    Rows: 3,
    Columns: 3,
    NumberOfFrames: 2,
    BitsAllocated: 1,
    SegmentationType: 'BINARY',
    ReferencedSeriesSequence: [{ SeriesInstanceUID: '1.2.3.1' }],
    SegmentSequence: [
      { SegmentNumber: 1, SegmentLabel: 'Liver', RecommendedDisplayCIELabValue: [65535, 32896, 32896] },
      { SegmentNumber: 2, SegmentLabel: '' },
    ],
    SharedFunctionalGroupsSequence: [
      { PlaneOrientationSequence: [{ ImageOrientationPatient: [1, 0, 0, 0, 1, 0] }], PixelMeasuresSequence: [{ PixelSpacing: [0.5, 0.25] }] },
    ],
    PerFrameFunctionalGroupsSequence: [frame(1, 0, '1.2.3.1.1'), frame(2, 2.5, '1.2.3.1.2')],
    PixelData: [packed.buffer],
    ...over,
  };
}

describe('DICOM SEG', () => {
  it('reads segments (label, colour from CIELab or the default) and unpacks frames across byte boundaries', () => {
    const seg = parseSeg(binarySeg());
    expect(seg.segments).toEqual([
      { number: 1, label: 'Liver', colour: [255, 255, 255] },
      { number: 2, label: 'Segment 2', colour: defaultColour(2) },
    ]);
    expect(seg.referencedSeriesUids).toEqual(['1.2.3.1']);
    expect(seg.label).toBe('Organs');
    expect([...seg.frames[0].mask]).toEqual([0, 0, 0, 0, 255, 0, 0, 0, 0]);
    expect([...seg.frames[1].mask]).toEqual([255, 255, 255, 0, 0, 0, 0, 0, 0]);
    expect(seg.frames[1]).toMatchObject({
      segment: 2,
      sourceSop: '1.2.3.1.2',
      plane: { position: [-1, -1, 2.5], orientation: [1, 0, 0, 0, 1, 0], spacing: [0.5, 0.25] },
    });
  });

  it('reads a FRACTIONAL SEG as opacity scaled by Maximum Fractional Value, the segment shared by all frames', () => {
    const seg = parseSeg(
      binarySeg({
        SegmentationType: 'FRACTIONAL',
        BitsAllocated: 8,
        MaximumFractionalValue: 100,
        NumberOfFrames: 1,
        SharedFunctionalGroupsSequence: [{ SegmentIdentificationSequence: [{ ReferencedSegmentNumber: 1 }] }],
        PerFrameFunctionalGroupsSequence: [{}],
        PixelData: new Uint8Array([0, 50, 100, 200, 0, 0, 0, 0, 0]),
      }),
    );
    expect([...seg.frames[0].mask.slice(0, 4)]).toEqual([0, 128, 255, 255]);
    expect(seg.frames[0].segment).toBe(1);
    expect(seg.frames[0].plane).toBeUndefined();
  });

  it.each([
    [{ Modality: 'CT', SOPClassUID: '1.2.840.10008.5.1.4.1.1.2' }, 'not a DICOM Segmentation (Modality is not SEG)'],
    [{ Rows: 0 }, 'Rows or Columns missing'],
    [{ NumberOfFrames: undefined }, 'Number of Frames missing'],
    [{ SegmentationType: 'LABELMAP' }, 'Segmentation Type "LABELMAP" is not BINARY or FRACTIONAL'],
    [{ SegmentSequence: [] }, 'no segments (Segment Sequence is empty)'],
    [{ NumberOfFrames: 40 }, '2 per-frame functional group items for 40 frames'],
    [{ PixelData: undefined }, 'no Pixel Data'],
    [{ BitsAllocated: 8 }, 'a BINARY segmentation with Bits Allocated 8 (must be 1)'],
    [{ PixelData: [new ArrayBuffer(1)] }, 'Pixel Data holds 1 bytes, 3 needed for 2 frames of 3x3'],
    [
      { PerFrameFunctionalGroupsSequence: [{ SegmentIdentificationSequence: [{ ReferencedSegmentNumber: 7 }] }, {}] },
      'frame 1 refers to segment 7, which is not in the Segment Sequence',
    ],
    [{ PerFrameFunctionalGroupsSequence: [{}, {}] }, 'frame 1 names no segment (Segment Identification Sequence)'],
  ])('refuses %o: %s', (over, message) => {
    expect(() => parseSeg(binarySeg(over))).toThrow(new SegError(message));
  });
});

function rtstruct(over: Natural = {}): Natural {
  return {
    Modality: 'RTSTRUCT',
    SOPInstanceUID: '1.2.4.9',
    StructureSetLabel: 'Plan',
    StructureSetROISequence: [
      { ROINumber: 1, ROIName: 'PTV', ReferencedFrameOfReferenceUID: '1.2.3.7' },
      { ROINumber: 2, ROIName: 'Marker', ReferencedFrameOfReferenceUID: '1.2.3.7' },
    ],
    ROIContourSequence: [
      {
        ReferencedROINumber: 1,
        ROIDisplayColor: [255, 0, 0],
        ContourSequence: [
          {
            ContourGeometricType: 'CLOSED_PLANAR',
            NumberOfContourPoints: 3,
            ContourData: [0, 0, 5, 10, 0, 5, 10, 10, 5],
            ContourImageSequence: [{ ReferencedSOPInstanceUID: '1.2.3.1.3' }],
          },
        ],
      },
      { ReferencedROINumber: 2, ContourSequence: [{ ContourGeometricType: 'POINT', ContourData: ['1.5', '2', '3'] }] },
    ],
    ReferencedFrameOfReferenceSequence: [{ RTReferencedStudySequence: [{ RTReferencedSeriesSequence: [{ SeriesInstanceUID: '1.2.3.1' }] }] }],
    ...over,
  };
}

describe('RTSTRUCT', () => {
  it('reads ROIs with their names, colours (given or default) and contours in patient coordinates', () => {
    const s = parseRtStruct(rtstruct());
    expect(s.label).toBe('Plan');
    expect(s.referencedSeriesUids).toEqual(['1.2.3.1']);
    expect(s.rois).toEqual([
      {
        number: 1,
        name: 'PTV',
        colour: [255, 0, 0],
        frameOfReferenceUid: '1.2.3.7',
        contours: [
          {
            type: 'CLOSED_PLANAR',
            points: [
              [0, 0, 5],
              [10, 0, 5],
              [10, 10, 5],
            ],
            imageSop: '1.2.3.1.3',
          },
        ],
      },
      {
        number: 2,
        name: 'Marker',
        colour: defaultColour(2),
        frameOfReferenceUid: '1.2.3.7',
        contours: [{ type: 'POINT', points: [[1.5, 2, 3]], imageSop: undefined }],
      },
    ]);
  });

  it.each([
    [{ Modality: 'SEG' }, 'not an RT Structure Set (Modality is not RTSTRUCT)'],
    [{ StructureSetROISequence: [] }, 'no ROIs (Structure Set ROI Sequence is empty)'],
    [{ StructureSetROISequence: [{ ROIName: 'x' }] }, 'Structure Set ROI item 1 has no ROI Number'],
    [{ ROIContourSequence: [{ ReferencedROINumber: 5 }] }, 'ROI Contour item 1 refers to ROI 5, which is not in the Structure Set ROI Sequence'],
    [
      { ROIContourSequence: [{ ReferencedROINumber: 1, ContourSequence: [{ ContourGeometricType: 'CURVE', ContourData: [0, 0, 0] }] }] },
      'ROI "PTV" contour 1: Contour Geometric Type "CURVE" is not one of CLOSED_PLANAR, OPEN_PLANAR, OPEN_NONPLANAR, POINT',
    ],
    [
      { ROIContourSequence: [{ ReferencedROINumber: 1, ContourSequence: [{ ContourGeometricType: 'POINT', ContourData: [0, 0] }] }] },
      'ROI "PTV" contour 1: Contour Data is missing or not x\\y\\z triplets',
    ],
    [
      { ROIContourSequence: [{ ReferencedROINumber: 1, ContourSequence: [{ ContourGeometricType: 'POINT', ContourData: [0, 'x', 0] }] }] },
      'ROI "PTV" contour 1: Contour Data is missing or not x\\y\\z triplets',
    ],
    [
      {
        ROIContourSequence: [
          { ReferencedROINumber: 1, ContourSequence: [{ ContourGeometricType: 'POINT', NumberOfContourPoints: 2, ContourData: [0, 0, 0] }] },
        ],
      },
      'ROI "PTV" contour 1: Number of Contour Points is 2, Contour Data holds 1',
    ],
  ])('refuses %o: %s', (over, message) => {
    expect(() => parseRtStruct(rtstruct(over))).toThrow(new RtStructError(message));
  });
});

const concept = (CodeValue: string, CodeMeaning: string, CodingSchemeDesignator = 'DCM') => [{ CodeValue, CodingSchemeDesignator, CodeMeaning }];

function sr(content: Natural[], over: Natural = {}): Natural {
  return {
    Modality: 'SR',
    SOPClassUID: '1.2.840.10008.5.1.4.1.1.88.22',
    ValueType: 'CONTAINER',
    ConceptNameCodeSequence: concept('18748-4', 'Diagnostic Imaging Report', 'LN'),
    CompletionFlag: 'COMPLETE',
    VerificationFlag: 'UNVERIFIED',
    ContentSequence: content,
    ...over,
  };
}

describe('SR content tree', () => {
  it('reads concept names, codes, values with units, references, nesting', () => {
    const doc = parseSr(
      sr([
        {
          RelationshipType: 'CONTAINS',
          ValueType: 'CONTAINER',
          ConceptNameCodeSequence: concept('121070', 'Findings'),
          ContentSequence: [
            {
              RelationshipType: 'CONTAINS',
              ValueType: 'NUM',
              ConceptNameCodeSequence: concept('G-D785', 'Diameter', 'SRT'),
              MeasuredValueSequence: [{ NumericValue: '14.5', MeasurementUnitsCodeSequence: concept('mm', 'millimeter', 'UCUM') }],
            },
            {
              RelationshipType: 'CONTAINS',
              ValueType: 'NUM',
              ConceptNameCodeSequence: concept('1', 'Ratio'),
              MeasuredValueSequence: [{ NumericValue: 2, MeasurementUnitsCodeSequence: concept('1', 'no units', 'UCUM') }],
            },
            {
              RelationshipType: 'CONTAINS',
              ValueType: 'NUM',
              ConceptNameCodeSequence: concept('2', 'Missing'),
              NumericValueQualifierCodeSequence: concept('114006', 'Measurement failure'),
            },
            {
              RelationshipType: 'HAS PROPERTIES',
              ValueType: 'CODE',
              ConceptNameCodeSequence: concept('G-C0E3', 'Finding Site', 'SRT'),
              ConceptCodeSequence: concept('T-11500', 'Femur', 'SRT'),
            },
            { RelationshipType: 'CONTAINS', ValueType: 'TEXT', ConceptNameCodeSequence: concept('121071', 'Finding'), TextValue: 'No fracture.' },
            {
              RelationshipType: 'INFERRED FROM',
              ValueType: 'IMAGE',
              ReferencedSOPSequence: [{ ReferencedSOPInstanceUID: '1.2.3.1.1', ReferencedFrameNumber: [2] }],
            },
            {
              RelationshipType: 'HAS OBS CONTEXT',
              ValueType: 'PNAME',
              ConceptNameCodeSequence: concept('121008', 'Person Observer Name'),
              PersonName: [{ Alphabetic: 'Doe^Jane' }],
            },
            { RelationshipType: 'INFERRED FROM', ReferencedContentItemIdentifier: [1, 1] },
          ],
        },
      ]),
    );
    expect(doc).toMatchObject({ kind: 'Enhanced SR', title: 'Diagnostic Imaging Report', completion: 'COMPLETE', verification: 'UNVERIFIED' });
    const findings = doc.root.children[0];
    expect(findings).toMatchObject({ relationship: 'CONTAINS', valueType: 'CONTAINER', concept: 'Findings', code: '(121070, DCM)', value: '' });
    expect(findings.children.map((c) => [c.relationship, c.valueType, c.concept, c.code, c.value])).toEqual([
      ['CONTAINS', 'NUM', 'Diameter', '(G-D785, SRT)', '14.5 mm'],
      ['CONTAINS', 'NUM', 'Ratio', '(1, DCM)', '2'],
      ['CONTAINS', 'NUM', 'Missing', '(2, DCM)', '(no value: Measurement failure)'],
      ['HAS PROPERTIES', 'CODE', 'Finding Site', '(G-C0E3, SRT)', 'Femur (T-11500, SRT)'],
      ['CONTAINS', 'TEXT', 'Finding', '(121071, DCM)', 'No fracture.'],
      ['INFERRED FROM', 'IMAGE', '', '', 'image 1.2.3.1.1 frame 2'],
      ['HAS OBS CONTEXT', 'PNAME', 'Person Observer Name', '(121008, DCM)', 'Doe Jane'],
      ['INFERRED FROM', 'BY-REFERENCE', '', '', 'see item 1.1'],
    ]);
  });

  it('refuses what is not an SR document, items without a value type, and unbounded nesting', () => {
    expect(() => parseSr(sr([], { Modality: 'CT' }))).toThrow(new SrError('not a structured report (Modality is not SR)'));
    expect(() => parseSr(sr([], { ValueType: 'TEXT' }))).toThrow(new SrError('the document root is not a CONTAINER content item'));
    expect(() => parseSr(sr([{ RelationshipType: 'CONTAINS' }]))).toThrow(new SrError('content item 1.1 has no Value Type'));
    let deep: Natural = { RelationshipType: 'CONTAINS', ValueType: 'CONTAINER' };
    for (let i = 0; i < 60; i++) deep = { RelationshipType: 'CONTAINS', ValueType: 'CONTAINER', ContentSequence: [deep] };
    expect(() => parseSr(sr([deep]))).toThrow(/^content nested deeper than 50 levels at item 1(\.1){51}$/);
  });
});

describe('segment colours', () => {
  it('converts DICOM CIELab to sRGB: white, black, pure red and green', () => {
    expect(dicomLabToRgb([65535, 32896, 32896])).toEqual([255, 255, 255]);
    expect(dicomLabToRgb([0, 32896, 32896])).toEqual([0, 0, 0]);
    // L* 53.241, a* 80.092, b* 67.203 and L* 87.735, a* -86.183, b* 83.179, scaled to 0-65535.
    expect(dicomLabToRgb([34891, 53478, 50811])).toEqual([255, 0, 0]);
    expect(dicomLabToRgb([57497, 10747, 54273])).toEqual([0, 255, 0]);
  });
});
