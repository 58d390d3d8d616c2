/**
 * Query/retrieve of registered remote AEs:
 *   POST /api/remote/{aet}/find      {level: STUDY|SERIES, keys, client?}          -> {status, matches (DICOM JSON), truncated}
 *   POST /api/remote/{aet}/retrieve  {studyUid, seriesUid?, destination?}         -> 202 job: C-MOVE to a local storage role
 * The calling AE follows the client: PACS_CLIENT (study browser, default) or WS_CLIENT
 * (the viewer, client "workstation"); a retrieve calls as the client of its destination
 * role (PACS -> PACS_CLIENT, WORKSTATION -> WS_CLIENT).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ConfigConflictError, ConfigValidationError, findAe, serverAe, type Registry } from '../config/index.js';
import { Status, statusHex } from '../dicom/status.js';
import type { PacsRoles } from '../roles/pacs-roles.js';
import { remoteFind, remoteMove } from '../services/remote-qr.js';
import type { JobRegistry } from '../services/jobs.js';
import { HttpError } from './problem.js';
import { aetParams, jsonSchema } from './schemas.js';
import { targetOf, type ClientKind } from '../roles/remote-target.js';
import { checkUid } from './remote-target.js';
import { access } from './route-access.js';

// Matching values: printable text, no backslash (one value each), within the longest VR (LO, 64).
const key = z
  .string()
  .max(64, 'at most 64 characters')
  .regex(/^[^\\\x00-\x1f]*$/, 'no backslash or control characters')
  .optional();
const findBody = z.strictObject({
  level: z.enum(['STUDY', 'SERIES']).default('STUDY'),
  keys: z
    .strictObject({
      PatientName: key,
      PatientID: key,
      StudyDate: z
        .string()
        .regex(/^(\d{8})?(-(\d{8})?)?$/, 'StudyDate must be YYYYMMDD, YYYYMMDD-YYYYMMDD, -YYYYMMDD or YYYYMMDD-')
        .optional(),
      Modality: z
        .string()
        .regex(/^[A-Z0-9_]{0,16}$/, 'Modality is a code such as CT')
        .optional(),
      AccessionNumber: key,
      StudyDescription: key,
      StudyInstanceUID: z.string().optional(),
    })
    .default({}),
  limit: z.number().int().min(1).max(5000).optional(),
  client: z.enum(['main', 'workstation']).optional(),
});
const retrieveBody = z.strictObject({ studyUid: z.string(), seriesUid: z.string().optional(), destination: z.string().min(1).max(16).optional() });

/** The local storage role a retrieve moves into: the Main Server unless `destination` names the Workstation Server. */
function destinationRole(reg: Registry, aet: string | undefined): ClientKind {
  if (aet === undefined) return 'main';
  const ae = findAe(reg, aet);
  if (!ae) throw new ConfigConflictError(`no AE "${aet}" in the registry`, 'not-found', 'destination');
  if (!ae.local || (ae.role !== 'main' && ae.role !== 'workstation')) {
    throw new ConfigValidationError([
      {
        field: 'destination',
        message: `"${ae.aeTitle}" is not a local storage role; retrieve into ${serverAe(reg, 'main')?.aeTitle ?? 'PACS'} or ${serverAe(reg, 'workstation')?.aeTitle ?? 'WORKSTATION'}`,
      },
    ]);
  }
  return ae.role;
}

export async function registerRemoteApi(
  app: FastifyInstance,
  deps: { config: { readonly current: Registry; readonly dataDir: string }; roles?: Pick<PacsRoles, 'archive'>; jobs: JobRegistry },
): Promise<void> {
  type Req = FastifyRequest<{ Params: { aet: string } }>;

  // A query is browsing (read); a retrieve acts on the archive's behalf (admin).
  app.post('/api/remote/:aet/find', { schema: { params: aetParams, body: jsonSchema(findBody) }, ...access('read') }, async (req: Req) => {
    const body = findBody.parse(req.body);
    if (body.keys.StudyInstanceUID !== undefined) checkUid(body.keys.StudyInstanceUID, 'keys.StudyInstanceUID');
    if (body.level === 'SERIES' && !body.keys.StudyInstanceUID)
      throw new ConfigConflictError('a SERIES query needs keys.StudyInstanceUID', 'conflict', 'keys.StudyInstanceUID');
    const target = targetOf(deps.config.current, deps.config.dataDir, req.params.aet, 'aet', body.client ?? 'main');
    try {
      return await remoteFind(target, body.level, body.keys, body.limit);
    } catch (err) {
      throw new RemoteError(`C-FIND at ${target.calledAeTitle} (${target.host}:${target.port}) failed: ${(err as Error).message}`);
    }
  });

  app.post('/api/remote/:aet/retrieve', { schema: { params: aetParams, body: jsonSchema(retrieveBody) }, ...access('admin') }, async (req: Req, reply) => {
    const body = req.body as z.infer<typeof retrieveBody>;
    checkUid(body.studyUid, 'studyUid');
    if (body.seriesUid !== undefined) checkUid(body.seriesUid, 'seriesUid');
    const reg = deps.config.current;
    const role = destinationRole(reg, body.destination);
    const target = targetOf(reg, deps.config.dataDir, req.params.aet, 'aet', role);
    const destination = serverAe(reg, role)?.aeTitle;
    if (!destination || !deps.roles?.archive(role))
      throw new ConfigConflictError(`the ${role === 'main' ? 'Main' : 'Workstation'} Server is not running`, 'conflict', 'destination');
    const what = body.seriesUid ? `series ${body.seriesUid}` : `study ${body.studyUid}`;
    const job = deps.jobs.start('retrieve', `${what} from ${target.calledAeTitle} to ${destination}`, async (c) => {
      const r = await remoteMove(target, destination, body, (p) => {
        const done = (p.completed ?? 0) + (p.failed ?? 0) + (p.warning ?? 0);
        c.setTotal(done + (p.remaining ?? 0));
        c.progress(done, p.failed ?? 0);
      });
      const done = (r.completed ?? 0) + (r.failed ?? 0) + (r.warning ?? 0);
      // The final response's counts are authoritative (Remaining is absent there).
      if (done > 0 || c.job.total === 0) c.setTotal(Math.max(done, c.job.total));
      c.progress(Math.max(done, c.job.done), r.failed ?? 0);
      if (r.failed) c.fail(`${r.failed} sub-operation(s) failed${r.errorComment ? `: ${r.errorComment}` : ''}`);
      const status = statusHex(r.status);
      const ok = r.status === Status.Success || (r.status === Status.SubOperationsWithFailures && !r.failed);
      return {
        ok,
        message: `C-MOVE status ${status}${r.errorComment ? ` (${r.errorComment})` : ''}: ${r.completed ?? 0} completed, ${r.failed ?? 0} failed, ${r.warning ?? 0} warning`,
      };
    });
    return reply.code(202).header('location', `/api/jobs/${job.id}`).send(job);
  });
}

/** The remote AE could not be reached or refused: 502 with the reason. */
class RemoteError extends HttpError {
  override readonly name = 'RemoteError';
  constructor(message: string) {
    super(502, message);
  }
}
