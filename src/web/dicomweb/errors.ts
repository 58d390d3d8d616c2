/**
 * DICOMweb errors (PS3.18 8.6.1.2 / 10.x status codes): one typed error per HTTP status,
 * answered as problem+json by the web layer's one mapping (problemOf, src/web/problem.ts).
 */
import { quoteValue, uidProblem } from '../../dicom/uids.js';
import { HttpError } from '../problem.js';

export type DicomwebErrorKind = 'bad-request' | 'not-found' | 'not-acceptable' | 'conflict' | 'payload-too-large' | 'unsupported-media-type' | 'unavailable';

const STATUS: Record<DicomwebErrorKind, number> = {
  'bad-request': 400,
  'not-found': 404,
  'not-acceptable': 406,
  conflict: 409,
  'payload-too-large': 413,
  'unsupported-media-type': 415,
  unavailable: 503,
};

export class DicomwebError extends HttpError {
  override readonly name = 'DicomwebError';
  constructor(
    readonly kind: DicomwebErrorKind,
    message: string,
    field?: string,
  ) {
    super(STATUS[kind], message, { type: `urn:open-pacs:problem:dicomweb:${kind}`, field });
  }
}

export const badRequest = (message: string, field?: string): DicomwebError => new DicomwebError('bad-request', message, field);

/** UIDs in paths (the one UID check, src/dicom/uids.ts); anything else (path tricks) is a 400. */
export function checkUid(value: string, what: string): string {
  const problem = uidProblem(value);
  if (problem) throw badRequest(`${what} must be a UID (digits and dots, at most 64 characters): ${quoteValue(value, 80)} ${problem}`, what);
  return value;
}
