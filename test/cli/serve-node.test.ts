/**
 * One `pacs serve` per data directory (src/roles/node-lock.ts), and the liveness and
 * readiness routes a load balancer polls (src/web/health-api.ts), on real processes.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Readiness } from '../../src/api-types/web.js';
import { freePort, REPO_ROOT, startPacs, stopAllPeers, waitForPort, type PacsPeer } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { runPacs } from './run-pacs.js';

const held: Server[] = [];
afterAll(async () => {
  await stopAllPeers();
  await Promise.all(held.map((s) => new Promise((r) => s.close(r))));
  await removeTempDirs();
});

async function serve(dir: string, extra: string[] = [], ports: { router?: number } = {}): Promise<{ pacs: PacsPeer; web: number }> {
  const [ws, router, web] = await Promise.all([freePort(), ports.router ?? freePort(), freePort()]);
  const args = [join(REPO_ROOT, 'bin/pacs.js'), 'serve', '--data', '{data}', '--port', '{port}', '--workstation-port', String(ws)];
  args.push('--router-port', String(router), '--web-port', String(web), ...extra);
  const pacs = await startPacs({ dir, args, env: { PACS_ADMIN_PASSWORD: 'node-password' } });
  await waitForPort(web, { peer: pacs });
  return { pacs, web };
}

async function ready(web: number): Promise<{ status: number; body: Readiness; cache: string | null }> {
  const res = await fetch(`http://127.0.0.1:${web}/api/ready`);
  return { status: res.status, body: (await res.json()) as Readiness, cache: res.headers.get('cache-control') };
}

async function exited(peer: PacsPeer): Promise<void> {
  for (let i = 0; i < 200 && !peer.exited; i++) await new Promise((r) => setTimeout(r, 50));
  expect(peer.exited).toBe(true);
}

describe('a node and its data directory', () => {
  it('answers health and readiness without a login, and refuses a second node on the same directory by name', async () => {
    const dir = await makeTempDir('pacs-node-');
    const { pacs, web } = await serve(dir, ['--node-id', 'reading-room-1']);

    const health = await fetch(`http://127.0.0.1:${web}/api/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const r = await ready(web);
    expect(r.status).toBe(200);
    expect(r.cache).toBe('no-store');
    expect(r.body.ready).toBe(true);
    expect(r.body.checks.map((c) => c.name).sort()).toEqual(
      ['archive:main', 'archive:router', 'archive:workstation', 'listening:main', 'listening:router', 'listening:workstation'].sort(),
    );
    expect(r.body.checks.every((c) => c.ok)).toBe(true);

    const lock = JSON.parse(await readFile(join(pacs.dataDir, 'serve.lock'), 'utf8')) as { nodeId: string; pid: number; host: string };
    expect(lock).toMatchObject({ nodeId: 'reading-room-1', pid: pacs.pid, host: hostname() });

    const second = await runPacs('serve', '--data', pacs.dataDir, '--port', String(await freePort()), '--no-web', '--node-id', 'reading-room-2');
    expect(second.status).toBe(1);
    expect(second.stderr).toContain(`already served by node "reading-room-1" (pid ${pacs.pid} on host ${hostname()}`);
    expect(second.stderr).toContain(join(pacs.dataDir, 'serve.lock'));
    // The first node is untouched: still ready, still on its ports.
    expect((await ready(web)).body.ready).toBe(true);

    // A node that died (SIGKILL: no clean release) leaves its lock; the next start on this host takes it over.
    process.kill(pacs.pid, 'SIGKILL');
    await exited(pacs);
    const again = await startPacs({
      dir,
      args: [join(REPO_ROOT, 'bin/pacs.js'), 'serve', '--data', '{data}', '--port', '{port}', '--no-web', '--node-id', 'reading-room-3'],
    });
    const taken = JSON.parse(await readFile(join(again.dataDir, 'serve.lock'), 'utf8')) as { nodeId: string; pid: number };
    expect(taken).toMatchObject({ nodeId: 'reading-room-3', pid: again.pid });
    await again.stop();
  });

  it('is not ready while a configured role cannot listen, and says which', async () => {
    const dir = await makeTempDir('pacs-node-unready-');
    const blocker = createServer();
    held.push(blocker);
    const taken = await freePort();
    await new Promise<void>((r) => blocker.listen(taken, '0.0.0.0', r));
    const { web } = await serve(dir, [], { router: taken });

    const r = await ready(web);
    expect(r.status).toBe(503);
    expect(r.body.ready).toBe(false);
    const router = r.body.checks.find((c) => c.name === 'listening:router');
    expect(router?.ok).toBe(false);
    expect(router?.detail).toMatch(/EADDRINUSE|in use/);
    expect(r.body.checks.find((c) => c.name === 'listening:main')?.ok).toBe(true);
    expect(r.body.checks.find((c) => c.name === 'archive:main')?.ok).toBe(true);
  });

  it('runs only the roles of --roles: a role left out does not listen and is not a readiness check', async () => {
    const dir = await makeTempDir('pacs-node-roles-');
    // The Router's port is taken: a node that tried to run the Router would not be ready.
    const blocker = createServer();
    held.push(blocker);
    const taken = await freePort();
    await new Promise<void>((r) => blocker.listen(taken, '0.0.0.0', r));
    const { pacs, web } = await serve(dir, ['--roles', 'main,web'], { router: taken });

    const r = await ready(web);
    expect(r.status).toBe(200);
    expect(r.body.checks.map((c) => c.name)).toEqual(['listening:main', 'archive:main']);
    const auth = { authorization: `Basic ${Buffer.from('admin:node-password').toString('base64')}` };
    const status = (await (await fetch(`http://127.0.0.1:${web}/api/status`, { headers: auth })).json()) as {
      roles: Array<{ role: string; listening: boolean; error?: string }>;
    };
    expect(status.roles.map((x) => [x.role, x.listening, x.error])).toEqual([
      ['main', true, undefined],
      ['workstation', false, 'not run on this node (pacs serve --roles)'],
      ['router', false, 'not run on this node (pacs serve --roles)'],
    ]);
    await pacs.stop();
  });

  it('refuses an unknown role by name, and an empty list', async () => {
    const dir = await makeTempDir('pacs-node-badroles-');
    const bad = await runPacs('serve', '--data', dir, '--roles', 'main,routr,qr');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('unknown roles "routr", "qr": the roles are main, workstation, router, web');
    const empty = await runPacs('serve', '--data', dir, '--roles', ',');
    expect(empty.status).toBe(1);
    expect(empty.stderr).toContain('expected one or more of main, workstation, router, web');
  });
});
