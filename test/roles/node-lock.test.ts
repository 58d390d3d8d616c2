import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireNodeLock, acquireSharedNodeLock, DataDirLockedError, LOCK_FILE, NodeIdLockedError } from '../../src/roles/node-lock.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

afterAll(removeTempDirs);

/** A pid no process has (above the kernel's pid_max). */
const DEAD_PID = 4_194_305;

describe('the data directory lock', () => {
  it('refuses a second holder by name, and is free again once released', async () => {
    const dir = await makeTempDir('pacs-lock-');
    const first = acquireNodeLock(dir, 'node-a');
    let err: unknown;
    try {
      acquireNodeLock(dir, 'node-b');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DataDirLockedError);
    expect((err as DataDirLockedError).holder).toMatchObject({ nodeId: 'node-a', pid: process.pid, host: hostname() });
    expect((err as Error).message).toContain(`node "node-a" (pid ${process.pid} on host ${hostname()}`);
    first.release();
    const second = acquireNodeLock(dir, 'node-b');
    expect(JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ nodeId: 'node-b' });
    second.release();
  });

  it('takes over the lock of a process on this host that no longer exists, or of an earlier process with our pid', async () => {
    const dir = await makeTempDir('pacs-lock-stale-');
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ nodeId: 'dead', host: hostname(), pid: DEAD_PID, startedAt: '2026-01-01T00:00:00Z' }));
    const a = acquireNodeLock(dir, 'alive');
    expect(a.holder.nodeId).toBe('alive');
    a.release();
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ nodeId: 'restarted', host: hostname(), pid: process.pid, startedAt: '2026-01-01T00:00:00Z' }));
    const b = acquireNodeLock(dir, 'again');
    expect(b.holder.nodeId).toBe('again');
    b.release();
  });

  it('refuses a holder on another host (shared storage: it cannot be checked from here) and an unreadable lock', async () => {
    const dir = await makeTempDir('pacs-lock-remote-');
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ nodeId: 'far', host: 'other-host', pid: DEAD_PID, startedAt: '2026-01-01T00:00:00Z' }));
    expect(() => acquireNodeLock(dir, 'here')).toThrow(/node "far" \(pid 4194305 on host other-host/);
    await writeFile(join(dir, LOCK_FILE), 'not json');
    expect(() => acquireNodeLock(dir, 'here')).toThrow(/another node \(its lock file is unreadable\)/);
  });

  it('does not remove a successor lock on release', async () => {
    const dir = await makeTempDir('pacs-lock-successor-');
    const mine = acquireNodeLock(dir, 'mine');
    const successor = JSON.stringify({ nodeId: 'next', host: hostname(), pid: DEAD_PID + 1, startedAt: '2026-02-02T00:00:00Z' });
    await writeFile(join(dir, LOCK_FILE), successor);
    mine.release();
    expect(await readFile(join(dir, LOCK_FILE), 'utf8')).toBe(successor);
  });
});

describe('the node locks of a shared data directory (PostgreSQL)', () => {
  it('lets nodes with different ids share the directory, refuses a second process with the same id by name', async () => {
    const dir = await makeTempDir('pacs-lock-shared-');
    const a = acquireSharedNodeLock(dir, 'node-a');
    const b = acquireSharedNodeLock(dir, 'node-b');
    expect(JSON.parse(await readFile(join(dir, 'nodes', 'node-a.lock'), 'utf8'))).toMatchObject({ nodeId: 'node-a', pid: process.pid });
    let err: unknown;
    try {
      acquireSharedNodeLock(dir, 'node-a');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NodeIdLockedError);
    expect((err as Error).message).toContain(`node id "node-a" already runs on this data directory (pid ${process.pid} on host ${hostname()}`);
    a.release();
    acquireSharedNodeLock(dir, 'node-a').release();
    b.release();
  });

  it('keeps a single node and shared nodes apart, each refused naming the other', async () => {
    const dir = await makeTempDir('pacs-lock-mixed-');
    const shared = acquireSharedNodeLock(dir, 'node-a');
    expect(() => acquireNodeLock(dir, 'single')).toThrow(DataDirLockedError);
    expect(() => acquireNodeLock(dir, 'single')).toThrow(/already served by node "node-a"/);
    shared.release();
    const single = acquireNodeLock(dir, 'single');
    expect(() => acquireSharedNodeLock(dir, 'node-a')).toThrow(/already served by node "single"/);
    single.release();
    // A shared node that died on this host does not keep a single node out.
    await mkdir(join(dir, 'nodes'), { recursive: true });
    await writeFile(join(dir, 'nodes', 'gone.lock'), JSON.stringify({ nodeId: 'gone', host: hostname(), pid: DEAD_PID, startedAt: '2026-01-01T00:00:00Z' }));
    acquireNodeLock(dir, 'single').release();
  });

  it('refuses a node id that cannot name a file', async () => {
    const dir = await makeTempDir('pacs-lock-id-');
    expect(() => acquireSharedNodeLock(dir, '../etc')).toThrow(/node id must be 1 to 128 letters, digits/);
  });
});
