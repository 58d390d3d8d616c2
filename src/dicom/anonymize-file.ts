/** De-identifies a whole Part 10 file held in memory (one instance at a time: exports never hold a study). */
import { anonymizeDataset, type AnonymizeOptions } from './anonymize.js';
import { getString } from './dataset.js';
import { writeDataset } from './dataset-writer.js';
import { buildMetaHeader, readPart10 } from './part10.js';
import { Tags } from './tag.js';
import { EXPLICIT_VR_LITTLE_ENDIAN, resolveTransferSyntax } from './transfer-syntax.js';

export interface AnonymizedFile {
  bytes: Buffer;
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
}

export function anonymizePart10(file: Uint8Array, opts: AnonymizeOptions): AnonymizedFile {
  const { meta, dataset } = readPart10(file);
  const out = anonymizeDataset(dataset, opts);
  // Our writer does not deflate: a deflated data set goes out as explicit VR little endian.
  const ts = resolveTransferSyntax(meta.transferSyntaxUid).deflated ? EXPLICIT_VR_LITTLE_ENDIAN : meta.transferSyntaxUid;
  const sopClassUid = getString(out, Tags.SOPClassUID) ?? meta.mediaStorageSopClassUid;
  const sopInstanceUid = getString(out, Tags.SOPInstanceUID) ?? opts.uids.get(meta.mediaStorageSopInstanceUid);
  const body = writeDataset(out, ts);
  const header = buildMetaHeader({ sopClassUid, sopInstanceUid, transferSyntaxUid: ts });
  return { bytes: Buffer.concat([header, body]), sopClassUid, sopInstanceUid, transferSyntaxUid: ts };
}
