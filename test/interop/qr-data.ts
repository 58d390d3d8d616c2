/**
 * A small archive for Query/Retrieve tests: four patients, five studies, instances with
 * chosen names, dates, times, modalities, a sequence and a Latin-1 name, written as
 * explicit VR little endian Part 10 files with tiny pixel data.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Dataset } from '../../src/dicom/dataset.js';
import { putString, writeDataset } from '../../src/dicom/dataset-writer.js';
import { buildMetaHeader } from '../../src/dicom/part10.js';
import { EXPLICIT_VR_LITTLE_ENDIAN } from '../../src/dicom/transfer-syntax.js';
import { putMono16Image } from '../support/mono16-image.js';

export const CT = '1.2.840.10008.5.1.4.1.1.2';
export const MR = '1.2.840.10008.5.1.4.1.1.4';
export const US = '1.2.840.10008.5.1.4.1.1.6.1';

const ROOT = `1.2.826.0.1.3680043.10.1${Date.now() % 1e9}`; // fresh UIDs per run
export const STUDY = { A: `${ROOT}.1`, B: `${ROOT}.2`, C: `${ROOT}.3`, D: `${ROOT}.4`, E: `${ROOT}.5` };
export const SERIES = { A1: `${ROOT}.1.1`, A2: `${ROOT}.1.2`, B1: `${ROOT}.2.1`, C1: `${ROOT}.3.1`, D1: `${ROOT}.4.1`, E1: `${ROOT}.5.1` };

interface Spec {
  patientId: string;
  patientName: string;
  latin1?: boolean;
  study: string;
  date: string;
  time: string;
  accession: string;
  description: string;
  series: string;
  modality: string;
  sopClass: string;
  count: number;
  institution?: string;
  procedureCode?: string;
}

export const SPECS: Spec[] = [
  {
    patientId: 'QR-P1',
    patientName: 'Doe^Jane',
    study: STUDY.A,
    date: '20240105',
    time: '101500',
    accession: 'QA1',
    description: 'CT Head',
    series: SERIES.A1,
    modality: 'CT',
    sopClass: CT,
    count: 2,
  },
  {
    patientId: 'QR-P1',
    patientName: 'Doe^Jane',
    study: STUDY.A,
    date: '20240105',
    time: '101500',
    accession: 'QA1',
    description: 'CT Head',
    series: SERIES.A2,
    modality: 'MR',
    sopClass: MR,
    count: 1,
  },
  {
    patientId: 'QR-P1',
    patientName: 'Doe^Jane',
    study: STUDY.B,
    date: '20240301',
    time: '083000',
    accession: 'QB1',
    description: 'MR Knee',
    series: SERIES.B1,
    modality: 'MR',
    sopClass: MR,
    count: 1,
  },
  {
    patientId: 'QR-P2',
    patientName: 'DOE^JOHN',
    study: STUDY.C,
    date: '20231231',
    time: '230000',
    accession: 'QC1',
    description: 'CT Chest',
    series: SERIES.C1,
    modality: 'CT',
    sopClass: CT,
    count: 1,
    institution: 'Clinic',
    procedureCode: 'T-04000',
  },
  {
    patientId: 'QR-P3',
    patientName: 'Müller^Hans',
    latin1: true,
    study: STUDY.D,
    date: '20240610',
    time: '120000',
    accession: 'QD1',
    description: 'US Abdomen',
    series: SERIES.D1,
    modality: 'US',
    sopClass: US,
    count: 1,
  },
  {
    patientId: 'QR-P4',
    patientName: 'Smith^Ann',
    study: STUDY.E,
    date: '20240611',
    time: '120000',
    accession: 'QE1',
    description: 'CT Spine',
    series: SERIES.E1,
    modality: 'CT',
    sopClass: CT,
    count: 1,
  },
];

export interface WrittenInstance {
  path: string;
  sopInstanceUid: string;
  study: string;
  series: string;
}

export function writeQrData(dir: string): WrittenInstance[] {
  const out: WrittenInstance[] = [];
  for (const s of SPECS) {
    for (let i = 1; i <= s.count; i++) {
      const uid = `${s.series}.${i}`;
      const ds = new Dataset();
      if (s.latin1) putString(ds, 0x00080005, 'CS', 'ISO_IR 100');
      putString(ds, 0x00080016, 'UI', s.sopClass);
      putString(ds, 0x00080018, 'UI', uid);
      putString(ds, 0x00080020, 'DA', s.date);
      putString(ds, 0x00080030, 'TM', s.time);
      putString(ds, 0x00080050, 'SH', s.accession);
      putString(ds, 0x00080060, 'CS', s.modality);
      putString(ds, 0x00080080, 'LO', s.institution ?? 'General Hospital');
      putString(ds, 0x00080090, 'PN', '');
      putString(ds, 0x00081030, 'LO', s.description);
      if (s.procedureCode) {
        const item = new Dataset(ds);
        putString(item, 0x00080100, 'SH', s.procedureCode);
        putString(item, 0x00080102, 'SH', 'SRT');
        ds.put({ tag: 0x00081032, vr: 'SQ', length: 0, items: [item] });
      }
      const name = Buffer.from(s.patientName, s.latin1 ? 'latin1' : 'utf8');
      ds.put({ tag: 0x00100010, vr: 'PN', length: name.length, value: new Uint8Array(name) });
      putString(ds, 0x00100020, 'LO', s.patientId);
      putString(ds, 0x00100030, 'DA', '19700101');
      putString(ds, 0x00100040, 'CS', 'O');
      putString(ds, 0x0020000d, 'UI', s.study);
      putString(ds, 0x0020000e, 'UI', s.series);
      putString(ds, 0x00200010, 'SH', '1');
      putString(ds, 0x00200011, 'IS', '1');
      putString(ds, 0x00200013, 'IS', String(i));
      const px = Buffer.alloc(128);
      for (let p = 0; p < 64; p++) px.writeUInt16LE(p * 100 + i, p * 2);
      putMono16Image(ds, { rows: 8, cols: 8, bitsStored: 16, pixels: new Uint8Array(px) });
      const path = join(dir, `${uid}.dcm`);
      writeFileSync(
        path,
        Buffer.concat([
          buildMetaHeader({ sopClassUid: s.sopClass, sopInstanceUid: uid, transferSyntaxUid: EXPLICIT_VR_LITTLE_ENDIAN }),
          writeDataset(ds, EXPLICIT_VR_LITTLE_ENDIAN),
        ]),
      );
      out.push({ path, sopInstanceUid: uid, study: s.study, series: s.series });
    }
  }
  return out;
}
