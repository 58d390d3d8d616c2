/** The Main Server role (AE `PACS`): the archive with its DICOM services. */
import type { Logger } from 'pino';
import { Archive, type ArchiveOptions } from '../archive/archive.js';
import { ServiceRegistry } from '../dimse/service.js';
import { storageService } from '../services/storage.js';
import { verificationService } from '../services/verification.js';
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
}

export interface MainServer {
  readonly archive: Archive;
  readonly dicom: DicomServer;
  close(): Promise<void>;
}

export async function startMainServer(opts: MainServerOptions): Promise<MainServer> {
  const archive = await Archive.open({
    dataDir: opts.dataDir,
    index: opts.index ?? 'sqlite',
    duplicatePolicy: opts.duplicatePolicy,
    logger: opts.logger,
  });
  const registry = new ServiceRegistry([verificationService(), storageService(archive)]);
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
    async close() {
      await dicom.close();
      await archive.close();
    },
  };
}
