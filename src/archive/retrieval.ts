/**
 * A stored instance's data set on its way out (C-MOVE and C-GET sub-operations, the
 * router's forwarding, WADO): which of the transfer syntaxes a peer accepted to send it
 * in (chooseTransferSyntax), and its bytes in that syntax (datasetIn).
 *
 * The stored bytes go out unchanged when the peer accepted the stored transfer syntax
 * (a file up to WHOLE_READ_MAX read whole in one read and returned as one buffer, a larger
 * one streamed from the blob store). Otherwise the instance is read whole and converted to
 * an accepted uncompressed syntax: re-encoded by src/dicom's writer, its Pixel Data first
 * decompressed (src/dicom/codecs) when stored in a JPEG, JPEG-LS, JPEG 2000, HTJ2K or RLE
 * syntax, bounded by limits.dataset.maxTranscodeBytes (transcode-limit.ts).
 *
 * Here, below services and router, because it is retrieval from the store (DESIGN.md
 * section 2: archive holds ingest, retrieval, deletion): it reads the blob store and the
 * archive's limits and knows nothing of DIMSE (the contexts are plain pairs of abstract
 * and transfer syntax).
 */
import * as fs from 'node:fs';
import { deflateRawSync } from 'node:zlib';
import type { Archive } from './archive.js';
import type { InstanceSummary } from './index-types.js';
import { applyPatientCorrection, type PatientCorrection } from './patient-identity.js';
import { ReadBufferPool } from './read-buffer-pool.js';
import { checkTranscodeSize, decodedPixelBytes } from './transcode-limit.js';
import { canDecompress, decompressDataset } from '../dicom/codecs/index.js';
import { writeDataset } from '../dicom/dataset-writer.js';
import { readPart10 } from '../dicom/part10.js';
import { DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_BIG_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN } from '../dicom/transfer-syntax.js';

/** A data set's bytes as they are sent: one buffer, or chunks (the same shape as the DIMSE layer's DatasetSource). */
export type DatasetBytes = Buffer | AsyncIterable<Buffer>;

/** Syntaxes src/dicom can read and write whole (the target of a conversion). */
export const WRITABLE_SYNTAXES = [EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_BIG_ENDIAN] as const;
/** Stored syntaxes read as they are (the others are decompressed first). */
const NATIVE = new Set<string>([...WRITABLE_SYNTAXES, DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN]);

/** Stored syntaxes we can convert from. */
export const isConvertible = (ts: string): boolean => NATIVE.has(ts) || canDecompress(ts);

/** The accepted transfer syntax to send an instance in: its own if accepted, else a convertible one; undefined if none. */
export function chooseTransferSyntax(
  contexts: Iterable<{ abstractSyntax: string; transferSyntax: string }>,
  sopClassUid: string,
  storedTs: string,
): string | undefined {
  const offered = [...contexts].filter((c) => c.abstractSyntax === sopClassUid).map((c) => c.transferSyntax);
  if (offered.includes(storedTs)) return storedTs;
  if (!isConvertible(storedTs)) return undefined;
  return WRITABLE_SYNTAXES.find((ts) => offered.includes(ts));
}

/**
 * Where the data set starts in a stored Part 10 file whose first `head.length` bytes are
 * given: undefined when more bytes are needed. Our ingest always writes (0002,0000) UL
 * first, so the meta header ends 144 + its value bytes in.
 */
function datasetStart(head: Buffer): number | undefined {
  if (head.length < 144) return undefined;
  if (head.toString('latin1', 128, 132) !== 'DICM' || head.readUInt32LE(132) !== 0x00000002 || head.toString('latin1', 136, 138) !== 'UL') {
    throw new Error('stored file has no File Meta Information group length');
  }
  const start = 144 + head.readUInt32LE(140);
  return head.length < start ? undefined : start;
}

/**
 * The stored data set from the copy of its file the blob store kept in memory, if it kept
 * one (retained-copies.ts: the Router's store), as views of the copy's slabs; they go back
 * to the store's pool at close() if `released` says nothing reads them any more.
 */
function keptDataset(archive: Archive, inst: InstanceSummary, released: () => boolean): { data: DatasetBytes; close: () => void } | undefined {
  const copy = archive.blobs.borrowCopy?.(inst.fileKey);
  if (!copy) return undefined;
  let start: number | undefined;
  try {
    start = copy.bytes === inst.fileSize && copy.views.length > 0 ? datasetStart(copy.views[0]) : undefined;
  } catch {
    start = undefined; // read from the file instead, which reports what is wrong with it
  }
  // An odd data set (not valid DICOM) is read from the file, which pads it.
  if (start === undefined || start % 2 === 1 || start === copy.bytes || (copy.bytes - start) % 2 === 1) {
    copy.giveBack(true);
    return undefined;
  }
  const views = [copy.views[0].subarray(start), ...copy.views.slice(1)].filter((v) => v.length > 0);
  let open = true;
  return {
    data: (async function* () {
      yield* views;
    })(),
    close: () => {
      if (!open) return;
      open = false;
      copy.giveBack(released());
    },
  };
}

/** The data set bytes of a stored Part 10 file: the stream with its File Meta Information cut off. */
export async function* storedDataset(file: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let head: Buffer | undefined = Buffer.alloc(0);
  let total = 0;
  for await (const chunk of file) {
    if (!head) {
      total += chunk.length;
      yield chunk;
      continue;
    }
    head = head.length ? Buffer.concat([head, chunk]) : chunk;
    const start = datasetStart(head);
    if (start === undefined) continue;
    const rest = head.subarray(start);
    head = undefined;
    total += rest.length;
    if (rest.length) yield rest;
  }
  if (head) throw new Error('stored file ends inside its File Meta Information');
  // A data set message has an even length (PS3.8 PDVs; PS3.5 A.5 pads a deflated stream with one NUL).
  if (total % 2 === 1) yield Buffer.alloc(1);
}

/** Stored files up to this size are read whole in one read and sent as one buffer; larger ones are streamed. */
const WHOLE_READ_MAX = 1 << 20;

/**
 * Read buffers for files read whole (one spare byte: see readWholeDataset). Idle ones kept:
 * enough for two associations' read-ahead (services/retrieve-sub-operations.ts reads 4
 * instances ahead of the one it sends), about 10 MiB held at most.
 */
const wholeReadBuffers = new ReadBufferPool(WHOLE_READ_MAX + 1, 2 * (4 + 1));

/**
 * The data set of a stored file of (recorded) `size` bytes, read whole into `buf` (at
 * least size + 1 bytes): one open, one read, one close (callback API: each promise-based
 * fs call costs more than the read). Undefined when the file turns out larger than
 * recorded (the caller streams it).
 */
function readWholeDataset(file: string, size: number, buf: Buffer): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    fs.open(file, 'r', (err, fd) => {
      if (err) return reject(err);
      const finish = (e: Error | null, n: number) => {
        // Closing a read-only descriptor never waits for the disk: done here rather than as
        // a third trip through libuv's thread pool (each trip wakes a pool thread, which on
        // a 2-core machine preempted the event loop). An error closing it changes nothing read.
        try {
          fs.closeSync(fd);
        } catch {
          // nothing to undo
        }
        if (e) return reject(e);
        if (n > size) return resolve(undefined);
        try {
          const start = datasetStart(buf.subarray(0, n));
          if (start === undefined) throw new Error('stored file ends inside its File Meta Information');
          let end = n;
          if ((end - start) % 2 === 1) buf[end++] = 0;
          resolve(buf.subarray(start, end));
        } catch (e2) {
          reject(e2);
        }
      };
      // Reads until the recorded size plus the spare byte (no extra read for the end of
      // file: a file grown past its recorded size shows as a first read filling the spare
      // byte too; the spare byte also pads an odd data set in place).
      let got = 0;
      const more = () =>
        fs.read(fd, buf, got, size + 1 - got, got, (e, n) => {
          if (e) return finish(e, got);
          got += n;
          if (n === 0 || got >= size) return finish(null, got);
          more();
        });
      more();
    });
  });
}

/** The whole file; TranscodeLimitError past `limit` bytes (a file grown past its indexed size). */
async function readAll(file: AsyncIterable<Buffer>, inst: InstanceSummary, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of file) {
    n += c.length;
    checkTranscodeSize(inst.sopInstanceUid, 'stored file', n, limit);
    parts.push(c);
  }
  return Buffer.concat(parts);
}

export interface DatasetInOptions {
  /**
   * Asked once the data set is closed: true when nothing can read its bytes any more (the
   * transport has written them all). Then a file read whole goes back to a pool of read
   * buffers; without it every file gets a buffer of its own.
   */
  bytesReleased?: () => boolean;
}

/**
 * An instance's data set in `ts`: the stored bytes when `ts` is the stored syntax (read
 * whole or streamed), else converted; TranscodeLimitError when a conversion is over
 * limits.dataset.maxTranscodeBytes (checked on the indexed file size before any read, and
 * on the decoded pixel data size before decoding).
 */
export async function datasetIn(
  archive: Archive,
  inst: InstanceSummary,
  ts: string,
  opts: DatasetInOptions = {},
): Promise<{ data: DatasetBytes; close: () => void }> {
  if (inst.patientCorrection) return correctedDatasetIn(archive, inst, ts, inst.patientCorrection);
  const released = opts.bytesReleased;
  if (ts === inst.transferSyntaxUid && released) {
    const copy = keptDataset(archive, inst, released);
    if (copy) return copy;
  }
  if (ts === inst.transferSyntaxUid && inst.fileSize > 0 && inst.fileSize <= WHOLE_READ_MAX) {
    const buf = released ? wholeReadBuffers.take() : Buffer.allocUnsafeSlow(inst.fileSize + 1);
    let whole: Buffer | undefined;
    try {
      whole = await readWholeDataset(archive.blobs.path(inst.fileKey), inst.fileSize, buf);
    } catch (err) {
      if (released) wholeReadBuffers.give(buf); // never handed out
      throw err;
    }
    if (whole) {
      let open = true;
      return {
        data: whole,
        close: () => {
          if (!open) return;
          open = false;
          if (released?.()) wholeReadBuffers.give(buf);
        },
      };
    }
    if (released) wholeReadBuffers.give(buf);
  }
  const limit = ts === inst.transferSyntaxUid ? Number.POSITIVE_INFINITY : archive.limits.maxTranscodeBytes;
  checkTranscodeSize(inst.sopInstanceUid, 'stored file', inst.fileSize, limit);
  const stream = archive.blobs.open(inst.fileKey);
  const close = () => void stream.destroy();
  if (ts === inst.transferSyntaxUid) {
    // Pull the first chunk now: a missing or broken file fails before the C-STORE command goes out.
    const it = storedDataset(stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    const first = await it.next().catch((err: Error) => {
      close();
      throw err;
    });
    const data = (async function* () {
      if (!first.done) yield first.value;
      for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
    })();
    return { data, close };
  }
  try {
    const { dataset } = readPart10(await readAll(stream as AsyncIterable<Buffer>, inst, limit), {
      stopAtPixelData: false,
      maxValueLength: Number.POSITIVE_INFINITY,
    });
    if (!NATIVE.has(inst.transferSyntaxUid)) {
      checkTranscodeSize(inst.sopInstanceUid, 'decoded pixel data', decodedPixelBytes(dataset), limit);
      await decompressDataset(dataset, inst.transferSyntaxUid);
    }
    return { data: writeDataset(dataset, ts), close };
  } finally {
    close();
  }
}

/**
 * An instance of a study whose patient was updated or merged (patient-identity.ts): the
 * stored file is read whole, given the corrected patient module and written again in
 * `ts` (the stored syntax: its pixel data, encapsulated or not, copied as it is; another:
 * converted as above). The file on disk is never changed. Bounded like a conversion
 * (limits.dataset.maxTranscodeBytes): a corrected study's instance larger than that fails
 * its sub-operation (TranscodeLimitError) rather than go out uncorrected. A deflated
 * stored syntax is written explicit VR little endian and deflated again.
 */
async function correctedDatasetIn(
  archive: Archive,
  inst: InstanceSummary,
  ts: string,
  correction: PatientCorrection,
): Promise<{ data: DatasetBytes; close: () => void }> {
  const limit = archive.limits.maxTranscodeBytes;
  checkTranscodeSize(inst.sopInstanceUid, 'stored file', inst.fileSize, limit);
  const stream = archive.blobs.open(inst.fileKey);
  try {
    const { dataset } = readPart10(await readAll(stream as AsyncIterable<Buffer>, inst, limit), {
      stopAtPixelData: false,
      maxValueLength: Number.POSITIVE_INFINITY,
    });
    if (ts !== inst.transferSyntaxUid && !NATIVE.has(inst.transferSyntaxUid)) {
      checkTranscodeSize(inst.sopInstanceUid, 'decoded pixel data', decodedPixelBytes(dataset), limit);
      await decompressDataset(dataset, inst.transferSyntaxUid);
    }
    applyPatientCorrection(dataset, correction);
    // Deflated: written explicit VR little endian, then deflated (PS3.5 A.5), as the writer asks.
    const data = ts === DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN ? deflateRawSync(writeDataset(dataset, EXPLICIT_VR_LITTLE_ENDIAN)) : writeDataset(dataset, ts);
    return { data: data.length % 2 ? Buffer.concat([data, Buffer.alloc(1)]) : data, close: () => undefined };
  } finally {
    stream.destroy();
  }
}
