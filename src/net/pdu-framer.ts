// Incremental PDU framer: fed socket chunks, yields whole PDUs (type + body). It holds
// at most the PDU being assembled plus the rest of the last chunk; it never buffers a
// whole DIMSE message. A PDU that fits in one chunk is returned as a view (no copy).
import { ProtocolError } from './errors.js';
import { AbortReason } from './reasons.js';
import { PDU_HEADER_LENGTH, pduTypeName } from './pdu-codec.js';

export interface FramedPdu {
  typeCode: number;
  /** The bytes after the 6-byte PDU header. */
  body: Buffer;
}

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
   * memory: called after each push() once next()/nextParts() have taken what they could,
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
   * Like next(), but the body comes as the pieces it arrived in (no copy; at least one
   * piece, possibly empty): a P-DATA-TF spanning several socket reads is not copied
   * together (see decodePDataTfParts).
   */
  nextParts(): { typeCode: number; parts: Buffer[] } | null {
    const header = this.currentHeader();
    if (!header || this.buffered < PDU_HEADER_LENGTH + header.length) return null;
    this.header = undefined;
    this.takeParts(PDU_HEADER_LENGTH); // the header itself
    return { typeCode: header.typeCode, parts: header.length === 0 ? [Buffer.alloc(0)] : this.takeParts(header.length) };
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

  private takeParts(n: number): Buffer[] {
    this.buffered -= n;
    const out: Buffer[] = [];
    while (n > 0) {
      const c = this.chunks[0];
      if (c.length <= n) {
        out.push(c);
        this.chunks.shift();
        n -= c.length;
      } else {
        out.push(c.subarray(0, n));
        this.chunks[0] = c.subarray(n);
        n = 0;
      }
    }
    return out;
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
