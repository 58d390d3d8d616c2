/**
 * A study (or series) as a zip stream: a DICOM file-set (PS3.10), one folder per series
 * (`DICOM/S0000001/I0000001`: file IDs generated from positions, never from attribute
 * text) and a DICOMDIR at the root (dicom/dicomdir.ts), built from each file's header as it
 * goes through (the bytes in the zip, de-identified ones included). Entries are stored, not
 * deflated (DICOM pixel data gains little and the CPU is shared), and streamed: each file
 * goes through in chunks, waiting on the HTTP socket, so memory stays at one chunk (one
 * instance when de-identifying) plus the central directory's few numbers per entry.
 *
 * Our own writer (APPNOTE.TXT 6.3.10), because the format's limits matter here: a study
 * export passes 4 GiB or 65,535 entries (a long CT or a whole-slide study), where a plain
 * zip silently wraps its 32-bit sizes and offsets and 16-bit counts (fflate, used before,
 * has no ZIP64). So:
 *   - every entry has a data descriptor (general purpose bit 3: the CRC-32 is known only
 *     after the data went out); an entry of 4 GiB or more is ZIP64 from its local header
 *     on (ZIP64 extra field, 8-byte sizes in its data descriptor); its size is known before
 *     (stat), stored blobs do not change;
 *   - a central directory record carries a ZIP64 extra field for whichever of its size and
 *     offset do not fit 32 bits;
 *   - past 65,535 entries or 4 GiB of offsets, the end of central directory record holds
 *     0xFFFF / 0xFFFFFFFF and a ZIP64 end record with its locator precedes it.
 * Checked by Info-ZIP unzip -t and Python's zipfile (test/web/study-zip.test.ts).
 */
import { open } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import { crc32 } from '../archive/crc32.js';
import type { AnonymizeOptions } from '../dicom/anonymize.js';
import { anonymizePart10 } from '../dicom/anonymize-file.js';
import { DatasetHeaderReader } from '../dicom/dataset-reader.js';
import { buildDicomdir, dicomdirFile, type DicomdirFile } from '../dicom/dicomdir.js';
import { readMetaHeader, readPart10 } from '../dicom/part10.js';

/** A flat name by position (`0001.dcm`), for a zip of files that are not a file-set. */
export function entryName(i: number, count: number): string {
  return `${String(i + 1).padStart(Math.max(4, String(count).length), '0')}.dcm`;
}

/** One file of a zip and its name there. */
export interface ZipSource {
  path: string;
  name: string;
}

/** Files per folder, and folders: 7 digits after the letter keep every component at 8 characters. */
const MAX_IN_FOLDER = 9_999_999;

/**
 * The file-set names of instances listed series by series: `DICOM/S0000001/I0000001`, a
 * folder per series (numbered in the order met), files numbered within it. Only digits
 * and fixed letters: valid PS3.10 file IDs whatever the attributes say.
 */
export function fileSetNames(instances: readonly { seriesInstanceUid: string }[]): string[] {
  const series = new Map<string, { n: number; files: number }>();
  return instances.map((i) => {
    let s = series.get(i.seriesInstanceUid);
    if (!s) series.set(i.seriesInstanceUid, (s = { n: series.size + 1, files: 0 }));
    s.files++;
    if (s.n > MAX_IN_FOLDER || s.files > MAX_IN_FOLDER) throw new RangeError(`more than ${MAX_IN_FOLDER} series or files in one series`);
    return `DICOM/S${String(s.n).padStart(7, '0')}/I${String(s.files).padStart(7, '0')}`;
  });
}

/** The header of a streamed file, fed chunk by chunk up to its pixel data (big values skipped). */
class StreamedHeader {
  private reader: DatasetHeaderReader | undefined;
  private meta: ReturnType<typeof readMetaHeader>['meta'] | undefined;
  private pending: Buffer | undefined;

  push(chunk: Buffer): void {
    if (this.reader) {
      if (!this.reader.done) this.reader.push(chunk);
      return;
    }
    // The meta header is read from the first bytes (it is small; a chunk holds it).
    this.pending = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    let read;
    try {
      read = readMetaHeader(this.pending);
    } catch (err) {
      if (this.pending.length < 4 * CHUNK) return; // more bytes may complete it
      throw err;
    }
    const { meta, dataSetOffset } = read;
    this.meta = meta;
    this.reader = new DatasetHeaderReader({ transferSyntaxUid: meta.transferSyntaxUid });
    this.reader.push(this.pending.subarray(dataSetOffset));
    this.pending = undefined;
  }

  file(fileId: readonly string[]): DicomdirFile {
    if (!this.meta || !this.reader) throw new Error('not a DICOM Part 10 file');
    if (!this.reader.done) this.reader.end();
    return dicomdirFile(fileId, this.meta, this.reader.dataset);
  }
}

const U16 = 0xffff;
const U32 = 0xffffffff;
/** ZIP 4.5: ZIP64. */
const VERSION_ZIP64 = 45;
/** ZIP 2.0: what a plain stored entry with a data descriptor needs. */
const VERSION_PLAIN = 20;
const FLAG_DATA_DESCRIPTOR = 0x0008;
/** Files up to this size are read whole (one read instead of a stream per tiny file). */
const READ_WHOLE = 1 << 20;
const CHUNK = 256 * 1024;
/** Central directory records written per chunk. */
const CD_BATCH = 1024;

interface Written {
  name: Buffer;
  crc: number;
  size: number;
  offset: number;
  zip64: boolean;
}

/** MS-DOS date and time (the zip format's), local time. */
function dosDateTime(d: Date): { date: number; time: number } {
  const year = Math.max(1980, d.getFullYear());
  return {
    date: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | Math.floor(d.getSeconds() / 2),
  };
}

function localHeader(name: Buffer, zip64: boolean, when: { date: number; time: number }): Buffer {
  const extra = zip64 ? 20 : 0;
  const b = Buffer.alloc(30 + name.length + extra);
  b.writeUInt32LE(0x04034b50, 0);
  b.writeUInt16LE(zip64 ? VERSION_ZIP64 : VERSION_PLAIN, 4);
  b.writeUInt16LE(FLAG_DATA_DESCRIPTOR, 6);
  b.writeUInt16LE(0, 8); // stored
  b.writeUInt16LE(when.time, 10);
  b.writeUInt16LE(when.date, 12);
  // CRC-32 and sizes follow in the data descriptor (bit 3); ZIP64 sizes are 0xFFFFFFFF here, 0 in the extra field.
  b.writeUInt32LE(0, 14);
  b.writeUInt32LE(zip64 ? U32 : 0, 18);
  b.writeUInt32LE(zip64 ? U32 : 0, 22);
  b.writeUInt16LE(name.length, 26);
  b.writeUInt16LE(extra, 28);
  name.copy(b, 30);
  if (zip64) {
    const o = 30 + name.length;
    b.writeUInt16LE(0x0001, o);
    b.writeUInt16LE(16, o + 2);
    b.writeBigUInt64LE(0n, o + 4);
    b.writeBigUInt64LE(0n, o + 12);
  }
  return b;
}

function dataDescriptor(crc: number, size: number, zip64: boolean): Buffer {
  const b = Buffer.alloc(zip64 ? 24 : 16);
  b.writeUInt32LE(0x08074b50, 0);
  b.writeUInt32LE(crc, 4);
  if (zip64) {
    b.writeBigUInt64LE(BigInt(size), 8);
    b.writeBigUInt64LE(BigInt(size), 16);
  } else {
    b.writeUInt32LE(size, 8);
    b.writeUInt32LE(size, 12);
  }
  return b;
}

function centralRecord(e: Written, when: { date: number; time: number }): Buffer {
  // ZIP64 extra field: the values that do not fit, in this order (APPNOTE 4.5.3).
  const bigSize = e.size >= U32;
  const bigOffset = e.offset >= U32;
  const extraValues = [...(bigSize ? [e.size, e.size] : []), ...(bigOffset ? [e.offset] : [])];
  const extra = extraValues.length ? 4 + 8 * extraValues.length : 0;
  const zip64 = e.zip64 || extra > 0;
  const b = Buffer.alloc(46 + e.name.length + extra);
  b.writeUInt32LE(0x02014b50, 0);
  b.writeUInt16LE(VERSION_ZIP64, 4); // made by
  b.writeUInt16LE(zip64 ? VERSION_ZIP64 : VERSION_PLAIN, 6);
  b.writeUInt16LE(FLAG_DATA_DESCRIPTOR, 8);
  b.writeUInt16LE(0, 10);
  b.writeUInt16LE(when.time, 12);
  b.writeUInt16LE(when.date, 14);
  b.writeUInt32LE(e.crc, 16);
  b.writeUInt32LE(bigSize ? U32 : e.size, 20);
  b.writeUInt32LE(bigSize ? U32 : e.size, 24);
  b.writeUInt16LE(e.name.length, 28);
  b.writeUInt16LE(extra, 30);
  // comment length, disk number, internal and external attributes: 0
  b.writeUInt32LE(bigOffset ? U32 : e.offset, 42);
  e.name.copy(b, 46);
  if (extra) {
    let o = 46 + e.name.length;
    b.writeUInt16LE(0x0001, o);
    b.writeUInt16LE(8 * extraValues.length, o + 2);
    o += 4;
    for (const v of extraValues) {
      b.writeBigUInt64LE(BigInt(v), o);
      o += 8;
    }
  }
  return b;
}

function endRecords(count: number, cdOffset: number, cdSize: number): Buffer {
  const zip64 = count >= U16 || cdOffset >= U32 || cdSize >= U32;
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(Math.min(count, U16), 8);
  eocd.writeUInt16LE(Math.min(count, U16), 10);
  eocd.writeUInt32LE(Math.min(cdSize, U32), 12);
  eocd.writeUInt32LE(Math.min(cdOffset, U32), 16);
  if (!zip64) return eocd;
  const rec = Buffer.alloc(56);
  rec.writeUInt32LE(0x06064b50, 0);
  rec.writeBigUInt64LE(44n, 4); // size of the rest of this record
  rec.writeUInt16LE(VERSION_ZIP64, 12);
  rec.writeUInt16LE(VERSION_ZIP64, 14);
  // disk numbers (16, 20): 0
  rec.writeBigUInt64LE(BigInt(count), 24);
  rec.writeBigUInt64LE(BigInt(count), 32);
  rec.writeBigUInt64LE(BigInt(cdSize), 40);
  rec.writeBigUInt64LE(BigInt(cdOffset), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(cdOffset + cdSize), 8); // where the ZIP64 end record starts
  locator.writeUInt32LE(1, 16); // total number of disks
  return Buffer.concat([rec, locator, eocd]);
}

export interface ZipOptions {
  anonymize?: AnonymizeOptions;
  /** Add a DICOMDIR of the files (each named as a file ID: components of A-Z, 0-9, _ joined by '/'). */
  dicomdir?: boolean;
  onError?: (err: Error) => void;
}

/**
 * Streams the files as a zip (a bare path: named by position); errors after the start end
 * the stream (the client sees a truncated download).
 */
export function zipFiles(sources: readonly (string | ZipSource)[], opts: ZipOptions = {}): Readable {
  const files: ZipSource[] = sources.map((s, i) => (typeof s === 'string' ? { path: s, name: entryName(i, sources.length) } : s));
  const out = new PassThrough({ highWaterMark: 4 * CHUNK });
  let offset = 0;
  // Drained or closed (the client went away), with both listeners gone after either:
  // a listener left behind per wait piles up over thousands of entries.
  const drained = () =>
    new Promise<void>((resolve) => {
      const done = (): void => {
        out.off('drain', done);
        out.off('close', done);
        resolve();
      };
      out.on('drain', done);
      out.on('close', done);
    });
  const send = async (b: Uint8Array): Promise<void> => {
    offset += b.length;
    if (!out.write(b)) await drained();
  };
  void (async () => {
    const when = dosDateTime(new Date());
    const written: Written[] = [];
    const records: DicomdirFile[] = [];
    const addEntry = async (name: Buffer, bytes: Uint8Array) => {
      const start = offset;
      const crc = crc32(bytes);
      await send(Buffer.concat([localHeader(name, false, when), bytes, dataDescriptor(crc, bytes.length, false)]));
      written.push({ name, crc, size: bytes.length, offset: start, zip64: false });
    };
    for (const { path, name: entry } of files) {
      if (out.destroyed) return;
      const name = Buffer.from(entry, 'latin1');
      const fileId = entry.split('/');
      const start = offset;
      const fh = await open(path, 'r');
      let whole: Uint8Array | undefined;
      let size: number;
      try {
        if (opts.anonymize) {
          whole = anonymizePart10(await fh.readFile(), opts.anonymize).bytes;
          size = whole.length;
        } else {
          size = (await fh.stat()).size;
          if (size <= READ_WHOLE) whole = await fh.readFile();
        }
      } catch (e) {
        await fh.close();
        throw e;
      }
      const zip64 = size >= U32;
      if (whole) {
        await fh.close();
        // Header, data and descriptor in one write: tiny files are the many-entries case.
        if (opts.dicomdir) {
          const { meta, dataset } = readPart10(whole, { stopAtPixelData: true, maxValueLength: 64 * 1024 });
          records.push(dicomdirFile(fileId, meta, dataset));
        }
        const crc = crc32(whole);
        await send(Buffer.concat([localHeader(name, zip64, when), whole, dataDescriptor(crc, whole.length, zip64)]));
        written.push({ name, crc, size: whole.length, offset: start, zip64 });
        continue;
      }
      await send(localHeader(name, zip64, when));
      let crc = 0;
      let sent = 0;
      const header = opts.dicomdir ? new StreamedHeader() : undefined;
      // The stream closes the handle at its end or on an error.
      for await (const chunk of fh.createReadStream({ highWaterMark: CHUNK }) as AsyncIterable<Buffer>) {
        header?.push(chunk);
        crc = crc32(chunk, crc);
        sent += chunk.length;
        await send(chunk);
        if (out.destroyed) return;
      }
      if (sent !== size) throw new Error(`${path} changed while it was zipped (${size} bytes, then ${sent})`);
      await send(dataDescriptor(crc, sent, zip64));
      written.push({ name, crc, size: sent, offset: start, zip64 });
      if (header) records.push(header.file(fileId));
    }
    if (opts.dicomdir && records.length) await addEntry(Buffer.from('DICOMDIR', 'latin1'), buildDicomdir(records));
    const cdOffset = offset;
    for (let i = 0; i < written.length; i += CD_BATCH) {
      await send(Buffer.concat(written.slice(i, i + CD_BATCH).map((e) => centralRecord(e, when))));
    }
    await send(endRecords(written.length, cdOffset, offset - cdOffset));
    out.end();
  })().catch((err: Error) => {
    opts.onError?.(err);
    out.destroy(err);
  });
  return out;
}
