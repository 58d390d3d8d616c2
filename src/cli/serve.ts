/**
 * `pacs serve`: every server role of the AE registry plus the web server, in one
 * process. On SQLite (one node per data directory) flags given on the command line
 * (--aet, --port, --host, --web-port, ...) are written into the registry first, so the
 * registry stays the one truth that `pacs config`, the REST API and the web app show.
 * With PostgreSQL (several nodes, one registry in the database) the ports and addresses
 * are this node's own, laid over the shared registry and never written into it
 * (shared-node.ts); the other flags still change the shared registry.
 */
import { Command, Option } from 'commander';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import type { ArchiveOptions } from '../archive/archive.js';
import {
  ConfigStore,
  effectiveLimits,
  ensureOwnerOnlyDir,
  loadServerTlsFiles,
  SERVER_ROLES,
  serverAe,
  setAe,
  setHl7,
  setLimits,
  setWeb,
  writeFileAtomic,
  type Registry,
  type ServerRole,
} from '../config/index.js';
import { acquireNodeLock, NODE_LOCK_DIR, type NodeLock } from '../roles/node-lock.js';
import { joinSharedDatabase, type SharedNode } from './shared-node.js';
import { missingServerV8Flags } from './v8-flags.js';
import { QUEUE_DIR as AUDIT_QUEUE_DIR } from '../audit/queue.js';
import { PacsRoles } from '../roles/pacs-roles.js';
import { AuditTrail } from '../audit/index.js';
import { startWebServer, type WebServer } from '../web/server.js';
import { UserStore } from '../web/users.js';
import { SharedSessions } from '../web/auth.js';
import { HangingProtocolStore } from '../web/hanging-protocols.js';
import { UserSettingsStore } from '../web/user-settings.js';
import { SharedAuthTables } from '../archive/shared-auth.js';
import { SharedJobTable } from '../archive/shared-jobs.js';
import { SharedDocuments } from '../archive/shared-documents.js';
import { NODE_ROLES, parseAeTitle, parsePort, parsePositiveInt, parseRoles, type NodeRole } from './options.js';
import { COMMANDS } from './commands.js';

export interface ServeOverrides {
  aet?: string;
  port?: number;
  host?: string;
  workstationPort?: number;
  routerPort?: number;
  webPort?: number;
  webHost?: string;
  /** limits.dicom (`--max-pdu`, `--max-associations`, `--idle-timeout`). */
  maxPduLength?: number;
  maxAssociations?: number;
  idleTimeoutSeconds?: number;
  /** HTTPS for the web server (`web.tls`). */
  webTls?: boolean;
  /** Turns the HL7 intake on, on this port (`hl7.enabled`, `hl7.port`). */
  hl7Port?: number;
}

export interface PacsOptions {
  dataDir: string;
  logger: Logger;
  overrides?: ServeOverrides;
  index?: ArchiveOptions['index'];
  duplicatePolicy?: ArchiveOptions['duplicatePolicy'];
  /** Start the web server (default true; off too when `roles` leaves `web` out). */
  web?: boolean;
  /** The roles this node runs (`--roles`; default all): a server role left out does not listen, `web` left out: no web server. */
  roles?: readonly NodeRole[];
  uiDir?: string;
  /** This node's name in its lock and status (default: the host name). */
  nodeId?: string;
  /** With PostgreSQL: how long after its last heartbeat this node is taken for dead (default 15 s). */
  nodeLeaseSeconds?: number;
}

export interface Pacs {
  readonly config: ConfigStore;
  readonly roles: PacsRoles;
  readonly users: UserStore;
  /** The audit trail (IHE ATNA). */
  readonly audit: AuditTrail;
  /** The web server, when it is listening. */
  web(): WebServer | undefined;
  /** A node of several: resolves if another node fenced this one (node-table.ts): it must stop. */
  readonly fenced?: Promise<void>;
  close(): Promise<void>;
}

/** The ports and addresses of the command line: a node's own when several share the registry. */
function applyListenOverrides(reg: Registry, o: ServeOverrides): Registry {
  let r = reg;
  const role = (name: ServerRole) => serverAe(r, name)!.aeTitle;
  const portOf: Partial<Record<ServerRole, number>> = { main: o.port, workstation: o.workstationPort, router: o.routerPort };
  for (const name of SERVER_ROLES) {
    const ae = serverAe(r, name);
    if (!ae) continue;
    const port = portOf[name];
    if (port !== undefined && port !== ae.connection.port) r = setAe(r, role(name), { connection: { port } });
    if (o.host !== undefined && o.host !== ae.connection.host) r = setAe(r, role(name), { connection: { host: o.host } });
  }
  if ((o.webPort !== undefined && o.webPort !== r.web.port) || (o.webHost !== undefined && o.webHost !== r.web.host)) {
    r = setWeb(r, { ...(o.webPort !== undefined ? { port: o.webPort } : {}), ...(o.webHost !== undefined ? { host: o.webHost } : {}) });
  }
  if (o.hl7Port !== undefined && (r.hl7?.enabled !== true || r.hl7.port !== o.hl7Port)) r = setHl7(r, { enabled: true, port: o.hl7Port });
  return r;
}

/** The other flags: settings of the PACS as a whole (its AE title, HTTPS, limits). */
function applySettingOverrides(reg: Registry, o: ServeOverrides): Registry {
  let r = reg;
  const main = serverAe(r, 'main')?.aeTitle;
  if (o.aet !== undefined && main !== undefined && o.aet !== main) r = setAe(r, main, { aeTitle: o.aet });
  if (o.webTls !== undefined && o.webTls !== (r.web.tls ?? false)) r = setWeb(r, { tls: o.webTls });
  const inForce = effectiveLimits(r).dicom;
  const dicom = Object.fromEntries(
    (
      [
        ['maxPduLength', o.maxPduLength],
        ['maxAssociations', o.maxAssociations],
        ['idleTimeoutSeconds', o.idleTimeoutSeconds],
      ] as const
    ).filter(([k, v]) => v !== undefined && v !== inForce[k]),
  );
  if (Object.keys(dicom).length) r = setLimits(r, { dicom });
  return r;
}

const applyOverrides = (reg: Registry, o: ServeOverrides): Registry => applySettingOverrides(applyListenOverrides(reg, o), o);

export const INITIAL_PASSWORD_FILE = 'initial-admin-password';

/**
 * The first start: the web user `admin`, with PACS_ADMIN_PASSWORD or a generated password.
 * A generated one is never logged (logs are kept and shipped): it is printed once when a
 * terminal is attached, else written to `<data>/initial-admin-password` (0600, written
 * before the user exists, so it is never lost) and only that path is logged.
 */
async function createFirstAdmin(users: UserStore, dataDir: string, logger: Logger): Promise<void> {
  if ((await users.list()).length > 0) return;
  const chosen = process.env.PACS_ADMIN_PASSWORD;
  const password = chosen || randomBytes(18).toString('base64url');
  const file = join(dataDir, INITIAL_PASSWORD_FILE);
  const terminal = process.stdout.isTTY === true;
  if (!chosen && !terminal) await writeFileAtomic(file, `${password}\n`, 0o600);
  const { created } = await users.ensureAdmin(password);
  if (!created) return;
  if (chosen) logger.info({ user: 'admin' }, 'created the web user "admin" with the password from PACS_ADMIN_PASSWORD');
  else if (terminal) {
    process.stdout.write(
      `\nCreated the web user "admin" with the password\n\n    ${password}\n\nIt is shown only this once: change it in the web app (or pacs user passwd admin).\n\n`,
    );
    logger.warn({ user: 'admin' }, 'created the web user "admin" with a generated password, shown once on the terminal');
  } else {
    logger.warn(
      { user: 'admin', file },
      'created the web user "admin" with a generated password, written to this file (owner-only): log in, change the password and delete the file',
    );
  }
}

/** Starts all three roles and the web server from the registry in `dataDir` (created with the defaults on a first start). */
export async function startPacs(opts: PacsOptions): Promise<Pacs> {
  const { logger } = opts;
  await ensureOwnerOnlyDir(opts.dataDir, logger);
  if (opts.index && opts.index !== 'sqlite') {
    const node = await joinSharedDatabase({
      dataDir: opts.dataDir,
      postgres: opts.index.postgres,
      schema: opts.index.schema,
      nodeId: opts.nodeId,
      leaseSeconds: opts.nodeLeaseSeconds,
      logger,
    });
    try {
      return await startLocked(opts, node);
    } catch (err) {
      await node.close();
      throw err;
    }
  }
  const lock = acquireNodeLock(opts.dataDir, opts.nodeId);
  try {
    return await startLocked(opts, lock);
  } catch (err) {
    lock.release();
    throw err;
  }
}

/** What runs on this node and where, in the node table (the roles it runs; the ports of those listening). */
async function describeNode(node: SharedNode, runs: readonly NodeRole[], roles: PacsRoles, web: WebServer | undefined): Promise<void> {
  const names: string[] = [...runs];
  const ports: Record<string, number> = {};
  for (const r of roles.status()) {
    if (r.listening && r.port !== undefined) ports[r.role] = r.port;
  }
  if (web) ports.web = web.port;
  const hl7 = roles.hl7Status();
  if (hl7.listening && hl7.port !== undefined) {
    names.push('hl7');
    ports.hl7 = hl7.port;
  }
  await node.table.describe(names, ports);
}

async function startLocked(opts: PacsOptions, holder: NodeLock | SharedNode): Promise<Pacs> {
  const { logger } = opts;
  const node = 'table' in holder ? holder : undefined;
  const overrides = opts.overrides;
  let config: ConfigStore;
  if (node) {
    // The registry in the database; this node's ports and addresses over it, never written into it.
    config = await ConfigStore.open(opts.dataDir, {
      logger,
      backend: node.registry,
      ...(overrides ? { overlay: (reg: Registry) => applyListenOverrides(reg, overrides) } : {}),
    });
    if (overrides && applySettingOverrides(config.current, overrides) !== config.current) {
      await config.update((reg) => applySettingOverrides(reg, overrides));
    }
  } else {
    config = await ConfigStore.open(opts.dataDir, { logger });
    if (overrides && applyOverrides(config.current, overrides) !== config.current) {
      await config.update((reg) => applyOverrides(reg, overrides));
    }
  }
  const runs = (opts.roles ?? NODE_ROLES).filter((r) => r !== 'web' || opts.web !== false);
  // Several nodes: users, sessions, jobs and hanging protocols in the database, as the registry.
  const shared = node && {
    auth: new SharedAuthTables(node.db, node.nodeId),
    jobs: new SharedJobTable(node.db, node.nodeId),
    documents: new SharedDocuments(node.db, node.nodeId),
  };
  const users = shared ? await UserStore.openShared(opts.dataDir, shared.auth, logger) : await UserStore.open(opts.dataDir);
  const sessions = shared && new SharedSessions(shared.auth);
  const hangingProtocols = shared && HangingProtocolStore.shared(opts.dataDir, shared.documents);
  const userSettings = shared && UserSettingsStore.shared(opts.dataDir, shared.documents);
  const closeShared = () => {
    sessions?.close();
    users.close();
  };
  try {
    await createFirstAdmin(users, opts.dataDir, logger);
  } catch (err) {
    closeShared();
    throw err;
  }

  // The audit trail (IHE ATNA) goes to the registry's `audit` repository, read per connection.
  const audit = await AuditTrail.open({
    dataDir: opts.dataDir,
    // Each node sending its own queue: a shared one would mix two writers' sequence numbers.
    ...(node ? { queueDir: join(opts.dataDir, NODE_LOCK_DIR, node.nodeId, AUDIT_QUEUE_DIR) } : {}),
    repository: () => config.current.audit,
    sourceId: () => config.current.devices.find((d) => d.local)?.name ?? 'open-pacs',
    logger,
  });
  let roles: PacsRoles;
  try {
    roles = await PacsRoles.start({
      ...opts,
      config,
      audit,
      roles: SERVER_ROLES.filter((r) => runs.includes(r)),
      ...(node ? { node: node.sharing, sharedDatabase: node.db } : {}),
    });
  } catch (err) {
    await audit.close(0);
    closeShared();
    throw err;
  }
  if (shared) {
    try {
      await roles.jobs.share(shared.jobs, logger);
    } catch (err) {
      await roles.close();
      await audit.close(0);
      closeShared();
      throw err;
    }
  }
  let web: WebServer | undefined;
  let webQueue = Promise.resolve();
  const openWeb = async (reg: Registry) => {
    try {
      // HTTPS or nothing: with web.tls on and no certificate, the web server stays closed rather than fall back to clear text.
      const tls = reg.web.tls ? loadServerTlsFiles(opts.dataDir) : undefined;
      web = await startWebServer({
        host: reg.web.host,
        port: reg.web.port,
        logger,
        config,
        users,
        roles,
        activity: roles.activity,
        uiDir: opts.uiDir,
        tls,
        audit,
        ...(sessions ? { sessions } : {}),
        ...(hangingProtocols ? { hangingProtocols } : {}),
        ...(userSettings ? { userSettings } : {}),
      });
    } catch (err) {
      web = undefined;
      logger.error({ err: (err as Error).message, port: reg.web.port, tls: reg.web.tls === true }, 'web server not listening');
    }
  };
  if (runs.includes('web')) {
    await openWeb(config.current);
    config.onChange((next, prev) => {
      if (next.web.port === prev.web.port && next.web.host === prev.web.host && next.web.tls === prev.web.tls && web) return;
      webQueue = webQueue.then(async () => {
        // A reply to the request that made this change is still on its way: let it go out first.
        await new Promise((r) => setTimeout(r, 100));
        await web?.close();
        await openWeb(next);
      });
    });
  }
  config.watch();
  let described = Promise.resolve();
  if (node) {
    const describe = () => {
      described = described
        .then(() => roles.settled())
        .then(() => webQueue)
        .then(() => describeNode(node, runs, roles, web))
        .catch((err: Error) => logger.warn({ err: err.message }, 'node table not updated'));
    };
    describe();
    config.onChange(describe);
  }
  return {
    config,
    roles,
    users,
    audit,
    web: () => web,
    ...(node ? { fenced: node.table.fenced } : {}),
    async close() {
      config.close();
      await webQueue;
      await web?.close();
      await roles.close();
      await audit.close();
      await described;
      closeShared();
      if (node) await node.close();
      else (holder as NodeLock).release();
    },
  };
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(COMMANDS.serve)
    .option('--data <dir>', 'data directory', process.env.PACS_DATA_DIR ?? './data')
    .option('--aet <title>', 'AE title of the Main Server (saved in the registry)', parseAeTitle)
    .option('--port <port>', "DICOM port of the Main Server (saved in the registry; with --database-url this node's own)", parsePort)
    .option('--host <address>', "address the server roles listen on (saved in the registry; with --database-url this node's own)")
    .option('--workstation-port <port>', "DICOM port of the Workstation Server (saved in the registry; with --database-url this node's own)", parsePort)
    .option('--router-port <port>', "DICOM port of the Router (saved in the registry; with --database-url this node's own)", parsePort)
    .option('--web-port <port>', "port of the web server (saved in the registry; with --database-url this node's own)", parsePort)
    .option(
      '--hl7-port <port>',
      "turn the HL7 v2 intake (MLLP) on, on this port (saved in the registry: hl7.enabled, hl7.port; with --database-url this node's own)",
      parsePort,
    )
    .option('--web-host <address>', "address the web server listens on (saved in the registry; with --database-url this node's own)")
    .option('--web-tls', 'HTTPS for the web server with <data>/tls/server.pem (pacs tls init); plain HTTP is then off (saved in the registry)')
    .option('--no-web-tls', 'plain HTTP for the web server (saved in the registry)')
    .option('--no-web', 'do not start the web server (as --roles without web)')
    .option(
      '--roles <list>',
      `the roles this node runs, separated by commas: ${NODE_ROLES.join(', ')} (default all); a server role left out does not listen, web left out: no web server`,
      parseRoles,
    )
    .option('--node-id <name>', "this node's name in its lock, the node table and pacs status (default: the host name)")
    .option(
      '--node-lease <seconds>',
      'with --database-url: how long after its last heartbeat this node is taken for dead, and its temporary files swept by others (default 15)',
      parsePositiveInt,
    )
    .option(
      '--database-url <url>',
      'PostgreSQL index instead of the embedded SQLite (Main Server); the registry and the node table are kept there too, and several nodes may share it and the data directory',
      process.env.PACS_DATABASE_URL,
    )
    .option('--database-schema <name>', 'PostgreSQL schema of the index', process.env.PACS_DATABASE_SCHEMA ?? 'pacs')
    .addOption(
      new Option('--duplicates <policy>', 'a SOP Instance UID already stored: keep the stored copy, replace it, or reject the new one')
        .choices(['keep', 'replace', 'reject'])
        .default('keep'),
    )
    .option('--max-pdu <bytes>', 'largest PDU the server roles accept (saved in the registry: limits.dicom.maxPduLength)', parsePositiveInt)
    .option('--max-associations <n>', 'concurrent associations per server role (saved in the registry: limits.dicom.maxAssociations)', parsePositiveInt)
    .option('--idle-timeout <seconds>', 'abort an association silent for this long (saved in the registry: limits.dicom.idleTimeoutSeconds)', parsePositiveInt)
    .option('--log-level <level>', 'trace|debug|info|warn|error', process.env.PACS_LOG_LEVEL ?? 'info')
    .action(async (o) => {
      const logger = pino({ level: o.logLevel });
      const missing = missingServerV8Flags();
      if (missing.length)
        logger.info(
          { missing },
          'started without these node flags, which `pacs serve` (bin/pacs.js run as a program) and `npm start` pass: the first stores after an idle period run slower',
        );
      const pacs = await startPacs({
        dataDir: resolve(o.data),
        logger,
        overrides: {
          aet: o.aet,
          port: o.port,
          host: o.host,
          workstationPort: o.workstationPort,
          routerPort: o.routerPort,
          webPort: o.webPort,
          webHost: o.webHost,
          maxPduLength: o.maxPdu,
          maxAssociations: o.maxAssociations,
          idleTimeoutSeconds: o.idleTimeout,
          webTls: o.webTls,
          hl7Port: o.hl7Port,
        },
        index: o.databaseUrl ? { postgres: o.databaseUrl, schema: o.databaseSchema } : 'sqlite',
        duplicatePolicy: o.duplicates,
        web: o.web,
        ...(o.roles ? { roles: o.roles } : {}),
        nodeId: o.nodeId,
        nodeLeaseSeconds: o.nodeLease,
      });
      let stopping = false;
      const stop = async (signal: string, code = 0) => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'shutting down');
        await pacs.close().catch((err: Error) => logger.error({ err: err.message }, 'shutdown incomplete'));
        process.exit(code);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
      // Fenced (paused beyond its lease, its batches swept): every write would fail; a restart registers again.
      void pacs.fenced?.then(() => stop('fenced', 1));
    });
}
