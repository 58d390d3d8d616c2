/**
 * REST operations of the study browser on the Main Server's archive:
 *   DELETE /api/studies/{st}[/series/{se}[/instances/{sop}]][?archive=workstation]   files and index rows removed
 *   GET    /api/workstation/usage     the Workstation archive's bytes against limits.workstation.maxBytes
 *   GET    /api/studies/{st}[/series/{se}]/archive.zip[?anonymize=1&patientName=&patientId=]
 *   POST   /api/studies/send {destination, studyUid, seriesUid?, anonymize?, archive?: main|workstation}  -> 202 job
 *          (the Workstation archive's files are sent as WS_CLIENT, the viewer's client)
 *   GET    /api/jobs, /api/jobs/{id}
 * and, in remote-api.ts, C-FIND / C-MOVE against registered AEs. UIDs in paths are
 * digits and dots, at most 64 characters, else 400.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Archive } from '../archive/archive.js';
import { ConfigConflictError, type Registry } from '../config/index.js';
import type { PacsRoles } from '../roles/pacs-roles.js';
import { exportAnonymization, sendStoredFiles } from '../services/export-send.js';
import { JobRegistry } from '../services/jobs.js';
import { contentDisposition } from './header-values.js';
import { BadRequestError } from './problem.js';
import { registerRemoteApi } from './remote-api.js';
import { targetOf } from '../roles/remote-target.js';
import { checkUid } from './remote-target.js';
import { jsonSchema } from './schemas.js';
import { fileSetNames, zipFiles } from './study-zip.js';
import { zipFileName } from './export-name.js';
import type { AuditRecorder } from '../audit/index.js';
import { describeSubjects } from '../archive/query.js';
import { auditedAs, webActor } from './audit-actor.js';
import { access } from './route-access.js';
import type { ActivityRecorder } from '../services/activity-log.js';
import { webAction } from './activity-api.js';

// Printable ASCII only: it goes into PN / LO values whatever the file's character set.
const anonText = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[\x20-\x7e]+$/, 'printable ASCII only')
    .refine((s) => !s.includes('\\'), 'no backslash');
export const anonymizeSchema = z.union([z.boolean(), z.strictObject({ patientName: anonText(64).optional(), patientId: anonText(64).optional() })]);

const sendBody = z.strictObject({
  destination: z.string().min(1, 'destination is required'),
  studyUid: z.string(),
  seriesUid: z.string().optional(),
  anonymize: anonymizeSchema.optional(),
  archive: z.enum(['main', 'workstation']).optional(),
});

type Params = { st: string; se?: string; sop?: string };

export interface StudiesApiDeps {
  config: { readonly current: Registry; readonly dataDir: string };
  roles?: Pick<PacsRoles, 'archive' | 'jobs' | 'workstationCap'>;
  activity?: ActivityRecorder;
  /** The audit trail (IHE ATNA): deletions and exports. */
  audit?: AuditRecorder;
}

interface Selected {
  archive: Archive;
  /** Stored instances in series, then instance number order. */
  instances: { sopInstanceUid: string; seriesInstanceUid: string; fileKey: string }[];
}

/** The Patient ID of a selection (from its first instance's attributes), for the activity log. */
async function patientOf(sel: Selected): Promise<string[]> {
  const first = sel.instances[0] && (await sel.archive.index.getInstance(sel.instances[0].sopInstanceUid).catch(() => undefined));
  if (!first) return [];
  try {
    const v = (JSON.parse(first.json) as Record<string, { Value?: unknown[] }>)['00100020']?.Value?.[0];
    return typeof v === 'string' && v !== '' ? [v] : [];
  } catch {
    return [];
  }
}

/**
 * A plain export's file name: patient name and ID, study date and description (a series:
 * its number, modality and description too), from the first instance's attributes, the
 * patient as corrected by an update or merge.
 */
async function exportName(sel: Selected, series: boolean): Promise<string> {
  const first = sel.instances[0] && (await sel.archive.index.getInstance(sel.instances[0].sopInstanceUid));
  let ds: Record<string, { Value?: unknown[] }> = {};
  try {
    ds = first ? (JSON.parse(first.json) as typeof ds) : {};
  } catch {
    // an unreadable row: the fallback name
  }
  const v = (tag: string): string => {
    const x = ds[tag]?.Value?.[0];
    if (x && typeof x === 'object') return String((x as { Alphabetic?: unknown }).Alphabetic ?? '');
    return x === undefined || x === null ? '' : String(x);
  };
  const fix = first?.patientCorrection;
  return zipFileName(
    [
      fix?.name ?? v('00100010'),
      fix?.patientId ?? v('00100020'),
      v('00080020'),
      v('00081030'),
      ...(series ? [v('00200011') && `S${v('00200011')}`, v('00080060'), v('0008103E')] : []),
    ],
    series ? 'series' : 'study',
  );
}

/** "study 1.2.3", "series 1.2.4 of study 1.2.3", ... as the activity log names what was acted on. */
const named = (p: Params) =>
  p.sop !== undefined ? `instance ${p.sop} of study ${p.st}` : p.se !== undefined ? `series ${p.se} of study ${p.st}` : `study ${p.st}`;

export async function registerStudiesApi(app: FastifyInstance, deps: StudiesApiDeps): Promise<void> {
  // The roles' registry when they run (prefetch jobs are listed beside the app's own).
  const jobs = deps.roles?.jobs ?? new JobRegistry();
  const archive = (role: 'main' | 'workstation' = 'main'): Archive => {
    const a = deps.roles?.archive(role);
    if (!a)
      throw new ConfigConflictError(
        `the ${role === 'main' ? 'Main' : 'Workstation'} Server is not running`,
        'conflict',
        role === 'main' ? undefined : 'archive',
      );
    return a;
  };

  /** The instances a path names; 404 when the study, series or instance is not stored. */
  async function select(p: Params, role: 'main' | 'workstation' = 'main'): Promise<Selected> {
    const st = checkUid(p.st, 'studyUid');
    const se = p.se === undefined ? undefined : checkUid(p.se, 'seriesUid');
    const sop = p.sop === undefined ? undefined : checkUid(p.sop, 'sopInstanceUid');
    const a = archive(role);
    if (sop !== undefined) {
      const row = await a.index.getInstance(sop);
      if (!row || row.studyInstanceUid !== st || row.seriesInstanceUid !== se)
        throw new ConfigConflictError(`no instance ${sop} in series ${se} of study ${st}`, 'not-found', 'sopInstanceUid');
      return { archive: a, instances: [row] };
    }
    const series = (await a.index.listSeries(st)).filter((s) => se === undefined || s.seriesInstanceUid === se);
    if (series.length === 0) {
      throw se === undefined
        ? new ConfigConflictError(`no study ${st}`, 'not-found', 'studyUid')
        : new ConfigConflictError(`no series ${se} in study ${st}`, 'not-found', 'seriesUid');
    }
    series.sort((x, y) => (x.seriesNumber ?? 0) - (y.seriesNumber ?? 0));
    const instances = [];
    for (const s of series) instances.push(...(await a.index.listInstances(s.seriesInstanceUid)));
    return { archive: a, instances };
  }

  /** The patients and studies a path names, for its audit message (read before a deletion). */
  const subjectsOf = (a: Archive, p: Params) =>
    describeSubjects(a.index, { studyInstanceUids: [p.st], ...(p.se ? { seriesInstanceUids: [p.se] } : {}), ...(p.sop ? { sopInstanceUids: [p.sop] } : {}) });

  /** `?archive=workstation`: the Workstation Server's archive; absent or `main`: the Main Server's. */
  const archiveParam = (q: Record<string, string | undefined>): 'main' | 'workstation' => {
    const v = q.archive;
    if (v === undefined || v === 'main') return 'main';
    if (v === 'workstation') return 'workstation';
    throw new BadRequestError('archive must be main or workstation', 'archive');
  };

  const remove = async (req: FastifyRequest<{ Params: Params; Querystring: Record<string, string | undefined> }>) => {
    const role = archiveParam(req.query);
    const selected = await select(req.params, role);
    const { archive: a, instances } = selected;
    const patientIds = await patientOf(selected);
    const subjects = deps.audit && (await subjectsOf(a, req.params));
    let deleted = 0;
    for (const i of instances) if (await a.deleteInstance(i.sopInstanceUid)) deleted++;
    req.log.info({ user: req.identity?.name, ...req.params, archive: role, deleted }, 'deleted from the archive');
    const from = role === 'workstation' ? ' from the Workstation Server' : '';
    deps.activity?.record(
      webAction(req, 'delete', `deleted ${named(req.params)}${from}: ${deleted} instance(s)`, {
        studyUids: [req.params.st],
        patientIds,
        ...(role === 'workstation' ? { role } : {}),
      }),
    );
    if (subjects)
      deps.audit?.record({
        kind: 'deleted',
        level: req.params.sop ? 'instance' : req.params.se ? 'series' : 'study',
        subjects,
        ok: deleted === instances.length,
        ...webActor(req),
      });
    return { deleted };
  };
  app.delete('/api/studies/:st', access('admin'), remove);
  app.delete('/api/studies/:st/series/:se', access('admin'), remove);
  app.delete('/api/studies/:st/series/:se/instances/:sop', access('admin'), remove);

  const download = async (req: FastifyRequest<{ Params: Params; Querystring: Record<string, string> }>, reply: import('fastify').FastifyReply) => {
    const selected = await select(req.params);
    const { archive: a, instances } = selected;
    const q = req.query;
    const anon = q.anonymize === '1' || q.anonymize === 'true';
    if (q.anonymize !== undefined && !anon && q.anonymize !== '0' && q.anonymize !== 'false')
      throw new BadRequestError('anonymize must be 1 or 0', 'anonymize');
    let anonymize;
    if (anon) {
      const r = anonymizeSchema.safeParse({ patientName: q.patientName || undefined, patientId: q.patientId || undefined });
      if (!r.success || typeof r.data === 'boolean')
        throw new BadRequestError(`patientName/patientId: ${r.error?.issues[0]?.message ?? 'invalid'}`, r.error?.issues[0]?.path.join('.') || 'patientName');
      anonymize = exportAnonymization(r.data);
    }
    const name = anonymize
      ? zipFileName([anonymize.patientName ?? 'ANONYMOUS', anonymize.patientId, 'anonymized'], 'anonymized')
      : await exportName(selected, req.params.se !== undefined);
    deps.audit?.record({
      kind: 'export',
      url: req.url,
      source: auditedAs(deps.config.current, 'main'),
      subjects: await subjectsOf(a, req.params),
      anonymized: anon,
      ...webActor(req),
    });
    const names = fileSetNames(instances);
    const stream = zipFiles(
      instances.map((i, n) => ({ path: a.blobs.path(i.fileKey), name: names[n] })),
      { anonymize, dicomdir: true, onError: (err) => req.log.error({ err }, 'zip export failed') },
    );
    const how = anon ? ' (de-identified)' : '';
    deps.activity?.record(
      webAction(req, 'export', `exported ${named(req.params)} as a zip${how}: ${instances.length} instance(s)`, {
        studyUids: [req.params.st],
        patientIds: await patientOf(selected),
      }),
    );
    return reply.type('application/zip').header('content-disposition', contentDisposition(name)).send(stream);
  };
  // Export (plain or de-identified) is an admin's: a reader views, it does not take data away.
  app.get('/api/studies/:st/archive.zip', access('admin'), download);
  app.get('/api/studies/:st/series/:se/archive.zip', access('admin'), download);

  app.post('/api/studies/send', { schema: { body: jsonSchema(sendBody) }, ...access('admin') }, async (req, reply) => {
    const body = req.body as z.infer<typeof sendBody>;
    const role = body.archive ?? 'main';
    const target = targetOf(deps.config.current, deps.config.dataDir, body.destination, 'destination', role);
    const selected = await select({ st: body.studyUid, se: body.seriesUid }, role);
    const { archive: a, instances } = selected;
    const patientIds = await patientOf(selected);
    const anonymize = body.anonymize === true ? {} : body.anonymize || undefined;
    const paths = instances.map((i) => a.blobs.path(i.fileKey));
    const what = body.seriesUid ? `series ${body.seriesUid}` : `study ${body.studyUid}`;
    const job = jobs.start('send', `${what} to ${target.calledAeTitle}${anonymize ? ' (anonymized)' : ''}`, async (c) => {
      let done = 0;
      let failed = 0;
      const r = await sendStoredFiles(target, paths, {
        anonymize,
        onTotal: (t) => c.setTotal(t),
        onProgress: (p) => {
          done++;
          if (!p.ok) {
            failed++;
            c.fail(p.error ?? 'failed', p.file.sopInstanceUid);
          }
          c.progress(done, failed);
        },
      });
      const message = `${r.sent} of ${paths.length} instance(s) sent to ${target.calledAeTitle}${r.failed.length ? `, ${r.failed.length} failed: ${r.failed[0].error}` : ''}`;
      deps.activity?.record(
        webAction(req, 'send', `sent ${what}${anonymize ? ' (anonymized)' : ''}: ${message}`, {
          outcome: r.failed.length ? 'failure' : 'success',
          ...(r.failed.length ? { reason: r.failed[0].error } : {}),
          calledAe: target.calledAeTitle,
          target: target.calledAeTitle,
          studyUids: [body.studyUid],
          patientIds,
        }),
      );
      return { ok: r.failed.length === 0, message };
    });
    return reply.code(202).header('location', `/api/jobs/${job.id}`).send(job);
  });

  app.get('/api/workstation/usage', access('read'), async () => {
    const cap = deps.roles?.workstationCap();
    if (!cap) throw new ConfigConflictError('the Workstation Server is not running', 'conflict', 'archive');
    return cap.usage();
  });

  app.get('/api/jobs', access('read'), async () => jobs.list());
  app.get('/api/jobs/:id', access('read'), async (req: FastifyRequest<{ Params: { id: string } }>) => {
    const job = await jobs.get(req.params.id);
    if (!job)
      throw new ConfigConflictError(`no job "${req.params.id}" (jobs are kept until a restart, or in the database of several nodes)`, 'not-found', 'id');
    return job;
  });

  await registerRemoteApi(app, { config: deps.config, roles: deps.roles, jobs });
}
