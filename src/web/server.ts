/**
 * The web server: the REST API under /api, the viewer page at /viewer and the built web
 * app (ui/dist) for every other path. Its port comes from the registry (`web`); a change re-opens it.
 */
import fastifyStatic from '@fastify/static';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { effectiveLimits } from '../config/index.js';
import { registerApi, type ApiDeps } from './api.js';
import { Sessions } from './auth.js';
import { registerDicomweb } from './dicomweb/index.js';
import { errorHandler, sendProblem } from './problem.js';
import { useZodValidation } from './schemas.js';

export const DEFAULT_UI_DIR = resolve(import.meta.dirname, '../../ui/dist');

export interface WebServerOptions extends Omit<ApiDeps, 'web' | 'startedAt' | 'sessions'> {
  host: string;
  port: number;
  logger: Logger;
  /** The built web app; default ui/dist of this checkout. */
  uiDir?: string;
}

export interface WebServer {
  readonly app: FastifyInstance;
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function buildWebApp(opts: Omit<WebServerOptions, 'host' | 'port'> & { web: ApiDeps['web'] }): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: opts.logger.child({ component: 'web' }) as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }), bodyLimit: 1 << 20 }) as unknown as FastifyInstance;
  useZodValidation(app);
  app.setErrorHandler(errorHandler);
  const sessions = new Sessions();
  await registerApi(app, { ...opts, sessions, startedAt: Date.now() });
  // DICOMweb of the Main Server's and the Workstation Server's archives, with the same login as /api.
  const dicomwebAccess = {
    sessions, users: opts.users, settings: () => opts.config.current.web.dicomweb, queryLimits: () => effectiveLimits(opts.config.current).query,
  };
  await registerDicomweb(app, { ...dicomwebAccess, prefix: '/dicomweb', name: 'the Main Server', archive: () => opts.roles?.archive('main') });
  await registerDicomweb(app, { ...dicomwebAccess, prefix: '/workstation/dicomweb', name: 'the Workstation Server', archive: () => opts.roles?.archive('workstation') });
  const uiDir = opts.uiDir ?? DEFAULT_UI_DIR;
  const built = existsSync(join(uiDir, 'index.html'));
  if (built) await app.register(fastifyStatic, { root: uiDir, wildcard: false, index: 'index.html' });
  // The viewer is its own page (ui/viewer.html): /viewer?StudyInstanceUIDs=...
  app.get('/viewer', (_req, reply) => {
    if (!built || !existsSync(join(uiDir, 'viewer.html'))) return reply.code(503).type('text/plain').send('The viewer is not built: run `npm run build:ui` (npm start does it).\n');
    return reply.sendFile('viewer.html');
  });
  app.setNotFoundHandler((req, reply) => {
    if (req.url.startsWith('/api/') || req.method !== 'GET') {
      return sendProblem(reply, { type: 'about:blank', title: 'Not found', status: 404, detail: `${req.method} ${req.url.split('?')[0]} does not exist` });
    }
    if (!built) return reply.code(503).type('text/plain').send('The web app is not built: run `npm run build:ui` (npm start does it).\n');
    return reply.sendFile('index.html');
  });
  return app;
}

export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  let address = { host: opts.host, port: opts.port };
  const app = await buildWebApp({ ...opts, web: () => address });
  await app.listen({ host: opts.host, port: opts.port });
  const a = app.server.address();
  address = { host: opts.host, port: a && typeof a === 'object' ? a.port : opts.port };
  opts.logger.info({ url: `http://${opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host}:${address.port}/` }, 'web server listening');
  return {
    app,
    get host() {
      return address.host;
    },
    get port() {
      return address.port;
    },
    close: () => app.close(),
  };
}
