/**
 * MPPS SCU helpers: the N-CREATE attributes of a performed procedure step that starts
 * a scheduled one (PS3.4 Table F.7.2-1, type 1 and 2 attributes) and the N-SET that
 * ends it.
 */
import { Dataset } from '../dicom/dataset.js';
import { putString } from '../dicom/dataset-writer.js';
import { newUid } from '../dicom/uid-generator.js';

export interface MppsCreateInput {
  patientId: string;
  patientName?: string;
  studyInstanceUid?: string;
  spsId?: string;
  accessionNumber?: string;
  requestedProcedureId?: string;
  modality: string;
  stationAeTitle: string;
  ppsId?: string;
  /** Default: now. */
  startDate?: string;
  startTime?: string;
  description?: string;
}

export interface MppsSetInput {
  status: 'IN PROGRESS' | 'COMPLETED' | 'DISCONTINUED';
  /** Default: now, when ending the step. */
  endDate?: string;
  endTime?: string;
  /** Performed Series Sequence items: series UID with the SOP instances (class, instance) made. */
  series?: { seriesInstanceUid: string; instances: { sopClassUid: string; sopInstanceUid: string }[] }[];
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
export function dicomNow(d = new Date()): { date: string; time: string } {
  return { date: `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}`, time: `${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}` };
}

const seq = (ds: Dataset, tag: number, items: Dataset[]) => ds.put({ tag, vr: 'SQ', length: 0, items });

export function mppsCreateDataset(i: MppsCreateInput): Dataset {
  const now = dicomNow();
  const ds = new Dataset();
  if (/[^\x00-\x7f]/.test(JSON.stringify(i))) putString(ds, 0x00080005, 'CS', 'ISO_IR 192');
  putString(ds, 0x00080060, 'CS', i.modality);
  putString(ds, 0x00100010, 'PN', i.patientName ?? '');
  putString(ds, 0x00100020, 'LO', i.patientId);
  putString(ds, 0x00100030, 'DA', '');
  putString(ds, 0x00100040, 'CS', '');
  putString(ds, 0x00200010, 'SH', '');
  putString(ds, 0x00400241, 'AE', i.stationAeTitle);
  putString(ds, 0x00400242, 'SH', '');
  putString(ds, 0x00400243, 'SH', '');
  putString(ds, 0x00400244, 'DA', i.startDate ?? now.date);
  putString(ds, 0x00400245, 'TM', i.startTime ?? now.time);
  putString(ds, 0x00400250, 'DA', '');
  putString(ds, 0x00400251, 'TM', '');
  putString(ds, 0x00400252, 'CS', 'IN PROGRESS');
  putString(ds, 0x00400253, 'SH', i.ppsId ?? `PPS${Date.now().toString(36).toUpperCase()}`.slice(0, 16));
  putString(ds, 0x00400254, 'LO', i.description ?? '');
  const ssa = new Dataset(ds);
  putString(ssa, 0x00080050, 'SH', i.accessionNumber ?? '');
  putString(ssa, 0x0020000d, 'UI', i.studyInstanceUid ?? newUid());
  putString(ssa, 0x00321060, 'LO', '');
  putString(ssa, 0x00400007, 'LO', '');
  putString(ssa, 0x00400009, 'SH', i.spsId ?? '');
  putString(ssa, 0x00401001, 'SH', i.requestedProcedureId ?? '');
  seq(ds, 0x00400270, [ssa]);
  seq(ds, 0x00400340, []);
  return ds;
}

export function mppsSetDataset(i: MppsSetInput): Dataset {
  const ds = new Dataset();
  putString(ds, 0x00400252, 'CS', i.status);
  if (i.status !== 'IN PROGRESS') {
    const now = dicomNow();
    putString(ds, 0x00400250, 'DA', i.endDate ?? now.date);
    putString(ds, 0x00400251, 'TM', i.endTime ?? now.time);
  }
  if (i.series) {
    seq(
      ds,
      0x00400340,
      i.series.map((s) => {
        const item = new Dataset(ds);
        putString(item, 0x0020000e, 'UI', s.seriesInstanceUid);
        putString(item, 0x00080054, 'AE', '');
        putString(item, 0x0008103e, 'LO', '');
        putString(item, 0x00081050, 'PN', '');
        putString(item, 0x00081070, 'PN', '');
        putString(item, 0x00181030, 'LO', 'PROTOCOL');
        seq(
          item,
          0x00081140,
          s.instances.map((r) => {
            const ref = new Dataset(item);
            putString(ref, 0x00081150, 'UI', r.sopClassUid);
            putString(ref, 0x00081155, 'UI', r.sopInstanceUid);
            return ref;
          }),
        );
        seq(item, 0x00400220, []);
        return item;
      }),
    );
  }
  return ds;
}
