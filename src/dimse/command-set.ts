/**
 * DIMSE command sets (PS3.7 6.3, E.1): always implicit VR little endian, group 0000.
 * Small by nature, so they are parsed and built whole.
 */
import { DimseProtocolError } from './errors.js';

export interface CommandSet {
  commandField: number;
  commandDataSetType: number;
  messageId?: number;
  messageIdBeingRespondedTo?: number;
  affectedSopClassUid?: string;
  requestedSopClassUid?: string;
  affectedSopInstanceUid?: string;
  requestedSopInstanceUid?: string;
  moveDestination?: string;
  priority?: number;
  status?: number;
  offendingElement?: number[];
  errorComment?: string;
  errorId?: number;
  eventTypeId?: number;
  attributeIdentifierList?: number[];
  actionTypeId?: number;
  remaining?: number;
  completed?: number;
  failed?: number;
  warning?: number;
  moveOriginatorAeTitle?: string;
  moveOriginatorMessageId?: number;
}

type Vr = 'UL' | 'US' | 'UI' | 'AE' | 'LO' | 'AT';
type Field = Exclude<keyof CommandSet, never>;

/** Element number (group 0000) -> field and VR, in ascending element order for encoding. */
const ELEMENTS: ReadonlyArray<[number, Field, Vr]> = [
  [0x0002, 'affectedSopClassUid', 'UI'],
  [0x0003, 'requestedSopClassUid', 'UI'],
  [0x0100, 'commandField', 'US'],
  [0x0110, 'messageId', 'US'],
  [0x0120, 'messageIdBeingRespondedTo', 'US'],
  [0x0600, 'moveDestination', 'AE'],
  [0x0700, 'priority', 'US'],
  [0x0800, 'commandDataSetType', 'US'],
  [0x0900, 'status', 'US'],
  [0x0901, 'offendingElement', 'AT'],
  [0x0902, 'errorComment', 'LO'],
  [0x0903, 'errorId', 'US'],
  [0x1000, 'affectedSopInstanceUid', 'UI'],
  [0x1001, 'requestedSopInstanceUid', 'UI'],
  [0x1002, 'eventTypeId', 'US'],
  [0x1005, 'attributeIdentifierList', 'AT'],
  [0x1008, 'actionTypeId', 'US'],
  [0x1020, 'remaining', 'US'],
  [0x1021, 'completed', 'US'],
  [0x1022, 'failed', 'US'],
  [0x1023, 'warning', 'US'],
  [0x1030, 'moveOriginatorAeTitle', 'AE'],
  [0x1031, 'moveOriginatorMessageId', 'US'],
];
const BY_ELEMENT = new Map(ELEMENTS.map(([el, field, vr]) => [el, { field, vr }]));

/** Byte length of an encoded value (strings padded to even length). */
function valueLength(vr: Vr, value: unknown): number {
  switch (vr) {
    case 'US':
      return 2;
    case 'UL':
      return 4;
    case 'AT':
      return (value as number[]).length * 4;
    default: {
      const n = String(value).length;
      return n + (n & 1);
    }
  }
}

function writeValue(b: Buffer, o: number, vr: Vr, value: unknown, length: number): void {
  switch (vr) {
    case 'US':
      b.writeUInt16LE(Number(value) & 0xffff, o);
      return;
    case 'UL':
      b.writeUInt32LE(Number(value) >>> 0, o);
      return;
    case 'AT': {
      const tags = value as number[];
      for (let i = 0; i < tags.length; i++) {
        b.writeUInt16LE(tags[i] >>> 16, o + i * 4);
        b.writeUInt16LE(tags[i] & 0xffff, o + i * 4 + 2);
      }
      return;
    }
    default: {
      const s = String(value);
      b.write(s, o, s.length, 'latin1');
      // UIDs pad with NUL, other strings with space (PS3.5 6.2).
      if (s.length < length) b[o + s.length] = vr === 'UI' ? 0x00 : 0x20;
    }
  }
}

/** Encodes a command set with its (0000,0000) group length first, into one buffer. */
export function encodeCommandSet(cmd: CommandSet): Buffer {
  let length = 0;
  for (const [, field, vr] of ELEMENTS) {
    const value = cmd[field];
    if (value !== undefined) length += 8 + valueLength(vr, value);
  }
  const b = Buffer.allocUnsafe(12 + length);
  b.writeUInt32LE(0x00000000, 0);
  b.writeUInt32LE(4, 4);
  b.writeUInt32LE(length, 8);
  let o = 12;
  for (const [element, field, vr] of ELEMENTS) {
    const value = cmd[field];
    if (value === undefined) continue;
    const n = valueLength(vr, value);
    b.writeUInt16LE(0x0000, o);
    b.writeUInt16LE(element, o + 2);
    b.writeUInt32LE(n, o + 4);
    writeValue(b, o + 8, vr, value, n);
    o += 8 + n;
  }
  return b;
}

function decodeString(bytes: Buffer): string {
  return bytes
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .replace(/^ +/, '');
}

/** Parses a command set; throws DimseProtocolError naming what is wrong. */
export function decodeCommandSet(bytes: Buffer): CommandSet {
  const out: Record<string, unknown> = {};
  let pos = 0;
  while (pos < bytes.length) {
    if (pos + 8 > bytes.length) throw new DimseProtocolError(`command set truncated at byte ${pos}`);
    const group = bytes.readUInt16LE(pos);
    const element = bytes.readUInt16LE(pos + 2);
    const length = bytes.readUInt32LE(pos + 4);
    pos += 8;
    if (group !== 0x0000) {
      throw new DimseProtocolError(`command set holds an element outside group 0000: (${hex(group)},${hex(element)})`);
    }
    if (length > bytes.length - pos) {
      throw new DimseProtocolError(`command element (0000,${hex(element)}) length ${length} runs past the end`);
    }
    const value = bytes.subarray(pos, pos + length);
    pos += length;
    const known = BY_ELEMENT.get(element);
    if (!known) continue; // group length and retired elements are ignored
    out[known.field] = decodeValue(known.vr, value, element);
  }
  if (out.commandField === undefined) throw new DimseProtocolError('command set has no Command Field (0000,0100)');
  if (out.commandDataSetType === undefined) {
    throw new DimseProtocolError('command set has no Command Data Set Type (0000,0800)');
  }
  return out as unknown as CommandSet;
}

function decodeValue(vr: Vr, value: Buffer, element: number): string | number | number[] {
  const fixed = vr === 'US' ? 2 : vr === 'UL' ? 4 : 0;
  if (fixed && value.length !== fixed) {
    throw new DimseProtocolError(`command element (0000,${hex(element)}) ${vr} has length ${value.length}, expected ${fixed}`);
  }
  switch (vr) {
    case 'US':
      return value.readUInt16LE(0);
    case 'UL':
      return value.readUInt32LE(0);
    case 'AT': {
      if (value.length % 4) throw new DimseProtocolError(`command element (0000,${hex(element)}) AT length ${value.length}`);
      const tags: number[] = [];
      for (let i = 0; i < value.length; i += 4) tags.push(((value.readUInt16LE(i) << 16) | value.readUInt16LE(i + 2)) >>> 0);
      return tags;
    }
    default:
      return decodeString(value);
  }
}

const hex = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0');

export function hasDataset(cmd: CommandSet): boolean {
  return cmd.commandDataSetType !== 0x0101;
}
