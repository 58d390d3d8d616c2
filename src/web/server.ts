/**
 * The web server: the REST API under /api, DICOMweb under /dicomweb and
 * /workstation/dicomweb, the viewer page at /viewer and the built web app (ui/dist) for
 * every other path. Its address comes from the registry (`web`); HTTPS with the local
 * CA's server certificate when `web.tls` is on (plain HTTP is then off). A change of
 * either re-opens it (cli/serve.ts).
 *
 * Who may use what is declared per route (route-access.ts) and checked after routing;
 * how long a client may take to send a request is limited (http-timeouts.ts).
 */
import Fastify, { LogController, type FastifyInstance, type RouteOptions } from 'fastify';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { effectiveLimits, type Registry, type ServerTlsFiles } from '../config/index.js';
import { registerApi, type ApiDeps } from './api.js';
import { Authenticator, Sessions, type SessionStore } from './auth.js';
import { registerDicomweb } from './dicomweb/index.js';
import { applyServerTimeouts, serverTimeoutOptions, watchRequestBodies } from './http-timeouts.js';
import { LoginThrottle } from './login-throttle.js';
import { errorHandler, sendProblem } from './problem.js';
import { access, guardRoutes, type RouteEntry } from './route-access.js';
import { useZodValidation } from './schemas.js';
import { namesAFile, registerStaticFiles } from './static-files.js';
import { auditedAs } from './audit-actor.js';

export const DEFAULT_UI_DIR = resolve(import.meta.dirname, '../../ui/dist');
/** Keys the login throttle remembers per count (see login-throttle.ts). */
const THROTTLE_MAX_KEYS = 10_000;

export interface WebServerOptions extends Omit<ApiDeps, 'web' | 'startedAt' | 'auth'> {
  host: string;
  port: number;
  logger: Logger;
  /** The built web app; default ui/dist of this checkout. */
  uiDir?: string;
  /** Serve HTTPS with this certificate and key (`web.tls`); plain HTTP otherwise. */
  tls?: ServerTlsFiles;
  /** Where sessions live (several nodes: PostgreSQL, SharedSessions); default in memory, per web server. */
  sessions?: SessionStore;
}

export interface WebServer {
  readonly app: FastifyInstance;
  readonly host: string;
  readonly port: number;
  readonly protocol: 'http' | 'https';
  close(): Promise<void>;
}

export type { RouteEntry };

const routeTables = new WeakMap<FastifyInstance, readonly RouteEntry[]>();

/** Every route the app registered, with the access it declared (for the route-walk test and the docs). */
export function routeTable(app: FastifyInstance): readonly RouteEntry[] {
  return routeTables.get(app) ?? [];
}

const httpLimits = (reg: Registry) => effectiveLimits(reg).http;

export async function buildWebApp(opts: Omit<WebServerOptions, 'host' | 'port'> & { web: ApiDeps['web'] }): Promise<FastifyInstance> {
  const timeouts = serverTimeoutOptions(httpLimits(opts.config.current));
  const app = Fastify({
    loggerInstance: opts.logger.child({ component: 'web' }),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1 << 20,
    keepAliveTimeout: timeouts.keepAliveTimeout,
    requestTimeout: timeouts.requestTimeout,
    http: timeouts,
    ...(opts.tls ? { https: { cert: opts.tls.cert, key: opts.tls.key, ...timeouts } } : {}),
  }) as unknown as FastifyInstance;
  useZodValidation(app);
  app.setErrorHandler(errorHandler);
  const limitsNow = () => httpLimits(opts.config.current);
  const unwatch = opts.config.onChange((next, prev) => {
    if (JSON.stringify(httpLimits(next)) !== JSON.stringify(httpLimits(prev))) applyServerTimeouts(app.server, httpLimits(next));
  });
  app.addHook('onClose', async () => void unwatch());
  watchRequestBodies(app, limitsNow);

  const throttle = new LoginThrottle(() => {
    const l = limitsNow();
    return {
      maxFailuresPerUser: l.loginMaxFailuresPerUser,
      maxFailuresPerAddress: l.loginMaxFailuresPerAddress,
      windowMs: l.loginWindowSeconds * 1000,
      maxKeys: THROTTLE_MAX_KEYS,
    };
  });
  const auth = new Authenticator(opts.sessions ?? new Sessions(), opts.users, throttle, ({ reason, user, address }) => {
    const l = limitsNow();
    app.log.warn(
      { reason, user, ip: address, minutes: Math.round(l.loginWindowSeconds / 60) },
      reason === 'user'
        ? 'too many failed logins for this user name from this address: further attempts get 429 for the window'
        : 'too many failed logins from this address: further attempts get 429 for the window',
    );
  });
  // Before any route: every route from here on gets the access check.
  routeTables.set(app, guardRoutes(app, { auth, openRead: () => opts.config.current.web.dicomweb?.openRead === true }));

  await registerApi(app, { ...opts, auth, startedAt: Date.now() });
  // DICOMweb of the Main Server's and the Workstation Server's archives, with the same login as /api.
  const dicomwebAccess = { settings: () => opts.config.current.web.dicomweb, queryLimits: () => effectiveLimits(opts.config.current).query, audit: opts.audit };
  await registerDicomweb(app, {
    ...dicomwebAccess,
    prefix: '/dicomweb',
    name: 'the Main Server',
    archive: () => opts.roles?.archive('main'),
    auditAs: () => auditedAs(opts.config.current, 'main'),
  });
  await registerDicomweb(app, {
    ...dicomwebAccess,
    auditAs: () => auditedAs(opts.config.current, 'workstation'),
    prefix: '/workstation/dicomweb',
    name: 'the Workstation Server',
    archive: () => opts.roles?.archive('workstation'),
    onStudyRead: (uid) => opts.roles?.workstationCap()?.opened(uid),
  });

  const uiDir = opts.uiDir ?? DEFAULT_UI_DIR;
  const built = existsSync(join(uiDir, 'index.html'));
  // The app's files and HTML shell are public: the data they show comes from the routes above.
  await app.register(async (files) => {
    files.addHook('onRoute', (r: RouteOptions) => {
      r.config = { ...r.config, access: 'public' };
    });
    if (built) await registerStaticFiles(files, uiDir);
    // The viewer is its own page (ui/viewer.html): /viewer?StudyInstanceUIDs=...
    files.get('/viewer', access('public'), (_req, reply) => {
      if (!built || !existsSync(join(uiDir, 'viewer.html')))
        return reply.code(503).type('text/plain').send('The viewer is not built: run `npm run build:ui` (npm start does it).\n');
      return reply.sendFile('viewer.html');
    });
    // No route matched: a 404 problem, or for a GET of a page the app's shell (its client-side routes).
    // No data either way. Set in this scope, where @fastify/static's sendFile is.
    files.setNotFoundHandler((req, reply) => {
      const path = req.url.split('?')[0];
      if (req.method !== 'GET' || /^\/(api|dicomweb|workstation)(\/|$)/.test(path) || namesAFile(path)) {
        return sendProblem(reply, { type: 'about:blank', title: 'Not found', status: 404, detail: `${req.method} ${path} does not exist` });
      }
      if (!built) return reply.code(503).type('text/plain').send('The web app is not built: run `npm run build:ui` (npm start does it).\n');
      return reply.sendFile('index.html');
    });
  });
  return app;
}

export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  let address = { host: opts.host, port: opts.port };
  const app = await buildWebApp({ ...opts, web: () => address });
  await app.listen({ host: opts.host, port: opts.port });
  const a = app.server.address();
  address = { host: opts.host, port: a && typeof a === 'object' ? a.port : opts.port };
  const protocol = opts.tls ? 'https' : 'http';
  opts.logger.info({ url: `${protocol}://${opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host}:${address.port}/` }, 'web server listening');
  return {
    app,
    protocol,
    get host() {
      return address.host;
    },
    get port() {
      return address.port;
    },
    close: () => app.close(),
  };
}
