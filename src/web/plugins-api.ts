/**
 * The add-ins' REST routes, under /api/plugins/NAME (src/roles/plugin-host.ts loads them).
 * Each route declares its access like every other (route-access.ts; admin unless it says
 * otherwise); the call into the plug-in is timed out and caught by the plug-in host, and
 * its failure answered as a problem (500, or 504 when it did not answer in time).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { PluginRoute } from '../roles/plugin-api.js';
import type { PluginManager } from '../roles/plugin-host.js';
import { PluginCallError } from '../roles/plugin-host.js';
import { HttpError } from './problem.js';
import { access } from './route-access.js';

export function registerPluginRoutes(app: FastifyInstance, plugins: PluginManager | undefined): void {
  for (const { plugin, route } of plugins?.routes() ?? []) {
    const where = `route ${route.method} /api/plugins/${plugin}${route.path}`;
    // A route fastify refuses (a duplicate, a bad pattern) is the plug-in's failure, not the web server's.
    try {
      addRoute(app, plugins!, plugin, route);
    } catch (err) {
      plugins!.reportFailureOf(plugin, where, `not registered: ${(err as Error).message}`);
    }
  }
}

function addRoute(app: FastifyInstance, plugins: PluginManager, plugin: string, route: PluginRoute): void {
  app.route({
    method: route.method,
    url: `/api/plugins/${plugin}${route.path}`,
    ...access(route.access ?? 'admin'),
    handler: async (req: FastifyRequest, reply) => {
      try {
        const r = await plugins.callRoute(plugin, route, {
          method: req.method,
          params: { ...(req.params as Record<string, string>) },
          query: { ...(req.query as Record<string, string | string[] | undefined>) },
          body: req.body,
          ...(req.identity ? { user: { name: req.identity.name, role: req.identity.role } } : {}),
        });
        if (r.body === undefined) return reply.code(r.status).send();
        return reply.code(r.status).type('application/json').send(JSON.stringify(r.body));
      } catch (err) {
        if (err instanceof PluginCallError) throw new HttpError(err.httpStatus, err.message, { type: 'urn:open-pacs:problem:add-in' });
        throw err;
      }
    },
  });
}
