// The measurement report (TID 1500 in a Comprehensive SR): written with dcmjs as a Part 10
// file, checked by DCMTK's SR validator (dsrdump), and read back to the same measurements.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
// @ts-expect-error dcmjs ships no types (the viewer's ui/src/viewer/dcmjs.d.ts covers the browser build)
import dcmjs from 'dcmjs';
import { afterAll, describe, expect, it } from 'vitest';
import { buildMeasurementReport, COMPREHENSIVE_SR, newestFirst, readMeasurementReport, type SrMeasurement } from '../../ui/src/viewer/measurement-sr.js';
import { runDcmtk } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

const { DicomMetaDictionary, DicomDict, DicomMessage } = dcmjs.data;

afterAll(removeTempDirs);

const image = { sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: '1.2.3.4.1', seriesUid: '1.2.3.4' };
const measurements: SrMeasurement[] = [
  {
    toolName: 'Length',
    trackingUid: '2.25.1',
    image,
    graphicType: 'POLYLINE',
    points: [
      [10, 20],
      [70.5, 20],
    ],
    values: [{ name: 'Length', value: 60.123456789, unit: 'mm' }],
  },
  {
    toolName: 'EllipticalROI',
    trackingUid: '2.25.2',
    image: { ...image, sopInstanceUid: '1.2.3.4.2', frame: 3 },
    graphicType: 'ELLIPSE',
    points: [
      [5, 0],
      [5, 10],
      [0, 5],
      [10, 5],
    ],
    values: [
      { name: 'Area', value: 78.5, unit: 'mm2' },
      { name: 'Mean', value: -1000, unit: "[hnsf'U]" },
    ],
  },
  { toolName: 'Probe', trackingUid: '2.25.3', image, graphicType: 'POINT', points: [[1, 2]], label: 'bone', values: [] },
];

function part10(ds: Record<string, unknown>): ArrayBuffer {
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: ds.SOPClassUID,
    MediaStorageSOPInstanceUID: ds.SOPInstanceUID,
    TransferSyntaxUID: '1.2.840.10008.1.2.1',
    ImplementationClassUID: '2.25.1',
  };
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(ds);
  return dict.write();
}

describe('measurement report', () => {
  const report = buildMeasurementReport(
    { StudyInstanceUID: '1.2.3', PatientID: 'P1', PatientName: 'DOE^JANE' },
    { seriesUid: '1.2.3.9', sopInstanceUid: '1.2.3.9.1', seriesNumber: 900, now: new Date(2024, 0, 2, 3, 4, 5) },
    measurements,
  );

  it('is a Comprehensive SR that DCMTK reads as a valid TID 1500 tree', async () => {
    expect(report.SOPClassUID).toBe(COMPREHENSIVE_SR);
    const file = join(await makeTempDir('sr-'), 'report.dcm');
    await writeFile(file, Buffer.from(part10(report)));
    const dump = await runDcmtk('dsrdump', ['-Ee', '-Ec', '+Pl', file]);
    expect(dump.code, dump.stderr).toBe(0);
    expect(dump.stderr).not.toMatch(/error|invalid/i);
    expect(dump.stdout).toContain('Comprehensive SR Document');
    expect(dump.stdout).toContain('Imaging Measurement Report');
    expect(dump.stdout).toContain('SCOORD:(,,"Image Region")=(POLYLINE,10/20,70.5/20)');
    expect(dump.stdout).toContain('Cornerstone3DTools@^0.1.0:Length');
  });

  it('reads back the measurements it wrote, through a Part 10 round trip', () => {
    const read = DicomMessage.readFile(part10(report));
    const back = readMeasurementReport(DicomMetaDictionary.naturalizeDataset(read.dict) as Record<string, unknown>);
    expect(back.skipped).toBe(0);
    expect(back.measurements.map((m) => [m.toolName, m.trackingUid, m.graphicType, m.points, m.image.sopInstanceUid, m.image.frame, m.label])).toEqual(
      measurements.map((m) => [m.toolName, m.trackingUid, m.graphicType, m.points, m.image.sopInstanceUid, m.image.frame, m.label]),
    );
    expect(back.measurements[0].values).toEqual([{ name: 'Length', value: 60.123457, unit: 'mm' }]);
    expect(back.measurements[1].values.map((v) => v.unit)).toEqual(['mm2', "[hnsf'U]"]);
  });

  it('skips groups it cannot place', () => {
    const broken = structuredClone(report) as { ContentSequence: Array<{ ContentSequence?: Array<{ ContentSequence: unknown[] }> }> };
    const groups = broken.ContentSequence[2].ContentSequence!;
    groups[0].ContentSequence = groups[0].ContentSequence.filter((i) => (i as { ValueType: string }).ValueType !== 'SCOORD');
    const back = readMeasurementReport(broken);
    expect(back.skipped).toBe(1);
    expect(back.measurements).toHaveLength(2);
  });

  it('keeps a closed freehand contour and its statistics, and both axes of a bidirectional', async () => {
    const contour: Array<[number, number]> = [
      [100, 100],
      [140.25, 102],
      [150, 130.5],
      [120, 150],
      [95, 128],
      [100, 100],
    ];
    const freehand: SrMeasurement = {
      toolName: 'PlanarFreehandROI',
      trackingUid: '2.25.4',
      image,
      graphicType: 'POLYLINE',
      points: contour,
      values: [
        { name: 'Area', value: 1234.5678, unit: 'mm2' },
        { name: 'Mean', value: 0.25, unit: "[hnsf'U]" },
        { name: 'StandardDeviation', value: 3.5, unit: "[hnsf'U]" },
        { name: 'Minimum', value: -12, unit: "[hnsf'U]" },
        { name: 'Maximum', value: 1000, unit: "[hnsf'U]" },
      ],
    };
    const bidirectional: SrMeasurement = {
      toolName: 'Bidirectional',
      trackingUid: '2.25.5',
      image,
      graphicType: 'POLYLINE',
      points: [
        [10, 10],
        [70, 10],
        [40, 0],
        [40, 20],
      ],
      values: [
        { name: 'LongAxis', value: 60, unit: 'mm' },
        { name: 'ShortAxis', value: 40, unit: 'mm' },
      ],
    };
    const sr = buildMeasurementReport(
      { StudyInstanceUID: '1.2.3' },
      { seriesUid: '1.2.3.9', sopInstanceUid: '1.2.3.9.2', seriesNumber: 901, now: new Date() },
      [freehand, bidirectional],
    );
    const file = join(await makeTempDir('sr-'), 'freehand.dcm');
    await writeFile(file, Buffer.from(part10(sr)));
    const dump = await runDcmtk('dsrdump', ['-Ee', '-Ec', '+Pl', file]);
    expect(dump.code, dump.stderr).toBe(0);
    expect(dump.stdout).toContain('SCOORD:(,,"Image Region")=(POLYLINE,100/100,140.25/102,150/130.5,120/150,95/128,100/100)');
    expect(dump.stdout).toContain(`NUM:(,,"Standard Deviation")="3.5" ([hnsf'U],UCUM,"Hounsfield unit")`);
    expect(dump.stdout).toContain('NUM:(,,"Short Axis")="40" (mm,UCUM,"millimeter")');
    const back = readMeasurementReport(DicomMetaDictionary.naturalizeDataset(DicomMessage.readFile(part10(sr)).dict) as Record<string, unknown>);
    expect(back.skipped).toBe(0);
    expect(back.measurements.map((m) => [m.toolName, m.graphicType, m.points, m.values])).toEqual([
      ['PlanarFreehandROI', 'POLYLINE', contour, [{ name: 'Area', value: 1234.5678, unit: 'mm2' }, ...freehand.values.slice(1)]],
      ['Bidirectional', 'POLYLINE', bidirectional.points, bidirectional.values],
    ]);
  });

  it('orders reports newest first', () => {
    expect(
      newestFirst([
        { date: '20240101', time: '1200', id: 1 },
        { date: '20240101', time: '120001', id: 2 },
        { date: '20231231', time: '235959', id: 3 },
      ]).map((r) => r.id),
    ).toEqual([2, 1, 3]);
  });
});
