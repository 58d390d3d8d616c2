// Incremental PDU framer: fed socket chunks, yields whole PDUs (type + body), or, with
// nextData(), the PDV data of a P-DATA-TF as it arrives: pieces that are views of the
// chunks, so that a receiver that reuses its read buffer copies nothing but the headers
// a read cuts in two (issue 16). It holds at most the PDU being assembled (other than
// P-DATA-TF) plus the rest of the last chunk; it never buffers a whole DIMSE message.
import { PduDecodeError, ProtocolError } from './errors.js';
import { AbortReason } from './reasons.js';
import { decodePdvItemHeader, PDU_HEADER_LENGTH, PDV_HEADER_LENGTH, pduTypeName } from './pdu-codec.js';
import type { Pdv } from './pdu.js';

export interface FramedPdu {
  typeCode: number;
  /** The bytes after the 6-byte PDU header. */
  body: Buffer;
}

/** What nextData() gives: a whole PDU other than P-DATA-TF, or the PDV pieces of a P-DATA-TF received so far. */
export type FramedData = { kind: 'pdu'; typeCode: number; body: Buffer } | { kind: 'pdata'; pdvs: Pdv[] };

const P_DATA_TF = 0x04;
/** The data of an empty PDV item (never written to). */
const EMPTY = Buffer.alloc(0);

export interface PduFramerOptions {
  /** Largest P-DATA-TF PDU length (the length field) we accept: the Maximum Length we announce. 0 = no limit. */
  maxPduLength: number;
  /** Largest A-ASSOCIATE-RQ/AC PDU we accept. Default 1 MiB. */
  maxAssociatePduLength?: number;
}

/** P-DATA-TF PDUs may exceed the announced length by one PDV item header; some peers count that way. */
const PDATA_TOLERANCE = 6;
/** Fixed-size PDUs (RJ, release, abort) have length 4; anything far above is garbage. */
const MAX_SMALL_PDU_LENGTH = 1024;

export class PduFramer {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private header: { typeCode: number; length: number } | undefined;
  /** Bytes of the current P-DATA-TF's body not yet taken by nextData() (0: not inside one). */
  private pdataLeft = 0;
  /** The PDV item being taken by nextData(), and its data bytes still to come. */
  private item: { contextId: number; isCommand: boolean; isLast: boolean; left: number } | undefined;
  private readonly maxPdata: number;
  private readonly maxAssociate: number;

  constructor(opts: PduFramerOptions) {
    this.maxPdata = opts.maxPduLength > 0 ? opts.maxPduLength + PDATA_TOLERANCE : Number.MAX_SAFE_INTEGER;
    this.maxAssociate = opts.maxAssociatePduLength ?? 1024 * 1024;
  }

  /** Bytes currently held. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /**
   * Copies what is held of the last chunk pushed, for a caller that reuses that chunk's
   * memory: called after each push() once next()/nextData() have taken what they could,
   * it leaves every earlier chunk already copied, so only the last can be a view.
   */
  ownLastChunk(): void {
    const last = this.chunks.length - 1;
    if (last >= 0) this.chunks[last] = Buffer.from(this.chunks[last]);
  }

  /**
   * The next whole PDU, or null when more bytes are needed. Throws ProtocolError for an
   * unrecognized PDU type or a PDU longer than allowed; the stream is unusable afterwards.
   */
  next(): FramedPdu | null {
    const header = this.currentHeader();
    if (!header || this.buffered < PDU_HEADER_LENGTH + header.length) return null;
    this.header = undefined;
    const whole = this.take(PDU_HEADER_LENGTH + header.length);
    return { typeCode: header.typeCode, body: whole.subarray(PDU_HEADER_LENGTH) };
  }

  /**
   * The next whole PDU other than P-DATA-TF, or the PDV data of the current P-DATA-TF
   * received so far, as pieces that are views of the chunks (no copy): each PDV item's data
   * may come in several pieces, of which only the final one carries the item's last-fragment
   * flag. Null when more bytes are needed. Throws ProtocolError for a PDU it cannot frame
   * and PduDecodeError for a malformed PDV item; the stream is unusable afterwards.
   */
  nextData(): FramedData | null {
    if (this.pdataLeft > 0) return this.pdataPieces();
    const header = this.currentHeader();
    if (!header) return null;
    if (header.typeCode === P_DATA_TF) {
      if (header.length === 0) throw new PduDecodeError('P-DATA-TF without any PDV item');
      this.header = undefined;
      this.skip(PDU_HEADER_LENGTH);
      this.pdataLeft = header.length;
      return this.pdataPieces();
    }
    if (this.buffered < PDU_HEADER_LENGTH + header.length) return null;
    this.header = undefined;
    const whole = this.take(PDU_HEADER_LENGTH + header.length);
    return { kind: 'pdu', typeCode: header.typeCode, body: whole.subarray(PDU_HEADER_LENGTH) };
  }

  /** The PDV pieces of the current P-DATA-TF that have arrived (the checks of the whole-PDU decoder, in stream order). */
  private pdataPieces(): FramedData | null {
    const pdvs: Pdv[] = [];
    while (this.pdataLeft > 0) {
      if (!this.item) {
        // Too short for an item length: fails at once, without waiting for those bytes.
        const need = this.pdataLeft < 4 ? 0 : Math.min(PDV_HEADER_LENGTH, this.pdataLeft);
        if (this.buffered < need) break;
        // Built field by field, not by rest and spread: one shape for every item, so the
        // per-PDV code stays monomorphic (spread objects cost an IC miss each, issue 16).
        const h = decodePdvItemHeader(need > 0 ? this.peek(need) : EMPTY, 0, this.pdataLeft);
        this.item = { contextId: h.contextId, isCommand: h.isCommand, isLast: h.isLast, left: h.dataLength };
        this.skip(PDV_HEADER_LENGTH);
        this.pdataLeft -= PDV_HEADER_LENGTH;
        if (this.item.left === 0) {
          pdvs.push({ contextId: this.item.contextId, isCommand: this.item.isCommand, isLast: this.item.isLast, data: EMPTY });
          this.item = undefined;
        }
        continue;
      }
      if (this.buffered === 0) break;
      const item = this.item;
      const n = Math.min(item.left, this.buffered);
      item.left -= n;
      this.pdataLeft -= n;
      for (const data of this.takeParts(n)) pdvs.push({ contextId: item.contextId, isCommand: item.isCommand, isLast: false, data });
      if (item.left === 0) {
        pdvs[pdvs.length - 1].isLast = item.isLast;
        this.item = undefined;
      }
    }
    return pdvs.length > 0 ? { kind: 'pdata', pdvs } : null;
  }

  /** The header of the PDU being assembled, read and checked once (type known, length within its limit). */
  private currentHeader(): { typeCode: number; length: number } | undefined {
    if (this.header) return this.header;
    if (this.buffered < PDU_HEADER_LENGTH) return undefined;
    const h = this.peek(PDU_HEADER_LENGTH);
    const typeCode = h[0];
    const length = h.readUInt32BE(2);
    const name = pduTypeName(typeCode);
    if (!name) throw new ProtocolError(`unrecognized PDU type 0x${typeCode.toString(16).padStart(2, '0')}`, AbortReason.UnrecognizedPdu);
    const limit = name === 'P-DATA-TF' ? this.maxPdata : name === 'A-ASSOCIATE-RQ' || name === 'A-ASSOCIATE-AC' ? this.maxAssociate : MAX_SMALL_PDU_LENGTH;
    if (length > limit) {
      throw new ProtocolError(`${name} PDU length ${length} exceeds the maximum accepted (${limit})`, AbortReason.InvalidPduParameterValue);
    }
    this.header = { typeCode, length };
    return this.header;
  }

  /** The next `n` held bytes, as views of the chunks. */
  private takeParts(n: number): Buffer[] {
    const out: Buffer[] = [];
    this.consume(n, out);
    return out;
  }

  /** Drops `n` held bytes (a PDU or PDV item header): no views made of them. */
  private skip(n: number): void {
    this.consume(n);
  }

  /** Takes `n` held bytes off the front, their views into `out` if given. */
  private consume(n: number, out?: Buffer[]): void {
    this.buffered -= n;
    while (n > 0) {
      const c = this.chunks[0];
      if (c.length <= n) {
        out?.push(c);
        this.chunks.shift();
        n -= c.length;
      } else {
        out?.push(c.subarray(0, n));
        this.chunks[0] = c.subarray(n);
        n = 0;
      }
    }
  }

  private peek(n: number): Buffer {
    const first = this.chunks[0];
    if (first.length >= n) return first;
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    for (const c of this.chunks) {
      filled += c.copy(out, filled, 0, Math.min(c.length, n - filled));
      if (filled === n) break;
    }
    return out;
  }

  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0];
      const k = Math.min(c.length, n - filled);
      c.copy(out, filled, 0, k);
      filled += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }
}
