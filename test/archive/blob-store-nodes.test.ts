/**
 * The file blob store shared by several nodes (file-blob-store.ts, `node`): each node's
 * open batches are marked under `open-by-node/<id>/`, and a node's start-up sweep takes
 * its own open batches, and another node's only once that node's lease has expired.
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileBlobStore } from '../../src/archive/file-blob-store.js';
import { tempDir } from './helpers.js';

/** A store as node `id` would open it; `expired` names the nodes whose lease has expired. */
function openAs(root: string, id: string, expired: Set<string>): Promise<FileBlobStore> {
  return FileBlobStore.open(root, { poolSize: 4, batchFiles: 64, node: { id, leaseExpired: async (n) => expired.has(n) } });
}

/** Writes and commits one file (its key becomes a row), leaving the batch open. */
async function storeOne(s: FileBlobStore, rows: Set<string>): Promise<string> {
  const w = s.begin();
  await w.write(Buffer.alloc(100, 1));
  await w.persist();
  rows.add(w.key);
  await w.release();
  return w.key;
}

/** An interrupted store: written, never committed, never closed by its node. */
async function interrupted(s: FileBlobStore): Promise<string> {
  const w = s.begin();
  await w.write(Buffer.alloc(100, 2));
  await w.persist();
  return w.key;
}

const exists = (root: string, key: string): boolean => {
  try {
    statSync(join(root, key));
    return true;
  } catch {
    return false;
  }
};

describe('FileBlobStore shared by nodes', () => {
  let root: string;
  beforeEach(() => {
    root = tempDir('pacs-blob-nodes-');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("marks each node's open batches apart, and refuses a node id that is not a plain name", async () => {
    const a = await openAs(root, 'node-a', new Set());
    const b = await openAs(root, 'node-b', new Set());
    await storeOne(a, new Set());
    await storeOne(b, new Set());
    expect(readdirSync(join(root, 'open-by-node')).sort()).toEqual(['node-a', 'node-b']);
    expect(readdirSync(join(root, 'open-by-node', 'node-a'))).toHaveLength(1);
    expect(readdirSync(join(root, 'open'))).toEqual([]);
    await expect(FileBlobStore.open(root, { node: { id: '../x', leaseExpired: async () => true } })).rejects.toThrow(/not a node id: '\.\.\/x'/);
    await a.close();
    await b.close();
  });

  it("sweeps its own open batches, leaves a live node's alone, and sweeps a node's whose lease expired", async () => {
    const rows = new Set<string>();
    const a = await openAs(root, 'node-a', new Set());
    const b = await openAs(root, 'node-b', new Set());
    const aKept = await storeOne(a, rows);
    const aLost = await interrupted(a);
    const bKept = await storeOne(b, rows);
    const bInFlight = await interrupted(b); // node b is alive: this store is still running
    // Node a dies and restarts while node b lives.
    const a2 = await openAs(root, 'node-a', new Set());
    const first = await a2.sweep(async (k) => rows.has(k));
    expect(first.tempFiles).toBe(1);
    expect(first.liveNodesLeft).toEqual(['node-b']);
    expect(first.nodesSwept).toBeUndefined();
    expect(exists(root, aKept)).toBe(true);
    expect(exists(root, aLost)).toBe(false);
    expect(readdirSync(join(root, 'open-by-node', 'node-a'))).toEqual([]);
    expect(exists(root, bInFlight)).toBe(true);
    expect(readdirSync(join(root, 'open-by-node', 'node-b'))).toHaveLength(1);

    // Node b dies; once its lease has expired, node a's next start sweeps its batch.
    const a3 = await openAs(root, 'node-a', new Set(['node-b']));
    const second = await a3.sweep(async (k) => rows.has(k));
    expect(second.nodesSwept).toEqual([{ nodeId: 'node-b', batches: 1, tempFiles: 1 }]);
    expect(second.liveNodesLeft).toBeUndefined();
    expect(exists(root, bKept)).toBe(true);
    expect(exists(root, bInFlight)).toBe(false);
    expect(readdirSync(join(root, 'open-by-node', 'node-b'))).toEqual([]);
    await Promise.all([a.close(), b.close(), a2.close(), a3.close()]);
  });

  it('sweeps the open batches of a single node (open/) as before', async () => {
    const rows = new Set<string>();
    const single = await FileBlobStore.open(root, { poolSize: 4, batchFiles: 64 });
    const kept = await storeOne(single, rows);
    const lost = await interrupted(single);
    expect(readdirSync(join(root, 'open'))).toHaveLength(1);
    const node = await openAs(root, 'node-a', new Set());
    const report = await node.sweep(async (k) => rows.has(k));
    expect(report.tempFiles).toBe(1);
    expect(exists(root, kept)).toBe(true);
    expect(exists(root, lost)).toBe(false);
    expect(readdirSync(join(root, 'open'))).toEqual([]);
    await Promise.all([single.close(), node.close()]);
  });
});
