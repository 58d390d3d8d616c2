/**
 * The Workstation Server (`WORKSTATION`, the viewer's local store) and the Router's
 * listener (`ROUTER`; it stores what it receives, and src/router's hook queues each stored
 * instance for forwarding in the same index transaction): each Verification + Storage
 * over its own archive.
 */
import type { TlsOptions } from 'node:tls';
import type { Logger } from 'pino';
import { Archive, type ArchiveOptions } from '../archive/archive.js';
import { ServiceRegistry, type ServiceClassProvider } from '../dimse/service.js';
import { storageService } from '../services/storage.js';
import { verificationService } from '../services/verification.js';
import type { AccessControl } from './access-control.js';
import type { AuditRecorder } from '../audit/index.js';
import { type DicomLimitOptions, type DicomServer, type DicomServerOptions, startDicomServer } from './dicom-server.js';

export interface StorageRoleOptions extends DicomLimitOptions, Pick<DicomServerOptions, 'activity' | 'role'> {
  aeTitle: string;
  port: number;
  host?: string;
  /** This role's own archive directory. */
  dataDir: string;
  /** Its index (default: embedded SQLite in dataDir; the Router's on PostgreSQL when several nodes share it). */
  index?: ArchiveOptions['index'];
  /** Several nodes share the data directory: this one (ArchiveOptions.node). */
  node?: ArchiveOptions['node'];
  logger: Logger;
  /** Listen with TLS (certificate, key, client-certificate verification). */
  tls?: TlsOptions;
  access?: AccessControl;
  /** Services added to the built-in ones (the add-ins'), before the role listens. */
  extraServices?: readonly ServiceClassProvider[];
  /** Runs in the index transaction of each batch of received instances (the Router's forward queue). */
  afterInsert?: ArchiveOptions['afterInsert'];
  /** The registry's limits.dataset, read per store (default: the built-in defaults). */
  datasetLimits?: ArchiveOptions['datasetLimits'];
  thumbnailCacheBytes?: ArchiveOptions['thumbnailCacheBytes'];
  /** How the received files are written (the Router's without direct I/O: file-blob-store.ts). */
  blobs?: ArchiveOptions['blobs'];
  /** The audit trail (IHE ATNA) the storage service and the listener report to. */
  audit?: AuditRecorder;
}

export interface StorageRole {
  readonly archive: Archive;
  readonly dicom: DicomServer;
  readonly registry: ServiceRegistry;
  close(): Promise<void>;
}

export async function startStorageRole(opts: StorageRoleOptions): Promise<StorageRole> {
  const archive = await Archive.open({
    dataDir: opts.dataDir,
    index: opts.index ?? 'sqlite',
    node: opts.node,
    logger: opts.logger,
    afterInsert: opts.afterInsert,
    datasetLimits: opts.datasetLimits,
    thumbnailCacheBytes: opts.thumbnailCacheBytes,
    blobs: opts.blobs,
  });
  const registry = new ServiceRegistry([verificationService(), storageService(archive, { audit: opts.audit }), ...(opts.extraServices ?? [])]);
  let dicom: DicomServer;
  try {
    dicom = await startDicomServer({ ...opts, registry });
  } catch (err) {
    await archive.close();
    throw err;
  }
  return {
    archive,
    dicom,
    registry,
    async close() {
      await dicom.close();
      await archive.close();
    },
  };
}
