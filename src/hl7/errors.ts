/**
 * HL7 v2 errors: each carries the HL7 error code (table 0357) and the place in the message
 * it concerns, which the ACK's ERR segment reports (ERR-2 location, ERR-3 code).
 */

/** HL7 table 0357, Message error condition codes. */
export const Hl7ErrorCode = {
  SegmentSequenceError: 100,
  RequiredFieldMissing: 101,
  DataTypeError: 102,
  TableValueNotFound: 103,
  ValueTooLong: 104,
  UnsupportedMessageType: 200,
  UnsupportedEventCode: 201,
  UnsupportedProcessingId: 202,
  UnsupportedVersionId: 203,
  UnknownKeyIdentifier: 204,
  DuplicateKeyIdentifier: 205,
  ApplicationRecordLocked: 206,
  ApplicationInternalError: 207,
} as const;
export type Hl7ErrorCode = (typeof Hl7ErrorCode)[keyof typeof Hl7ErrorCode];

const CODE_TEXT: Record<Hl7ErrorCode, string> = {
  100: 'Segment sequence error',
  101: 'Required field missing',
  102: 'Data type error',
  103: 'Table value not found',
  104: 'Value too long',
  200: 'Unsupported message type',
  201: 'Unsupported event code',
  202: 'Unsupported processing id',
  203: 'Unsupported version id',
  204: 'Unknown key identifier',
  205: 'Duplicate key identifier',
  206: 'Application record locked',
  207: 'Application internal error',
};
export const hl7ErrorText = (code: Hl7ErrorCode): string => CODE_TEXT[code];

/** Where in a message (HL7 data type ERL): segment ID, its occurrence, field, component (1-based). */
export interface Hl7Location {
  segment: string;
  /** Which occurrence of the segment (default 1). */
  sequence?: number;
  field?: number;
  repetition?: number;
  component?: number;
}

/** "PID-5", "PID-3.4", "ORC": the location as people write it. */
export function locationText(l: Hl7Location): string {
  if (l.field === undefined) return l.segment;
  return `${l.segment}-${l.field}${l.component !== undefined ? `.${l.component}` : ''}`;
}

/**
 * The message could not be accepted: `reject` (AR) when the message as a whole is not one we
 * take (its header, type, version, processing ID, framing), else an application error (AE).
 */
export class Hl7Error extends Error {
  constructor(
    readonly code: Hl7ErrorCode,
    readonly location: Hl7Location,
    message: string,
    readonly reject = false,
  ) {
    super(`${locationText(location)}: ${message}`);
    this.name = 'Hl7Error';
  }
}
