/**
 * Query/retrieve of registered remote AEs, as the main client (PACS_CLIENT):
 *   POST /api/remote/{aet}/find      {level: STUDY|SERIES, keys}  -> {status, matches (DICOM JSON), truncated}
 *   POST /api/remote/{aet}/retrieve  {studyUid, seriesUid?}       -> 202 job: C-MOVE to our Main Server
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ConfigConflictError, serverAe, type Registry } from '../config/index.js';
import type { PacsRoles } from '../roles/pacs-roles.js';
import { remoteFind, remoteMove } from '../services/remote-qr.js';
import type { JobRegistry } from './jobs.js';
import { aetParams, jsonSchema } from './schemas.js';
import { checkUid, targetOf } from './remote-target.js';

// Matching values: printable text, no backslash (one value each), within the longest VR (LO, 64).
const key = z.string().max(64, 'at most 64 characters').regex(/^[^\\\x00-\x1f]*$/, 'no backslash or control characters').optional();
const findBody = z.strictObject({
  level: z.enum(['STUDY', 'SERIES']).default('STUDY'),
  keys: z.strictObject({
    PatientName: key,
    PatientID: key,
    StudyDate: z.string().regex(/^(\d{8})?(-(\d{8})?)?$/, 'StudyDate must be YYYYMMDD, YYYYMMDD-YYYYMMDD, -YYYYMMDD or YYYYMMDD-').optional(),
    Modality: z.string().regex(/^[A-Z0-9_]{0,16}$/, 'Modality is a code such as CT').optional(),
    AccessionNumber: key,
    StudyDescription: key,
    StudyInstanceUID: z.string().optional(),
  }).default({}),
  limit: z.number().int().min(1).max(5000).optional(),
});
const retrieveBody = z.strictObject({ studyUid: z.string(), seriesUid: z.string().optional() });

export async function registerRemoteApi(
  app: FastifyInstance,
  deps: { config: { readonly current: Registry; readonly dataDir: string }; roles?: Pick<PacsRoles, 'archive'>; jobs: JobRegistry },
): Promise<void> {
  type Req = FastifyRequest<{ Params: { aet: string } }>;

  app.post('/api/remote/:aet/find', { schema: { params: aetParams, body: jsonSchema(findBody) } }, async (req: Req) => {
    const body = findBody.parse(req.body);
    if (body.keys.StudyInstanceUID !== undefined) checkUid(body.keys.StudyInstanceUID, 'keys.StudyInstanceUID');
    if (body.level === 'SERIES' && !body.keys.StudyInstanceUID) throw new ConfigConflictError('a SERIES query needs keys.StudyInstanceUID', 'conflict', 'keys.StudyInstanceUID');
    const target = targetOf(deps.config.current, deps.config.dataDir, req.params.aet, 'aet');
    try {
      return await remoteFind(target, body.level, body.keys, body.limit);
    } catch (err) {
      throw new RemoteError(`C-FIND at ${target.calledAeTitle} (${target.host}:${target.port}) failed: ${(err as Error).message}`);
    }
  });

  app.post('/api/remote/:aet/retrieve', { schema: { params: aetParams, body: jsonSchema(retrieveBody) } }, async (req: Req, reply) => {
    const body = req.body as z.infer<typeof retrieveBody>;
    checkUid(body.studyUid, 'studyUid');
    if (body.seriesUid !== undefined) checkUid(body.seriesUid, 'seriesUid');
    const reg = deps.config.current;
    const target = targetOf(reg, deps.config.dataDir, req.params.aet, 'aet');
    const destination = serverAe(reg, 'main')?.aeTitle;
    if (!destination || !deps.roles?.archive('main')) throw new ConfigConflictError('the Main Server is not running', 'conflict');
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
      const status = `0x${r.status.toString(16).padStart(4, '0')}`;
      const ok = r.status === 0 || (r.status === 0xb000 && !r.failed);
      return { ok, message: `C-MOVE status ${status}${r.errorComment ? ` (${r.errorComment})` : ''}: ${r.completed ?? 0} completed, ${r.failed ?? 0} failed, ${r.warning ?? 0} warning` };
    });
    return reply.code(202).header('location', `/api/jobs/${job.id}`).send(job);
  });
}

/** The remote AE could not be reached or refused: 502 with the reason. */
class RemoteError extends Error {
  readonly statusCode = 502;
}
