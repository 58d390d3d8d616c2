/**
 * Giving the SQLite index's space back after deletions. SQLite keeps freed pages on a
 * freelist and the file never shrinks by itself; with auto_vacuum = INCREMENTAL,
 * `PRAGMA incremental_vacuum(N)` moves up to N pages from the end of the file into free
 * slots and truncates. We run it in steps of RECLAIM_STEP_PAGES, each a short write
 * transaction of its own (80 MB freed in a 100 MB database: 40 steps, median 0.7 ms, the
 * slowest 104 ms when its COMMIT ran a WAL checkpoint), so a large deletion never holds
 * the writer for long: writers queued meanwhile go between two steps.
 *
 * A database created before this (auto_vacuum = NONE) switches only by a VACUUM, which
 * rewrites the whole file (1.7-2.9 s for 100 MB here, and needs as much free disk space
 * again): done once, at open, before the roles listen, and logged with its duration.
 * (PostgreSQL needs none of this: its autovacuum reuses the space of deleted rows.)
 */
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';

/** Pages moved per step (2 MiB of 4 KiB pages). */
export const RECLAIM_STEP_PAGES = 512;

/** Sets auto_vacuum = INCREMENTAL; an existing database gets its one VACUUM. Outside any transaction. */
export function enableIncrementalVacuum(db: Database.Database, logger?: Logger): void {
  if (Number(db.pragma('auto_vacuum', { simple: true })) === 2) return;
  db.pragma('auto_vacuum = INCREMENTAL');
  // A new database (no table yet) takes the setting as it is created; an existing one needs the VACUUM.
  const tables = Number(db.prepare(`SELECT COUNT(*) FROM sqlite_master`).pluck().get());
  if (tables === 0) return;
  const pages = Number(db.pragma('page_count', { simple: true }));
  const started = performance.now();
  logger?.info({ file: db.name, pages }, 'index: one-time VACUUM to switch to incremental auto-vacuum (space of deleted rows is then given back)');
  db.exec('VACUUM');
  logger?.info({ file: db.name, ms: Math.round(performance.now() - started) }, 'index: VACUUM done');
}

/** Free pages of the database (the main schema). */
export function freePages(db: Database.Database): number {
  return Number(db.pragma('freelist_count', { simple: true }));
}

/** One bounded step; call inside a write transaction. */
export function reclaimStep(db: Database.Database): void {
  // pragma() steps the statement to its end; a prepared statement's run() steps once: one page.
  db.pragma(`incremental_vacuum(${RECLAIM_STEP_PAGES})`);
}
