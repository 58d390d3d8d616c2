// Several `pacs serve` nodes on one PostgreSQL schema and one data directory, as child
// processes, for the issue 17 interop tests: start a node on free ports, read its log,
// ask `pacs status` and the shared registry, check the store's invariants after a crash.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { expect } from 'vitest';
import type { Registry } from '../../src/config/index.js';
import { PG_URL } from '../archive/pg-support.js';
import { runPacs } from '../cli/run-pacs.js';
import { freePort, REPO_ROOT, startPacs, waitForPort, type PacsPeer } from '../support/peers.js';

export interface NodePorts {
  main: number;
  workstation: number;
  router: number;
  web: number;
}

export interface Node {
  id: string;
  peer: PacsPeer;
  ports: NodePorts;
}

export const NODE_PASSWORD = 'nodes-password';
export const admin = { authorization: `Basic ${Buffer.from(`admin:${NODE_PASSWORD}`).toString('base64')}` };

export interface StatusRow {
  nodeId: string;
  live: boolean;
  roles: string[];
  ports: Record<string, number>;
  version: string;
  heartbeatAgeSeconds: number;
  leaseSeconds: number;
  stoppedAt?: string;
}

/** The nodes of one test file: its schema, its shared data directory, a place for each node's log. */
export class NodeCluster {
  readonly db: string[];
  constructor(
    readonly schema: string,
    /** Each node's working directory (its log) goes under it. */
    readonly base: string,
    readonly data: string,
  ) {
    this.db = ['--database-url', PG_URL, '--database-schema', schema];
  }

  /**
   * Starts node `id` on `ports` (free ones when not given), ready once the port of its first
   * listening role answers (`waitFor`: default the Main Server's, then the web server's).
   */
  async startNode(id: string, ports?: NodePorts, extra: string[] = [], waitFor: keyof NodePorts = 'main'): Promise<Node> {
    const p = ports ?? { main: await freePort(), workstation: await freePort(), router: await freePort(), web: await freePort() };
    const peer = await startPacs({
      dir: join(this.base, id),
      port: p[waitFor],
      args: [
        join(REPO_ROOT, 'bin/pacs.js'),
        'serve',
        '--data',
        this.data,
        ...this.db,
        '--node-id',
        id,
        '--port',
        String(p.main),
        '--workstation-port',
        String(p.workstation),
        '--router-port',
        String(p.router),
        '--web-port',
        String(p.web),
        ...extra,
      ],
      env: { PACS_ADMIN_PASSWORD: NODE_PASSWORD },
    });
    if (waitFor === 'main' && !extra.includes('--roles')) await waitForPort(p.web, { peer });
    return { id, peer, ports: p };
  }

  async sharedRegistry(): Promise<Registry> {
    const r = await runPacs('config', 'show', '--json', '--data', this.data, ...this.db);
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Registry;
  }

  async status(): Promise<StatusRow[]> {
    const r = await runPacs('status', '--json', ...this.db);
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as StatusRow[];
  }

  /** Runs one query on the schema with a connection of its own. */
  async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    const c = new pg.Client({ connectionString: PG_URL, options: `-c search_path="${this.schema}"` });
    await c.connect();
    try {
      return (await c.query(sql, params)).rows as T[];
    } finally {
      await c.end();
    }
  }

  /** The Main Server's open-batch markers of node `id` (`blobs/open-by-node/<id>/<day>.<batch>`). */
  openMarkers(id: string): string[] {
    const dir = join(this.data, 'blobs', 'open-by-node', id);
    return existsSync(dir) ? readdirSync(dir).sort() : [];
  }

  /** Every file of the batch a marker names (the stored ones and the unused pool files). */
  batchFiles(marker: string): string[] {
    const [day, batch] = marker.split('.');
    const dir = join(this.data, 'blobs', 's', day, batch);
    return existsSync(dir) ? readdirSync(dir).map((f) => `s/${day}/${batch}/${f}`) : [];
  }

  /**
   * The store's invariants after a crash, for the Main Server's archive: every index row has
   * its file, of the size it recorded; every file of the given batches has a row.
   */
  async expectConsistent(batches: string[]): Promise<{ rows: number; filesChecked: number }> {
    const rows = await this.query<{ file_key: string; file_size: string }>('SELECT file_key, file_size FROM instances');
    const missing = rows.filter((r) => {
      const path = join(this.data, 'blobs', r.file_key);
      return !existsSync(path) || statSync(path).size !== Number(r.file_size);
    });
    expect(missing.map((r) => r.file_key)).toEqual([]);
    const keys = new Set(rows.map((r) => r.file_key));
    const files = batches.flatMap((m) => this.batchFiles(m));
    expect(files.filter((f) => !keys.has(f))).toEqual([]);
    return { rows: rows.length, filesChecked: files.length };
  }
}

/** Pino's lines of a node's log, parsed, from `from` bytes on. */
export function logLines(node: Node, from = 0): Array<Record<string, unknown>> {
  return readFileSync(node.peer.logFile, 'utf8')
    .slice(from)
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export const logSize = (node: Node): number => statSync(node.peer.logFile).size;

export async function ready(web: number): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${web}/api/ready`);
  return ((await res.json()) as { ready: boolean }).ready;
}
