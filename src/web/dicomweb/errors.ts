/**
 * DICOMweb errors (PS3.18 8.6.1.2 / 10.x status codes): one typed error per HTTP status,
 * answered as problem+json at one boundary (the plugin's error handler).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { quoteValue, uidProblem } from '../../dicom/uids.js';
import { sendProblem, type Problem } from '../problem.js';

export type DicomwebErrorKind =
  | 'bad-request' | 'not-found' | 'not-acceptable' | 'conflict' | 'payload-too-large' | 'unsupported-media-type' | 'unavailable';

const STATUS: Record<DicomwebErrorKind, { status: number; title: string }> = {
  'bad-request': { status: 400, title: 'Bad request' },
  'not-found': { status: 404, title: 'Not found' },
  'not-acceptable': { status: 406, title: 'Not acceptable' },
  conflict: { status: 409, title: 'Conflict' },
  'payload-too-large': { status: 413, title: 'Payload too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  unavailable: { status: 503, title: 'Service unavailable' },
};

export class DicomwebError extends Error {
  override readonly name = 'DicomwebError';
  constructor(readonly kind: DicomwebErrorKind, message: string, readonly field?: string) {
    super(message);
  }

  get status(): number {
    return STATUS[this.kind].status;
  }

  problem(): Problem {
    const { status, title } = STATUS[this.kind];
    return { type: `urn:open-pacs:problem:dicomweb:${this.kind}`, title, status, detail: this.message, ...(this.field ? { field: this.field } : {}) };
  }
}

export const badRequest = (message: string, field?: string): DicomwebError => new DicomwebError('bad-request', message, field);

/** The error handler of the DICOMweb scope: typed errors as they say, fastify's own 4xx kept, the rest 500. */
export function dicomwebErrorHandler(err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err instanceof DicomwebError) return sendProblem(reply, err.problem());
  const e = err as FastifyError;
  const status = e.statusCode && e.statusCode >= 400 && e.statusCode < 500 ? e.statusCode : 500;
  if (status === 500) req.log.error({ err }, 'DICOMweb request failed');
  return sendProblem(reply, {
    type: 'about:blank', title: status === 500 ? 'Internal error' : 'Bad request', status,
    detail: status === 500 ? 'internal error (see the server log)' : e.message,
  });
}

/** UIDs in paths (the one UID check, src/dicom/uids.ts); anything else (path tricks) is a 400. */
export function checkUid(value: string, what: string): string {
  const problem = uidProblem(value);
  if (problem) throw badRequest(`${what} must be a UID (digits and dots, at most 64 characters): ${quoteValue(value, 80)} ${problem}`, what);
  return value;
}
