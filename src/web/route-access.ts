/**
 * Authentication as a property of the route (DESIGN.md section 8). Each route declares
 * who may use it in its `config.access`:
 *   public    anybody: log in and out, the app's files and HTML shell, CORS preflights
 *   openRead  a logged-in user; anybody while `web.dicomweb.openRead` is on (DICOMweb reads)
 *   read      any logged-in user (admin or reader): browse and view
 *   admin     an admin: delete, configure, send, retrieve, export, manage users
 * A route that declares nothing is admin-only (fail closed).
 *
 * The check is a route-level onRequest hook that an onRoute hook on the root instance
 * attaches to every route, so it runs after the router has matched (and decoded) the
 * path, for that route only, whatever the request target's spelling: nothing here reads
 * `req.url`. Requests that match no route reach the not-found handlers, which hold no data.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestAsyncHookHandler, RouteOptions } from 'fastify';
import { forbidden, TooManyLoginsError, unauthorized, type Authenticator, type Identity } from './auth.js';
import { sendHttpError } from './problem.js';

export const ACCESS_LEVELS = ['public', 'openRead', 'read', 'admin'] as const;
export type Access = (typeof ACCESS_LEVELS)[number];

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may use the route (route-access.ts); absent = admin. */
    access?: Access;
    /** A long upload (STOW-RS): held to a minimum transfer rate instead of the request timeout (http-timeouts.ts). */
    upload?: boolean;
  }
  interface FastifyRequest {
    /** The authenticated user, set by the access check (absent on public routes). */
    identity?: Identity;
  }
}

/** Route options declaring an access level: `app.get(path, access('read'), handler)`, or spread: `{ schema, ...access('admin') }`. */
export function access(level: Access): { config: { access: Access } } {
  return { config: { access: level } };
}

/** One registered route and the access it declared (read once every onRoute hook has run). */
export interface RouteEntry {
  method: string;
  url: string;
  readonly access: Access;
}

export interface AccessDeps {
  auth: Authenticator;
  /** `web.dicomweb.openRead` as it is now (a registry change applies at once). */
  openRead: () => boolean;
}

const GUARD = Symbol('route access check');

/** Whether a refusal should close the connection: a body is still on its way and is not going to be read. */
export function closeIfBodyPending(req: FastifyRequest, reply: FastifyReply): void {
  if (!req.raw.complete) reply.header('connection', 'close');
}

/**
 * Attaches the access check to every route registered on `app` from now on (call it
 * first), and returns the live route table.
 */
export function guardRoutes(app: FastifyInstance, deps: AccessDeps): RouteEntry[] {
  const table: RouteEntry[] = [];
  const check: onRequestAsyncHookHandler = async (req, reply) => {
    const declared = req.routeOptions.config.access ?? 'admin';
    const read = req.method === 'GET' || req.method === 'HEAD';
    if (declared === 'public' || (declared === 'openRead' && read && deps.openRead())) return;
    let who: Identity | undefined;
    try {
      who = await deps.auth.identify(req);
    } catch (err) {
      if (!(err instanceof TooManyLoginsError)) throw err;
      // Logged when the limit is reached (server.ts), not for every refused attempt: a flood would flood the log.
      closeIfBodyPending(req, reply);
      return sendHttpError(reply, err);
    }
    if (!who) {
      closeIfBodyPending(req, reply);
      // The web app sends X-Requested-With: no Basic challenge for it (the browser would show its own dialog).
      return unauthorized(reply, req.headers['x-requested-with'] === undefined);
    }
    req.identity = who;
    if (declared === 'admin' && who.role !== 'admin') {
      closeIfBodyPending(req, reply);
      return forbidden(reply, who, 'admin');
    }
  };
  (check as unknown as Record<symbol, boolean>)[GUARD] = true;

  app.addHook('onRoute', (route: RouteOptions) => {
    const hooks = [route.onRequest ?? []].flat();
    if (!hooks.some((h) => (h as unknown as Record<symbol, boolean>)[GUARD])) route.onRequest = [...hooks, check] as RouteOptions['onRequest'];
    for (const method of [route.method].flat()) {
      table.push({
        method,
        url: route.url,
        get access() {
          return route.config?.access ?? 'admin';
        },
      });
    }
  });
  return table;
}
