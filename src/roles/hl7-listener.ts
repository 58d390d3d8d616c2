/**
 * The Main Server's HL7 v2 intake as a listener: the registry's `hl7` settings, the
 * worklist of the Main Server's index, and its patient directory. Limits and the allowed
 * addresses are read from the registry for each new connection.
 */
import type { Logger } from 'pino';
import type { Archive } from '../archive/archive.js';
import type { Index } from '../archive/index-types.js';
import { WorklistStore } from '../archive/worklist-store.js';
import type { Hl7Settings } from '../config/index.js';
import { startMllpServer, type MllpServer } from '../hl7/mllp-server.js';
import { Hl7Intake, type PatientDirectory } from '../services/hl7-intake.js';

/**
 * The index's patient calls (issue 19 item 1 adds updatePatient and mergePatients to both
 * backends). An index without them answers ADT messages with an application error.
 */
export function patientDirectoryOf(index: Index): PatientDirectory {
  const d = index as Partial<PatientDirectory>;
  const missing = () => Promise.reject(new Error('patient update and merge are not available in this index'));
  return {
    updatePatient: (key, update, reason) => (typeof d.updatePatient === 'function' ? d.updatePatient.call(index, key, update, reason) : missing()),
    mergePatients: (from, into, reason) => (typeof d.mergePatients === 'function' ? d.mergePatients.call(index, from, into, reason) : missing()),
  };
}

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
    patients: o.patients ?? patientDirectoryOf(o.archive.index),
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
