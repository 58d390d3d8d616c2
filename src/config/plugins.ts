/**
 * The registry's add-in list (`plugins`, docs/plugins.md): pure operations, as registry.ts
 * does for AEs. A change applies at the next start of `pacs serve`.
 */
import { ConfigConflictError, parseOrThrow } from './errors.js';
import { pluginEntrySchema, registrySchema, type PluginEntry, type Registry } from './schema.js';

/** How an entry is named on the command line: its name when it has one, else its module. */
export const pluginKey = (p: PluginEntry): string => p.name ?? p.module;

/** Appends an entry (loaded after those already listed). */
export function addPlugin(reg: Registry, input: unknown): Registry {
  const entry = parseOrThrow(pluginEntrySchema, input);
  const list = reg.plugins ?? [];
  if (list.some((p) => pluginKey(p) === pluginKey(entry)))
    throw new ConfigConflictError(`an add-in "${pluginKey(entry)}" is already listed (give it another --name)`, 'conflict', 'module');
  return parseOrThrow(registrySchema, { ...structuredClone(reg), plugins: [...list, entry], revision: reg.revision + 1 });
}

/** Removes the entry named `key` (its name, or its module when it has none). */
export function removePlugin(reg: Registry, key: string): Registry {
  const list = reg.plugins ?? [];
  if (!list.some((p) => pluginKey(p) === key)) throw new ConfigConflictError(`no add-in "${key}" in the registry`, 'not-found', 'module');
  const rest = list.filter((p) => pluginKey(p) !== key);
  const next: Registry = { ...structuredClone(reg), revision: reg.revision + 1 };
  if (rest.length) next.plugins = rest;
  else delete next.plugins;
  return parseOrThrow(registrySchema, next);
}
