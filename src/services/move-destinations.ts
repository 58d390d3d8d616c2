/**
 * C-MOVE destinations from a JSON file, until the AE registry (src/config) is wired:
 * `{ "STORESCP": { "host": "127.0.0.1", "port": 11113 }, ... }`. Read on every lookup, so
 * edits apply without a restart; a missing file means no destinations are known.
 */
import { readFile } from 'node:fs/promises';
import type { MoveDestination } from './query-retrieve.js';

export function jsonFileMoveDestinations(file: string): (aeTitle: string) => Promise<MoveDestination | undefined> {
  return async (aeTitle) => {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return undefined;
    }
    const table = JSON.parse(text) as Record<string, Partial<MoveDestination>>;
    const entry = Object.prototype.hasOwnProperty.call(table, aeTitle) ? table[aeTitle] : undefined;
    if (!entry || typeof entry.host !== 'string' || !Number.isInteger(entry.port)) return undefined;
    return { host: entry.host, port: entry.port! };
  };
}
