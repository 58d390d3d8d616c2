/**
 * DICOMweb (PS3.18) for one archive, under a prefix: QIDO-RS searches, WADO-RS instances
 * and metadata, STOW-RS. One encapsulated fastify scope per archive: its routes' access
 * levels (access.ts; checked by route-access.ts like every route), CORS, content-type handling (request bodies are streamed,
 * never parsed or buffered by fastify), error handler (problem+json with the status the
 * standard asks for) and 404 handler.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Archive } from '../../archive/archive.js';
import type { QueryLimits } from '../../config/limits.js';
import { errorHandler } from '../problem.js';
import { DEFAULT_MAX_STOW_BYTES, registerAccess, type DicomwebAccess } from './access.js';
import { DicomwebError } from './errors.js';
import { registerMetadata } from './metadata.js';
import { registerPixelRoutes } from './pixel-routes.js';
import { registerQido } from './qido.js';
import { registerStow } from './stow.js';
import { registerWado } from './wado.js';
import type { AuditRecorder } from '../../audit/index.js';

export interface DicomwebOptions extends DicomwebAccess {
  /** '/dicomweb' or '/workstation/dicomweb'. */
  prefix: string;
  /** The archive served (undefined while its role is not running: 503). */
  archive: () => Archive | undefined;
  /** What the archive is called in messages ('the Main Server'). */
  name: string;
  /** The query limits in force (limits.query), read per search; default none. */
  queryLimits?: () => Partial<QueryLimits> | undefined;
  /** The audit trail (IHE ATNA: QIDO-RS queries, WADO-RS retrievals) and the AE title this archive is audited as. */
  audit?: AuditRecorder;
  auditAs?: () => string;
  /** Told of each GET under /studies/{study} (the Workstation's size cap keeps a study being viewed). */
  onStudyRead?: (studyUid: string) => void;
}

export async function registerDicomweb(app: FastifyInstance, opts: DicomwebOptions): Promise<void> {
  await app.register(
    async (scope) => {
      const archive = (): Archive => {
        const a = opts.archive();
        if (!a) throw new DicomwebError('unavailable', `${opts.name} is not running`);
        return a;
      };
      const baseUrl = (req: FastifyRequest): string => `${req.protocol}://${req.host}${opts.prefix}`;
      const maxBytes = (): number => opts.settings()?.maxStowBytes ?? DEFAULT_MAX_STOW_BYTES;

      scope.setErrorHandler(errorHandler);
      scope.setNotFoundHandler((req) => {
        throw new DicomwebError('not-found', `${req.method} ${req.url.split('?')[0]} is not a DICOMweb resource of this server`);
      });
      // STOW-RS reads the request stream itself; any other body is left unread.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));

      await registerAccess(scope, opts);
      const onStudyRead = opts.onStudyRead;
      if (onStudyRead)
        scope.addHook('preHandler', async (req) => {
          const study = (req.params as { study?: unknown } | undefined)?.study;
          // A UID is at most 64 characters; anything longer is refused by the route anyway.
          if (req.method === 'GET' && typeof study === 'string' && study.length <= 64) onStudyRead(study);
        });
      registerQido(scope, { archive, baseUrl, queryLimits: opts.queryLimits, audit: opts.audit, auditAs: opts.auditAs });
      registerWado(scope, { archive, audit: opts.audit, auditAs: opts.auditAs });
      registerMetadata(scope, { archive, baseUrl });
      registerStow(scope, { archive, baseUrl, maxBytes });
      // The pixel routes (bulkdata, frames, rendered, thumbnail, WADO-URI) in this scope, with its access levels. They hold the archive itself: the roles start before the web server, so it exists.
      const pixelArchive = opts.archive();
      if (pixelArchive) await registerPixelRoutes(scope, { archive: pixelArchive });
    },
    { prefix: opts.prefix },
  );
}
