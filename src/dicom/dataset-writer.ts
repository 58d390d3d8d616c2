/**
 * Encodes a small in-memory Dataset (C-FIND identifiers, tests, meta headers) in implicit VR
 * LE, explicit VR LE or explicit VR BE (PS3.5 section 7), values padded to even length.
 */
import { Dataset, UNDEFINED_LENGTH, type Element } from './dataset.js';
import { formatTag, Tags } from './tag.js';
import { resolveTransferSyntax } from './transfer-syntax.js';
import { VR_INFO, type VR } from './vr.js';

export interface WriteOptions {
  /** Encode sequences and items with undefined length and delimiters (default: defined lengths). */
  undefinedLengths?: boolean;
}

interface Syntax { explicit: boolean; le: boolean; undefinedLengths: boolean }

export function writeDataset(ds: Dataset, transferSyntaxUid: string, opts: WriteOptions = {}): Buffer {
  const ts = resolveTransferSyntax(transferSyntaxUid);
  if (ts.deflated) throw new Error('writing deflated datasets is not supported; write explicit VR LE and deflate it');
  const parts: Buffer[] = [];
  encodeInto(ds, { explicit: ts.explicitVr, le: ts.littleEndian, undefinedLengths: opts.undefinedLengths ?? false }, parts);
  return Buffer.concat(parts);
}

function toEncodedValue(el: Element, le: boolean): Buffer {
  const v = el.value ?? new Uint8Array(0);
  let out = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  const info = VR_INFO[el.vr];
  const size = el.vr === 'AT' ? 2 : info.kind === 'binary' && el.vr !== 'UN' ? info.size : 1;
  if (!le && size > 1) {
    out = Buffer.from(out); // copy, then swap
    if (size === 2) out.swap16(); else if (size === 4) out.swap32(); else if (size === 8) out.swap64();
  }
  if (out.length % 2 === 1) out = Buffer.concat([out, Buffer.from([info.padding])]);
  return out;
}

function header(tag: number, vr: VR | undefined, length: number, s: Syntax): Buffer {
  const long = vr !== undefined && s.explicit && VR_INFO[vr].longLength;
  const b = Buffer.alloc(vr !== undefined && s.explicit ? (long ? 12 : 8) : 8);
  const w16 = (v: number, o: number) => (s.le ? b.writeUInt16LE(v, o) : b.writeUInt16BE(v, o));
  const w32 = (v: number, o: number) => (s.le ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o));
  w16(tag >>> 16, 0);
  w16(tag & 0xffff, 2);
  if (vr === undefined || !s.explicit) {
    w32(length, 4);
  } else {
    b.write(vr, 4, 'latin1');
    if (long) w32(length, 8);
    else {
      if (length > 0xffff) throw new Error(`value of ${formatTag(tag)} (${vr}) too long for explicit VR: ${length}`);
      w16(length, 6);
    }
  }
  return b;
}

function encodeInto(ds: Dataset, s: Syntax, out: Buffer[]): number {
  let total = 0;
  const push = (b: Buffer) => { out.push(b); total += b.length; };
  for (const el of ds.sorted()) {
    if (el.skipped) throw new Error(`cannot write ${formatTag(el.tag)}: its value was skipped as bulk data`);
    if (el.items) {
      const body: Buffer[] = [];
      let bodyLen = 0;
      for (const item of el.items) {
        const itemParts: Buffer[] = [];
        const n = encodeInto(item, s, itemParts);
        const h = header(Tags.Item, undefined, s.undefinedLengths ? UNDEFINED_LENGTH : n, s);
        body.push(h, ...itemParts);
        bodyLen += h.length + n;
        if (s.undefinedLengths) {
          body.push(header(Tags.ItemDelimitationItem, undefined, 0, s));
          bodyLen += 8;
        }
      }
      push(header(el.tag, 'SQ', s.undefinedLengths ? UNDEFINED_LENGTH : bodyLen, s));
      for (const b of body) push(b);
      if (s.undefinedLengths) push(header(Tags.SequenceDelimitationItem, undefined, 0, s));
    } else if (el.fragments) {
      push(header(el.tag, el.vr, UNDEFINED_LENGTH, s));
      for (const f of el.fragments) {
        if (!f.value) throw new Error(`cannot write ${formatTag(el.tag)}: a fragment was skipped as bulk data`);
        let v = Buffer.from(f.value.buffer, f.value.byteOffset, f.value.byteLength);
        if (v.length % 2) v = Buffer.concat([v, Buffer.alloc(1)]);
        push(header(Tags.Item, undefined, v.length, s));
        push(v);
      }
      push(header(Tags.SequenceDelimitationItem, undefined, 0, s));
    } else {
      const v = toEncodedValue(el, s.le);
      push(header(el.tag, el.vr, v.length, s));
      push(v);
    }
  }
  return total;
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
      case 'US': case 'OW': b.writeUInt16LE(v, o); break;
      case 'SS': b.writeInt16LE(v, o); break;
      case 'UL': case 'OL': b.writeUInt32LE(v, o); break;
      case 'SL': b.writeInt32LE(v, o); break;
      case 'FL': case 'OF': b.writeFloatLE(v, o); break;
      case 'FD': case 'OD': b.writeDoubleLE(v, o); break;
      case 'SV': b.writeBigInt64LE(BigInt(v), o); break;
      case 'UV': case 'OV': b.writeBigUInt64LE(BigInt(v), o); break;
      case 'AT': b.writeUInt16LE(v >>> 16, o); b.writeUInt16LE(v & 0xffff, o + 2); break;
      default: throw new Error(`putNumbers: not a binary numeric VR: ${vr}`);
    }
  });
  return ds.put({ tag, vr, length: b.length, value: b });
}
