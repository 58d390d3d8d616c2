/**
 * HTTP caching and compression of WADO-RS metadata. A study's metadata changes only
 * when its change stamp does (archive/index-sql.ts STUDY_STAMP_COLUMNS, set in the same
 * transaction as the change), so the answer for one stamp is computed once, kept on disk
 * (the archive's `metadata/` DerivedCache: file names are hashes, never request text) as
 * JSON, gzip and brotli, and named by an ETag made of the stamp: a client that holds it
 * gets a 304, any client a file read instead of a thousand index rows.
 */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib, gzip } from 'node:zlib';

export type Coding = 'br' | 'gzip' | 'identity';

/** The same settings for the cached copies and for an answer compressed on the fly: the same bytes under the same ETag. */
export const GZIP_OPTIONS = { level: 6 };
export const BROTLI_OPTIONS = { params: { [zlib.BROTLI_PARAM_QUALITY]: 5, [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT } };

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

/** The coding an Accept-Encoding allows, brotli first, then gzip; identity when neither (RFC 9110 12.5.3). */
export function chooseCoding(acceptEncoding: string | string[] | undefined): Coding {
  const header = Array.isArray(acceptEncoding) ? acceptEncoding.join(',') : (acceptEncoding ?? '');
  const q = new Map<string, number>();
  for (const item of header.split(',')) {
    const [name, ...params] = item.split(';').map((s) => s.trim().toLowerCase());
    if (!name) continue;
    const qp = params.find((p) => p.startsWith('q='));
    const value = qp === undefined ? 1 : Number(qp.slice(2));
    q.set(name, Number.isFinite(value) ? value : 0);
  }
  const ok = (c: string) => (q.get(c) ?? q.get('*') ?? 0) > 0;
  if (ok('br')) return 'br';
  if (ok('gzip')) return 'gzip';
  return 'identity';
}

/** What one cached answer is: the stamp and everything else its bytes depend on (the level asked, the URL base of its BulkDataURIs). */
export function metadataVariant(stamp: string, series: string | undefined, instance: string | undefined, base: string): string {
  return JSON.stringify([stamp, series ?? null, instance ?? null, base]);
}

/** The ETag of one coding of a variant: the stamp, a hash of the rest, the coding. */
export function metadataEtag(stamp: string, variant: string, coding: Coding): string {
  const h = createHash('sha256').update(variant).digest('base64url').slice(0, 16);
  // The stamp is ours (hex), but it comes from the database: only its safe characters go into the header.
  const s = stamp.replace(/[^0-9A-Za-z]/g, '').slice(0, 40);
  return `"${s}-${h}${coding === 'identity' ? '' : `.${coding === 'br' ? 'br' : 'gz'}`}"`;
}

/**
 * Whether If-None-Match names the variant, in any coding (weak comparison, RFC 9110
 * 13.1.2: the codings hold the same JSON).
 */
export function metadataEtagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const opaque = (t: string) =>
    t
      .trim()
      .replace(/^W\//, '')
      .replace(/\.(br|gz)"$/, '"');
  const want = opaque(etag);
  return ifNoneMatch.split(',').some((t) => t.trim() === '*' || opaque(t) === want);
}

/** The cache's variant name of one coding. */
export const codedVariant = (variant: string, coding: Coding): string => `${variant}|${coding}`;

/** The bytes of `text` in a coding. */
export async function encode(text: Buffer, coding: Coding): Promise<Buffer> {
  if (coding === 'gzip') return gzipAsync(text, GZIP_OPTIONS);
  if (coding === 'br') return brotliAsync(text, BROTLI_OPTIONS);
  return text;
}
