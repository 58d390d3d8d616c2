/**
 * REST API of patient identity (archive/patient-identity.ts), over the Main Server's index:
 *   GET   /api/patients/conflicts            patients whose studies disagree on name, birth date or sex
 *   GET   /api/patients/changes              recorded updates and merges, newest first
 *   PATCH /api/patients/{patientId}[?issuer=]  {name?, birthDate?, sex?, issuer?, reason} -> {studies}
 *   POST  /api/patients/merge                {from: {patientId, issuer?}, into: {...}, reason} -> {studies}
 * Updates and merges are an admin's, logged with the user and the reason, and recorded in
 * the index (patient_changes). Errors are problem+json naming the field.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Index } from '../archive/index-types.js';
import type { PatientKey } from '../archive/patient-identity.js';
import { ConfigConflictError, ConfigValidationError, issuesOf } from '../config/index.js';
import type { PacsRoles } from '../roles/pacs-roles.js';
import type { PatientChangeResult } from '../api-types/index.js';
import { BadRequestError } from './problem.js';
import { jsonSchema } from './schemas.js';
import { access } from './route-access.js';

const text = z.string().max(256);
const key = z.strictObject({ patientId: text, issuer: text.optional() });
const mergeBody = z.strictObject({ from: key, into: key, reason: text });
const patchBody = z.strictObject({
  name: text.optional(),
  birthDate: text.optional(),
  sex: text.optional(),
  issuer: text.optional(),
  reason: text,
});
const patchQuery = z.strictObject({ issuer: text.optional() });
const limitQuery = z.strictObject({
  limit: z
    .string()
    .regex(/^\d{1,4}$/, 'limit must be 1 to 9999')
    .optional(),
});

function parse<S extends z.ZodType>(schema: S, v: unknown): z.infer<S> {
  const r = schema.safeParse(v);
  if (!r.success) throw new ConfigValidationError(issuesOf(r.error));
  return r.data;
}

export async function registerPatientsApi(app: FastifyInstance, deps: { roles?: Pick<PacsRoles, 'archive'> }): Promise<void> {
  const index = (): Index => {
    const i = deps.roles?.archive('main')?.index;
    if (!i) throw new ConfigConflictError('the Main Server is not running', 'conflict');
    return i;
  };
  const limitOf = (q: unknown, dflt: number): number => {
    const { limit } = parse(limitQuery, q);
    const n = limit === undefined ? dflt : Number(limit);
    if (n < 1) throw new BadRequestError('limit must be 1 to 9999', 'limit');
    return n;
  };

  app.get('/api/patients/conflicts', access('read'), async (req) => index().patientConflicts(limitOf(req.query, 500)));
  app.get('/api/patients/changes', access('read'), async (req) => index().patientChanges(limitOf(req.query, 100)));

  app.post('/api/patients/merge', { schema: { body: jsonSchema(mergeBody) }, ...access('admin') }, async (req): Promise<PatientChangeResult> => {
    const body = parse(mergeBody, req.body);
    const from: PatientKey = { patientId: body.from.patientId, issuer: body.from.issuer ?? '' };
    const into: PatientKey = { patientId: body.into.patientId, issuer: body.into.issuer ?? '' };
    const studies = await index().mergePatients(from, into, body.reason);
    req.log.info({ user: req.identity?.name, from, into, reason: body.reason, studies }, 'patients merged');
    return { studies };
  });

  app.patch(
    '/api/patients/:patientId',
    { schema: { body: jsonSchema(patchBody) }, ...access('admin') },
    async (req: FastifyRequest<{ Params: { patientId: string } }>): Promise<PatientChangeResult> => {
      const body = parse(patchBody, req.body);
      const q = parse(patchQuery, req.query);
      if (q.issuer !== undefined && body.issuer !== undefined && q.issuer !== body.issuer) {
        throw new BadRequestError('issuer given twice (query and body) with different values', 'issuer');
      }
      const patient: PatientKey = { patientId: req.params.patientId, issuer: q.issuer ?? body.issuer ?? '' };
      const update = { name: body.name, birthDate: body.birthDate, sex: body.sex };
      const studies = await index().updatePatient(patient, update, body.reason);
      req.log.info({ user: req.identity?.name, patient, update, reason: body.reason, studies }, 'patient updated');
      return { studies };
    },
  );
}
