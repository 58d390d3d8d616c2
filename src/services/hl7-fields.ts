/**
 * HL7 v2 field values as DICOM values, each with the place it was read from, so an error
 * can name the segment and field (the ACK's ERR-2).
 */
import { Hl7Error, Hl7ErrorCode, type Hl7Location } from '../hl7/errors.js';
import type { Segment } from '../hl7/message.js';

/** A segment with its occurrence number in the message (for locations). */
export interface Placed {
  seg: Segment;
  sequence: number;
}

/** A value and where it came from. `null` value: the HL7 null `""` (delete the value). */
export interface Located {
  value: string | null;
  at: Hl7Location;
}

/** A field (component, subcomponent) of a placed segment; undefined when empty or the segment is absent. */
export function read(p: Placed | undefined, field: number, component = 1, sub = 1, rep = 1): Located | undefined {
  if (!p) return undefined;
  const raw = p.seg.value(field, component, sub, rep).trim();
  if (raw === '') return undefined;
  return { value: raw === '""' ? null : raw, at: { segment: p.seg.name, sequence: p.sequence, field, ...(component > 1 ? { component } : {}) } };
}

/** The first of several candidate places that holds a value. */
export function first(...candidates: (Located | undefined)[]): Located | undefined {
  return candidates.find((c) => c !== undefined);
}

/** No component separators of DICOM PN inside a component ('^', '=', '\'). */
const pnPart = (s: string): string => s.replaceAll('^', ' ').replaceAll('=', ' ').replaceAll('\\', ' ').trim();

function joinPn(family: string, given: string, middle: string, prefix: string, suffix: string): string {
  const parts = [family, given, middle, prefix, suffix].map(pnPart);
  let n = parts.length;
  while (n > 0 && parts[n - 1] === '') n--;
  return parts.slice(0, n).join('^');
}

/** XPN (PID-5: family^given^middle^suffix^prefix) as DICOM PN (family^given^middle^prefix^suffix). */
export function personName(p: Placed | undefined, field: number): Located | undefined {
  if (!p) return undefined;
  const rep = p.seg.field(field)[0];
  if (!rep) return undefined;
  const c = (i: number) => rep[i]?.[0] ?? '';
  if (c(0) === '""') return { value: null, at: { segment: p.seg.name, sequence: p.sequence, field } };
  const value = joinPn(c(0), c(1), c(2), c(4), c(3));
  return value === '' ? undefined : { value, at: { segment: p.seg.name, sequence: p.sequence, field } };
}

/** XCN (PV1-8, OBR-16: id^family^given^middle^suffix^prefix) as DICOM PN. */
export function doctorName(p: Placed | undefined, field: number): Located | undefined {
  if (!p) return undefined;
  const rep = p.seg.field(field)[0];
  if (!rep) return undefined;
  const c = (i: number) => rep[i]?.[0] ?? '';
  const value = joinPn(c(1), c(2), c(3), c(5), c(4));
  return value === '' ? undefined : { value, at: { segment: p.seg.name, sequence: p.sequence, field } };
}

const isDigits = (s: string) => s.length > 0 && [...s].every((ch) => ch >= '0' && ch <= '9');

/**
 * A TS/DTM value (YYYYMMDD[HH[MM[SS[.S...]]]][+/-ZZZZ]) as DICOM DA and TM. The time zone
 * offset is dropped: worklist times are the modality's local times.
 */
export function dateTime(v: Located): { date: string; time?: string } {
  const s = v.value ?? '';
  let end = s.length;
  for (const sign of ['+', '-']) {
    const at = s.indexOf(sign);
    if (at >= 0 && at < end) end = at;
  }
  const body = s.slice(0, end);
  const date = body.slice(0, 8);
  if (date.length !== 8 || !isDigits(date)) {
    throw new Hl7Error(Hl7ErrorCode.DataTypeError, v.at, `"${s}" is not a date YYYYMMDD[HHMM[SS]]`);
  }
  const time = body.slice(8);
  if (time === '') return { date };
  const [whole, fraction] = time.split('.');
  if (!isDigits(whole) || whole.length % 2 !== 0 || whole.length > 6 || (fraction !== undefined && !isDigits(fraction))) {
    throw new Hl7Error(Hl7ErrorCode.DataTypeError, v.at, `"${s}" is not a date and time YYYYMMDDHHMM[SS[.S]]`);
  }
  return { date, time: fraction !== undefined && whole.length === 6 ? `${whole}.${fraction.slice(0, 6)}` : whole };
}

/** HL7 table 0001 (administrative sex) as DICOM Patient's Sex; U (unknown) and N (not applicable) as no value. */
export function sex(v: Located): 'M' | 'F' | 'O' | undefined {
  const s = (v.value ?? '').toUpperCase();
  if (s === 'M' || s === 'F' || s === 'O') return s;
  if (s === 'A') return 'O';
  if (s === 'U' || s === 'N') return undefined;
  throw new Hl7Error(Hl7ErrorCode.TableValueNotFound, v.at, `"${v.value}" is not an administrative sex (M, F, O, A, U, N)`);
}

/** The segments of a message with their occurrence numbers. */
export function placed(segments: readonly Segment[]): Placed[] {
  const seen = new Map<string, number>();
  return segments.map((seg) => {
    const sequence = (seen.get(seg.name) ?? 0) + 1;
    seen.set(seg.name, sequence);
    return { seg, sequence };
  });
}
