/** DIMSE command field values (PS3.7 E.1-1) and names. */
export const CommandField = {
  C_STORE_RQ: 0x0001,
  C_STORE_RSP: 0x8001,
  C_GET_RQ: 0x0010,
  C_GET_RSP: 0x8010,
  C_FIND_RQ: 0x0020,
  C_FIND_RSP: 0x8020,
  C_MOVE_RQ: 0x0021,
  C_MOVE_RSP: 0x8021,
  C_ECHO_RQ: 0x0030,
  C_ECHO_RSP: 0x8030,
  N_EVENT_REPORT_RQ: 0x0100,
  N_EVENT_REPORT_RSP: 0x8100,
  N_GET_RQ: 0x0110,
  N_GET_RSP: 0x8110,
  N_SET_RQ: 0x0120,
  N_SET_RSP: 0x8120,
  N_ACTION_RQ: 0x0130,
  N_ACTION_RSP: 0x8130,
  N_CREATE_RQ: 0x0140,
  N_CREATE_RSP: 0x8140,
  N_DELETE_RQ: 0x0150,
  N_DELETE_RSP: 0x8150,
  C_CANCEL_RQ: 0x0fff,
} as const;

export type CommandFieldValue = (typeof CommandField)[keyof typeof CommandField];

const names = new Map<number, string>(
  Object.entries(CommandField).map(([k, v]) => [v, k.replace(/_/g, '-').replace(/-(RQ|RSP)$/, '-$1')]),
);

export function commandName(field: number): string {
  return names.get(field) ?? `unknown command 0x${field.toString(16).padStart(4, '0')}`;
}

export const isResponse = (field: number): boolean => (field & 0x8000) !== 0 && field !== CommandField.C_CANCEL_RQ;

/** (0000,0800) value meaning "no data set follows"; any other value means one does. */
export const NO_DATASET = 0x0101;
export const DATASET_PRESENT = 0x0000;

/** DIMSE statuses used across services (PS3.7 C, PS3.4 per service). */
export const Status = {
  Success: 0x0000,
  Pending: 0xff00,
  PendingWarning: 0xff01,
  Cancel: 0xfe00,
  Warning: 0x0001,
  CoercionOfDataElements: 0xb000,
  ElementsDiscarded: 0xb006,
  DataSetDoesNotMatchSopClassWarning: 0xb007,
  OutOfResources: 0xa700,
  DataSetDoesNotMatchSopClass: 0xa900,
  CannotUnderstand: 0xc000,
  SopClassNotSupported: 0x0122,
  ClassInstanceConflict: 0x0119,
  DuplicateSopInstance: 0x0111,
  DuplicateInvocation: 0x0210,
  InvalidArgumentValue: 0x0115,
  InvalidAttributeValue: 0x0106,
  InvalidObjectInstance: 0x0117,
  MissingAttribute: 0x0120,
  MistypedArgument: 0x0212,
  NoSuchSopClass: 0x0118,
  NoSuchSopInstance: 0x0112,
  NoSuchActionType: 0x0123,
  ProcessingFailure: 0x0110,
  UnrecognizedOperation: 0x0211,
  NotAuthorized: 0x0124,
  UnableToProcess: 0xc001,
  MoveDestinationUnknown: 0xa801,
} as const;

export type StatusKind = 'success' | 'pending' | 'cancel' | 'warning' | 'failure';

/** Classifies a status code per PS3.7 Annex C. */
export function statusKind(status: number): StatusKind {
  if (status === 0x0000) return 'success';
  if (status === 0xff00 || status === 0xff01) return 'pending';
  if (status === 0xfe00) return 'cancel';
  if (status === 0x0001 || status === 0x0107 || status === 0x0116 || (status & 0xf000) === 0xb000) return 'warning';
  return 'failure';
}
