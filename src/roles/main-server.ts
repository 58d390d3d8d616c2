/** The Main Server role (AE `PACS`): the archive with its DICOM services. */
import type { Logger } from 'pino';
import { Archive, type ArchiveOptions } from '../archive/archive.js';
import { ServiceRegistry } from '../dimse/service.js';
import { join } from 'node:path';
import { jsonFileMoveDestinations } from '../services/move-destinations.js';
import { queryRetrieveService, type QueryRetrieveOptions } from '../services/query-retrieve.js';
import { storageService } from '../services/storage.js';
import { verificationService } from '../services/verification.js';
import type { AccessControl } from './access-control.js';
import { type DicomServer, startDicomServer } from './dicom-server.js';

export interface MainServerOptions {
  aeTitle: string;
  port: number;
  host?: string;
  dataDir: string;
  index?: ArchiveOptions['index'];
  duplicatePolicy?: ArchiveOptions['duplicatePolicy'];
  logger: Logger;
  maxPduLength?: number;
  maxAssociations?: number;
  idleTimeoutMs?: number;
  /** AE registry checks (see access-control.ts); without it every caller may do everything. */
  access?: AccessControl;
  /** C-MOVE destinations; default: `move-destinations.json` in the data directory (until the AE registry is wired). */
  resolveMoveDestination?: QueryRetrieveOptions['resolveMoveDestination'];
}

export interface MainServer {
  readonly archive: Archive;
  readonly dicom: DicomServer;
  /** The services, to re-open the listener (another port) over the same archive. */
  readonly registry: ServiceRegistry;
  close(): Promise<void>;
}

export async function startMainServer(opts: MainServerOptions): Promise<MainServer> {
  const archive = await Archive.open({
    dataDir: opts.dataDir,
    index: opts.index ?? 'sqlite',
    duplicatePolicy: opts.duplicatePolicy,
    logger: opts.logger,
  });
  const registry = new ServiceRegistry([verificationService(), storageService(archive), queryRetrieveService(archive, {
    resolveMoveDestination: opts.resolveMoveDestination ?? jsonFileMoveDestinations(join(opts.dataDir, 'move-destinations.json')),
    logger: opts.logger,
  })]);
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
