/**
 * The three server roles of one PACS process, run from the AE registry: the Main Server
 * (archive in the data directory itself), the Workstation Server (`<data>/workstation`)
 * and the Router's listener (`<data>/router`). A registry change re-opens only a
 * listener whose host or port changed; AE titles, permissions, policies and the limits
 * of `limits.dicom` are read from the registry per association (per new connection for
 * the limits), so they apply at once without a re-open.
 */
import type { RoleStatus as ApiRoleStatus } from '../api-types/index.js';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Archive, ArchiveOptions } from '../archive/archive.js';
import type { ConnectionOptions, TlsOptions } from 'node:tls';
import {
  clientTlsOptions,
  effectiveLimits,
  findAe,
  loadServerTlsFiles,
  SERVER_ROLES,
  serverAe,
  type Ae,
  type ConfigStore,
  type Registry,
  type ServerRole,
} from '../config/index.js';
import { WorklistStore } from '../archive/worklist-store.js';
import { routerIndexSpec, workstationIndexSpec } from '../archive/open-index.js';
import type { SharedDatabase } from '../archive/shared-database.js';
import { SharedRouterRules } from '../archive/shared-router-rules.js';
import type { ServiceRegistry } from '../dimse/service.js';
import { ActivityStore } from '../archive/activity-store.js';
import { ActivityLog } from '../services/activity-log.js';
import { JobRegistry } from '../services/jobs.js';
import type { AuditRecorder } from '../audit/index.js';
import { RuleStore } from '../router/rule-store.js';
import { Router } from '../router/router.js';
import { moveDestination, registryAccessControl } from './access-control.js';
import { reachableHost } from './echo-peer.js';
import { startDicomServer, type DicomServer } from './dicom-server.js';
import { startMainServer } from './main-server.js';
import { Prefetcher } from './prefetch.js';
import { PluginManager } from './plugin-host.js';
import { startStorageRole } from './storage-role.js';
import { startHl7Listener } from './hl7-listener.js';
import { WorkstationCap } from './workstation-cap.js';
import type { MllpServer } from '../hl7/mllp-server.js';
import { hl7Schema } from '../config/index.js';

export interface PacsRolesOptions {
  config: ConfigStore;
  dataDir: string;
  logger: Logger;
  /**
   * Index of the Main Server's archive. The Workstation's and the Router's are embedded
   * SQLite, except beside a PostgreSQL index shared by several nodes: then each has its own
   * schema (workstationIndexSpec, routerIndexSpec), shared by the nodes, the Router's with
   * its forward queue.
   */
  index?: ArchiveOptions['index'];
  duplicatePolicy?: ArchiveOptions['duplicatePolicy'];
  /** Several nodes share the data directory (PostgreSQL): this one, for each archive's open batches. */
  node?: ArchiveOptions['node'];
  /** The audit trail (IHE ATNA): roles starting and stopping, refused associations, stores, queries, retrieves. */
  audit?: AuditRecorder;
  /** This node's name (`--node-id`; default the host name): its claims on shared work in the index. */
  nodeId?: string;
  /** With several nodes: their shared tables (the router's rules are a row there, not router/rules.json). */
  sharedDatabase?: SharedDatabase;
  /** With several nodes: how long after its last heartbeat this node is taken for dead (default 15 s); its router claims last as long. */
  nodeLeaseSeconds?: number;
  /**
   * The server roles this node runs (`pacs serve --roles`; default all three). A role left
   * out has no listener and, Workstation and Router, no archive. The Main Server's archive
   * is opened on every node (the web API, the activity log and the worklist live in its
   * index); without the role it has no DICOM listener, no HL7 intake, and sends no
   * pending storage commitment reports.
   */
  roles?: readonly ServerRole[];
}

/** What status() says of a role this node does not run. */
export const NOT_RUN_HERE = 'not run on this node (pacs serve --roles)';

/** A role's state; GET /api/status adds the archive's instance count. */
export type RoleStatus = Omit<ApiRoleStatus, 'instancesStored'>;

interface RoleState {
  handle?: { archive: Archive; registry: ServiceRegistry; dicom?: DicomServer; retryCommitment?: (transactionUid: string) => Promise<boolean> };
  host?: string;
  port?: number;
  /** '' plain TCP; 'tls' or 'tls+client-cert' as listened with. */
  tls?: string;
  error?: string;
}

/** How a role's registry entry wants its listener secured (compared to re-open on a change). */
const tlsMode = (ae: Ae): string => (ae.connection.tls ? (ae.policy?.requireClientCert ? 'tls+client-cert' : 'tls') : '');

/** Memory for the Router's copies of the files it just received (retained-copies.ts): 64 CT images of 512 KB. */
const ROUTER_KEPT_COPIES_BYTES = 32 << 20;

export const ROLE_DATA_DIRS: Record<ServerRole, string> = { main: '.', workstation: 'workstation', router: 'router' };

export class PacsRoles {
  private readonly state = new Map<ServerRole, RoleState>(SERVER_ROLES.map((r) => [r, {}]));
  private queue: Promise<void> = Promise.resolve();
  private unsubscribe?: () => void;
  private closed = false;
  private routerInstance?: Router;
  /** Background jobs (the web app's sends and retrieves, the prefetch of priors). */
  readonly jobs = new JobRegistry();
  private worklistStore?: WorklistStore;
  private readonly prefetcher: Prefetcher;
  /** The HL7 listener of the Main Server, and the host and port it listens on (or why not). */
  private hl7: { server?: MllpServer; host?: string; port?: number; error?: string } = {};
  /** The add-ins (registry `plugins`), loaded once at start: a change of the list applies at the next start. */
  private pluginManager?: PluginManager;
  private readonly detachPlugins: (() => void)[] = [];
  /** The size cap of the Workstation Server's archive (limits.workstation), once that role has started. */
  private cap?: WorkstationCap;

  /** The activity log of every role, kept in the Main Server's index (issue 18). */
  readonly activity: ActivityLog;

  private constructor(private readonly opts: PacsRolesOptions) {
    this.activity = new ActivityLog({
      logger: opts.logger.child({ component: 'activity' }),
      retentionDays: () => effectiveLimits(opts.config.current).activity.retentionDays,
    });
    this.prefetcher = new Prefetcher({
      registry: () => opts.config.current,
      dataDir: opts.dataDir,
      jobs: this.jobs,
      logger: opts.logger,
      worklist: () => this.worklistStore,
      workstation: () => this.archive('workstation'),
    });
  }

  /** Starts every role. The Main Server failing to listen is fatal; the others are reported in status(). */
  static async start(opts: PacsRolesOptions): Promise<PacsRoles> {
    const roles = new PacsRoles(opts);
    try {
      // Before the roles: their services are part of each role's registry from its first association.
      roles.pluginManager = await PluginManager.load({ entries: opts.config.current.plugins ?? [], dataDir: opts.dataDir, logger: opts.logger });
      roles.recordPluginFailures(roles.pluginManager);
      await roles.open('main', opts.config.current, true);
      roles.activity.attach(await ActivityStore.open(roles.archive('main')!.index));
      await Promise.all([
        roles.runs('workstation') ? roles.open('workstation', opts.config.current) : undefined,
        roles.runs('router') ? roles.open('router', opts.config.current) : undefined,
        roles.runs('main') ? roles.openHl7(opts.config.current) : undefined,
      ]);
      const main = roles.archive('main');
      if (main) roles.worklistStore = await WorklistStore.open(main.index);
      roles.prefetcher.start();
    } catch (err) {
      await roles.close();
      throw err;
    }
    roles.unsubscribe = opts.config.onChange((next) => {
      roles.queue = roles.queue.then(() => roles.reconfigure(next));
    });
    return roles;
  }

  /** Whether this node runs `role` (`pacs serve --roles`). */
  runs(role: ServerRole): boolean {
    return this.opts.roles?.includes(role) ?? true;
  }

  status(): RoleStatus[] {
    const reg = this.opts.config.current;
    return SERVER_ROLES.map((role) => {
      const s = this.state.get(role)!;
      const ae = serverAe(reg, role);
      if (!this.runs(role)) {
        return {
          role,
          aeTitle: ae?.aeTitle ?? '',
          host: ae?.connection.host ?? '',
          port: undefined,
          listening: false,
          error: NOT_RUN_HERE,
          activeAssociations: 0,
        };
      }
      return {
        role,
        aeTitle: ae?.aeTitle ?? '',
        host: s.host ?? ae?.connection.host ?? '',
        port: s.handle?.dicom?.port ?? ae?.connection.port,
        listening: s.handle?.dicom !== undefined,
        ...(s.error ? { error: s.error } : {}),
        activeAssociations: s.handle?.dicom?.activeAssociations ?? 0,
      };
    });
  }

  /** The HL7 intake: off (not enabled), listening on a port, or the reason it is not. */
  hl7Status(): { enabled: boolean; listening: boolean; host?: string; port?: number; error?: string } {
    const h = this.hl7;
    return {
      enabled: this.opts.config.current.hl7?.enabled === true,
      listening: h.server !== undefined,
      ...(h.host !== undefined ? { host: h.host } : {}),
      ...(h.server ? { port: h.server.port } : h.port !== undefined ? { port: h.port } : {}),
      ...(h.error ? { error: h.error } : {}),
    };
  }

  /**
   * Add-in failures in the activity log: each add-in that failed to load, and failed calls,
   * at most one event per add-in a minute (one that fails on every instance would otherwise
   * flood the log), naming how many were left out since the last.
   */
  private recordPluginFailures(pm: PluginManager): void {
    for (const p of pm.status()) {
      if (p.state === 'failed')
        this.activity.record({ kind: 'plugin', outcome: 'failure', message: `add-in ${p.name} not loaded`, reason: p.loadError, target: p.name });
    }
    const last = new Map<string, { at: number; skipped: number }>();
    this.detachPlugins.push(
      pm.onProblem((p) => {
        const seen = last.get(p.plugin);
        if (seen && Date.now() - seen.at < 60_000) {
          seen.skipped++;
          return;
        }
        if (!seen && last.size >= 1000) last.clear();
        last.set(p.plugin, { at: Date.now(), skipped: 0 });
        const more = seen?.skipped ? ` (${seen.skipped} more failure(s) since the last event)` : '';
        this.activity.record({
          kind: 'plugin',
          outcome: 'failure',
          message: `add-in ${p.plugin} failed in ${p.where}${more}`,
          reason: p.message,
          target: p.plugin,
        });
      }),
    );
  }

  /** The add-ins and their state. */
  plugins(): PluginManager | undefined {
    return this.pluginManager;
  }

  archive(role: ServerRole): Archive | undefined {
    return this.state.get(role)?.handle?.archive;
  }

  /** The Workstation archive's size cap (undefined when the role did not start). */
  workstationCap(): WorkstationCap | undefined {
    return this.cap;
  }

  /** The Router role's rules, queue and senders (undefined when the role did not start). */
  router(): Router | undefined {
    return this.state.get('router')?.handle ? this.routerInstance : undefined;
  }

  /** Delivers a pending storage commitment report of the Main Server now; false when there is none by that UID. */
  async retryCommitment(transactionUid: string): Promise<boolean> {
    const retry = this.state.get('main')?.handle?.retryCommitment;
    return retry ? retry(transactionUid) : false;
  }

  /** Resolves when every configuration change seen so far has been applied. */
  settled(): Promise<void> {
    return this.queue;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    await this.prefetcher.close();
    await this.queue;
    await this.cap?.close();
    await this.hl7.server?.close();
    this.hl7 = {};
    for (const d of this.detachPlugins) d();
    await this.pluginManager?.close();
    await this.routerInstance?.close();
    this.routerInstance?.rules.close();
    await this.activity.close();
    await Promise.all(
      [...this.state.values()].map(async (s) => {
        if (s.handle?.dicom) this.opts.audit?.record({ kind: 'application-stop', aeTitle: s.handle.dicom.aeTitle });
        await s.handle?.dicom?.close();
        await s.handle?.archive.close();
        s.handle = undefined;
      }),
    );
  }

  private listenOptions(role: ServerRole, reg: Registry) {
    const ae = serverAe(reg, role);
    if (!ae || ae.connection.port === undefined) throw new Error(`the registry has no ${role} role with a port`);
    const o = this.opts;
    let tls: TlsOptions | undefined;
    if (ae.connection.tls) {
      let files;
      try {
        files = loadServerTlsFiles(o.dataDir);
      } catch (err) {
        throw new Error(`${ae.aeTitle}: ${(err as Error).message}`, { cause: err });
      }
      const verify = ae.policy?.requireClientCert === true;
      if (verify && !files.ca) throw new Error(`${ae.aeTitle}: client certificates are required but there is no CA (run pacs tls init); not listening`);
      tls = { cert: files.cert, key: files.key, ...(files.ca ? { ca: files.ca } : {}), requestCert: verify, rejectUnauthorized: verify, minVersion: 'TLSv1.2' };
    }
    return {
      tls,
      tlsMode: tlsMode(ae),
      aeTitle: ae.aeTitle,
      port: ae.connection.port,
      host: ae.connection.host,
      logger: o.logger,
      ...this.limits(),
      access: registryAccessControl(role, () => this.opts.config.current),
      activity: this.activity,
      role,
      audit: o.audit,
      extraServices: this.pluginManager?.servicesFor(role) ?? [],
    };
  }

  /** Each role's limits, read from the registry for every new connection (one cap per role). */
  private limits() {
    const dicom = () => effectiveLimits(this.opts.config.current).dicom;
    return {
      maxAssociations: () => dicom().maxAssociations,
      idleTimeoutMs: () => dicom().idleTimeoutSeconds * 1000,
      artimTimeoutMs: () => dicom().artimTimeoutSeconds * 1000,
      maxPduLength: () => dicom().maxPduLength,
    };
  }

  /** limits.dataset of the registry in force, read per store: a change applies to the next one. */
  private readonly datasetLimits = () => effectiveLimits(this.opts.config.current).dataset;

  private async open(role: ServerRole, reg: Registry, fatal = false): Promise<void> {
    const s = this.state.get(role)!;
    // Read at every thumbnail stored: a changed limit applies at once.
    const thumbnailCacheBytes = () => effectiveLimits(this.opts.config.current).storage.thumbnailCacheMiB * 1024 * 1024;
    const directIo = effectiveLimits(reg).storage.directIo;
    const blobs = { directIo: directIo === 'auto' ? ('auto' as const) : directIo === 'on' };
    try {
      const { tlsMode: mode, ...lo } = this.listenOptions(role, reg);
      s.host = lo.host;
      s.port = lo.port;
      s.tls = mode;
      const fresh = !s.handle;
      if (s.handle) {
        s.handle.dicom = await startDicomServer({ ...lo, registry: s.handle.registry });
      } else if (role === 'main') {
        const m = await startMainServer({
          ...lo,
          dataDir: this.opts.dataDir,
          index: this.opts.index,
          node: this.opts.node,
          listen: this.runs('main'),
          duplicatePolicy: this.opts.duplicatePolicy,
          datasetLimits: this.datasetLimits,
          thumbnailCacheBytes,
          blobs,
          queryLimits: () => effectiveLimits(this.opts.config.current).query,
          // C-MOVE goes only to AEs the registry marks as move destinations (with a port).
          resolveMoveDestination: (aet) => {
            const d = moveDestination(this.opts.config.current, aet);
            return d && { host: reachableHost(d.connection.host), port: d.connection.port!, tls: () => this.tlsFor(d) };
          },
          // Storage commitment reports over a new association go to the requestor's registry entry.
          commitment: {
            resolveRequestor: (aet) => {
              const ae = findAe(this.opts.config.current, aet);
              return ae?.connection.port !== undefined
                ? { host: reachableHost(ae.connection.host), port: ae.connection.port, tls: () => this.tlsFor(ae) }
                : undefined;
            },
            reportMode: (aet) => findAe(this.opts.config.current, aet)?.commitmentReport ?? 'same',
            retryIntervalMs: effectiveLimits(this.opts.config.current).commitment.retrySeconds * 1000,
            leaseMs: effectiveLimits(this.opts.config.current).commitment.leaseSeconds * 1000,
            ...(this.opts.nodeId ? { claimant: this.opts.nodeId } : {}),
          },
        });
        s.handle = { archive: m.archive, registry: m.registry, dicom: m.dicom, retryCommitment: (uid) => m.retryCommitment(uid) };
      } else if (role === 'router') {
        const router = this.routerInstance ?? (this.routerInstance = await this.createRouter());
        const r = await startStorageRole({
          ...lo,
          dataDir: join(this.opts.dataDir, ROLE_DATA_DIRS[role]),
          ...(this.sharedIndex() ? { index: routerIndexSpec(this.opts.index!) } : {}),
          node: this.opts.node,
          afterInsert: router.afterInsert,
          datasetLimits: this.datasetLimits,
          // The sender forwards each file at once, from a copy kept in memory (not read back).
          blobs: { ...blobs, keepCopiesBytes: ROUTER_KEPT_COPIES_BYTES },
        });
        s.handle = { archive: r.archive, registry: r.registry, dicom: r.dicom };
        await router.attach(r.archive);
      } else {
        const r = await startStorageRole({
          ...lo,
          dataDir: join(this.opts.dataDir, ROLE_DATA_DIRS[role]),
          ...(this.sharedIndex() ? { index: workstationIndexSpec(this.opts.index!) } : {}),
          node: this.opts.node,
          datasetLimits: this.datasetLimits,
          thumbnailCacheBytes,
          blobs,
          // After the commit: each study that came in may start a prefetch of its patient's priors.
          afterInsert: async (_tx, records) => () => {
            const studies = new Map(records.map((r) => [r.studyInstanceUid, r.patientId]));
            for (const [study, patient] of studies) this.prefetcher.arrived(patient, study);
          },
        });
        s.handle = { archive: r.archive, registry: r.registry, dicom: r.dicom };
        this.cap = new WorkstationCap({
          archive: r.archive,
          limits: () => effectiveLimits(this.opts.config.current).workstation,
          activity: this.activity,
          logger: this.opts.logger.child({ component: 'workstation-cap' }),
        });
      }
      if (fresh && s.handle && this.pluginManager) this.detachPlugins.push(this.pluginManager.attachArchive(role, s.handle.archive));
      s.error = undefined;
      if (s.handle?.dicom) this.opts.audit?.record({ kind: 'application-start', aeTitle: lo.aeTitle });
    } catch (err) {
      s.error = (err as Error).message;
      if (fatal) throw err;
      this.opts.logger.error({ role, err: s.error }, `${role} role not listening`);
    }
  }

  /**
   * Rules from `<data>/router/rules.json` (watched: CLI changes apply at once), or, with
   * several nodes, from the database (NOTIFY: a change on any node applies on all).
   */
  private async createRouter(): Promise<Router> {
    const { config, logger, sharedDatabase } = this.opts;
    const rules = await RuleStore.open(this.opts.dataDir, {
      registry: () => config.current,
      ...(sharedDatabase ? { shared: new SharedRouterRules(sharedDatabase, this.opts.node?.id ?? this.opts.nodeId ?? 'pacs serve') } : {}),
      onCreated: ({ imported, file, location }) =>
        imported
          ? logger.info({ file, location }, 'imported the router rules from rules.json into PostgreSQL, once: the nodes read them from there now')
          : logger.info({ location }, 'created the router rules in PostgreSQL with the default rule'),
    });
    rules.watch((err) => logger.error({ err: err.message }, sharedDatabase ? 'router rules not reloaded' : 'router rules file not reloaded'));
    return new Router({
      rules,
      registry: () => config.current,
      logger,
      maxPduLength: effectiveLimits(config.current).dicom.maxPduLength,
      tls: (ae) => this.tlsFor(ae),
      // Rules may name an add-in's own kind of destination: `@NAME`.
      pluginDestination: (name) => this.pluginManager?.destinationSender(name),
      // The nodes on one database share one queue: each sends what it claimed, for as long as its lease.
      ...(this.sharedIndex() && this.opts.node ? { claims: { claimant: this.opts.node.id, leaseMs: (this.opts.nodeLeaseSeconds ?? 15) * 1000 } } : {}),
    });
  }

  /**
   * Whether the nodes of a PostgreSQL database share the Router's archive and queue and the
   * Workstation's archive (schemas `<schema>_router`, `<schema>_workstation`).
   */
  private sharedIndex(): boolean {
    return this.opts.node !== undefined && this.opts.index !== undefined && this.opts.index !== 'sqlite';
  }

  /**
   * How our SCUs call an AE of the registry: TLS options when it is marked TLS (the local
   * CA, our client certificate; files read per association, so `pacs tls init` applies at once).
   */
  private tlsFor(ae: Ae): ConnectionOptions | undefined {
    return clientTlsOptions({ ...ae, connection: { ...ae.connection, host: reachableHost(ae.connection.host) } }, this.opts.dataDir);
  }

  /** Starts the HL7 listener when the registry enables it (a failure is logged and kept for hl7Status). */
  private async openHl7(reg: Registry): Promise<void> {
    const archive = this.archive('main');
    const settings = reg.hl7;
    if (!settings?.enabled || !archive) return;
    this.hl7 = { host: settings.host, port: settings.port };
    try {
      this.hl7.server = await startHl7Listener({
        archive,
        // Live limits; a registry that drops the section keeps the defaults until the listener closes.
        settings: () => this.opts.config.current.hl7 ?? hl7Schema.parse({}),
        logger: this.opts.logger,
        applicationName: serverAe(reg, 'main')?.aeTitle,
      });
    } catch (err) {
      this.hl7.error = (err as Error).message;
      this.opts.logger.error({ err: this.hl7.error, port: settings.port }, 'HL7 listener not listening');
    }
  }

  /** Re-opens the HL7 listener when it was turned on or off, or its host or port changed. */
  private async reconfigureHl7(next: Registry): Promise<void> {
    const want = next.hl7?.enabled ? next.hl7 : undefined;
    const h = this.hl7;
    const running = h.server !== undefined || h.error !== undefined;
    if (running && want && want.host === h.host && want.port === h.port) return;
    if (!running && !want) return;
    await h.server?.close();
    this.hl7 = {};
    if (want) await this.openHl7(next);
  }

  private async reconfigure(next: Registry): Promise<void> {
    if (this.closed) return;
    // A lower cap applies at once.
    this.cap?.schedule(0);
    if (this.runs('main')) await this.reconfigureHl7(next);
    for (const role of SERVER_ROLES) {
      if (!this.runs(role)) continue;
      const s = this.state.get(role)!;
      const ae = serverAe(next, role);
      if (!ae) continue;
      const same = s.handle?.dicom && ae.connection.port === s.port && ae.connection.host === s.host && tlsMode(ae) === s.tls;
      if (same) continue;
      if (s.handle?.dicom) {
        this.opts.logger.info({ role, from: s.port, to: ae.connection.port }, `re-opening the ${role} listener`);
        this.opts.audit?.record({ kind: 'application-stop', aeTitle: s.handle.dicom.aeTitle });
        await s.handle.dicom.close();
        s.handle.dicom = undefined;
      }
      await this.open(role, next);
    }
  }
}
