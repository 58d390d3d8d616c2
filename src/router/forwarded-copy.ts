/**
 * What goes out for one queue entry: the stored data set as it is (streamed from the
 * blob store; converted only if the destination refused the stored transfer syntax, as
 * for C-MOVE), or, when the rule changes attributes, a re-encoded copy: the instance is
 * read whole, the changes applied, and written again in the stored syntax (or an
 * accepted uncompressed one; a deflated instance is written explicit VR little endian).
 * Re-encoding holds the instance in memory several times over, so it is bounded like a
 * conversion on retrieve (limits.dataset.maxTranscodeBytes, TranscodeLimitError): the
 * stored file's size before it is read, its decoded pixel data's before decoding.
 */
import type { Archive } from '../archive/archive.js';
import type { InstanceSummary } from '../archive/index-types.js';
import type { DatasetSource } from '../dimse/dimse-connection.js';
import { canDecompress, decompressDataset } from '../dicom/codecs/index.js';
import {
  DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
  EXPLICIT_VR_LITTLE_ENDIAN,
  IMPLICIT_VR_LITTLE_ENDIAN,
  lookupTag,
  parseTag,
  putString,
  readPart10,
  writeDataset,
  type Dataset,
} from '../dicom/index.js';
import { chooseTransferSyntax, datasetIn, WRITABLE_SYNTAXES, type DatasetInOptions } from '../archive/retrieval.js';
import { checkTranscodeSize, decodedPixelBytes } from '../archive/transcode-limit.js';

export const UNCOMPRESSED = [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN] as const;
const WRITABLE = new Set<string>(WRITABLE_SYNTAXES);

export type Changes = Record<string, string | null>;
const hasChanges = (c: Changes): boolean => Object.keys(c).length > 0;

/** Transfer syntaxes to propose for an instance: its own (unless a changed copy of a deflated one), then the uncompressed ones. */
export function proposedSyntaxes(storedTs: string, changes: Changes): { own?: string; fallback: boolean } {
  const own = hasChanges(changes) && storedTs === DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN ? undefined : storedTs;
  return { own, fallback: !own || !WRITABLE.has(own) };
}

/** The accepted syntax to send in, or undefined when none fits. */
export function sendSyntax(
  contexts: Iterable<{ abstractSyntax: string; transferSyntax: string }>,
  inst: { sopClassUid: string; transferSyntaxUid: string },
  changes: Changes,
): string | undefined {
  const list = [...contexts];
  if (!hasChanges(changes) || inst.transferSyntaxUid !== DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN) {
    return chooseTransferSyntax(list, inst.sopClassUid, inst.transferSyntaxUid);
  }
  const offered = list.filter((c) => c.abstractSyntax === inst.sopClassUid).map((c) => c.transferSyntax);
  return UNCOMPRESSED.find((ts) => offered.includes(ts));
}

/** Whether the copy sent is the stored bytes as they are (no attribute changed). */
export function sentAsStored(changes: Changes): boolean {
  return !hasChanges(changes);
}

export async function forwardedDataset(
  archive: Archive,
  inst: InstanceSummary,
  ts: string,
  changes: Changes,
  opts: DatasetInOptions = {},
): Promise<{ data: DatasetSource; close: () => void }> {
  if (!hasChanges(changes)) return datasetIn(archive, inst, ts, opts);
  const limit = archive.limits.maxTranscodeBytes;
  checkTranscodeSize(inst.sopInstanceUid, 'stored file', inst.fileSize, limit);
  const stream = archive.blobs.open(inst.fileKey);
  try {
    const parts: Buffer[] = [];
    let n = 0;
    for await (const c of stream as AsyncIterable<Buffer>) {
      n += c.length;
      checkTranscodeSize(inst.sopInstanceUid, 'stored file', n, limit); // grown past its indexed size
      parts.push(c);
    }
    const { dataset } = readPart10(Buffer.concat(parts), { stopAtPixelData: false, maxValueLength: Number.POSITIVE_INFINITY });
    if (ts !== inst.transferSyntaxUid && !WRITABLE.has(inst.transferSyntaxUid) && inst.transferSyntaxUid !== DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN) {
      if (!canDecompress(inst.transferSyntaxUid)) throw new Error(`cannot convert ${inst.transferSyntaxUid} to ${ts}`);
      checkTranscodeSize(inst.sopInstanceUid, 'decoded pixel data', decodedPixelBytes(dataset), limit);
      await decompressDataset(dataset, inst.transferSyntaxUid);
    }
    applyChanges(dataset, changes);
    const data = writeDataset(dataset, ts);
    return { data: data.length % 2 ? Buffer.concat([data, Buffer.alloc(1)]) : data, close: () => undefined };
  } finally {
    stream.destroy();
  }
}

/** Sets (or with null removes) top-level text attributes. Non-ASCII text needs ISO_IR 192 or ISO_IR 100 in the data set. */
export function applyChanges(ds: Dataset, changes: Changes): void {
  for (const [key, value] of Object.entries(changes)) {
    const tag = parseTag(key);
    const entry = lookupTag(tag);
    if (!entry) throw new Error(`${key} is not in the dictionary`);
    if (value === null) {
      ds.delete(tag);
      continue;
    }
    const ascii = /^[\x00-\x7f]*$/.test(value);
    const sets = ds.characterSets();
    if (ascii || sets.includes('ISO_IR 192')) {
      putString(ds, tag, entry.vr, value);
    } else if (sets.length === 1 && sets[0] === 'ISO_IR 100' && /^[\x00-\xff]*$/.test(value)) {
      const bytes = Buffer.from(value, 'latin1');
      ds.put({ tag, vr: entry.vr, length: bytes.length, value: new Uint8Array(bytes) });
    } else {
      throw new Error(`cannot write non-ASCII "${value}" into ${key}: the instance's Specific Character Set is ${sets.join('\\') || 'the default repertoire'}`);
    }
  }
}
