// Small CT or MR instances written as Part 10 files, for tests that send them with DCMTK
// and then look for each one by its SOP Instance UID where it should have arrived.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildMetaHeader } from '../../src/dicom/part10.js';
import { CT_IMAGE, datasetBytes, EXPLICIT_LE } from '../archive/helpers.js';

export interface Written {
  path: string;
  uid: string;
}

/** Writes n instances into dir, SOP Instance UIDs ROOT.1 ... ROOT.n (CT unless told). */
export function writeInstances(
  dir: string,
  root: string,
  n: number,
  o: { modality?: string; sopClassUid?: string; pixelBytes?: number; studyInstanceUid?: string; seriesInstanceUid?: string } = {},
): Written[] {
  return Array.from({ length: n }, (_, i) => {
    const uid = `${root}.${i + 1}`;
    const sopClassUid = o.sopClassUid ?? CT_IMAGE;
    const path = join(dir, `${uid}.dcm`);
    writeFileSync(
      path,
      Buffer.concat([
        buildMetaHeader({ sopClassUid, sopInstanceUid: uid, transferSyntaxUid: EXPLICIT_LE }),
        datasetBytes({
          sopInstanceUid: uid,
          sopClassUid,
          modality: o.modality,
          instanceNumber: i + 1,
          pixelBytes: o.pixelBytes ?? 4096,
          studyInstanceUid: o.studyInstanceUid,
          seriesInstanceUid: o.seriesInstanceUid,
        }),
      ]),
    );
    return { path, uid };
  });
}
