import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigConflictError, ConfigValidationError } from '../../src/config/index.js';
import { PixelDataError } from '../../src/dicom/render/errors.js';
import { TooManyLoginsError } from '../../src/web/auth.js';
import { DicomwebError } from '../../src/web/dicomweb/errors.js';
import { PixelRequestError } from '../../src/web/dicomweb/pixel-params.js';
import { BadRequestError, errorHandler, HttpError, problemOf } from '../../src/web/problem.js';
import { UserError } from '../../src/web/users.js';

// The HTTP boundary's one mapping (src/web/problem.ts): each typed error class with the
// status it answers with.
describe('problemOf', () => {
  it.each([
    ['BadRequestError', new BadRequestError('limit must be a number', 'limit'), 400, 'urn:open-pacs:problem:bad-request', 'limit'],
    [
      'DicomwebError bad-request',
      new DicomwebError('bad-request', 'bad includefield', 'includefield'),
      400,
      'urn:open-pacs:problem:dicomweb:bad-request',
      'includefield',
    ],
    ['DicomwebError not-found', new DicomwebError('not-found', 'no such study'), 404, 'urn:open-pacs:problem:dicomweb:not-found', undefined],
    [
      'DicomwebError not-acceptable',
      new DicomwebError('not-acceptable', 'cannot convert', 'Accept'),
      406,
      'urn:open-pacs:problem:dicomweb:not-acceptable',
      'Accept',
    ],
    ['DicomwebError conflict', new DicomwebError('conflict', 'study differs'), 409, 'urn:open-pacs:problem:dicomweb:conflict', undefined],
    ['DicomwebError payload-too-large', new DicomwebError('payload-too-large', 'too big'), 413, 'urn:open-pacs:problem:dicomweb:payload-too-large', undefined],
    [
      'DicomwebError unsupported-media-type',
      new DicomwebError('unsupported-media-type', 'text/plain'),
      415,
      'urn:open-pacs:problem:dicomweb:unsupported-media-type',
      undefined,
    ],
    ['DicomwebError unavailable', new DicomwebError('unavailable', 'not running'), 503, 'urn:open-pacs:problem:dicomweb:unavailable', undefined],
    ['PixelRequestError 400', new PixelRequestError(400, 'bad window', 'window'), 400, 'about:blank', 'window'],
    ['PixelRequestError 406', new PixelRequestError(406, 'cannot decode', 'transferSyntax'), 406, 'about:blank', 'transferSyntax'],
    ['PixelDataError not-an-image', new PixelDataError('not-an-image', 'no Pixel Data'), 404, 'urn:open-pacs:problem:pixel-not-an-image', undefined],
    [
      'PixelDataError frame-out-of-range',
      new PixelDataError('frame-out-of-range', 'frame 9 of 3'),
      404,
      'urn:open-pacs:problem:pixel-frame-out-of-range',
      undefined,
    ],
    ['PixelDataError unsupported', new PixelDataError('unsupported', 'cannot decode'), 406, 'urn:open-pacs:problem:pixel-unsupported', undefined],
    ['PixelDataError malformed', new PixelDataError('malformed', 'short pixel data'), 500, 'urn:open-pacs:problem:pixel-malformed', undefined],
    ['UserError not-found', new UserError('no user "x"', 'not-found', 'name'), 404, 'urn:open-pacs:problem:not-found', 'name'],
    ['UserError conflict', new UserError('exists', 'conflict', 'name'), 409, 'urn:open-pacs:problem:conflict', 'name'],
    ['UserError invalid', new UserError('too short', 'invalid', 'password'), 422, 'urn:open-pacs:problem:validation', 'password'],
    ['TooManyLoginsError', new TooManyLoginsError('user', 'rita', 30), 429, 'urn:open-pacs:problem:too-many-logins', undefined],
    ['ConfigValidationError', new ConfigValidationError([{ field: 'port', message: 'must be a number' }]), 422, 'urn:open-pacs:problem:validation', 'port'],
    ['ConfigConflictError not-found', new ConfigConflictError('no AE X', 'not-found', 'aeTitle'), 404, 'urn:open-pacs:problem:not-found', 'aeTitle'],
    ['ConfigConflictError conflict', new ConfigConflictError('AE X exists', 'conflict', 'aeTitle'), 409, 'urn:open-pacs:problem:conflict', 'aeTitle'],
  ] as const)('%s', (_name, err, status, type, field) => {
    const p = problemOf(err);
    expect(p).toMatchObject({ status, type, detail: err.message });
    expect(p.field).toBe(field);
    expect(p.title.length).toBeGreaterThan(0);
  });

  it("keeps fastify's own 4xx, and answers anything else 500 without its message", () => {
    const tooLarge = Object.assign(new Error('Request body is too large'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 });
    expect(problemOf(tooLarge)).toMatchObject({ status: 413, title: 'Payload too large', detail: 'Request body is too large' });
    expect(problemOf(new Error('secret path /data/x'))).toEqual({
      type: 'about:blank',
      title: 'Internal error',
      status: 500,
      detail: 'internal error (see the server log)',
    });
    // A 5xx statusCode on an untyped error is not trusted: its message may hold internals.
    expect(problemOf(Object.assign(new Error('db down at 10.0.0.5'), { statusCode: 503 }))).toMatchObject({
      status: 500,
      detail: 'internal error (see the server log)',
    });
    // Nor is a look-alike's `status` field read.
    expect(problemOf(Object.assign(new Error('looks typed'), { status: 404 }))).toMatchObject({ status: 500 });
    expect(problemOf('a string')).toMatchObject({ status: 500 });
  });
});

describe('errorHandler', () => {
  const app = Fastify();
  beforeAll(async () => {
    app.setErrorHandler(errorHandler);
    app.get('/throttled', async () => {
      throw new TooManyLoginsError('address', '', 42);
    });
    app.get('/gateway', async () => {
      throw new HttpError(502, 'C-FIND at PEER failed: connection refused');
    });
    app.post('/json', async (req) => req.body);
    await app.ready();
  });
  afterAll(() => app.close());

  it('answers a typed error with its status, problem body and headers', async () => {
    const r = await app.inject({ method: 'GET', url: '/throttled' });
    expect(r.statusCode).toBe(429);
    expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(r.headers['retry-after']).toBe('42');
    expect(r.json()).toMatchObject({ status: 429, type: 'urn:open-pacs:problem:too-many-logins', title: 'Too many failed logins' });
    const g = await app.inject({ method: 'GET', url: '/gateway' });
    expect(g.statusCode).toBe(502);
    expect(g.json()).toMatchObject({ status: 502, title: 'Bad gateway', detail: 'C-FIND at PEER failed: connection refused' });
  });

  it('answers a body fastify cannot parse with its 400', async () => {
    const r = await app.inject({ method: 'POST', url: '/json', headers: { 'content-type': 'application/json' }, payload: '{"a":' });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ status: 400, title: 'Bad request' });
  });
});
