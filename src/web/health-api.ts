/**
 * Liveness and readiness for a load balancer or an orchestrator, without a login (they
 * hold no data: check names and, on failure, the reason).
 *   GET /api/health  200 while the process answers HTTP at all
 *   GET /api/ready   200 when every role this node runs (`pacs serve --roles`) and the
 *                    registry defines listens, and every open archive's index answers and
 *                    its data directory takes a file; else 503, naming the check. A role
 *                    the node does not run is not checked (the Main Server's archive is
 *                    open on every node: it is checked).
 */
import type { FastifyInstance } from 'fastify';
import type { Readiness, ReadinessCheck } from '../api-types/web.js';
import type { PacsRoles } from '../roles/pacs-roles.js';
import { access } from './route-access.js';

export interface HealthDeps {
  roles?: Pick<PacsRoles, 'status' | 'archive' | 'runs'>;
}

/** A probe that does not answer within this is a failed check, not a hung request. */
const PROBE_TIMEOUT_MS = 5000;

function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export async function readiness(deps: HealthDeps): Promise<Readiness> {
  const checks: ReadinessCheck[] = [];
  const pending: Promise<void>[] = [];
  for (const r of deps.roles?.status() ?? []) {
    if (!r.aeTitle) continue; // a role the registry does not define is not expected to listen
    if (deps.roles?.runs(r.role)) {
      checks.push(r.listening ? { name: `listening:${r.role}`, ok: true } : { name: `listening:${r.role}`, ok: false, detail: r.error ?? 'not listening' });
    }
    const archive = deps.roles?.archive(r.role);
    if (!archive) continue;
    const check: ReadinessCheck = { name: `archive:${r.role}`, ok: true };
    checks.push(check);
    pending.push(
      withTimeout(archive.probe(), PROBE_TIMEOUT_MS).catch((err: unknown) => {
        check.ok = false;
        check.detail = (err as Error).message;
      }),
    );
  }
  await Promise.all(pending);
  return { ready: checks.every((c) => c.ok), checks };
}

export function registerHealthApi(app: FastifyInstance, deps: HealthDeps): void {
  app.get('/api/health', access('public'), async () => ({ status: 'ok' }));
  app.get('/api/ready', access('public'), async (_req, reply): Promise<Readiness> => {
    const r = await readiness(deps);
    reply.code(r.ready ? 200 : 503).header('cache-control', 'no-store');
    return r;
  });
}
