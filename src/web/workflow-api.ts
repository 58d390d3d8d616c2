/**
 * REST API of the workflow services, over the Main Server's index:
 *   GET    /api/worklist[?status=SCHEDULED,STARTED&date=YYYYMMDD&modality=CT&station=AE&all=true]
 *   POST   /api/worklist                 201, Location /api/worklist/{spsId}
 *   GET    /api/worklist/{spsId}         the entry (and its DICOM worklist item with ?dicom=true)
 *   PATCH  /api/worklist/{spsId}         change fields (null removes an optional one)
 *   DELETE /api/worklist/{spsId}         cancel (status CANCELED); ?purge=true deletes it
 *   GET    /api/mpps, /api/mpps/{uid}    performed procedure steps
 *   GET    /api/commitments              storage commitment transactions (pending and done)
 *   POST   /api/commitments/{uid}/retry  deliver a pending report now; answers the transaction as it is afterwards
 * Errors are problem+json naming the field (the worklist schema's own messages).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CommitmentStore } from '../archive/commitment-store.js';
import type { Index } from '../archive/index-types.js';
import { MppsStore } from '../archive/mpps-store.js';
import { FINAL_SPS_STATUSES, SPS_STATUSES, WorklistStore, worklistEntrySchema, worklistPatchSchema, type SpsStatus } from '../archive/worklist-store.js';
import { ConfigConflictError, ConfigValidationError, issuesOf } from '../config/index.js';
import { worklistItemJson } from '../services/worklist.js';
import type { PacsRoles } from '../roles/pacs-roles.js';
import { checkUid } from './remote-target.js';
import { jsonSchema } from './schemas.js';
import { access } from './route-access.js';

const listQuery = z.strictObject({
  status: z.string().optional(),
  all: z.enum(['true', 'false']).optional(),
  date: z
    .string()
    .regex(/^\d{8}(-\d{8})?$/, 'date must be YYYYMMDD or YYYYMMDD-YYYYMMDD')
    .optional(),
  modality: z.string().optional(),
  station: z.string().optional(),
});
const spsParams = jsonSchema(z.object({ spsId: z.string() }));
const uidParams = jsonSchema(z.object({ uid: z.string() }));

function parseQuery<S extends z.ZodType>(schema: S, q: unknown): z.infer<S> {
  const r = schema.safeParse(q);
  if (!r.success) throw new ConfigValidationError(issuesOf(r.error));
  return r.data;
}

function statuses(q: z.infer<typeof listQuery>): SpsStatus[] | undefined {
  if (q.status) {
    const list = q.status.split(',').map((s) => s.trim().toUpperCase());
    const bad = list.find((s) => !(SPS_STATUSES as readonly string[]).includes(s));
    if (bad) throw new ConfigValidationError([{ field: 'status', message: `"${bad}" is not one of ${SPS_STATUSES.join(', ')}` }]);
    return list as SpsStatus[];
  }
  return q.all === 'true' ? undefined : SPS_STATUSES.filter((s) => !FINAL_SPS_STATUSES.includes(s));
}

export async function registerWorkflowApi(app: FastifyInstance, deps: { roles?: Pick<PacsRoles, 'archive' | 'retryCommitment'> }): Promise<void> {
  const index = (): Index => {
    const i = deps.roles?.archive('main')?.index;
    if (!i) throw new ConfigConflictError('the Main Server is not running', 'conflict');
    return i;
  };
  const worklist = () => WorklistStore.open(index());
  type Sps = FastifyRequest<{ Params: { spsId: string }; Querystring: Record<string, string> }>;

  app.get('/api/worklist', access('read'), async (req) => {
    const q = parseQuery(listQuery, req.query);
    const [from, to] = q.date ? [q.date.slice(0, 8), q.date.slice(-8)] : [undefined, undefined];
    return (await worklist()).list({ statuses: statuses(q), fromDate: from, toDate: to, modality: q.modality, stationAeTitle: q.station });
  });

  app.post('/api/worklist', { schema: { body: jsonSchema(worklistEntrySchema) }, ...access('admin') }, async (req, reply) => {
    const e = await (await worklist()).add(req.body);
    return reply
      .code(201)
      .header('location', `/api/worklist/${encodeURIComponent(e.spsId)}`)
      .send(e);
  });

  app.get('/api/worklist/:spsId', { schema: { params: spsParams }, ...access('read') }, async (req: Sps) => {
    const e = await (await worklist()).get(req.params.spsId);
    if (!e) throw new ConfigConflictError(`no worklist entry "${req.params.spsId}"`, 'not-found', 'spsId');
    return req.query.dicom === 'true' ? { ...e, dicom: worklistItemJson(e) } : e;
  });

  app.patch('/api/worklist/:spsId', { schema: { params: spsParams, body: jsonSchema(worklistPatchSchema) }, ...access('admin') }, async (req: Sps) =>
    (await worklist()).change(req.params.spsId, req.body),
  );

  app.delete('/api/worklist/:spsId', { schema: { params: spsParams }, ...access('admin') }, async (req: Sps, reply) => {
    await (await worklist()).cancel(req.params.spsId, req.query.purge === 'true');
    return reply.code(204).send();
  });

  app.get('/api/mpps', access('read'), async () => (await MppsStore.open(index())).list());

  app.get('/api/mpps/:uid', { schema: { params: uidParams }, ...access('read') }, async (req: FastifyRequest<{ Params: { uid: string } }>) => {
    const r = await (await MppsStore.open(index())).get(checkUid(req.params.uid, 'uid'));
    if (!r) throw new ConfigConflictError(`no performed procedure step "${req.params.uid}"`, 'not-found', 'uid');
    return r;
  });

  app.get('/api/commitments', access('read'), async () => (await CommitmentStore.open(index())).list());

  app.post('/api/commitments/:uid/retry', { schema: { params: uidParams }, ...access('admin') }, async (req: FastifyRequest<{ Params: { uid: string } }>) => {
    const uid = checkUid(req.params.uid, 'uid');
    if (!(await deps.roles?.retryCommitment(uid))) throw new ConfigConflictError(`no pending storage commitment "${uid}"`, 'not-found', 'uid');
    return (await CommitmentStore.open(index())).get(uid);
  });
}
