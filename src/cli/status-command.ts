/**
 * `pacs status`: the nodes serving this PACS. With PostgreSQL, every node the database
 * knows (node-table.ts): its host, whether its lease is live, roles, ports, version, start
 * and last heartbeat. With SQLite, the one node holding the data directory's lock.
 */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { listNodes, type NodeRecord } from '../archive/node-table.js';
import { SharedDatabase } from '../archive/shared-database.js';
import { LOCK_FILE, processAlive } from '../roles/node-lock.js';
import { COMMANDS } from './commands.js';
import { table } from './config-commands.js';

function ago(seconds: number): string {
  if (seconds < 120) return `${seconds.toFixed(1)} s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}

function state(n: NodeRecord): string {
  if (n.stoppedAt) return 'stopped';
  return n.live ? 'live' : 'lease expired';
}

function nodeRows(nodes: NodeRecord[]): string[][] {
  return nodes.map((n) => [
    n.nodeId,
    n.host,
    state(n),
    n.roles.join(',') || '-',
    Object.entries(n.ports)
      .map(([role, port]) => `${role} ${port}`)
      .join(', ') || '-',
    n.version,
    n.startedAt.toISOString(),
    ago(n.heartbeatAgeSeconds),
  ]);
}

interface StatusFlags {
  data: string;
  databaseUrl?: string;
  databaseSchema: string;
  json?: boolean;
}

async function databaseStatus(o: StatusFlags & { databaseUrl: string }): Promise<void> {
  const db = await SharedDatabase.open({ connectionString: o.databaseUrl, schema: o.databaseSchema });
  try {
    const nodes = await listNodes(db);
    if (o.json) {
      process.stdout.write(`${JSON.stringify(nodes, null, 2)}\n`);
      return;
    }
    const live = nodes.filter((n) => n.live).length;
    process.stdout.write(`${nodes.length} node(s) on PostgreSQL schema "${db.schema}", ${live} live\n`);
    if (nodes.length) {
      process.stdout.write(table(['NODE', 'HOST', 'STATE', 'ROLES', 'PORTS', 'VERSION', 'STARTED', 'LAST HEARTBEAT'], nodeRows(nodes)));
    }
  } finally {
    await db.close();
  }
}

function lockStatus(o: StatusFlags): void {
  const dataDir = resolve(o.data);
  let holder: { nodeId: string; host: string; pid: number; startedAt: string } | undefined;
  try {
    holder = JSON.parse(readFileSync(join(dataDir, LOCK_FILE), 'utf8')) as typeof holder;
  } catch {
    holder = undefined;
  }
  if (o.json) {
    process.stdout.write(`${JSON.stringify(holder ? [holder] : [], null, 2)}\n`);
    return;
  }
  if (!holder) {
    process.stdout.write(`no node serves ${dataDir} (SQLite: one node per data directory)\n`);
    return;
  }
  // A pid is checked on this host only; elsewhere the lock says what it says.
  const gone = holder.host === hostname() && !processAlive(holder.pid);
  process.stdout.write(
    `${dataDir} is served by node "${holder.nodeId}" (pid ${holder.pid} on host ${holder.host}, since ${holder.startedAt})` +
      `${gone ? ', but that process is gone' : ''} (SQLite: one node per data directory)\n`,
  );
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description(COMMANDS.status)
    .option('--data <dir>', 'data directory (SQLite)', process.env.PACS_DATA_DIR ?? './data')
    .option('--database-url <url>', 'the PostgreSQL database of pacs serve --database-url: every node it knows', process.env.PACS_DATABASE_URL)
    .option('--database-schema <name>', 'its schema (as pacs serve)', process.env.PACS_DATABASE_SCHEMA ?? 'pacs')
    .option('--json', 'as JSON')
    .action(async (o: StatusFlags) => {
      if (o.databaseUrl) await databaseStatus({ ...o, databaseUrl: o.databaseUrl });
      else lockStatus(o);
    });
}
