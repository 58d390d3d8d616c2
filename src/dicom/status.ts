/**
 * The one catalogue of DIMSE status codes (PS3.7 Annex C, and the service-specific codes
 * of PS3.4 this PACS sends or reads). Every layer names a status from here: the DIMSE
 * responses, the archive's errors, STOW-RS and Storage Commitment failure reasons (which
 * PS3.4 and PS3.18 define as these same codes).
 *
 * Some codes mean different things in different services (0xB000 is "coercion of data
 * elements" in C-STORE and "sub-operations complete, one or more failures" in C-MOVE and
 * C-GET): such a code has one entry, named for the service that sends it here, and its
 * meaning gives the others.
 */

export type StatusCategory = 'success' | 'pending' | 'cancel' | 'warning' | 'failure';

export interface StatusInfo {
  code: number;
  /** The key in `Status`. */
  name: string;
  /** The standard's "further meaning" (PS3.4 / PS3.7 status tables). */
  meaning: string;
  category: StatusCategory;
}

const CATALOGUE = {
  // PS3.7 C.1, C.2, C.3
  Success: { code: 0x0000, category: 'success', meaning: 'Success' },
  Pending: { code: 0xff00, category: 'pending', meaning: 'Pending: matches are continuing' },
  PendingWarning: { code: 0xff01, category: 'pending', meaning: 'Pending: matches are continuing, one or more Optional Keys were not supported' },
  Cancel: { code: 0xfe00, category: 'cancel', meaning: 'Cancel: matching or sub-operations terminated due to a Cancel request' },
  // PS3.7 C.4 warnings
  Warning: { code: 0x0001, category: 'warning', meaning: 'Warning: requested optional attributes are not supported' },
  AttributeListError: { code: 0x0107, category: 'warning', meaning: 'Warning: attribute list error' },
  AttributeValueOutOfRange: { code: 0x0116, category: 'warning', meaning: 'Warning: attribute value out of range' },
  // Named for the service that sends it here; in C-STORE the same code means coercion.
  SubOperationsWithFailures: {
    code: 0xb000,
    category: 'warning',
    meaning: 'Warning: sub-operations complete, one or more failures or warnings (C-MOVE, C-GET); coercion of data elements (C-STORE)',
  },
  ElementsDiscarded: { code: 0xb006, category: 'warning', meaning: 'Warning: elements discarded' },
  DataSetDoesNotMatchSopClassWarning: { code: 0xb007, category: 'warning', meaning: 'Warning: data set does not match SOP Class' },
  // PS3.7 C.5 failures
  NoSuchAttribute: { code: 0x0105, category: 'failure', meaning: 'Failure: no such attribute' },
  InvalidAttributeValue: { code: 0x0106, category: 'failure', meaning: 'Failure: invalid attribute value' },
  ProcessingFailure: { code: 0x0110, category: 'failure', meaning: 'Failure: processing failure' },
  DuplicateSopInstance: { code: 0x0111, category: 'failure', meaning: 'Failure: duplicate SOP Instance' },
  NoSuchSopInstance: { code: 0x0112, category: 'failure', meaning: 'Failure: no such SOP Instance (Storage Commitment: no such object instance)' },
  NoSuchEventType: { code: 0x0113, category: 'failure', meaning: 'Failure: no such event type' },
  NoSuchArgument: { code: 0x0114, category: 'failure', meaning: 'Failure: no such argument' },
  InvalidArgumentValue: { code: 0x0115, category: 'failure', meaning: 'Failure: invalid argument value' },
  InvalidObjectInstance: { code: 0x0117, category: 'failure', meaning: 'Failure: invalid object instance' },
  NoSuchSopClass: { code: 0x0118, category: 'failure', meaning: 'Failure: no such SOP Class' },
  ClassInstanceConflict: { code: 0x0119, category: 'failure', meaning: 'Failure: class-instance conflict' },
  MissingAttribute: { code: 0x0120, category: 'failure', meaning: 'Failure: missing attribute' },
  MissingAttributeValue: { code: 0x0121, category: 'failure', meaning: 'Failure: missing attribute value' },
  SopClassNotSupported: { code: 0x0122, category: 'failure', meaning: 'Refused: SOP Class not supported' },
  NoSuchActionType: { code: 0x0123, category: 'failure', meaning: 'Failure: no such action type' },
  NotAuthorized: { code: 0x0124, category: 'failure', meaning: 'Refused: not authorized' },
  DuplicateInvocation: { code: 0x0210, category: 'failure', meaning: 'Failure: duplicate invocation' },
  UnrecognizedOperation: { code: 0x0211, category: 'failure', meaning: 'Failure: unrecognized operation' },
  MistypedArgument: { code: 0x0212, category: 'failure', meaning: 'Failure: mistyped argument' },
  ResourceLimitation: { code: 0x0213, category: 'failure', meaning: 'Failure: resource limitation' },
  // PS3.4 service-specific failures (C-STORE B.2.3, C-FIND/C-MOVE/C-GET C.4)
  OutOfResources: { code: 0xa700, category: 'failure', meaning: 'Refused: out of resources' },
  OutOfResourcesNumberOfMatches: { code: 0xa701, category: 'failure', meaning: 'Refused: out of resources, unable to calculate number of matches' },
  OutOfResourcesSubOperations: { code: 0xa702, category: 'failure', meaning: 'Refused: out of resources, unable to perform sub-operations' },
  MoveDestinationUnknown: { code: 0xa801, category: 'failure', meaning: 'Refused: Move Destination unknown' },
  DataSetDoesNotMatchSopClass: { code: 0xa900, category: 'failure', meaning: 'Error: data set (identifier) does not match SOP Class' },
  CannotUnderstand: { code: 0xc000, category: 'failure', meaning: 'Error: cannot understand (C-STORE); unable to process (C-FIND, C-MOVE, C-GET)' },
  UnableToProcess: { code: 0xc001, category: 'failure', meaning: 'Failure: unable to process' },
  // PS3.18 Table I.2-1 (STOW-RS failure reasons other servers send; read by the app)
  ReferencedTransferSyntaxNotSupported: { code: 0xc122, category: 'failure', meaning: 'Failure: referenced Transfer Syntax not supported' },
} as const satisfies Record<string, Omit<StatusInfo, 'name'>>;

type Catalogue = typeof CATALOGUE;
export type StatusName = keyof Catalogue;

/** Status codes by name: `Status.OutOfResources` is 0xA700. */
export const Status = Object.fromEntries(Object.entries(CATALOGUE).map(([name, e]) => [name, e.code])) as {
  readonly [K in StatusName]: Catalogue[K]['code'];
};

export type StatusCode = (typeof Status)[StatusName];

const byCode = new Map<number, StatusInfo>(Object.entries(CATALOGUE).map(([name, e]) => [e.code, { name, ...e }]));

/** The catalogue's entry for a code; undefined for a code it does not list (a peer may send any). */
export function statusInfo(code: number): StatusInfo | undefined {
  return byCode.get(code);
}

/** Every catalogued status, in catalogue order. */
export function allStatuses(): StatusInfo[] {
  return [...byCode.values()];
}

/**
 * The category of any code, listed or not, by the ranges of PS3.7 Annex C: 0x0000 success;
 * 0xFF00/0xFF01 pending; 0xFE00 cancel; 0x0001, 0x0107, 0x0116 and 0xBxxx warning;
 * everything else (0x01xx, 0x02xx, 0xAxxx, 0xCxxx, ...) failure.
 */
export function statusCategory(code: number): StatusCategory {
  if (code === 0x0000) return 'success';
  if (code === 0xff00 || code === 0xff01) return 'pending';
  if (code === 0xfe00) return 'cancel';
  if (code === 0x0001 || code === 0x0107 || code === 0x0116 || (code & 0xf000) === 0xb000) return 'warning';
  return 'failure';
}

/** 0xa700 as "0xa700", the form the logs and messages use. */
export function statusHex(code: number): string {
  return `0x${code.toString(16).padStart(4, '0')}`;
}

/**
 * An error that answers with a DICOM status: the one base of every typed failure that
 * maps to a status (a service's DimseServiceError, the archive's errors, a STOW part's
 * failure), so each boundary maps by `instanceof`, never by the shape of an object.
 */
export abstract class StatusError extends Error {
  abstract readonly status: number;
  /** The attribute(s) at fault, for the response's Offending Element (0000,0901). */
  readonly offendingElement: number[] | undefined;
  constructor(message: string, options?: { cause?: unknown; offendingElement?: number[] }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.offendingElement = options?.offendingElement;
  }
}

/** The status an error answers with: a StatusError's own, anything else `fallback` (the caller's "unexpected failure"). */
export function statusOfError(err: unknown, fallback: StatusCode): number {
  return err instanceof StatusError ? err.status : fallback;
}
