/**
 * Who may use DICOMweb, declared per route for the access check of route-access.ts:
 * reads (GET/HEAD: QIDO-RS, WADO-RS, WADO-URI, rendered, thumbnails) are `openRead`, i.e.
 * any logged-in user, or anybody while `web.dicomweb.openRead` is on; STOW-RS and anything
 * else is admin-only (it stores data) and is an upload (held to a minimum transfer rate,
 * not the request timeout); CORS preflights are public (they carry no credentials).
 *
 * And CORS for browser viewers on other origins, off unless `web.dicomweb.corsOrigins`
 * lists them, read from the registry per request, so a change applies at once.
 */
import fastifyCors from '@fastify/cors';
import type { FastifyInstance, RouteOptions } from 'fastify';
import type { DicomwebSettings } from '../../config/index.js';

export const DEFAULT_MAX_STOW_BYTES = 4 * 1024 ** 3;

export interface DicomwebAccess {
  /** The current settings (from the registry). */
  settings: () => DicomwebSettings | undefined;
}

export async function registerAccess(scope: FastifyInstance, access: DicomwebAccess): Promise<void> {
  scope.addHook('onRoute', (r: RouteOptions) => {
    const methods = [r.method].flat();
    if (r.config?.access !== undefined) return;
    if (methods.every((m) => m === 'OPTIONS')) r.config = { ...r.config, access: 'public' };
    else if (methods.every((m) => m === 'GET' || m === 'HEAD')) r.config = { ...r.config, access: 'openRead' };
    else r.config = { ...r.config, access: 'admin', upload: true };
  });

  await scope.register(fastifyCors, {
    delegator: (_req, cb) => {
      const origins = access.settings()?.corsOrigins ?? [];
      const any = origins.includes('*');
      cb(null, {
        origin: any ? true : origins.length ? origins : false,
        // Cookies only for listed origins: a wildcard with credentials would let any site act as the user.
        credentials: !any && origins.length > 0,
        methods: ['GET', 'HEAD', 'POST', 'OPTIONS'],
        allowedHeaders: ['Accept', 'Authorization', 'Content-Type', 'X-Requested-With'],
        exposedHeaders: ['Warning', 'Content-Location', 'Content-Type', 'Content-Length'],
        maxAge: 600,
      });
    },
  });
}
