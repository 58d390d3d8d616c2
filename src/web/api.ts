/** The REST API under /api: login, AE registry CRUD, C-ECHO an AE, server status; users in users-api.ts. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Status } from '../api-types/web.js';
import {
  addAe,
  ConfigValidationError,
  findAe,
  isServerRole,
  listAes,
  portAvailable,
  removeAe,
  replaceAe,
  setAe,
  setPrefetch,
  setWeb,
  ConfigConflictError,
  type ConfigStore,
  type Registry,
} from '../config/index.js';
import { echoAe } from '../roles/echo-peer.js';
import type { PacsRoles } from '../roles/pacs-roles.js';
import { clearedCookie, cookieValue, SESSION_COOKIE, sessionCookie, TooManyLoginsError, type Authenticator, type Identity } from './auth.js';
import { sendHttpError, sendProblem } from './problem.js';
import { access, closeIfBodyPending } from './route-access.js';
import { aeCreateBody, aePatchBody, aeReplaceBody, aetParams, loginBody, webPatchBody } from './schemas.js';
import type { UserStore } from './users.js';
import type { ActivityLog } from '../services/activity-log.js';
import { registerActivityApi, webAction } from './activity-api.js';
import { registerHealthApi } from './health-api.js';
import { registerDictionaryApi } from './dictionary-api.js';
import { registerPluginRoutes } from './plugins-api.js';
import { registerRouterApi } from './router-api.js';
import { registerPatientsApi } from './patients-api.js';
import { registerStudiesApi } from './studies-api.js';
import type { AuditRecorder } from '../audit/index.js';
import { webActor } from './audit-actor.js';
import type { UserSettingsStore } from './user-settings.js';
import { registerUsersApi } from './users-api.js';
import { registerHangingProtocolsApi, type HangingProtocolStore } from './hanging-protocols.js';
import { registerWorkflowApi } from './workflow-api.js';

export interface ApiDeps {
  config: ConfigStore;
  users: UserStore;
  /** Sessions, Basic credentials and the login throttle, shared with DICOMweb. */
  auth: Authenticator;
  /** The running roles; absent when the web server runs alone (tests). */
  roles?: Pick<PacsRoles, 'status' | 'archive' | 'settled' | 'router' | 'jobs' | 'retryCommitment' | 'plugins' | 'workstationCap' | 'runs'>;
  /** The web server's own listening address, for the status page. */
  web: () => { host: string; port: number };
  startedAt: number;
  /** The activity log (roles.activity): read by GET /api/activity, written by the actions below; absent in tests without roles. */
  activity?: Pick<ActivityLog, 'record' | 'query' | 'subscribe'>;
  /** The audit trail (IHE ATNA): logins, logouts, deletions, exports, DICOMweb queries and retrievals. */
  audit?: AuditRecorder;
  /** The hanging protocols' store (several nodes: PostgreSQL); default the data directory's file. */
  hangingProtocols?: HangingProtocolStore;
  /** Each user's viewer settings (several nodes: PostgreSQL); default the data directory's file. */
  userSettings?: UserSettingsStore;
}

type AetRequest = FastifyRequest<{ Params: { aet: string } }>;

/** A local role's new port must be free (unless it is the port it already has). */
async function checkRolePort(reg: Registry, aet: string, body: { connection?: { port?: unknown; host?: unknown } }): Promise<void> {
  const ae = findAe(reg, aet);
  const port = body.connection?.port;
  if (!ae || !isServerRole(ae.role) || typeof port !== 'number' || port === ae.connection.port || port < 1 || port > 65535) return;
  const host = typeof body.connection?.host === 'string' ? body.connection.host : ae.connection.host;
  if (!(await portAvailable(port, host)))
    throw new ConfigValidationError([{ field: 'connection.port', message: `port ${port} is already in use on this host` }]);
}

/**
 * Every route declares who may use it (route-access.ts): reading is `read` (admins and
 * readers), changing, echoing and the rest are `admin`; logging in and out are public.
 */
export async function registerApi(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const { sessions } = deps.auth;

  // An address over its limit is refused before its body is even read (the user name is in the body).
  const addressThrottled = async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      await deps.auth.checkAddress(req.ip);
    } catch (err) {
      if (!(err instanceof TooManyLoginsError)) throw err;
      closeIfBodyPending(req, reply);
      return sendHttpError(reply, err);
    }
  };

  app.post('/api/login', { schema: { body: loginBody }, onRequest: addressThrottled, ...access('public') }, async (req, reply) => {
    const { user, password } = req.body as { user: string; password: string };
    let who: Identity | undefined;
    try {
      who = await deps.auth.login(user, password, req.ip);
    } catch (err) {
      if (!(err instanceof TooManyLoginsError)) throw err;
      return sendHttpError(reply, err);
    }
    if (!who) {
      req.log.warn({ user, ip: req.ip }, 'login failed');
      deps.activity?.record(
        webAction(req, 'login', 'login failed: wrong user name or password', { user, outcome: 'failure', reason: 'wrong user name or password' }),
      );
      deps.audit?.record({ kind: 'login', ok: false, reason: 'wrong user name or password', ...webActor(req, user) });
      return sendProblem(reply, {
        type: 'urn:open-pacs:problem:login',
        title: 'Login failed',
        status: 401,
        detail: 'wrong user name or password',
        field: 'password',
      });
    }
    // Secure whenever the request came over HTTPS (web.tls): the cookie then never travels in clear text.
    reply.header('set-cookie', sessionCookie(await sessions.create(who.name), req.protocol === 'https'));
    deps.activity?.record(webAction(req, 'login', `logged in (${who.role})`, { user: who.name }));
    deps.audit?.record({ kind: 'login', ok: true, ...webActor(req, who.name) });
    return { user: who.name, role: who.role };
  });

  app.post('/api/logout', access('public'), async (req, reply) => {
    const user = await sessions.user(cookieValue(req, SESSION_COOKIE));
    if (user !== undefined) deps.audit?.record({ kind: 'logout', ...webActor(req, user) });
    await sessions.drop(cookieValue(req, SESSION_COOKIE));
    reply.header('set-cookie', clearedCookie(req.protocol === 'https'));
    return { ok: true };
  });

  app.get('/api/me', access('read'), async (req) => ({ user: req.identity?.name, role: req.identity?.role }));

  app.get('/api/config', access('read'), async () => deps.config.current);

  app.patch('/api/config/web', { schema: { body: webPatchBody }, ...access('admin') }, async (req) => {
    const next = await deps.config.update((reg) => setWeb(reg, req.body));
    deps.activity?.record(webAction(req, 'config', `changed the web server settings: ${Object.keys(req.body as object).join(', ')}`, { target: 'web' }));
    return next.web;
  });

  // Prefetch of priors into the Workstation (src/roles/prefetch.ts); null resets a field. Validated by setPrefetch (field-named 400s).
  app.patch('/api/config/prefetch', access('admin'), async (req) => {
    const next = await deps.config.update((reg) => setPrefetch(reg, req.body ?? {}));
    return next.prefetch;
  });

  app.get('/api/aes', access('read'), async () => listAes(deps.config.current));

  app.get('/api/aes/:aet', { schema: { params: aetParams }, ...access('read') }, async (req: AetRequest) => {
    const ae = findAe(deps.config.current, req.params.aet);
    if (!ae) throw new ConfigConflictError(`no AE "${req.params.aet}" in the registry`, 'not-found', 'aeTitle');
    return ae;
  });

  app.post('/api/aes', { schema: { body: aeCreateBody }, ...access('admin') }, async (req, reply: FastifyReply) => {
    const { device, ...ae } = req.body as { device?: string; aeTitle: string };
    const next = await deps.config.update((reg) => addAe(reg, ae, { device }));
    deps.activity?.record(webAction(req, 'config', `added AE ${ae.aeTitle.trim()} to the registry`, { target: ae.aeTitle.trim() }));
    return reply
      .code(201)
      .header('location', `/api/aes/${encodeURIComponent(ae.aeTitle.trim())}`)
      .send(findAe(next, ae.aeTitle));
  });

  app.put('/api/aes/:aet', { schema: { params: aetParams, body: aeReplaceBody }, ...access('admin') }, async (req: AetRequest) => {
    const body = { aeTitle: req.params.aet, ...(req.body as object) } as { aeTitle: string; connection?: { port?: unknown } };
    replaceAe(deps.config.current, req.params.aet, body); // field errors before the port probe
    await checkRolePort(deps.config.current, req.params.aet, body);
    const next = await deps.config.update((reg) => replaceAe(reg, req.params.aet, body));
    deps.activity?.record(webAction(req, 'config', `replaced AE ${req.params.aet} in the registry`, { target: req.params.aet }));
    await deps.roles?.settled();
    return findAe(next, body.aeTitle);
  });

  app.patch('/api/aes/:aet', { schema: { params: aetParams, body: aePatchBody }, ...access('admin') }, async (req: AetRequest) => {
    const body = req.body as { aeTitle?: string; connection?: { port?: unknown } };
    setAe(deps.config.current, req.params.aet, body); // field errors before the port probe
    await checkRolePort(deps.config.current, req.params.aet, body);
    const next = await deps.config.update((reg) => setAe(reg, req.params.aet, body));
    deps.activity?.record(webAction(req, 'config', `changed AE ${req.params.aet}: ${Object.keys(body).join(', ')}`, { target: req.params.aet }));
    await deps.roles?.settled();
    return findAe(next, typeof body.aeTitle === 'string' ? body.aeTitle : req.params.aet);
  });

  app.delete('/api/aes/:aet', { schema: { params: aetParams }, ...access('admin') }, async (req: AetRequest, reply) => {
    await deps.config.update((reg) => removeAe(reg, req.params.aet));
    deps.activity?.record(webAction(req, 'config', `removed AE ${req.params.aet} from the registry`, { target: req.params.aet }));
    return reply.code(204).send();
  });

  app.post('/api/aes/:aet/echo', { schema: { params: aetParams }, ...access('admin') }, async (req: AetRequest) => {
    const reg = deps.config.current;
    const target = findAe(reg, req.params.aet);
    if (!target) throw new ConfigConflictError(`no AE "${req.params.aet}" in the registry`, 'not-found', 'aeTitle');
    const calling = findAe(reg, 'PACS_CLIENT')?.aeTitle ?? listAes(reg).find((a) => a.role === 'client')?.aeTitle ?? 'PACS_CLIENT';
    return echoAe(target, calling, { dataDir: deps.config.dataDir });
  });

  registerHealthApi(app, deps);
  registerDictionaryApi(app);
  await registerWorkflowApi(app, deps);
  await registerPatientsApi(app, deps);
  await registerRouterApi(app, deps);
  await registerStudiesApi(app, deps);
  await registerUsersApi(app, deps);
  await registerHangingProtocolsApi(app, { dataDir: deps.users.dataDir, store: deps.hangingProtocols, activity: deps.activity });
  await registerActivityApi(app, deps);
  registerPluginRoutes(app, deps.roles?.plugins());

  app.get('/api/status', access('read'), async (): Promise<Status> => {
    const roles = deps.roles?.status() ?? [];
    const withCounts = await Promise.all(
      roles.map(async (r) => ({
        ...r,
        instancesStored:
          (await deps.roles
            ?.archive(r.role)
            ?.index.countInstances()
            .catch(() => undefined)) ?? null,
      })),
    );
    return {
      revision: deps.config.current.revision,
      uptimeSeconds: Math.round((Date.now() - deps.startedAt) / 1000),
      web: { ...deps.web(), listening: true },
      roles: withCounts,
      plugins: deps.roles?.plugins()?.status() ?? [],
    };
  });
}
