/**
 * Loads the add-ins of the registry (`plugins`) and contains them (docs/plugins.md).
 *
 * Containment: every call into a plug-in (its factory, DIMSE handlers, stored-instance
 * listeners, routes, destinations) runs under a timeout and a catch; a failure is counted,
 * kept as the plug-in's last error, logged and answered (a DIMSE failure status, an HTTP
 * 500/504), never thrown into a role. Stored-instance events wait in a bounded queue per
 * plug-in, delivered one at a time: a slow or hung plug-in loses events (counted as
 * errors), it never holds a store or grows memory. A plug-in that fails at load is kept in
 * the status with its error; the roles start without it.
 */
import { mkdir } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import type { PluginStatus } from '../api-types/index.js';
import type { Archive } from '../archive/archive.js';
import type { InstanceRecord, InstanceRow, InstanceSummary } from '../archive/index-types.js';
import { PLUGIN_NAME, type PluginEntry, type ServerRole } from '../config/index.js';
import { datasetToJson, jsonToDataset, type DicomJsonObject } from '../dicom/dataset-json.js';
import { readDataset } from '../dicom/dataset-reader.js';
import { writeDataset } from '../dicom/dataset-writer.js';
import { Status } from '../dicom/status.js';
import { newUid } from '../dicom/uid-generator.js';
import { CommandField } from '../dimse/command-fields.js';
import type { RequestHandler, ServiceClassProvider } from '../dimse/service.js';
import {
  PLUGIN_API_VERSION,
  PLUGIN_DIMSE_COMMANDS,
  type PluginDestinationKind,
  type PluginDimseCommand,
  type PluginDimseResponse,
  type PluginHost,
  type PluginInstance,
  type PluginModule,
  type PluginReply,
  type PluginRequest,
  type PluginRoute,
  type PluginServiceProvider,
  type StoredInstance,
  type StoredInstanceListener,
} from './plugin-api.js';

/** Default time a call into a plug-in may take (the entry's `timeoutSeconds` overrides it). */
export const DEFAULT_PLUGIN_TIMEOUT_MS = 10_000;
/** Stored-instance events waiting per plug-in at most; beyond, new ones are dropped and counted. */
export const STORED_QUEUE_MAX = 1000;

/** A call into a plug-in that failed or did not settle in time; `httpStatus` for routes. */
export class PluginCallError extends Error {
  override readonly name = 'PluginCallError';
  constructor(
    readonly plugin: string,
    readonly where: string,
    message: string,
    readonly timedOut: boolean,
  ) {
    super(`add-in ${plugin}: ${where}: ${message}`);
  }

  get httpStatus(): number {
    return this.timedOut ? 504 : 500;
  }
}

const COMMAND_FIELDS: Record<PluginDimseCommand, number> = {
  'C-ECHO': CommandField.C_ECHO_RQ,
  'C-FIND': CommandField.C_FIND_RQ,
  'N-EVENT-REPORT': CommandField.N_EVENT_REPORT_RQ,
  'N-GET': CommandField.N_GET_RQ,
  'N-SET': CommandField.N_SET_RQ,
  'N-ACTION': CommandField.N_ACTION_RQ,
  'N-CREATE': CommandField.N_CREATE_RQ,
  'N-DELETE': CommandField.N_DELETE_RQ,
};

/** A registered route, for the web layer (src/web/plugins-api.ts). */
export interface LoadedRoute {
  plugin: string;
  route: PluginRoute;
}

interface Loaded {
  name: string;
  entry: PluginEntry;
  state: PluginStatus['state'];
  loadError?: string;
  errorCount: number;
  lastError?: PluginStatus['lastError'];
  timeoutMs: number;
  instance?: PluginInstance;
  services: PluginServiceProvider[];
  stored: { listener: StoredInstanceListener; roles: readonly ServerRole[] }[];
  routes: PluginRoute[];
  destination?: PluginDestinationKind;
  queue: { record: InstanceRecord; role: ServerRole; archive: Archive }[];
  draining: boolean;
}

export interface PluginHostOptions {
  entries: readonly PluginEntry[];
  dataDir: string;
  logger: Logger;
  /** How a module is imported (tests); default import(). */
  importModule?: (specifier: string) => Promise<unknown>;
}

/** Runs fn (sync or async) and settles within ms: its result, its error, or a timeout. */
async function withTimeout<T>(ms: number, fn: () => T | Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: Error; timedOut: boolean }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((res) => {
    timer = setTimeout(() => res('timeout'), ms);
  });
  try {
    const result = await Promise.race([Promise.resolve().then(fn), timeout]);
    if (result === 'timeout') return { ok: false, error: new Error(`did not finish within ${ms / 1000} s`), timedOut: true };
    return { ok: true, value: result as T };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err : new Error(String(err)), timedOut: false };
  } finally {
    clearTimeout(timer);
  }
}

/** Where a registry entry's module is: a path (relative to the data directory) or a package name. */
export function moduleSpecifier(module: string, dataDir: string): string {
  if (module.startsWith('.') || isAbsolute(module)) return pathToFileURL(resolve(dataDir, module)).href;
  return module;
}

function asPluginModule(ns: unknown): PluginModule | string {
  const m = ns as { default?: unknown; plugin?: unknown } | null;
  const p = (m?.plugin ?? m?.default) as Partial<PluginModule> | undefined;
  if (!p || typeof p !== 'object') return 'the module exports no plug-in (`export default { apiVersion, name, create }` or `export const plugin`)';
  if (p.apiVersion !== PLUGIN_API_VERSION)
    return `the module declares plug-in API version ${JSON.stringify(p.apiVersion)}; this server implements version ${PLUGIN_API_VERSION}`;
  if (typeof p.name !== 'string' || !PLUGIN_NAME.test(p.name))
    return 'the plug-in name must be 1-32 lower-case letters, digits and hyphens, starting with a letter';
  if (typeof p.create !== 'function') return 'the plug-in has no create(host, options) function';
  return p as PluginModule;
}

export class PluginManager {
  private readonly loaded: Loaded[] = [];
  /** Listeners of plug-in failures (the activity log, once it exists). */
  private readonly problemListeners = new Set<(p: { plugin: string; where: string; message: string }) => void>();
  private closed = false;

  private constructor(private readonly opts: PluginHostOptions) {}

  /** Loads every enabled entry, in order; never throws (a failure is the plug-in's state). */
  static async load(opts: PluginHostOptions): Promise<PluginManager> {
    const m = new PluginManager(opts);
    for (const entry of opts.entries) await m.loadOne(entry);
    return m;
  }

  /** Told of every plug-in failure (besides the status and the process log). */
  onProblem(listener: (p: { plugin: string; where: string; message: string }) => void): () => void {
    this.problemListeners.add(listener);
    return () => void this.problemListeners.delete(listener);
  }

  /**
   * The one place a plug-in's failure is recorded: its error count and last error (the
   * Status page), the process log, and whoever listens (onProblem).
   */
  private reportFailure(p: Loaded, where: string, message: string): void {
    p.errorCount++;
    p.lastError = { at: new Date().toISOString(), where, message };
    this.opts.logger.error({ plugin: p.name, where, err: message }, `add-in ${p.name} failed: ${where}`);
    for (const l of this.problemListeners) {
      try {
        l({ plugin: p.name, where, message });
      } catch {
        // a listener's own failure is not the plug-in's
      }
    }
  }

  /** reportFailure by the plug-in's name (the web layer, for a route it could not add). */
  reportFailureOf(name: string, where: string, message: string): void {
    const p = this.loaded.find((o) => o.name === name);
    if (p) this.reportFailure(p, where, message);
  }

  private async loadOne(entry: PluginEntry): Promise<void> {
    const p: Loaded = {
      name: entry.name ?? entry.module,
      entry,
      state: 'disabled',
      errorCount: 0,
      timeoutMs: entry.timeoutSeconds !== undefined ? entry.timeoutSeconds * 1000 : DEFAULT_PLUGIN_TIMEOUT_MS,
      services: [],
      stored: [],
      routes: [],
      queue: [],
      draining: false,
    };
    this.loaded.push(p);
    if (!entry.enabled) return;
    const fail = (message: string) => {
      p.state = 'failed';
      p.loadError = message;
      p.services = [];
      p.stored = [];
      p.routes = [];
      p.destination = undefined;
      this.reportFailure(p, 'load', message);
    };
    const specifier = moduleSpecifier(entry.module, this.opts.dataDir);
    const imported = await withTimeout(p.timeoutMs, () => (this.opts.importModule ?? ((s: string) => import(s)))(specifier));
    if (!imported.ok) return fail(`cannot import ${entry.module}: ${imported.error.message}`);
    const mod = asPluginModule(imported.value);
    if (typeof mod === 'string') return fail(`${entry.module}: ${mod}`);
    p.name = entry.name ?? mod.name;
    if (this.loaded.some((o) => o !== p && o.name === p.name && o.state === 'loaded')) return fail(`another add-in is already named "${p.name}"`);
    const dataDir = join(this.opts.dataDir, 'plugins', p.name);
    try {
      await mkdir(dataDir, { recursive: true, mode: 0o700 });
    } catch (err) {
      return fail(`cannot create ${dataDir}: ${(err as Error).message}`);
    }
    let open = true;
    const host = this.hostFor(p, dataDir, () => open);
    const created = await withTimeout(p.timeoutMs, () => mod.create(host, Object.freeze({ ...entry.options })));
    open = false;
    if (!created.ok) return fail(`create() ${created.timedOut ? 'timed out' : 'threw'}: ${created.error.message}`);
    p.instance = created.value ?? undefined;
    p.state = 'loaded';
    this.opts.logger.info(
      { plugin: p.name, module: entry.module, sopClasses: p.services.flatMap((s) => s.sopClasses), routes: p.routes.length },
      `add-in ${p.name} loaded`,
    );
  }

  private hostFor(p: Loaded, dataDir: string, open: () => boolean): PluginHost {
    const during = (what: string) => {
      if (!open()) throw new Error(`${what}: register in create(), not later`);
    };
    const log = this.opts.logger.child({ plugin: p.name });
    return Object.freeze({
      apiVersion: PLUGIN_API_VERSION,
      name: p.name,
      log: {
        debug: (o: object, msg?: string) => log.debug(o, msg),
        info: (o: object, msg?: string) => log.info(o, msg),
        warn: (o: object, msg?: string) => log.warn(o, msg),
        error: (o: object, msg?: string) => log.error(o, msg),
      },
      dataDir,
      dimse: {
        register: (provider: PluginServiceProvider) => {
          during('dimse.register');
          const unknown = Object.keys(provider.handlers ?? {}).filter((c) => !(PLUGIN_DIMSE_COMMANDS as readonly string[]).includes(c));
          if (unknown.length) throw new Error(`dimse.register: ${unknown.join(', ')} cannot be handled by an add-in (${PLUGIN_DIMSE_COMMANDS.join(', ')} can)`);
          if (!provider.sopClasses?.length) throw new Error('dimse.register: no SOP classes');
          p.services.push(provider);
        },
      },
      onInstanceStored: (listener: StoredInstanceListener, o: { roles?: readonly ServerRole[] } = {}) => {
        during('onInstanceStored');
        p.stored.push({ listener, roles: o.roles ?? ['main'] });
      },
      routes: {
        add: (route: PluginRoute) => {
          during('routes.add');
          if (route.path !== '' && !/^(\/[A-Za-z0-9._~:-]+)+$/.test(route.path)) throw new Error(`routes.add: path "${route.path}" must be '' or /segments`);
          p.routes.push(route);
        },
      },
      router: {
        addDestinationKind: (kind: PluginDestinationKind) => {
          during('router.addDestinationKind');
          p.destination = kind;
        },
      },
      dicom: {
        decode: (bytes: Uint8Array, ts: string) => datasetToJson(readDataset(bytes, ts)),
        encode: (json: DicomJsonObject, ts: string) => writeDataset(jsonToDataset(json), ts),
        newUid: () => newUid(),
        status: Status,
      },
    });
  }

  /** The state of every listed plug-in, for GET /api/status. */
  status(): PluginStatus[] {
    return this.loaded.map((p) => ({
      name: p.name,
      module: p.entry.module,
      state: p.state,
      ...(p.loadError !== undefined ? { loadError: p.loadError } : {}),
      errorCount: p.errorCount,
      ...(p.lastError ? { lastError: p.lastError } : {}),
      queued: p.queue.length,
      provides: {
        sopClasses: p.services.flatMap((s) => s.sopClasses.map((sopClassUid) => ({ role: s.role, sopClassUid }))),
        routes: p.routes.length,
        destinationKinds: p.destination ? [`@${p.name}`] : [],
        storedInstances: p.stored.length > 0,
      },
    }));
  }

  private running(): Loaded[] {
    return this.loaded.filter((p) => p.state === 'loaded');
  }

  /** The DIMSE services the loaded plug-ins provide on a role, wrapped in the containment. */
  servicesFor(role: ServerRole): ServiceClassProvider[] {
    return this.running().flatMap((p) => p.services.filter((s) => s.role === role).map((s) => this.wrapService(p, s)));
  }

  private wrapService(p: Loaded, s: PluginServiceProvider): ServiceClassProvider {
    const handlers: Partial<Record<number, RequestHandler>> = {};
    for (const [command, handler] of Object.entries(s.handlers)) {
      if (!handler) continue;
      handlers[COMMAND_FIELDS[command as PluginDimseCommand]] = async (ctx, bytes) => {
        const c = ctx.command;
        let dataset: DicomJsonObject | undefined;
        if (bytes && bytes.length > 0) {
          try {
            dataset = datasetToJson(readDataset(bytes, ctx.transferSyntax));
          } catch (err) {
            return { status: Status.CannotUnderstand, errorComment: `data set not readable: ${(err as Error).message}` };
          }
        }
        const r = await withTimeout(p.timeoutMs, () =>
          handler({
            command: command as PluginDimseCommand,
            affectedSopClassUid: c.affectedSopClassUid,
            affectedSopInstanceUid: c.affectedSopInstanceUid,
            requestedSopClassUid: c.requestedSopClassUid,
            requestedSopInstanceUid: c.requestedSopInstanceUid,
            actionTypeId: c.actionTypeId,
            eventTypeId: c.eventTypeId,
            attributeIdentifierList: c.attributeIdentifierList,
            dataset,
            abstractSyntax: ctx.abstractSyntax,
            transferSyntax: ctx.transferSyntax,
            association: { ...ctx.association },
            signal: ctx.signal,
          }),
        );
        const where = `${command} ${c.affectedSopClassUid ?? c.requestedSopClassUid ?? ctx.abstractSyntax}`;
        if (!r.ok) {
          this.reportFailure(p, where, r.error.message);
          return { status: Status.ProcessingFailure, errorComment: `add-in ${p.name} failed` };
        }
        const rsp = r.value as PluginDimseResponse | undefined;
        if (!rsp || typeof rsp.status !== 'number' || !Number.isInteger(rsp.status) || rsp.status < 0 || rsp.status > 0xffff) {
          this.reportFailure(p, where, 'the handler returned no valid { status }');
          return { status: Status.ProcessingFailure, errorComment: `add-in ${p.name} failed` };
        }
        let out: Buffer | undefined;
        if (rsp.dataset) {
          try {
            out = writeDataset(jsonToDataset(rsp.dataset), ctx.transferSyntax);
          } catch (err) {
            this.reportFailure(p, where, `response data set not encodable: ${(err as Error).message}`);
            return { status: Status.ProcessingFailure, errorComment: `add-in ${p.name} failed` };
          }
        }
        return {
          status: rsp.status,
          ...(rsp.errorComment ? { errorComment: rsp.errorComment } : {}),
          ...(rsp.affectedSopInstanceUid ? { affectedSopInstanceUid: rsp.affectedSopInstanceUid } : {}),
          fields: {
            ...(rsp.actionTypeId !== undefined ? { actionTypeId: rsp.actionTypeId } : {}),
            ...(rsp.eventTypeId !== undefined ? { eventTypeId: rsp.eventTypeId } : {}),
          },
          ...(out ? { dataset: out } : {}),
        };
      };
    }
    return { name: `add-in ${p.name}`, sopClasses: s.sopClasses, ...(s.metaSopClasses ? { metaSopClasses: s.metaSopClasses } : {}), handlers };
  }

  /** Subscribes the plug-ins' stored-instance listeners to a role's archive; returns the unsubscribe. */
  attachArchive(role: ServerRole, archive: Archive): () => void {
    const wanted = this.running().filter((p) => p.stored.some((s) => s.roles.includes(role)));
    if (wanted.length === 0) return () => undefined;
    return archive.onStored((record) => {
      for (const p of wanted) this.enqueue(p, { record, role, archive });
    });
  }

  private enqueue(p: Loaded, item: Loaded['queue'][number]): void {
    if (this.closed || p.state !== 'loaded') return;
    if (p.queue.length >= STORED_QUEUE_MAX) {
      this.reportFailure(p, 'stored instance', `event queue full (${STORED_QUEUE_MAX}): ${item.record.sopInstanceUid} not delivered`);
      return;
    }
    p.queue.push(item);
    if (!p.draining) void this.drain(p);
  }

  private async drain(p: Loaded): Promise<void> {
    p.draining = true;
    try {
      for (let item = p.queue.shift(); item && !this.closed; item = p.queue.shift()) {
        for (const s of p.stored) {
          if (!s.roles.includes(item.role)) continue;
          const streams: Readable[] = [];
          const instance = storedInstance(item, streams);
          const r = await withTimeout(p.timeoutMs, () => s.listener(instance));
          for (const st of streams) st.destroy();
          if (!r.ok) this.reportFailure(p, `stored instance ${item.record.sopInstanceUid}`, r.error.message);
        }
      }
    } finally {
      p.draining = false;
    }
  }

  /** Every route of the loaded plug-ins. */
  routes(): LoadedRoute[] {
    return this.running().flatMap((p) => p.routes.map((route) => ({ plugin: p.name, route })));
  }

  /** Calls a route's handler under the containment: its reply, or a PluginCallError. */
  async callRoute(plugin: string, route: PluginRoute, rq: PluginRequest): Promise<PluginReply> {
    const p = this.loaded.find((o) => o.name === plugin && o.state === 'loaded');
    if (!p) throw new PluginCallError(plugin, `${route.method} ${route.path || '/'}`, 'not loaded', false);
    const where = `${route.method} /api/plugins/${plugin}${route.path}`;
    const r = await withTimeout(p.timeoutMs, () => route.handler(rq));
    if (!r.ok) {
      this.reportFailure(p, where, r.error.message);
      throw new PluginCallError(plugin, where, r.timedOut ? r.error.message : 'failed (see the Status page)', r.timedOut);
    }
    const v = r.value as Partial<PluginReply> | undefined;
    const isReply = v !== null && typeof v === 'object' && typeof v.status === 'number' && Object.keys(v).every((k) => k === 'status' || k === 'body');
    if (isReply) {
      const status = v.status!;
      if (!Number.isInteger(status) || status < 200 || status > 599) {
        this.reportFailure(p, where, `reply status ${status} is not an HTTP status from 200 to 599`);
        throw new PluginCallError(plugin, where, 'failed (see the Status page)', false);
      }
      return { status, body: v.body };
    }
    return { status: 200, body: v };
  }

  /**
   * The router destination `@NAME` (the Router's forward queue calls it per instance), if a
   * loaded plug-in provides it: the instance is read from the archive that holds it, handed
   * to the plug-in under the timeout; a throw or timeout is counted and rethrown (the
   * router's retry).
   */
  destinationSender(name: string): ((inst: InstanceSummary, archive: Archive) => Promise<void>) | undefined {
    const p = this.running().find((o) => o.name === name && o.destination);
    if (!p) return undefined;
    const kind = p.destination!;
    return async (inst, archive) => {
      const row = await archive.index.getInstance(inst.sopInstanceUid);
      if (!row) throw new Error(`${inst.sopInstanceUid} is no longer stored`);
      const streams: Readable[] = [];
      const r = await withTimeout(p.timeoutMs, () => kind.send(storedInstance({ record: recordOfRow(row), role: 'router', archive }, streams)));
      for (const st of streams) st.destroy();
      if (!r.ok) {
        this.reportFailure(p, `destination @${p.name} ${inst.sopInstanceUid}`, r.error.message);
        throw new Error(`add-in ${p.name}: ${r.error.message}`);
      }
    };
  }

  /** Stops delivering events and closes every loaded plug-in (each within its timeout). */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.running()) {
      p.queue.length = 0;
      const close = p.instance?.close?.bind(p.instance);
      if (!close) continue;
      const r = await withTimeout(p.timeoutMs, close);
      if (!r.ok) this.reportFailure(p, 'close', r.error.message);
    }
  }
}

/** The plug-in's view of a stored instance; streams it opens are collected to be destroyed after the call. */
export function storedInstance(item: { record: InstanceRecord; role: ServerRole; archive: Archive }, streams: Readable[]): StoredInstance {
  const r = item.record;
  return {
    role: item.role,
    sopInstanceUid: r.sopInstanceUid,
    sopClassUid: r.sopClassUid,
    studyInstanceUid: r.studyInstanceUid,
    seriesInstanceUid: r.seriesInstanceUid,
    patientId: r.patientId ?? null,
    patientName: r.patientName ?? null,
    studyDate: r.studyDate ?? null,
    accessionNumber: r.accessionNumber ?? null,
    studyDescription: r.studyDescription ?? null,
    modality: r.modality ?? null,
    seriesNumber: r.seriesNumber ?? null,
    instanceNumber: r.instanceNumber ?? null,
    transferSyntaxUid: r.transferSyntaxUid,
    fileSize: r.fileSize,
    receivedAt: r.receivedAt,
    callingAeTitle: r.callingAeTitle,
    calledAeTitle: r.calledAeTitle ?? null,
    openFile: () => {
      const s = item.archive.blobs.open(r.fileKey);
      streams.push(s);
      return s;
    },
    attributes: () => JSON.parse(r.json) as DicomJsonObject,
  };
}

/** An index row as the record it was inserted with (the attributes a summary shows come from its JSON). */
function recordOfRow(row: InstanceRow): InstanceRecord {
  let json: DicomJsonObject = {};
  try {
    json = JSON.parse(row.json) as DicomJsonObject;
  } catch {
    // a row without readable JSON still has its UIDs
  }
  const first = (tag: string): unknown => json[tag]?.Value?.[0];
  const text = (tag: string): string | null => {
    const v = first(tag);
    if (typeof v === 'string') return v;
    if (v && typeof v === 'object' && 'Alphabetic' in v) return String((v as { Alphabetic?: unknown }).Alphabetic ?? '') || null;
    return null;
  };
  const n = (tag: string): number | null => {
    const v = first(tag);
    return typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : null;
  };
  return {
    ...row,
    patientId: text('00100020'),
    patientName: text('00100010'),
    studyDate: text('00080020'),
    accessionNumber: text('00080050'),
    studyDescription: text('00081030'),
    modality: text('00080060'),
    seriesNumber: n('00200011'),
  };
}
