// The web app over running roles, in process, for the REST API tests: a fresh data
// directory whose three roles and web server listen on free ports (so test files can run
// in parallel), an admin user, and fastify's inject for requests.
import type { FastifyInstance } from 'fastify';
import { join } from 'node:path';
import pino from 'pino';
import { ConfigStore, setAe, setWeb, type Registry } from '../../src/config/index.js';
import { PacsRoles } from '../../src/roles/pacs-roles.js';
import { buildWebApp } from '../../src/web/server.js';
import { UserStore } from '../../src/web/users.js';
import { freePort } from '../support/peers.js';
import { makeTempDir } from '../support/tmp.js';

export interface WebAppFixture {
  dir: string;
  store: ConfigStore;
  users: UserStore;
  roles: PacsRoles;
  app: FastifyInstance;
  ports: { pacs: number; workstation: number; router: number; web: number };
  /** what creating the admin user answered, for the test of that */
  adminCreated: Awaited<ReturnType<UserStore['ensureAdmin']>>;
  /** closes the app, the roles and the registry; the temp dir stays for removeTempDirs */
  close(): Promise<void>;
}

export async function startWebApp(o: {
  tmpPrefix: string;
  adminPassword: string;
  /** more registry changes (extra AEs) before the roles start */
  register?: (reg: Registry) => Registry;
  /** the built web app to serve (default: none, so the app answers 503) */
  uiDir?: string;
}): Promise<WebAppFixture> {
  const dir = join(await makeTempDir(o.tmpPrefix), 'data');
  const store = await ConfigStore.open(dir);
  const [pacs, workstation, router, web] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  await store.update((reg) => {
    const ported = setAe(
      setAe(setAe(setWeb(reg, { port: web }), 'PACS', { connection: { port: pacs } }), 'WORKSTATION', { connection: { port: workstation } }),
      'ROUTER',
      { connection: { port: router } },
    );
    return o.register ? o.register(ported) : ported;
  });
  const users = await UserStore.open(dir);
  const adminCreated = await users.ensureAdmin(o.adminPassword);
  const logger = pino({ level: 'silent' });
  const roles = await PacsRoles.start({ config: store, dataDir: dir, logger });
  const app = await buildWebApp({
    config: store,
    users,
    roles,
    activity: roles.activity,
    logger,
    web: () => ({ host: '127.0.0.1', port: web }),
    uiDir: o.uiDir ?? join(dir, 'no-ui'),
  });
  return {
    dir,
    store,
    users,
    roles,
    app,
    ports: { pacs, workstation, router, web },
    adminCreated,
    async close() {
      await app.close();
      await roles.close();
      store.close();
    },
  };
}
