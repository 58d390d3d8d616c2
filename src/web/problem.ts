/** Errors as RFC 9457 problem details (`application/problem+json`), naming the field that failed. */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { WorklistEntryError } from '../archive/errors.js';
import { PatientIdentityError } from '../archive/patient-identity.js';
import { ConfigConflictError, ConfigValidationError } from '../config/index.js';
import { PixelDataError } from '../dicom/render/errors.js';

// The body's shape is the REST API's (src/api-types), which the app reads.
export type { Problem } from '../api-types/index.js';
import type { Problem } from '../api-types/index.js';

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  406: 'Not acceptable',
  409: 'Conflict',
  413: 'Payload too large',
  415: 'Unsupported media type',
  422: 'Invalid field',
  429: 'Too many requests',
  500: 'Internal error',
  502: 'Bad gateway',
  503: 'Service unavailable',
};

/** The standard title of an HTTP status, as problem bodies give it. */
export function httpTitle(status: number): string {
  return TITLES[status] ?? (status >= 500 ? 'Internal error' : 'Bad request');
}

export interface HttpErrorDetails {
  /** Problem type URI naming the failure; default 'about:blank' (the status says it all). */
  type?: string;
  /** Default: the status's own title. */
  title?: string;
  /** The field, parameter or header at fault. */
  field?: string;
  /** Headers the status needs (Retry-After on 429). */
  headers?: Record<string, string>;
}

/**
 * The base of the web layer's typed errors: each carries the HTTP status and problem body
 * it answers with, so problemOf maps them all by one `instanceof`; a `statusCode` is
 * read only off the errors fastify itself raises.
 */
export class HttpError extends Error {
  override readonly name: string = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly details: HttpErrorDetails = {},
  ) {
    super(message);
  }

  get field(): string | undefined {
    return this.details.field;
  }

  problem(): Problem {
    const { type = 'about:blank', title = httpTitle(this.status), field } = this.details;
    return { type, title, status: this.status, detail: this.message, ...(field !== undefined ? { field } : {}) };
  }
}

/** A request refused as malformed (400), naming the parameter or field. */
export class BadRequestError extends HttpError {
  override readonly name = 'BadRequestError';
  constructor(message: string, field?: string) {
    super(400, message, { type: 'urn:open-pacs:problem:bad-request', field });
  }
}

const PIXEL_STATUS = { 'not-an-image': 404, 'frame-out-of-range': 404, unsupported: 406, malformed: 500 } as const;

/**
 * The HTTP boundary's one mapping from an error to its problem response: the web layer's
 * HttpErrors as they say, the lower layers' typed errors by class, fastify's own client
 * errors (body too large, unsupported content type, schema validation) with their 4xx;
 * anything else is a 500 whose detail stays in the server log.
 */
export function problemOf(err: unknown): Problem {
  if (err instanceof HttpError) return err.problem();
  if (err instanceof ConfigValidationError) {
    const first: { field?: string; line?: number; column?: number } | undefined = err.issues[0];
    return {
      type: 'urn:open-pacs:problem:validation',
      title: 'Invalid field',
      status: 422,
      detail: err.message,
      field: first?.field,
      errors: err.issues,
      ...(first?.line !== undefined ? { line: first.line, column: first.column } : {}),
    };
  }
  if (err instanceof WorklistEntryError) {
    if (err.kind === 'not-found')
      return { type: 'urn:open-pacs:problem:not-found', title: 'Not found', status: 404, detail: err.message, field: err.issues[0]?.field };
    return {
      type: 'urn:open-pacs:problem:validation',
      title: 'Invalid field',
      status: 422,
      detail: err.message,
      field: err.issues[0]?.field,
      errors: err.issues,
    };
  }
  if (err instanceof PatientIdentityError) {
    const status = err.kind === 'not-found' ? 404 : 422;
    return {
      type: err.kind === 'not-found' ? 'urn:open-pacs:problem:not-found' : 'urn:open-pacs:problem:validation',
      title: status === 404 ? 'Not found' : 'Invalid field',
      status,
      detail: err.message,
      field: err.field,
    };
  }
  if (err instanceof ConfigConflictError) {
    const status = err.kind === 'not-found' ? 404 : 409;
    return { type: `urn:open-pacs:problem:${err.kind}`, title: httpTitle(status), status, detail: err.message, field: err.field };
  }
  if (err instanceof PixelDataError) {
    const status = PIXEL_STATUS[err.kind];
    return {
      type: `urn:open-pacs:problem:pixel-${err.kind}`,
      title: status === 500 ? 'Stored object cannot be read' : httpTitle(status),
      status,
      detail: err.message,
    };
  }
  const status = fastifyClientStatus(err);
  if (status !== undefined) return { type: 'about:blank', title: httpTitle(status), status, detail: (err as Error).message };
  return { type: 'about:blank', title: httpTitle(500), status: 500, detail: 'internal error (see the server log)' };
}

/**
 * The 4xx fastify gave an error it raised or passed on (its FST_ERR_* errors; a body
 * parser's failure, which fastify marks 400), else undefined: a 5xx there is no excuse
 * to show an untyped error's message.
 */
function fastifyClientStatus(err: unknown): number | undefined {
  if (!(err instanceof Error)) return undefined;
  const { statusCode } = err as FastifyError;
  return statusCode !== undefined && statusCode >= 400 && statusCode < 500 ? statusCode : undefined;
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply.code(p.status).type('application/problem+json').send(p);
}

/** Answers a typed error (its headers and problem) where it is caught and handled, without logging it. */
export function sendHttpError(reply: FastifyReply, err: HttpError): FastifyReply {
  for (const [name, value] of Object.entries(err.details.headers ?? {})) reply.header(name, value);
  return sendProblem(reply, err.problem());
}

/** The error handler of every scope: the problem of problemOf, logged once here when it is the server's fault. */
export function errorHandler(err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const p = problemOf(err);
  if (p.status >= 500) req.log.error({ err }, 'request failed');
  return err instanceof HttpError ? sendHttpError(reply, err) : sendProblem(reply, p);
}
