/**
 * The router's settings file, `DATA/router/rules.json`, next to the Router's own archive.
 * Same discipline as the AE registry (src/config/store.ts): every change takes the lock
 * file, re-reads the file, applies a pure function, validates the result (conditions
 * compiled, destinations checked against the registry), writes temp + fsync + rename +
 * fsync(dir), then tells listeners. A running server watches the file, so
 * `pacs router rules ...` from another process applies at once.
 */
import { watch, type FSWatcher } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigConflictError, ConfigValidationError, readJsonFile, withFileLock, writeFileAtomic, type Registry } from '../config/index.js';
import { defaultRouterSettings, validateRule, validateSettings, type Rule, type RouterSettings } from './rules.js';

export const RULES_FILE = 'rules.json';
/** The Router role's directory inside the data directory (as src/roles/pacs-roles.ts places its archive). */
export const ROUTER_DIR = 'router';

export type RulesListener = (next: RouterSettings) => void;

async function readSettings(file: string): Promise<RouterSettings | undefined> {
  const json = await readJsonFile(file);
  if (json === undefined) return undefined;
  return validateSettings(json);
}

export class RuleStore {
  private readonly listeners = new Set<RulesListener>();
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;

  private constructor(
    readonly file: string,
    private settings: RouterSettings,
    private readonly registry: () => Registry | undefined,
  ) {}

  /** Opens `<dataDir>/router/rules.json`, creating it with the default rule on a first start. */
  static async open(dataDir: string, opts: { registry?: () => Registry | undefined } = {}): Promise<RuleStore> {
    const dir = join(dataDir, ROUTER_DIR);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, RULES_FILE);
    const registry = opts.registry ?? (() => undefined);
    const existing = await readSettings(file);
    if (existing) return new RuleStore(file, existing, registry);
    const created = await withFileLock(file, async () => {
      const again = await readSettings(file);
      if (again) return again;
      const s = defaultRouterSettings(registry());
      await writeFileAtomic(file, `${JSON.stringify(s, null, 2)}\n`);
      return s;
    });
    return new RuleStore(file, created, registry);
  }

  get current(): RouterSettings {
    return this.settings;
  }

  onChange(fn: RulesListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Applies a change under the lock to the file's latest content; the result is validated whole. */
  async update(change: (s: RouterSettings) => unknown): Promise<RouterSettings> {
    const next = await withFileLock(this.file, async () => {
      const latest = (await readSettings(this.file)) ?? this.settings;
      // Conditions the change brings in are type-checked; those already saved are not judged again.
      const validated = validateSettings(change(structuredClone(latest)), this.registry(), latest);
      await writeFileAtomic(this.file, `${JSON.stringify(validated, null, 2)}\n`);
      return validated;
    });
    this.apply(next);
    return next;
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

  /** Follows changes made by other processes. */
  watch(onError?: (err: Error) => void): void {
    if (this.watcher) return;
    try {
      this.watcher = watch(join(this.file, '..'), (_e, f) => {
        if (f !== RULES_FILE) return;
        clearTimeout(this.timer);
        this.timer = setTimeout(() => void this.reload().catch((e: Error) => onError?.(e)), 50);
      });
      this.watcher.on('error', (e) => onError?.(e));
    } catch (e) {
      onError?.(e as Error);
    }
  }

  async reload(): Promise<void> {
    const s = await readSettings(this.file);
    if (s && JSON.stringify(s) !== JSON.stringify(this.settings)) this.apply(s);
  }

  close(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
    this.watcher = undefined;
  }

  private apply(next: RouterSettings): void {
    this.settings = next;
    for (const l of this.listeners) l(next);
  }
}

function indexOf(s: RouterSettings, name: string): number {
  const i = s.rules.findIndex((r) => r.name === name);
  if (i < 0) throw new ConfigConflictError(`no rule named "${name}"`, 'not-found', 'name');
  return i;
}
