/**
 * HTTP caching of frames and bulk data. A stored version of an instance never changes:
 * a replacement is a new blob with a new key (blob-store.ts), so the browser may keep a
 * frame for a year without asking again, and an ETag made from the blob's key, the
 * request's frame list or tag and its Accept (what decides the representation) lets a
 * client that does ask get a 304. Private: the data needs a login. Weak: the multipart
 * boundary differs from one response to the next, the content does not.
 */
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { InstanceSummary } from '../../archive/index.js';

export const STORED_CACHE = 'private, max-age=31536000, immutable';

/** The ETag of one representation of stored instances' pixels (several for a series' Pixel Data batch, in their order). */
export function storedEtag(rows: InstanceSummary | readonly InstanceSummary[], resource: string, accept: string | undefined): string {
  const hash = createHash('sha256');
  for (const row of Array.isArray(rows) ? rows : [rows]) hash.update(row.fileKey).update('\0');
  const h = hash
    .update(resource)
    .update('\0')
    .update(accept ?? '')
    .digest('base64url');
  return `W/"${h.slice(0, 27)}"`;
}

/** Whether an If-None-Match value names this ETag (weak comparison, RFC 9110 13.1.2). */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const opaque = (t: string) => t.trim().replace(/^W\//, '');
  const want = opaque(etag);
  return ifNoneMatch.split(',').some((t) => t.trim() === '*' || opaque(t) === want);
}

/**
 * Sets the caching headers of a stored representation; answers 304 (and returns true)
 * when the client holds it already.
 */
export function cachedAlready(req: FastifyRequest, reply: FastifyReply, row: InstanceSummary | readonly InstanceSummary[], resource: string): boolean {
  const etag = storedEtag(row, resource, req.headers.accept);
  reply.header('cache-control', STORED_CACHE).header('etag', etag).header('vary', 'Accept');
  if (!etagMatches(req.headers['if-none-match'], etag)) return false;
  void reply.code(304).send();
  return true;
}
