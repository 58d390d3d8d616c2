/**
 * The registry persisted in the data directory (`config.json`). Every change is a
 * locked read-modify-write with an atomic replace, so the CLI and a running server can
 * change it at the same time without losing either change. A running server watches
 * the file and tells its listeners (the roles) about every new revision.
 */
import { watch, type FSWatcher } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
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

async function readRegistry(file: string): Promise<Registry | undefined> {
  const json = await readJsonFile(file);
  if (json === undefined) return undefined;
  const r = registrySchema.safeParse(json);
  if (!r.success) throw new ConfigValidationError(issuesOf(r.error).map((i) => ({ ...i, message: `${file}: ${i.message}` })));
  return r.data;
}

/** The registry of `dataDir` if it has one (nothing is created): for clients that only read it. */
export function readRegistryFile(dataDir: string): Promise<Registry | undefined> {
  return readRegistry(join(dataDir, CONFIG_FILE));
}

export class ConfigStore {
  private listeners = new Set<ChangeListener>();
  private watcher?: FSWatcher;
  private reloadTimer?: NodeJS.Timeout;

  private constructor(
    readonly file: string,
    private registry: Registry,
    private readonly logger?: ConfigLogger,
  ) {}

  /** Opens (or, on a first start, creates with the defaults) `<dataDir>/config.json`. */
  static async open(dataDir: string, opts: { logger?: ConfigLogger } = {}): Promise<ConfigStore> {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const file = join(dataDir, CONFIG_FILE);
    const existing = await readRegistry(file);
    if (existing) return new ConfigStore(file, existing, opts.logger);
    const reg = await withFileLock(file, async () => {
      const again = await readRegistry(file);
      if (again) return again;
      const d = defaultRegistry();
      await writeFileAtomic(file, `${JSON.stringify(d, null, 2)}\n`);
      opts.logger?.info({ file }, 'created the AE registry with the default local AEs');
      return d;
    });
    return new ConfigStore(file, reg, opts.logger);
  }

  /** The data directory the registry file is in (its `tls/` certificates belong to it too). */
  get dataDir(): string {
    return dirname(this.file);
  }

  get current(): Registry {
    return this.registry;
  }

  /**
   * Applies a change to the latest registry on disk (not only our copy) under the lock,
   * writes it atomically and notifies the listeners. `change` is one of registry.ts's
   * operations; its validation errors propagate unchanged.
   */
  async update(change: (reg: Registry) => Registry): Promise<Registry> {
    const next = await withFileLock(this.file, async () => {
      const latest = (await readRegistry(this.file)) ?? this.registry;
      const n = change(latest);
      if (n.revision <= latest.revision) n.revision = latest.revision + 1;
      await writeFileAtomic(this.file, `${JSON.stringify(n, null, 2)}\n`);
      return n;
    });
    this.apply(next);
    return next;
  }

  /** Listens for new revisions (ours and, with watch(), other processes'). Returns an unsubscribe function. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Follows changes made by other processes (`pacs config ...`). A broken file is logged and ignored. */
  watch(): void {
    if (this.watcher) return;
    this.watcher = watch(join(this.file, '..'), { persistent: false }, (_event, name) => {
      if (name !== CONFIG_FILE) return;
      clearTimeout(this.reloadTimer);
      this.reloadTimer = setTimeout(() => void this.reload(), 30);
    });
  }

  async reload(): Promise<void> {
    try {
      const reg = await readRegistry(this.file);
      if (reg && reg.revision !== this.registry.revision) this.apply(reg);
    } catch (err) {
      this.logger?.error({ file: this.file, err: (err as Error).message }, 'configuration file not applied');
    }
  }

  close(): void {
    clearTimeout(this.reloadTimer);
    this.watcher?.close();
    this.watcher = undefined;
    this.listeners.clear();
  }

  private apply(next: Registry): void {
    const previous = this.registry;
    this.registry = next;
    for (const l of this.listeners) {
      try {
        l(next, previous);
      } catch (err) {
        this.logger?.error({ err: (err as Error).message }, 'configuration listener failed');
      }
    }
  }
}
