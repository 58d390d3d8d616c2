/**
 * A node of several on one PostgreSQL database (`pacs serve --database-url`): its lock
 * in the shared data directory (`nodes/<id>.lock`), the shared tables, its row in the
 * node table with a heartbeat, and the registry kept in the database. SQLite keeps one
 * node per data directory and config.json (serve.ts).
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { NodeTable } from '../archive/node-table.js';
import { SharedDatabase } from '../archive/shared-database.js';
import { PostgresRegistryBackend } from '../archive/shared-registry.js';
import type { SharingNode } from '../archive/file-blob-store.js';
import { acquireSharedNodeLock, processAlive } from '../roles/node-lock.js';

/** This program's version (package.json), for the node table. */
export function pacsVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export interface SharedNode {
  readonly nodeId: string;
  /** The shared tables' pool (users, sessions, jobs, documents). */
  readonly db: SharedDatabase;
  readonly table: NodeTable;
  readonly registry: PostgresRegistryBackend;
  /** For the archives' blob stores: whose open batches this node may sweep. */
  readonly sharing: SharingNode;
  close(): Promise<void>;
}

/** Joins the database's nodes: lock, shared tables, registration (NodeIdInUseError, NodeIdLockedError when the id is taken). */
export async function joinSharedDatabase(o: {
  dataDir: string;
  postgres: string;
  schema?: string;
  nodeId?: string;
  /** How long after its last heartbeat this node is taken for dead (default 15 s; a heartbeat every third of it, at most 2 s). */
  leaseSeconds?: number;
  logger: Logger;
}): Promise<SharedNode> {
  const nodeId = o.nodeId ?? hostname();
  const leaseSeconds = o.leaseSeconds ?? 15;
  const lock = acquireSharedNodeLock(o.dataDir, nodeId);
  let db: SharedDatabase | undefined;
  try {
    db = await SharedDatabase.open({ connectionString: o.postgres, schema: o.schema });
    const table = await NodeTable.register(
      db,
      { nodeId, host: hostname(), pid: process.pid, roles: [], version: pacsVersion(), ports: {} },
      { processAlive, logger: o.logger, leaseSeconds, heartbeatMs: Math.min(2000, (leaseSeconds * 1000) / 3) },
    );
    o.logger.info({ nodeId, schema: db.schema }, 'joined the nodes on this PostgreSQL database');
    const shared = db;
    return {
      nodeId,
      db: shared,
      table,
      registry: new PostgresRegistryBackend(db, o.dataDir, nodeId),
      sharing: {
        id: nodeId,
        leaseExpired: (id) => table.leaseExpired(id),
        fenceIfExpired: (id) => table.fenceIfExpired(id),
        writeFence: table.writeFence(),
        withSweepLock: (id, wait, fn) => table.withSweepLock(id, wait, fn),
        // A dead node's open batches are swept by the live ones about a lease after it died.
        sweepEveryMs: Math.max(1000, leaseSeconds * 1000),
      },
      async close() {
        await table.stop();
        await shared.close();
        lock.release();
      },
    };
  } catch (err) {
    await db?.close();
    lock.release();
    throw err;
  }
}
