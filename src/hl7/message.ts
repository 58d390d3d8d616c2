/**
 * HL7 v2 message parsing (HL7 v2.5.1 chapter 2.5-2.7): segments, fields, repetitions,
 * components, subcomponents and the escape sequences \F\ \S\ \T\ \R\ \E\ (and \Xhh\, \.br\),
 * with the delimiters the message declares in MSH-1 and MSH-2.
 *
 * Every step is a split on one character or a scan for the next escape character: linear
 * in the input, no regular expression. Segments keep their fields as text and split a field
 * only when it is read, so a message costs about its own size in memory; the number of
 * segments and of fields is capped as well (a message of 1 MiB of "|" is 1 M fields).
 */
import { Hl7Error, Hl7ErrorCode } from './errors.js';

export interface Delimiters {
  field: string;
  component: string;
  repetition: string;
  escape: string;
  subcomponent: string;
}

/** The delimiters nearly every sender uses, and the ones our ACKs use: MSH|^~\&| */
export const DEFAULT_DELIMITERS: Delimiters = { field: '|', component: '^', repetition: '~', escape: '\\', subcomponent: '&' };

export interface ParseLimits {
  /** Longest message, in characters. */
  maxChars: number;
  maxSegments: number;
  /** Fields of all segments together. */
  maxFields: number;
}

export const DEFAULT_PARSE_LIMITS: ParseLimits = { maxChars: 1024 * 1024, maxSegments: 10_000, maxFields: 100_000 };

const isAlnum = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isUpperAlnum = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a);

/** Why `ch` cannot be a delimiter, or undefined. */
function delimiterProblem(ch: string | undefined): string | undefined {
  if (ch === undefined || ch === '') return 'is missing';
  const c = ch.charCodeAt(0);
  if (isAlnum(c)) return `may not be a letter or digit ("${ch}")`;
  if (c < 0x21 || c === 0x7f) return `may not be a space or control character (0x${c.toString(16).padStart(2, '0')})`;
  return undefined;
}

/** Reads MSH-1 and MSH-2 from the start of a message. */
export function readDelimiters(text: string): Delimiters {
  if (!text.startsWith('MSH')) {
    throw new Hl7Error(Hl7ErrorCode.SegmentSequenceError, { segment: 'MSH' }, 'a message must begin with an MSH segment', true);
  }
  const field = text[3];
  const p = delimiterProblem(field);
  if (p) throw new Hl7Error(Hl7ErrorCode.DataTypeError, { segment: 'MSH', field: 1 }, `the field separator ${p}`, true);
  const end = text.indexOf(field, 4);
  const enc = end < 0 ? text.slice(4) : text.slice(4, end);
  // Four encoding characters; v2.7 adds a fifth (truncation), which we accept and ignore.
  if (enc.length < 4 || enc.length > 5) {
    throw new Hl7Error(
      Hl7ErrorCode.DataTypeError,
      { segment: 'MSH', field: 2 },
      `the encoding characters must be 4 (component, repetition, escape, subcomponent), got ${enc.length}`,
      true,
    );
  }
  const seen = new Set([field]);
  for (let i = 0; i < enc.length; i++) {
    const ch = enc[i];
    const q = delimiterProblem(ch);
    if (q) throw new Hl7Error(Hl7ErrorCode.DataTypeError, { segment: 'MSH', field: 2 }, `encoding character ${i + 1} ${q}`, true);
    if (ch === '\r' || ch === '\n' || seen.has(ch)) {
      throw new Hl7Error(Hl7ErrorCode.DataTypeError, { segment: 'MSH', field: 2 }, `the delimiter "${ch}" is used twice`, true);
    }
    seen.add(ch);
  }
  return { field, component: enc[0], repetition: enc[1], escape: enc[2], subcomponent: enc[3] };
}

/** Decodes escape sequences; an unknown or formatting sequence is dropped, an unterminated one kept as text. */
export function unescapeValue(s: string, d: Delimiters): string {
  let at = s.indexOf(d.escape);
  if (at < 0) return s;
  let out = '';
  let from = 0;
  while (at >= 0) {
    const end = s.indexOf(d.escape, at + 1);
    if (end < 0) break;
    out += s.slice(from, at);
    const seq = s.slice(at + 1, end);
    if (seq === 'F') out += d.field;
    else if (seq === 'S') out += d.component;
    else if (seq === 'T') out += d.subcomponent;
    else if (seq === 'R') out += d.repetition;
    else if (seq === 'E') out += d.escape;
    else if (seq === '.br') out += '\n';
    else if (seq.length > 1 && seq[0] === 'X') out += hexText(seq.slice(1));
    // H, N (highlighting), C/M (character set switches), Z (local) and the rest: no text.
    from = end + 1;
    at = s.indexOf(d.escape, from);
  }
  return out + s.slice(from);
}

function hexText(hex: string): string {
  if (hex.length % 2 !== 0) return '';
  for (let i = 0; i < hex.length; i++) {
    const c = hex.charCodeAt(i) | 0x20;
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return '';
  }
  return Buffer.from(hex, 'hex').toString('latin1');
}

/** Encodes a value for a message with delimiters `d` (our ACKs): delimiters escaped, line breaks as \X0D\ \X0A\. */
export function escapeValue(s: string, d: Delimiters = DEFAULT_DELIMITERS): string {
  let out = '';
  for (const ch of s) {
    if (ch === d.escape) out += `${d.escape}E${d.escape}`;
    else if (ch === d.field) out += `${d.escape}F${d.escape}`;
    else if (ch === d.component) out += `${d.escape}S${d.escape}`;
    else if (ch === d.subcomponent) out += `${d.escape}T${d.escape}`;
    else if (ch === d.repetition) out += `${d.escape}R${d.escape}`;
    else if (ch === '\r') out += `${d.escape}X0D${d.escape}`;
    else if (ch === '\n') out += `${d.escape}X0A${d.escape}`;
    else out += ch;
  }
  return out;
}

/** One field: its repetitions, each a list of components, each a list of subcomponents (unescaped). */
export type FieldValue = string[][][];

export class Segment {
  constructor(
    /** Three upper-case letters or digits: MSH, PID, ORC... */
    readonly name: string,
    /** Raw (still escaped) text of each field; index = field number (0 is the name). */
    private readonly fields: readonly string[],
    private readonly d: Delimiters,
  ) {}

  /** The number of the last field present. */
  get fieldCount(): number {
    return this.fields.length - 1;
  }

  /** Raw text of field `n` ('' when absent). */
  raw(n: number): string {
    return this.fields[n] ?? '';
  }

  /** Field `n` split and unescaped (MSH-1 and MSH-2 are returned as one literal value). */
  field(n: number): FieldValue {
    const raw = this.raw(n);
    if (raw === '') return [];
    if (this.name === 'MSH' && n <= 2) return [[[raw]]];
    const d = this.d;
    return raw.split(d.repetition).map((rep) => rep.split(d.component).map((c) => c.split(d.subcomponent).map((s) => unescapeValue(s, d))));
  }

  /** Field `n`, component `c`, subcomponent `s` of repetition `r` (all 1-based), unescaped; '' when absent. */
  value(n: number, c = 1, s = 1, r = 1): string {
    return this.field(n)[r - 1]?.[c - 1]?.[s - 1] ?? '';
  }

  /** The number of repetitions of field `n`. */
  repetitionCount(n: number): number {
    return this.field(n).length;
  }
}

export interface MessageType {
  /** MSH-9.1: ORM, OMI, ADT, ... */
  code: string;
  /** MSH-9.2: O01, O23, A08, ... */
  event: string;
  /** MSH-9.3 when given. */
  structure: string;
}

export class Hl7Message {
  constructor(
    readonly segments: readonly Segment[],
    readonly delimiters: Delimiters,
  ) {}

  get msh(): Segment {
    return this.segments[0];
  }

  /** The `nth` (1-based) segment named `name`. */
  segment(name: string, nth = 1): Segment | undefined {
    let seen = 0;
    for (const s of this.segments) if (s.name === name && ++seen === nth) return s;
    return undefined;
  }

  get type(): MessageType {
    return { code: this.msh.value(9, 1), event: this.msh.value(9, 2), structure: this.msh.value(9, 3) };
  }

  /** MSH-10, Message Control ID: what the ACK's MSA-2 echoes. */
  get controlId(): string {
    return this.msh.value(10);
  }
}

/**
 * Parses one message. Segments end with CR (the standard); LF and CR LF are taken too, as
 * files and some senders use them. Throws Hl7Error naming the segment and field.
 */
export function parseHl7(text: string, limits: ParseLimits = DEFAULT_PARSE_LIMITS): Hl7Message {
  if (text.length > limits.maxChars) {
    throw new Hl7Error(Hl7ErrorCode.ApplicationInternalError, { segment: 'MSH' }, `the message is longer than ${limits.maxChars} characters`, true);
  }
  const d = readDelimiters(text);
  const segments: Segment[] = [];
  const occurrences = new Map<string, number>();
  let fieldCount = 0;
  for (const line of text.split('\r')) {
    for (const seg of line.split('\n')) {
      if (seg === '') continue;
      if (segments.length >= limits.maxSegments) {
        throw new Hl7Error(Hl7ErrorCode.ApplicationInternalError, { segment: 'MSH' }, `the message has more than ${limits.maxSegments} segments`, true);
      }
      const name = seg.slice(0, 3);
      const sequence = (occurrences.get(name) ?? 0) + 1;
      occurrences.set(name, sequence);
      if (name.length !== 3 || !isUpperAlnum(name.charCodeAt(0)) || !isUpperAlnum(name.charCodeAt(1)) || !isUpperAlnum(name.charCodeAt(2))) {
        throw new Hl7Error(
          Hl7ErrorCode.SegmentSequenceError,
          { segment: printable(name), sequence: segments.length + 1 },
          `segment ${segments.length + 1} has no valid segment ID (three upper-case letters or digits)`,
          true,
        );
      }
      if (seg.length > 3 && seg[3] !== d.field) {
        throw new Hl7Error(
          Hl7ErrorCode.SegmentSequenceError,
          { segment: name, sequence },
          `the segment ID must be followed by the field separator "${d.field}"`,
          true,
        );
      }
      if (name === 'MSH' && segments.length > 0) {
        throw new Hl7Error(Hl7ErrorCode.SegmentSequenceError, { segment: 'MSH', sequence }, 'a second MSH segment (batches are not supported)', true);
      }
      let fields = seg.split(d.field);
      if (name === 'MSH') fields = ['MSH', d.field, ...fields.slice(1)];
      fieldCount += fields.length;
      if (fieldCount > limits.maxFields) {
        throw new Hl7Error(Hl7ErrorCode.ApplicationInternalError, { segment: name, sequence }, `the message has more than ${limits.maxFields} fields`, true);
      }
      segments.push(new Segment(name, fields, d));
    }
  }
  return new Hl7Message(segments, d);
}

/** A segment ID from hostile text, fit to print in an error. */
function printable(s: string): string {
  let out = '';
  for (const ch of s) out += ch.charCodeAt(0) >= 0x20 && ch.charCodeAt(0) < 0x7f ? ch : '?';
  return out || '?';
}

export type Hl7Encoding = 'utf8' | 'latin1';

/**
 * The text of a message's bytes: ISO 8859-1 when MSH-18 says 8859/1, else UTF-8 (which
 * ASCII, the default, is a part of), falling back to ISO 8859-1 for bytes that are not UTF-8.
 */
export function decodeHl7Bytes(bytes: Buffer): { text: string; encoding: Hl7Encoding } {
  const head = bytes.subarray(0, Math.min(bytes.length, 4096)).toString('latin1');
  let stop = head.length;
  for (const end of [head.indexOf('\r'), head.indexOf('\n')]) if (end >= 0 && end < stop) stop = end;
  const first = head.slice(0, stop);
  const charset = first.startsWith('MSH') && first.length > 3 ? (first.split(first[3])[17] ?? '') : '';
  if (
    charset
      .split(first[4] ?? '^')[0]
      .trim()
      .toUpperCase() === '8859/1'
  )
    return { text: bytes.toString('latin1'), encoding: 'latin1' };
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), encoding: 'utf8' };
  } catch {
    return { text: bytes.toString('latin1'), encoding: 'latin1' };
  }
}
