/**
 * The router's settings: `DATA/router/rules.json`, next to the Router's own archive, or,
 * with several nodes on one PostgreSQL database, a row in the database
 * (archive/shared-router-rules.ts). Same discipline as the AE registry (src/config/store.ts):
 * every change takes the lock (the lock file, or the row's lock), reads the latest
 * settings, applies a pure function, validates the result (conditions compiled,
 * destinations checked against the registry), writes (temp + fsync + rename + fsync(dir),
 * or the row in the same transaction), then tells listeners. A running server follows the
 * others' changes: it watches the file, or listens for the database's NOTIFY, so
 * `pacs router rules ...` from another process (or a change on another node) applies at once.
 */
import { watch } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigConflictError, ConfigValidationError, readJsonFile, withFileLock, writeFileAtomic, type Registry } from '../config/index.js';
import type { SharedRouterRules } from '../archive/shared-router-rules.js';
import { defaultRouterSettings, validateRule, validateSettings, type Rule, type RouterSettings } from './rules.js';

export const RULES_FILE = 'rules.json';
/** The Router role's directory inside the data directory (as src/roles/pacs-roles.ts places its archive). */
export const ROUTER_DIR = 'router';

export type RulesListener = (next: RouterSettings) => void;

/** Settings as read, with the database's revision (undefined for the file: compared by content). */
interface Versioned {
  settings: RouterSettings;
  revision?: number;
}

/** Where the settings are kept: the file, or the database row. */
interface RulesBackend {
  read(): Promise<Versioned | undefined>;
  /** Applies `change` to the latest settings (undefined when none are stored) under the lock, and writes its result. */
  update(change: (latest: RouterSettings | undefined) => RouterSettings): Promise<Versioned>;
  /** Calls `changed` when another process may have changed them, until the returned function is called. */
  watch(changed: () => void, onError: (err: Error) => void): () => void;
}

export interface RuleStoreOptions {
  registry?: () => Registry | undefined;
  /** Several nodes on one PostgreSQL database: the settings are this row, not the file. */
  shared?: SharedRouterRules;
  /** Told once when the row is created (imported from rules.json or the defaults). */
  onCreated?: (info: { imported: boolean; file: string; location: string }) => void;
}

async function readSettings(file: string): Promise<RouterSettings | undefined> {
  const json = await readJsonFile(file);
  if (json === undefined) return undefined;
  return validateSettings(json);
}

/** `DATA/router/rules.json` under its lock file, watched with fs.watch. */
class FileRulesBackend implements RulesBackend {
  constructor(readonly file: string) {}

  async read(): Promise<Versioned | undefined> {
    const settings = await readSettings(this.file);
    return settings && { settings };
  }

  update(change: (latest: RouterSettings | undefined) => RouterSettings): Promise<Versioned> {
    return withFileLock(this.file, async () => {
      const settings = change(await readSettings(this.file));
      await writeFileAtomic(this.file, `${JSON.stringify(settings, null, 2)}\n`);
      return { settings };
    });
  }

  watch(changed: () => void, onError: (err: Error) => void): () => void {
    let timer: NodeJS.Timeout | undefined;
    try {
      const watcher = watch(join(this.file, '..'), (_e, f) => {
        if (f !== RULES_FILE) return;
        clearTimeout(timer);
        timer = setTimeout(changed, 50);
      });
      watcher.on('error', onError);
      return () => {
        clearTimeout(timer);
        watcher.close();
      };
    } catch (e) {
      onError(e as Error);
      return () => undefined;
    }
  }
}

/** The database row (archive/shared-router-rules.ts), validated as the file is; NOTIFY tells of changes. */
class PostgresRulesBackend implements RulesBackend {
  constructor(private readonly row: SharedRouterRules) {}

  async read(): Promise<Versioned | undefined> {
    const r = await this.row.read();
    return r && { revision: r.revision, settings: this.parse(r.settings) };
  }

  async update(change: (latest: RouterSettings | undefined) => RouterSettings): Promise<Versioned> {
    const r = await this.row.update((latest) => change(this.parse(latest)));
    return { revision: r.revision, settings: r.settings as RouterSettings };
  }

  watch(changed: () => void, onError: (err: Error) => void): () => void {
    return this.row.listen({
      message: changed,
      // Listening (again): changes may have been missed meanwhile.
      up: changed,
      down: (err) => onError(new Error(`router rules notifications lost, reconnecting: ${err.message}`)),
    });
  }

  parse(json: unknown): RouterSettings {
    try {
      return validateSettings(json);
    } catch (e) {
      throw new Error(`the router rules in ${this.row.location} are not valid: ${(e as Error).message}`, { cause: e });
    }
  }
}

export class RuleStore {
  private readonly listeners = new Set<RulesListener>();
  private unwatch?: () => void;

  private constructor(
    /** The rules file (with a shared database: the one imported once, if it existed). */
    readonly file: string,
    private readonly backend: RulesBackend,
    private settings: RouterSettings,
    private revision: number | undefined,
    private readonly registry: () => Registry | undefined,
  ) {}

  /**
   * Opens `<dataDir>/router/rules.json`, creating it with the default rule on a first start;
   * with `shared`, the database's row, created on a first start from rules.json if there is
   * one (imported once: the file is not read after that) or else from the defaults.
   */
  static async open(dataDir: string, opts: RuleStoreOptions = {}): Promise<RuleStore> {
    const dir = join(dataDir, ROUTER_DIR);
    const file = join(dir, RULES_FILE);
    const registry = opts.registry ?? (() => undefined);
    if (opts.shared) {
      const shared = opts.shared;
      const backend = new PostgresRulesBackend(shared);
      let imported = false;
      const row = await shared.open(async () => {
        const fromFile = await readSettings(file);
        imported = fromFile !== undefined;
        return fromFile ?? defaultRouterSettings(registry());
      });
      if (row.created) opts.onCreated?.({ imported, file, location: shared.location });
      return new RuleStore(file, backend, backend.parse(row.settings), row.revision, registry);
    }
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const backend = new FileRulesBackend(file);
    const existing = await readSettings(file);
    if (existing) return new RuleStore(file, backend, existing, undefined, registry);
    const created = await withFileLock(file, async () => {
      const again = await readSettings(file);
      if (again) return again;
      const s = defaultRouterSettings(registry());
      await writeFileAtomic(file, `${JSON.stringify(s, null, 2)}\n`);
      return s;
    });
    return new RuleStore(file, backend, created, undefined, registry);
  }

  get current(): RouterSettings {
    return this.settings;
  }

  onChange(fn: RulesListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Applies a change under the lock to the latest settings stored; the result is validated whole. */
  async update(change: (s: RouterSettings) => unknown): Promise<RouterSettings> {
    const next = await this.backend.update((stored) => {
      const latest = stored ?? this.settings;
      // Conditions the change brings in are type-checked; those already saved are not judged again.
      return validateSettings(change(structuredClone(latest)), this.registry(), latest);
    });
    this.apply(next);
    return next.settings;
  }

  /** Adds a rule at `position` (0-based; default: the end). */
  async add(rule: unknown, position?: number): Promise<RouterSettings> {
    const r = validateRule(rule, this.registry());
    return this.update((s) => {
      if (s.rules.some((x) => x.name === r.name)) throw new ConfigConflictError(`there is already a rule named "${r.name}"`, 'conflict', 'name');
      const at = position === undefined ? s.rules.length : Math.max(0, Math.min(position, s.rules.length));
      s.rules.splice(at, 0, r);
      return s;
    });
  }

  /** Replaces the rule named `name` (the new one may be renamed). */
  async replace(name: string, rule: unknown): Promise<RouterSettings> {
    const r = validateRule(rule, this.registry());
    return this.update((s) => {
      const i = indexOf(s, name);
      if (r.name !== name && s.rules.some((x) => x.name === r.name))
        throw new ConfigConflictError(`there is already a rule named "${r.name}"`, 'conflict', 'name');
      s.rules[i] = r;
      return s;
    });
  }

  remove(name: string): Promise<RouterSettings> {
    return this.update((s) => {
      s.rules.splice(indexOf(s, name), 1);
      return s;
    });
  }

  /** Reorders: the rules named, in this order (every rule exactly once). */
  reorder(names: string[]): Promise<RouterSettings> {
    return this.update((s) => {
      const byName = new Map(s.rules.map((r) => [r.name, r]));
      if (names.length !== s.rules.length || new Set(names).size !== names.length || !names.every((n) => byName.has(n))) {
        throw new ConfigValidationError([{ field: 'order', message: `name every rule exactly once: ${s.rules.map((r) => r.name).join(', ')}` }]);
      }
      s.rules = names.map((n) => byName.get(n)!);
      return s;
    });
  }

  rule(name: string): Rule | undefined {
    return this.settings.rules.find((r) => r.name === name);
  }

  /** Follows changes made by other processes (other nodes). */
  watch(onError?: (err: Error) => void): void {
    const report = (e: Error) => onError?.(e);
    this.unwatch ??= this.backend.watch(() => void this.reload().catch(report), report);
  }

  /** Reads the stored settings again; listeners hear of them when they changed. */
  async reload(): Promise<void> {
    const s = await this.backend.read();
    if (s) this.apply(s);
  }

  close(): void {
    this.unwatch?.();
    this.unwatch = undefined;
  }

  /** Takes `next` unless it is what we have, or older (a slow read passed by a newer revision). */
  private apply(next: Versioned): void {
    if (next.revision !== undefined && this.revision !== undefined && next.revision <= this.revision) return;
    if (next.revision !== undefined) this.revision = next.revision;
    if (JSON.stringify(next.settings) === JSON.stringify(this.settings)) return;
    this.settings = next.settings;
    for (const l of this.listeners) l(next.settings);
  }
}

function indexOf(s: RouterSettings, name: string): number {
  const i = s.rules.findIndex((r) => r.name === name);
  if (i < 0) throw new ConfigConflictError(`no rule named "${name}"`, 'not-found', 'name');
  return i;
}
