/**
 * Encodes a small in-memory Dataset (C-FIND identifiers, tests, meta headers) in implicit VR
 * LE, explicit VR LE or explicit VR BE (PS3.5 section 7), values padded to even length.
 */
import { Dataset, UNDEFINED_LENGTH } from './dataset.js';
import { formatTag, Tags } from './tag.js';
import { resolveTransferSyntax } from './transfer-syntax.js';
import { VR_INFO, type VR } from './vr.js';

export interface WriteOptions {
  /** Encode sequences and items with undefined length and delimiters (default: defined lengths). */
  undefinedLengths?: boolean;
}

interface Syntax {
  explicit: boolean;
  le: boolean;
  undefinedLengths: boolean;
}

export function writeDataset(ds: Dataset, transferSyntaxUid: string, opts: WriteOptions = {}): Buffer {
  const ts = resolveTransferSyntax(transferSyntaxUid);
  if (ts.deflated) throw new Error('writing deflated datasets is not supported; write explicit VR LE and deflate it');
  const s: Syntax = { explicit: ts.explicitVr, le: ts.littleEndian, undefinedLengths: opts.undefinedLengths ?? false };
  // Two passes: measure (and check) everything, then write into one buffer: no buffer per
  // element header or value (a C-FIND response is dozens of elements).
  const itemLengths = new Map<Dataset, number>();
  const out = Buffer.allocUnsafe(measure(ds, s, itemLengths));
  write(ds, s, itemLengths, out, 0);
  return out;
}

function headerLength(vr: VR | undefined, s: Syntax): number {
  return vr !== undefined && s.explicit && VR_INFO[vr].longLength ? 12 : 8;
}

const EMPTY = new Uint8Array(0);

/** Encoded size of a data set (and of every item in it, into `items`); throws what the writer cannot encode. */
function measure(ds: Dataset, s: Syntax, items: Map<Dataset, number>): number {
  let total = 0;
  for (const el of ds.sorted()) {
    if (el.skipped) throw new Error(`cannot write ${formatTag(el.tag)}: its value was skipped as bulk data`);
    if (el.items) {
      let body = 0;
      for (const item of el.items) {
        const n = measure(item, s, items);
        items.set(item, n);
        body += 8 + n + (s.undefinedLengths ? 8 : 0);
      }
      if (!s.undefinedLengths) checkLength(el.tag, 'SQ', body, s);
      total += headerLength('SQ', s) + body + (s.undefinedLengths ? 8 : 0);
    } else if (el.fragments) {
      total += headerLength(el.vr, s);
      for (const f of el.fragments) {
        if (!f.value) throw new Error(`cannot write ${formatTag(el.tag)}: a fragment was skipped as bulk data`);
        total += 8 + f.value.byteLength + (f.value.byteLength & 1);
      }
      total += 8;
    } else {
      const len = (el.value ?? EMPTY).byteLength;
      const padded = len + (len & 1);
      checkLength(el.tag, el.vr, padded, s);
      total += headerLength(el.vr, s) + padded;
    }
  }
  return total;
}

function checkLength(tag: number, vr: VR, length: number, s: Syntax): void {
  if (s.explicit && !VR_INFO[vr].longLength && length > 0xffff) {
    throw new Error(`value of ${formatTag(tag)} (${vr}) too long for explicit VR: ${length}`);
  }
}

function writeHeader(b: Buffer, o: number, tag: number, vr: VR | undefined, length: number, s: Syntax): number {
  if (s.le) {
    b.writeUInt16LE(tag >>> 16, o);
    b.writeUInt16LE(tag & 0xffff, o + 2);
  } else {
    b.writeUInt16BE(tag >>> 16, o);
    b.writeUInt16BE(tag & 0xffff, o + 2);
  }
  if (vr === undefined || !s.explicit) {
    if (s.le) b.writeUInt32LE(length >>> 0, o + 4);
    else b.writeUInt32BE(length >>> 0, o + 4);
    return o + 8;
  }
  b.write(vr, o + 4, 2, 'latin1');
  if (VR_INFO[vr].longLength) {
    b.writeUInt16LE(0, o + 6);
    if (s.le) b.writeUInt32LE(length >>> 0, o + 8);
    else b.writeUInt32BE(length >>> 0, o + 8);
    return o + 12;
  }
  if (s.le) b.writeUInt16LE(length, o + 6);
  else b.writeUInt16BE(length, o + 6);
  return o + 8;
}

function copyValue(b: Buffer, o: number, v: Uint8Array): number {
  b.set(v, o);
  return o + v.byteLength;
}

function write(ds: Dataset, s: Syntax, items: ReadonlyMap<Dataset, number>, b: Buffer, o: number): number {
  for (const el of ds.sorted()) {
    if (el.items) {
      let body = 0;
      for (const item of el.items) body += 8 + items.get(item)! + (s.undefinedLengths ? 8 : 0);
      o = writeHeader(b, o, el.tag, 'SQ', s.undefinedLengths ? UNDEFINED_LENGTH : body, s);
      for (const item of el.items) {
        o = writeHeader(b, o, Tags.Item, undefined, s.undefinedLengths ? UNDEFINED_LENGTH : items.get(item)!, s);
        o = write(item, s, items, b, o);
        if (s.undefinedLengths) o = writeHeader(b, o, Tags.ItemDelimitationItem, undefined, 0, s);
      }
      if (s.undefinedLengths) o = writeHeader(b, o, Tags.SequenceDelimitationItem, undefined, 0, s);
    } else if (el.fragments) {
      o = writeHeader(b, o, el.tag, el.vr, UNDEFINED_LENGTH, s);
      for (const f of el.fragments) {
        const v = f.value!;
        const len = v.byteLength;
        o = writeHeader(b, o, Tags.Item, undefined, len + (len & 1), s);
        o = copyValue(b, o, v);
        if (len & 1) b[o++] = 0;
      }
      o = writeHeader(b, o, Tags.SequenceDelimitationItem, undefined, 0, s);
    } else {
      const v = el.value ?? EMPTY;
      const len = v.byteLength;
      const info = VR_INFO[el.vr];
      o = writeHeader(b, o, el.tag, el.vr, len + (len & 1), s);
      const start = o;
      o = copyValue(b, o, v);
      const size = el.vr === 'AT' ? 2 : info.kind === 'binary' && el.vr !== 'UN' ? info.size : 1;
      if (!s.le && size > 1) {
        const w = b.subarray(start, o);
        if (size === 2) w.swap16();
        else if (size === 4) w.swap32();
        else if (size === 8) w.swap64();
      }
      if (len & 1) b[o++] = info.padding;
    }
  }
  return o;
}

// ---- building datasets ----

const enc = new TextEncoder();

/** Adds a string element (values joined with '\'), encoded as UTF-8 for charset VRs, else ASCII. */
export function putString(ds: Dataset, tag: number, vr: VR, value: string | readonly string[]): Dataset {
  const text = typeof value === 'string' ? value : value.join('\\');
  const bytes = VR_INFO[vr].charset ? enc.encode(text) : new Uint8Array(Buffer.from(text, 'latin1'));
  return ds.put({ tag, vr, length: bytes.length, value: bytes });
}

/** Adds a binary numeric element (US, SS, UL, SL, FL, FD, AT as [group<<16|element]). */
export function putNumbers(ds: Dataset, tag: number, vr: VR, values: readonly number[]): Dataset {
  const size = vr === 'AT' ? 4 : VR_INFO[vr].size;
  const b = Buffer.alloc(size * values.length);
  values.forEach((v, i) => {
    const o = i * size;
    switch (vr) {
      case 'US':
      case 'OW':
        b.writeUInt16LE(v, o);
        break;
      case 'SS':
        b.writeInt16LE(v, o);
        break;
      case 'UL':
      case 'OL':
        b.writeUInt32LE(v, o);
        break;
      case 'SL':
        b.writeInt32LE(v, o);
        break;
      case 'FL':
      case 'OF':
        b.writeFloatLE(v, o);
        break;
      case 'FD':
      case 'OD':
        b.writeDoubleLE(v, o);
        break;
      case 'SV':
        b.writeBigInt64LE(BigInt(v), o);
        break;
      case 'UV':
      case 'OV':
        b.writeBigUInt64LE(BigInt(v), o);
        break;
      case 'AT':
        b.writeUInt16LE(v >>> 16, o);
        b.writeUInt16LE(v & 0xffff, o + 2);
        break;
      default:
        throw new Error(`putNumbers: not a binary numeric VR: ${vr}`);
    }
  });
  return ds.put({ tag, vr, length: b.length, value: b });
}
