/** Errors as RFC 9457 problem details (`application/problem+json`), naming the field that failed. */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { WorklistEntryError } from '../archive/errors.js';
import { ConfigConflictError, ConfigValidationError, type FieldIssue } from '../config/index.js';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** The first field that failed (dotted path, as in the registry schema). */
  field?: string;
  errors?: FieldIssue[];
  /** Where in an expression the first problem is (router rule conditions). */
  line?: number;
  column?: number;
}

/** A request refused as malformed (400), naming the parameter or field. */
export class BadRequestError extends Error {
  override readonly name = 'BadRequestError';
  constructor(message: string, readonly field?: string) {
    super(message);
  }
}

export function problemOf(err: unknown): Problem {
  if (err instanceof BadRequestError) {
    return { type: 'urn:open-pacs:problem:bad-request', title: 'Bad request', status: 400, detail: err.message, field: err.field };
  }
  if (err instanceof ConfigValidationError) {
    const first: { field?: string; line?: number; column?: number } | undefined = err.issues[0];
    return {
      type: 'urn:open-pacs:problem:validation', title: 'Invalid field', status: 422, detail: err.message, field: first?.field, errors: err.issues,
      ...(first?.line !== undefined ? { line: first.line, column: first.column } : {}),
    };
  }
  if (err instanceof WorklistEntryError) {
    if (err.kind === 'not-found') return { type: 'urn:open-pacs:problem:not-found', title: 'Not found', status: 404, detail: err.message, field: err.issues[0]?.field };
    return { type: 'urn:open-pacs:problem:validation', title: 'Invalid field', status: 422, detail: err.message, field: err.issues[0]?.field, errors: err.issues };
  }
  if (err instanceof ConfigConflictError) {
    const status = err.kind === 'not-found' ? 404 : 409;
    return { type: `urn:open-pacs:problem:${err.kind}`, title: err.kind === 'not-found' ? 'Not found' : 'Conflict', status, detail: err.message, field: err.field };
  }
  const e = err as FastifyError;
  const status = e.statusCode && e.statusCode >= 400 && e.statusCode < 600 ? e.statusCode : 500;
  return { type: 'about:blank', title: status === 500 ? 'Internal error' : status === 502 ? 'Bad gateway' : 'Bad request', status, detail: status === 500 ? 'internal error (see the server log)' : e.message };
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply.code(p.status).type('application/problem+json').send(p);
}

export function errorHandler(err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const p = problemOf(err);
  if (p.status >= 500) req.log.error({ err }, 'request failed');
  return sendProblem(reply, p);
}
