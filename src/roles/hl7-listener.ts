/**
 * The Main Server's HL7 v2 intake as a listener: the registry's `hl7` settings, the
 * worklist of the Main Server's index, and its patient directory. Limits and the allowed
 * addresses are read from the registry for each new connection.
 */
import type { Logger } from 'pino';
import type { Archive } from '../archive/archive.js';
import { WorklistStore } from '../archive/worklist-store.js';
import type { Hl7Settings } from '../config/index.js';
import { startMllpServer, type MllpServer } from '../hl7/mllp-server.js';
import { Hl7Intake, type PatientDirectory } from '../services/hl7-intake.js';

export interface Hl7ListenerOptions {
  archive: Archive;
  /** The settings in force (read per connection for the limits). */
  settings: () => Hl7Settings;
  logger: Logger;
  /** MSH-3 of our ACKs when a message names no receiving application (the Main Server's AE title). */
  applicationName?: string;
  /** Default: the archive index's own patient calls. */
  patients?: PatientDirectory;
}

export async function startHl7Listener(o: Hl7ListenerOptions): Promise<MllpServer> {
  const first = o.settings();
  const worklist = await WorklistStore.open(o.archive.index);
  const intake = new Hl7Intake({
    worklist,
    patients: o.patients ?? o.archive.index,
    logger: o.logger,
    applicationName: o.applicationName,
  });
  return startMllpServer({
    host: first.host,
    port: first.port,
    logger: o.logger,
    limits: () => {
      const s = o.settings();
      return {
        maxMessageBytes: s.maxMessageBytes,
        idleTimeoutMs: s.idleTimeoutSeconds * 1000,
        maxConnections: s.maxConnections,
        allowedAddresses: s.allowedHosts,
      };
    },
    handle: (frame, peer) => intake.handleFrame(frame, peer),
  });
}
