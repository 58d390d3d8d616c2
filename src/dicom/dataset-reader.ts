/**
 * The streaming dataset reader (PS3.5 section 7): feed bytes in any chunk sizes, it keeps
 * only the element being parsed plus the collected small values. Values longer than the
 * bulk threshold are counted and skipped, never copied. With stopAtPixelData it stops at
 * the top-level Pixel Data (or Float / Double Float Pixel Data): `done` turns true and the
 * caller stops pushing (it keeps streaming the rest to disk itself).
 *
 * With maxRetainedBytes, what the reader keeps is capped: the values it holds plus a
 * fixed cost per element, item and fragment. The element that would pass the cap fails
 * the reader with DatasetLimitError before its value is allocated, and everything kept
 * is dropped, so memory stays bounded whatever the sender declares.
 */
import { Dataset, UNDEFINED_LENGTH, type Element } from './dataset.js';
import { implicitVr } from './dictionary.js';
import { privateCreatorTag } from './private-dictionary.js';
import { DatasetLimitError, DicomParseError } from './errors.js';
import { formatTag, Tags } from './tag.js';
import { SyncInflateRaw } from './sync-inflate.js';
import { resolveTransferSyntax } from './transfer-syntax.js';
import { VR_INFO, vrOfBytes, type VR } from './vr.js';

export interface DatasetReaderOptions {
  transferSyntaxUid: string;
  /** Stop at the top-level Pixel Data element (default true). */
  stopAtPixelData?: boolean;
  /** Bulk threshold (default 64 KiB): longer OB/OW/OF/OD/OL/OV/UN/UT values are skipped, not kept. */
  maxValueLength?: number;
  /** Maximum nesting of sequences (default 64). */
  maxDepth?: number;
  /** Cap on the bytes kept (values + ELEMENT_COST per element, item, fragment); default: no cap. */
  maxRetainedBytes?: number;
}

const STOP_TAGS = new Set<number>([Tags.PixelData, Tags.FloatPixelData, Tags.DoubleFloatPixelData]);
/** Non-bulk VRs (strings, numbers) are kept up to this length whatever the bulk threshold. */
const NON_BULK_LIMIT = 1 << 20;
/**
 * What one kept element, item or fragment record costs besides its value bytes: measured
 * ~300 bytes of heap per small element (object, Map entry, Uint8Array) and ~200 per item
 * on Node 20. Counting it caps a flood of empty elements as well as a few huge ones.
 */
export const ELEMENT_COST = 320;

interface DatasetFrame {
  kind: 'dataset';
  ds: Dataset;
  end: number | undefined;
  explicit: boolean;
  le: boolean;
  item: boolean;
}
interface SequenceFrame {
  kind: 'sequence';
  el: Element;
  ds: Dataset;
  end: number | undefined;
  explicit: boolean;
  le: boolean;
}
interface FragmentsFrame {
  kind: 'fragments';
  el: Element;
  end: undefined;
  explicit: boolean;
  le: boolean;
}
type Frame = DatasetFrame | SequenceFrame | FragmentsFrame;

/** Swaps multi-byte binary values from big to little endian in place. */
function swapToLittleEndian(v: Uint8Array, vr: VR): void {
  const size = vr === 'AT' ? 2 : VR_INFO[vr].kind === 'binary' && vr !== 'UN' ? VR_INFO[vr].size : 1;
  if (size <= 1) return;
  for (let o = 0; o + size <= v.length; o += size) {
    for (let i = 0, j = size - 1; i < j; i++, j--) {
      const t = v[o + i];
      v[o + i] = v[o + j];
      v[o + j] = t;
    }
  }
}

/** The creator reserving the block of private data element `tag`, from the same data set (read before it). */
function privateCreator(ds: Dataset, tag: number): string | undefined {
  const creatorTag = privateCreatorTag(tag);
  const v = creatorTag === undefined ? undefined : ds.get(creatorTag)?.value;
  // A private creator is an LO (at most 64 characters; longer is not one we know); trailing
  // spaces and NULs are padding, trimmed by a backward scan (no regex on received bytes).
  if (v === undefined || v.length > 64) return undefined;
  let end = v.length;
  while (end > 0 && (v[end - 1] === 0x20 || v[end - 1] === 0)) end--;
  return Buffer.from(v.buffer, v.byteOffset, end).toString('latin1');
}

export class DatasetHeaderReader {
  readonly dataset = new Dataset();
  private readonly stopAtPixelData: boolean;
  private readonly maxValueLength: number;
  private readonly maxDepth: number;
  private readonly maxRetained: number;
  private readonly stack: Frame[];
  private inflater: SyncInflateRaw | undefined;

  private _done = false;
  private failed: DicomParseError | DatasetLimitError | undefined;
  /** Bytes kept: values and ELEMENT_COST per element, item and fragment. */
  private retained = 0;
  /** Bytes consumed from the (inflated) dataset stream. */
  private offset = 0;
  /** Bytes skipped (bulk values not kept). */
  private skippedBytes = 0;

  private state: 'header' | 'value' | 'skip' = 'header';
  private readonly hdr = new Uint8Array(12);
  private readonly hdrView = new DataView(this.hdr.buffer);
  private hdrLen = 0;
  private hdrNeed = 8;
  private hdrStart = 0;
  private curTag = 0;
  private curEl: Element | undefined;
  private curIsFragment = false;
  private curLe = true;
  private valueBuf: Uint8Array | undefined;
  private valueFill = 0;
  private remaining = 0;

  constructor(opts: DatasetReaderOptions) {
    const ts = resolveTransferSyntax(opts.transferSyntaxUid);
    this.stopAtPixelData = opts.stopAtPixelData ?? true;
    this.maxValueLength = opts.maxValueLength ?? 64 * 1024;
    this.maxDepth = opts.maxDepth ?? 64;
    this.maxRetained = opts.maxRetainedBytes ?? Number.POSITIVE_INFINITY;
    this.stack = [{ kind: 'dataset', ds: this.dataset, end: undefined, explicit: ts.explicitVr, le: ts.littleEndian, item: false }];
    if (ts.deflated) this.inflater = new SyncInflateRaw();
  }

  /** True once the stop point (top-level Pixel Data) was reached with stopAtPixelData. */
  get done(): boolean {
    return this._done;
  }
  /** Number of bytes of the (inflated) dataset consumed so far. */
  get bytesRead(): number {
    return this.offset;
  }
  /** Number of value bytes skipped as bulk. */
  get bytesSkipped(): number {
    return this.skippedBytes;
  }
  /** Bytes kept so far, as counted against maxRetainedBytes (0 once failed on the cap). */
  get bytesRetained(): number {
    return this.retained;
  }

  push(chunk: Uint8Array): void {
    if (this.failed) throw this.failed;
    if (this._done || chunk.length === 0) return;
    try {
      if (this.inflater) {
        for (const out of this.inflate(chunk, false)) if (!this._done) this.consume(out);
        if (this._done) {
          this.inflater.close();
          this.inflater = undefined;
        }
      } else {
        this.consume(chunk);
      }
    } catch (e) {
      throw this.fail(e);
    }
  }

  end(): void {
    if (this.failed) throw this.failed;
    if (this._done) return;
    try {
      if (this.inflater) {
        const outs = this.inflate(new Uint8Array(0), true);
        this.inflater = undefined;
        for (const out of outs) if (!this._done) this.consume(out);
        if (this._done) return;
      }
      if (this.state !== 'header' || this.hdrLen > 0) {
        throw new DicomParseError(`truncated dataset: input ended inside an element`, { offset: this.offset, tag: this.curTag });
      }
      const open = this.stack.length - 1;
      if (open > 0) {
        const top = this.stack[this.stack.length - 1];
        throw new DicomParseError(`truncated dataset: input ended inside ${open} open sequence/item level(s)`, {
          offset: this.offset,
          tag: top.kind === 'dataset' ? undefined : top.el.tag,
        });
      }
    } catch (e) {
      throw this.fail(e);
    }
  }

  private fail(e: unknown): DicomParseError | DatasetLimitError {
    const err =
      e instanceof DicomParseError || e instanceof DatasetLimitError
        ? e
        : new DicomParseError(`malformed dataset: ${(e as Error)?.message ?? String(e)}`, { offset: this.offset });
    this.failed = err;
    this.inflater?.close();
    this.inflater = undefined;
    if (err instanceof DatasetLimitError) {
      // Refused for its size: nothing of it is worth keeping.
      this.dataset.clear();
      this.stack.length = 1;
      this.valueBuf = undefined;
      this.curEl = undefined;
      this.retained = 0;
    }
    return err;
  }

  /** Counts `bytes` more kept; throws DatasetLimitError past the cap, before anything is allocated. */
  private retain(bytes: number): void {
    this.retained += bytes;
    if (this.retained > this.maxRetained) {
      throw new DatasetLimitError(
        `the dataset's header needs more than the limit of ${this.maxRetained} bytes kept in memory (at ${formatTag(this.curTag)}, offset ${this.hdrStart})`,
        this.maxRetained,
      );
    }
  }

  private inflate(chunk: Uint8Array, finish: boolean): Buffer[] {
    try {
      return this.inflater!.write(chunk, finish);
    } catch (e) {
      const msg = (e as Error).message;
      if (/unexpected end/i.test(msg)) {
        throw new DicomParseError(`truncated deflated dataset: ${msg}`, { offset: this.offset });
      }
      throw new DicomParseError(`invalid deflated dataset: ${msg}`, { offset: this.offset });
    }
  }

  private consume(data: Uint8Array): void {
    let p = 0;
    const n = data.length;
    while (p < n && !this._done) {
      if (this.state === 'header') {
        if (this.hdrLen === 0) this.hdrStart = this.offset;
        const take = Math.min(this.hdrNeed - this.hdrLen, n - p);
        copyBytes(this.hdr, this.hdrLen, data, p, take);
        this.hdrLen += take;
        p += take;
        this.offset += take;
        if (this.hdrLen === this.hdrNeed) this.onHeader();
      } else if (this.state === 'value') {
        const buf = this.valueBuf!;
        const take = Math.min(buf.length - this.valueFill, n - p);
        copyBytes(buf, this.valueFill, data, p, take);
        this.valueFill += take;
        p += take;
        this.offset += take;
        if (this.valueFill === buf.length) this.onValue();
      } else {
        const take = Math.min(this.remaining, n - p);
        this.remaining -= take;
        p += take;
        this.offset += take;
        this.skippedBytes += take;
        if (this.remaining === 0) this.onValue();
      }
    }
  }

  private err(msg: string, tag: number | undefined = this.curTag): DicomParseError {
    return new DicomParseError(msg, { offset: this.hdrStart, tag });
  }

  private nextHeader(): void {
    this.state = 'header';
    this.hdrLen = 0;
    this.hdrNeed = 8;
    this.valueBuf = undefined;
    this.curEl = undefined;
    // Close defined-length items and sequences that end here.
    while (this.stack.length > 1) {
      const top = this.stack[this.stack.length - 1];
      if (top.end === undefined || this.offset < top.end) break;
      if (this.offset > top.end) throw this.err(`element overruns the end of its ${top.kind === 'dataset' ? 'item' : 'sequence'}`);
      this.stack.pop();
    }
  }

  private onHeader(): void {
    const top = this.stack[this.stack.length - 1];
    const le = top.le;
    const dv = this.hdrView;
    const tag = (dv.getUint16(0, le) * 0x10000 + dv.getUint16(2, le)) >>> 0;
    this.curTag = tag;
    if (top.end !== undefined && this.offset > top.end) throw this.err('element header overruns the end of its item');

    if (top.kind !== 'dataset') {
      const length = dv.getUint32(4, le);
      if (tag === Tags.SequenceDelimitationItem) {
        if (top.end !== undefined) throw this.err('sequence delimiter in a defined-length sequence');
        this.stack.pop();
        return this.nextHeader();
      }
      if (tag !== Tags.Item) throw this.err(`expected an item tag (FFFE,E000) in ${top.kind === 'sequence' ? 'sequence' : 'encapsulated pixel data'}`);
      if (top.kind === 'fragments') {
        if (length === UNDEFINED_LENGTH) throw this.err('fragment with undefined length');
        return this.startValue({ tag: top.el.tag, vr: 'OB', length, valueOffset: this.offset }, true, le);
      }
      // A sequence item.
      if (this.stack.length >= this.maxDepth) throw this.err(`sequences nested deeper than ${this.maxDepth}`);
      this.retain(ELEMENT_COST);
      const ds = new Dataset(top.ds);
      top.el.items!.push(ds);
      if (length !== UNDEFINED_LENGTH && top.end !== undefined && this.offset + length > top.end) {
        throw this.err('item length exceeds its sequence');
      }
      this.stack.push({
        kind: 'dataset',
        ds,
        item: true,
        explicit: top.explicit,
        le,
        end: length === UNDEFINED_LENGTH ? undefined : this.offset + length,
      });
      return this.nextHeader();
    }

    // An element in a dataset (top level or item).
    if (tag >>> 16 === 0xfffe) {
      if (tag === Tags.ItemDelimitationItem && top.item && top.end === undefined) {
        this.stack.pop();
        return this.nextHeader();
      }
      throw this.err(`unexpected ${tag === Tags.Item ? 'item' : 'delimiter'} tag in a dataset`);
    }
    let vr: VR;
    let length: number;
    if (top.explicit) {
      const c0 = this.hdr[4],
        c1 = this.hdr[5];
      const known = vrOfBytes(c0, c1);
      if (known === undefined) {
        const code = String.fromCharCode(c0, c1);
        throw this.err(`invalid VR '${c0 >= 0x20 && c0 < 0x7f && c1 >= 0x20 && c1 < 0x7f ? code : `0x${c0.toString(16)}${c1.toString(16)}`}'`);
      }
      vr = known;
      if (VR_INFO[vr].longLength) {
        if (this.hdrNeed === 8) {
          this.hdrNeed = 12;
          return;
        }
        length = dv.getUint32(8, le);
      } else {
        length = dv.getUint16(6, le);
      }
    } else {
      vr = implicitVr(tag, this.signedPixels(top.ds), privateCreator(top.ds, tag));
      length = dv.getUint32(4, le);
    }
    if (top.end !== undefined && this.offset > top.end) throw this.err('element header overruns the end of its item');
    if (length !== UNDEFINED_LENGTH && top.end !== undefined && this.offset + length > top.end) {
      throw this.err(`value length ${length} exceeds the end of its item`);
    }

    if (this.stopAtPixelData && this.stack.length === 1 && STOP_TAGS.has(tag)) {
      top.ds.put({ tag, vr, length, skipped: true, valueOffset: this.offset });
      this._done = true;
      return;
    }

    if (length === UNDEFINED_LENGTH) {
      if (vr === 'SQ' || vr === 'UN' || (!top.explicit && tag !== Tags.PixelData && vr !== 'OB' && vr !== 'OW')) {
        // Sequence; an undefined-length UN is a sequence encoded in implicit VR LE (PS3.5 6.2.2).
        if (this.stack.length >= this.maxDepth) throw this.err(`sequences nested deeper than ${this.maxDepth}`);
        this.retain(ELEMENT_COST);
        const el: Element = { tag, vr: 'SQ', length, items: [] };
        top.ds.put(el);
        const implicitContent = vr === 'UN';
        this.stack.push({
          kind: 'sequence',
          el,
          ds: top.ds,
          end: undefined,
          explicit: implicitContent ? false : top.explicit,
          le: implicitContent ? true : le,
        });
        return this.nextHeader();
      }
      if (vr === 'OB' || vr === 'OW') {
        this.retain(ELEMENT_COST);
        const el: Element = { tag, vr, length, fragments: [] };
        top.ds.put(el);
        this.stack.push({ kind: 'fragments', el, end: undefined, explicit: top.explicit, le });
        return this.nextHeader();
      }
      throw this.err(`undefined length for VR ${vr}`);
    }

    if (vr === 'SQ') {
      this.retain(ELEMENT_COST);
      const el: Element = { tag, vr, length, items: [] };
      top.ds.put(el);
      if (length > 0) {
        if (this.stack.length >= this.maxDepth) throw this.err(`sequences nested deeper than ${this.maxDepth}`);
        this.stack.push({ kind: 'sequence', el, ds: top.ds, end: this.offset + length, explicit: top.explicit, le });
      }
      return this.nextHeader();
    }
    this.startValue({ tag, vr, length, valueOffset: this.offset }, false, le);
  }

  /** Pixel Representation 1 in this dataset (or the top level): 'US or SS' elements are SS. */
  private signedPixels(ds: Dataset): boolean {
    const pr = ds.get(0x00280103) ?? this.dataset.get(0x00280103);
    return pr?.value !== undefined && pr.value.length >= 2 && (pr.value[0] | pr.value[1]) === 1;
  }

  private startValue(el: Element, fragment: boolean, le: boolean): void {
    this.curEl = el;
    this.curIsFragment = fragment;
    this.curLe = le;
    const length = el.length;
    const tooLong = length > this.maxValueLength && (VR_INFO[el.vr].bulk || fragment || length > NON_BULK_LIMIT);
    this.retain(ELEMENT_COST + (tooLong ? 0 : length));
    if (length === 0) {
      this.valueBuf = new Uint8Array(0);
      this.onValue();
    } else if (tooLong) {
      el.skipped = true;
      this.state = 'skip';
      this.remaining = length;
    } else {
      this.valueBuf = new Uint8Array(length);
      this.valueFill = 0;
      this.state = 'value';
    }
  }

  private onValue(): void {
    const el = this.curEl!;
    if (!el.skipped) {
      el.value = this.valueBuf!;
      if (!this.curLe && !this.curIsFragment) swapToLittleEndian(el.value, el.vr);
    }
    const top = this.stack[this.stack.length - 1];
    if (this.curIsFragment) {
      const f = (top as FragmentsFrame).el.fragments!;
      f.push(el.skipped ? { length: el.length, offset: el.valueOffset! } : { length: el.length, offset: el.valueOffset!, value: el.value });
    } else {
      (top as DatasetFrame).ds.put(el);
    }
    this.nextHeader();
  }
}

/**
 * Copies `n` bytes of `data` from `from` into `dst` at `at`: a loop for the few bytes of an
 * element header or a short value, which makes no view (two per element otherwise, for
 * every element of every received header: issue 16), set() for more.
 */
function copyBytes(dst: Uint8Array, at: number, data: Uint8Array, from: number, n: number): void {
  if (n <= 32) {
    for (let i = 0; i < n; i++) dst[at + i] = data[from + i];
  } else {
    dst.set(data.subarray(from, from + n), at);
  }
}

/** Reads a whole dataset held in memory (everything kept unless maxValueLength says otherwise). */
export function readDataset(bytes: Uint8Array, transferSyntaxUid: string, opts: Omit<DatasetReaderOptions, 'transferSyntaxUid'> = {}): Dataset {
  const r = new DatasetHeaderReader({
    transferSyntaxUid,
    stopAtPixelData: false,
    maxValueLength: Number.POSITIVE_INFINITY,
    ...opts,
  });
  r.push(bytes);
  r.end();
  return r.dataset;
}
