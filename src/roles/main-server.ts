/** The Main Server role (AE `PACS`): the archive with its DICOM services. */
import type { TlsOptions } from 'node:tls';
import type { Logger } from 'pino';
import { Archive, type ArchiveOptions } from '../archive/archive.js';
import { ServiceRegistry, type ServiceClassProvider } from '../dimse/service.js';
import { queryRetrieveService, type QueryRetrieveOptions } from '../services/query-retrieve.js';
import { storageService } from '../services/storage.js';
import { MppsStore } from '../archive/mpps-store.js';
import { WorklistStore } from '../archive/worklist-store.js';
import { mppsService } from '../services/mpps.js';
import { storageCommitmentService, type StorageCommitmentOptions } from '../services/storage-commitment.js';
import { worklistService } from '../services/worklist.js';
import { verificationService } from '../services/verification.js';
import type { AccessControl } from './access-control.js';
import type { AuditRecorder } from '../audit/index.js';
import { type DicomLimitOptions, type DicomServer, type DicomServerOptions, startDicomServer } from './dicom-server.js';

export interface MainServerOptions extends DicomLimitOptions, Pick<DicomServerOptions, 'activity' | 'role'> {
  aeTitle: string;
  port: number;
  host?: string;
  dataDir: string;
  index?: ArchiveOptions['index'];
  /** How the received files are written (limits.storage.directIo). */
  blobs?: ArchiveOptions['blobs'];
  /** Several nodes share the data directory: this one (ArchiveOptions.node). */
  node?: ArchiveOptions['node'];
  duplicatePolicy?: ArchiveOptions['duplicatePolicy'];
  /** The registry's limits.dataset, read per store (default: the built-in defaults). */
  datasetLimits?: ArchiveOptions['datasetLimits'];
  thumbnailCacheBytes?: ArchiveOptions['thumbnailCacheBytes'];
  logger: Logger;
  /** Listen with TLS (certificate, key, client-certificate verification). */
  tls?: TlsOptions;
  /** AE registry checks (see access-control.ts); without it every caller may do everything. */
  access?: AccessControl;
  /** Services added to the built-in ones (the add-ins'), before the role listens. */
  extraServices?: readonly ServiceClassProvider[];
  /** C-MOVE destinations (the Main Server role resolves them in the AE registry: pacs-roles.ts); default: none known. */
  resolveMoveDestination?: QueryRetrieveOptions['resolveMoveDestination'];
  /** The cost limits of C-FIND and worklist queries (limits.query), read per query; default none. */
  queryLimits?: QueryRetrieveOptions['queryLimits'];
  /** Storage commitment: where requestors get reports over a new association, and which way per AE (default: unknown, same association). */
  commitment?: Pick<StorageCommitmentOptions, 'resolveRequestor' | 'reportMode' | 'retryIntervalMs' | 'leaseMs' | 'claimant'>;
  /** The audit trail (IHE ATNA) the services and the listener report to. */
  audit?: AuditRecorder;
  /**
   * Open the DICOM listener and send pending storage commitment reports (default true).
   * False: the archive and its services only, for a node that does not run the Main
   * Server role but serves its data over the web or keeps its activity log in its index.
   */
  listen?: boolean;
}

export interface MainServer {
  readonly archive: Archive;
  /** The listener (absent with `listen: false`). */
  readonly dicom?: DicomServer;
  /** The services, to re-open the listener (another port) over the same archive. */
  readonly registry: ServiceRegistry;
  /** Storage commitment: deliver one pending report now (false: no such pending report). */
  retryCommitment(transactionUid: string): Promise<boolean>;
  close(): Promise<void>;
}

export async function startMainServer(opts: MainServerOptions): Promise<MainServer> {
  const archive = await Archive.open({
    dataDir: opts.dataDir,
    index: opts.index ?? 'sqlite',
    node: opts.node,
    duplicatePolicy: opts.duplicatePolicy,
    datasetLimits: opts.datasetLimits,
    thumbnailCacheBytes: opts.thumbnailCacheBytes,
    blobs: opts.blobs,
    logger: opts.logger,
  });
  const registry = new ServiceRegistry([
    verificationService(),
    storageService(archive, { audit: opts.audit }),
    queryRetrieveService(archive, {
      resolveMoveDestination: opts.resolveMoveDestination ?? (() => undefined),
      queryLimits: opts.queryLimits,
      logger: opts.logger,
      audit: opts.audit,
    }),
  ]);
  let dicom: DicomServer | undefined;
  let commitment: ReturnType<typeof storageCommitmentService> | undefined;
  try {
    // Workflow services (issue 5): worklist, MPPS and storage commitment over the same index.
    const [worklist, mpps] = await Promise.all([WorklistStore.open(archive.index), MppsStore.open(archive.index)]);
    commitment = storageCommitmentService(archive, {
      aeTitle: () => opts.access?.calledAeTitle() ?? opts.aeTitle,
      resolveRequestor: () => undefined,
      ...opts.commitment,
      logger: opts.logger,
    });
    registry
      .register(worklistService(worklist, { queryLimits: opts.queryLimits, audit: opts.audit }))
      .register(mppsService(mpps, { logger: opts.logger }))
      .register(commitment);
    // Add-ins last: a SOP class they provide takes over a built-in one.
    for (const s of opts.extraServices ?? []) registry.register(s);
    if (opts.listen !== false) {
      dicom = await startDicomServer({ ...opts, registry });
      void commitment.resume().catch((err: Error) => opts.logger.warn({ err: err.message }, 'pending storage commitments not resumed'));
    }
  } catch (err) {
    await commitment?.close();
    await archive.close();
    throw err;
  }
  return {
    archive,
    dicom,
    registry,
    retryCommitment: (uid) => commitment.retry(uid),
    async close() {
      await dicom?.close();
      await commitment?.close();
      await archive.close();
    },
  };
}
