/**
 * The registry and where it is kept. By default `config.json` in the data directory
 * (FileRegistryBackend): every change is a locked read-modify-write with an atomic
 * replace, so the CLI and a running server can change it at the same time without losing
 * either change, and a running server watches the file. With PostgreSQL several nodes
 * share one registry kept in the database (archive/shared-registry.ts implements
 * RegistryBackend there, with LISTEN/NOTIFY instead of the file watcher). Either way a
 * running server tells its listeners (the roles) about every new revision.
 *
 * A node may lay its own settings over the shared registry (`overlay`: the ports and
 * addresses on its command line): they are in `current` and what listeners see, never in
 * what `update` writes.
 */
import { watch, type FSWatcher } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readJsonFile, withFileLock, writeFileAtomic } from './atomic-file.js';
import { defaultRegistry } from './defaults.js';
import { ConfigValidationError, issuesOf } from './errors.js';
import { registrySchema, type Registry } from './schema.js';

export const CONFIG_FILE = 'config.json';

export type ChangeListener = (next: Registry, previous: Registry) => void;

export interface ConfigLogger {
  info(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Where the registry is kept: config.json, or a row shared by several nodes. */
export interface RegistryBackend {
  /** Where, for messages (a file path, a database schema). */
  readonly location: string;
  /** The stored registry, created on a first use (with the defaults, or imported); validated. */
  open(logger?: ConfigLogger): Promise<Registry>;
  /** The stored registry now (undefined when there is none); validated. */
  read(): Promise<Registry | undefined>;
  /**
   * Applies `change` to the latest stored registry (`known`, what this process has, when
   * nothing is stored any more), atomically against every other writer, and stores the result.
   */
  update(change: (latest: Registry) => Registry, known: Registry): Promise<Registry>;
  /** Calls `changed` whenever another process may have changed the registry; returns the stop function. */
  watch(changed: () => void, logger?: ConfigLogger): () => void;
  close(): Promise<void>;
}

/** A stored registry (JSON from a file or a database row) validated; `where` prefixes each issue. */
export function parseStoredRegistry(json: unknown, where: string): Registry {
  const r = registrySchema.safeParse(json);
  if (!r.success) throw new ConfigValidationError(issuesOf(r.error).map((i) => ({ ...i, message: `${where}: ${i.message}` })));
  return r.data;
}

async function readRegistry(file: string): Promise<Registry | undefined> {
  const json = await readJsonFile(file);
  return json === undefined ? undefined : parseStoredRegistry(json, file);
}

/** The registry of `dataDir` if it has one (nothing is created): for clients that only read it. */
export function readRegistryFile(dataDir: string): Promise<Registry | undefined> {
  return readRegistry(join(dataDir, CONFIG_FILE));
}

/** `<dataDir>/config.json`: the single-node registry. */
export class FileRegistryBackend implements RegistryBackend {
  readonly location: string;
  constructor(readonly dataDir: string) {
    this.location = join(dataDir, CONFIG_FILE);
  }

  async open(logger?: ConfigLogger): Promise<Registry> {
    await mkdir(this.dataDir, { recursive: true, mode: 0o700 });
    const file = this.location;
    const existing = await readRegistry(file);
    if (existing) return existing;
    return withFileLock(file, async () => {
      const again = await readRegistry(file);
      if (again) return again;
      const d = defaultRegistry();
      await writeFileAtomic(file, `${JSON.stringify(d, null, 2)}\n`);
      logger?.info({ file }, 'created the AE registry with the default local AEs');
      return d;
    });
  }

  read(): Promise<Registry | undefined> {
    return readRegistry(this.location);
  }

  update(change: (latest: Registry) => Registry, known: Registry): Promise<Registry> {
    return withFileLock(this.location, async () => {
      const n = change((await readRegistry(this.location)) ?? known);
      await writeFileAtomic(this.location, `${JSON.stringify(n, null, 2)}\n`);
      return n;
    });
  }

  watch(changed: () => void): () => void {
    let timer: NodeJS.Timeout | undefined;
    const watcher: FSWatcher = watch(this.dataDir, { persistent: false }, (_event, name) => {
      if (name !== CONFIG_FILE) return;
      clearTimeout(timer);
      timer = setTimeout(changed, 30);
    });
    return () => {
      clearTimeout(timer);
      watcher.close();
    };
  }

  async close(): Promise<void> {}
}

export interface ConfigStoreOptions {
  logger?: ConfigLogger;
  /** Where the registry is kept (default: `<dataDir>/config.json`). */
  backend?: RegistryBackend;
  /** This node's own settings over the shared registry (kept out of what is stored). */
  overlay?: (shared: Registry) => Registry;
}

export class ConfigStore {
  private listeners = new Set<ChangeListener>();
  private unwatch?: () => void;
  /** The registry as stored (without this node's overlay). */
  private shared: Registry;
  private registry: Registry;

  private constructor(
    /** The data directory (its `tls/` certificates belong to the registry's local AEs). */
    readonly dataDir: string,
    private readonly backend: RegistryBackend,
    stored: Registry,
    private readonly logger: ConfigLogger | undefined,
    private readonly overlay: ((shared: Registry) => Registry) | undefined,
  ) {
    this.shared = stored;
    this.registry = this.overlaid(stored);
  }

  /** Opens (or, on a first start, creates) the registry of `dataDir`: its config.json unless `opts.backend` says otherwise. */
  static async open(dataDir: string, opts: ConfigStoreOptions = {}): Promise<ConfigStore> {
    const backend = opts.backend ?? new FileRegistryBackend(dataDir);
    const stored = await backend.open(opts.logger);
    return new ConfigStore(dataDir, backend, stored, opts.logger, opts.overlay);
  }

  /** Where the registry is kept (config.json's path, or the database's schema). */
  get location(): string {
    return this.backend.location;
  }

  /** The registry in force on this node (the stored one with this node's overlay). */
  get current(): Registry {
    return this.registry;
  }

  /**
   * Applies a change to the latest stored registry (not only our copy), atomically against
   * every other writer, stores it and notifies the listeners. `change` is one of
   * registry.ts's operations; its validation errors propagate unchanged.
   */
  async update(change: (reg: Registry) => Registry): Promise<Registry> {
    const next = await this.backend.update((latest) => {
      const n = change(latest);
      if (n.revision <= latest.revision) n.revision = latest.revision + 1;
      return n;
    }, this.shared);
    if (next.revision > this.shared.revision) this.apply(next);
    return this.registry;
  }

  /** Listens for new revisions (ours and, with watch(), other processes'). Returns an unsubscribe function. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Follows changes made by other processes (`pacs config ...`, other nodes). A broken registry is logged and ignored. */
  watch(): void {
    this.unwatch ??= this.backend.watch(() => void this.reload(), this.logger);
  }

  async reload(): Promise<void> {
    try {
      const reg = await this.backend.read();
      if (reg && reg.revision !== this.shared.revision) {
        this.apply(reg);
        this.logger?.info({ revision: reg.revision, location: this.location }, 'registry changed by another process: new revision in force');
      }
    } catch (err) {
      this.logger?.error({ location: this.location, err: (err as Error).message }, 'configuration not applied');
    }
  }

  /** Stops watching and forgets the listeners (the backend stays open: closeBackend()). */
  close(): void {
    this.unwatch?.();
    this.unwatch = undefined;
    this.listeners.clear();
  }

  /** close(), and the backend's connections. */
  async closeBackend(): Promise<void> {
    this.close();
    await this.backend.close();
  }

  private overlaid(shared: Registry): Registry {
    if (!this.overlay) return shared;
    return { ...this.overlay(shared), revision: shared.revision };
  }

  private apply(next: Registry): void {
    const previous = this.registry;
    this.shared = next;
    this.registry = this.overlaid(next);
    for (const l of this.listeners) {
      try {
        l(this.registry, previous);
      } catch (err) {
        this.logger?.error({ err: (err as Error).message }, 'configuration listener failed');
      }
    }
  }
}
