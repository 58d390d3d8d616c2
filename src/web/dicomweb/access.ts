/**
 * Who may use DICOMweb: the same login as /api (session cookie or HTTP Basic), or nobody
 * for reads when `web.dicomweb.openRead` is set (STOW-RS always needs a login); and CORS
 * for browser viewers on other origins, off unless `web.dicomweb.corsOrigins` lists them.
 * Both are read from the registry per request, so a change applies at once.
 *
 * HTTP Basic is verified with scrypt (tens of milliseconds, on purpose); DICOMweb clients
 * send it with every request, so a verified header is remembered for a minute (by its
 * SHA-256, never the password itself).
 */
import fastifyCors from '@fastify/cors';
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DicomwebSettings } from '../../config/index.js';
import { authenticate, unauthorized, type Sessions } from '../auth.js';
import type { UserStore } from '../users.js';

export const DEFAULT_MAX_STOW_BYTES = 4 * 1024 ** 3;

export interface DicomwebAccess {
  sessions: Sessions;
  users: UserStore;
  /** The current settings (from the registry). */
  settings: () => DicomwebSettings | undefined;
}

const BASIC_CACHE_MS = 60_000;
const BASIC_CACHE_MAX = 1000;

export async function registerAccess(scope: FastifyInstance, access: DicomwebAccess): Promise<void> {
  const basicCache = new Map<string, { user: string; expires: number }>();
  const cachedUser = async (req: FastifyRequest): Promise<string | undefined> => {
    const header = req.headers.authorization;
    const key = header && /^Basic\s/i.test(header) ? createHash('sha256').update(header).digest('hex') : undefined;
    const hit = key ? basicCache.get(key) : undefined;
    if (hit && hit.expires > Date.now()) return hit.user;
    const user = await authenticate(req, access.sessions, access.users);
    if (user && key) {
      if (basicCache.size >= BASIC_CACHE_MAX) basicCache.clear();
      basicCache.set(key, { user, expires: Date.now() + BASIC_CACHE_MS });
    }
    return user;
  };

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

  scope.addHook('onRequest', async (req, reply) => {
    if (req.method === 'OPTIONS') return; // CORS preflight carries no credentials
    const read = req.method === 'GET' || req.method === 'HEAD';
    if (read && access.settings()?.openRead === true) return;
    const user = await cachedUser(req);
    if (!user) return unauthorized(reply, req.headers['x-requested-with'] === undefined);
    (req as FastifyRequest & { user?: string }).user = user;
  });
}
