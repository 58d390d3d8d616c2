/**
 * The built web app (ui/dist) as the browser gets it: every file with its brotli or gzip
 * sibling when the build made one (vite.config.ts) and the request accepts it, hashed
 * bundles under /assets/ cacheable for a year without revalidation (their name changes
 * with their content), the HTML pages revalidated on every load (they name the bundles of
 * the current build). A path that looks like a file and does not exist is a 404, never
 * the app's shell: a browser holding an old page must not run HTML as a script.
 */
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { relative, sep } from 'node:path';

/** Hashed bundles: what vite writes under assets/ (name-<hash>.ext). */
export const IMMUTABLE_CACHE = 'public, max-age=31536000, immutable';
/** Pages and unhashed files: cached, but checked against the server (ETag) before each use. */
export const REVALIDATE_CACHE = 'no-cache';

/** Compressed siblings written at build time; served in place of the file, never by their own name. */
const COMPRESSED_SUFFIXES = ['.br', '.gz'];

/** The Cache-Control of a file under the app's root, by its path relative to it. */
export function cacheControlFor(relativePath: string): string {
  return /^assets\/[^/]+$/.test(relativePath) ? IMMUTABLE_CACHE : REVALIDATE_CACHE;
}

/**
 * A request path that names a file (its last segment ends in an extension that starts with a letter) or lies under
 * /assets/: when nothing is there, a 404 rather than the app's shell.
 */
export function namesAFile(path: string): boolean {
  if (path.startsWith('/assets/')) return true;
  const last = path.slice(path.lastIndexOf('/') + 1);
  return /\.[A-Za-z][A-Za-z0-9]{0,7}$/.test(last); // an extension, not the end of a UID
}

/** Registers ui/dist's files at their paths in `scope` (sendFile included). */
export async function registerStaticFiles(scope: FastifyInstance, root: string): Promise<void> {
  await scope.register(fastifyStatic, {
    root,
    wildcard: false,
    index: 'index.html',
    preCompressed: true,
    globIgnore: COMPRESSED_SUFFIXES.map((s) => `**/*${s}`),
    // Ours below, for every file (an HTML page too): send's default is max-age=0.
    cacheControl: false,
    setHeaders: (reply: FastifyReply, path: string) => {
      const rel = relative(root, path).split(sep).join('/');
      const logical = COMPRESSED_SUFFIXES.reduce((p, s) => (p.endsWith(s) ? p.slice(0, -s.length) : p), rel);
      reply.header('cache-control', cacheControlFor(logical));
    },
  });
}
