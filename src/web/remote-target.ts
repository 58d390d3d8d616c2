/** Request checks shared by the study browser's routes: UIDs in paths, registered AEs as targets. */
import { clientTlsOptions, ConfigConflictError, findAe, listAes, type Registry } from '../config/index.js';
import { reachableHost } from '../roles/echo-peer.js';
import { quoteValue, uidProblem } from '../dicom/uids.js';
import type { StoreTarget } from '../services/storage-scu.js';
import { BadRequestError } from './problem.js';

/** A UID in a path or body (the one UID check, src/dicom/uids.ts), else 400 naming the field. */
export function checkUid(value: unknown, field: string): string {
  const problem = typeof value === 'string' ? uidProblem(value) : 'is not a string';
  if (problem)
    throw new BadRequestError(
      `${field} must be a UID (digits and dots, at most 64 characters): ${typeof value === 'string' ? `${quoteValue(value, 80)} ` : ''}${problem}`,
      field,
    );
  return value as string;
}

/** Which built-in client calls: the main one (command line, study browser) or the viewer's. */
export type ClientKind = 'main' | 'workstation';

/** The calling AE title of a built-in client (PACS_CLIENT or WS_CLIENT, else the first client AE). */
export function clientAeTitle(reg: Registry, kind: ClientKind = 'main'): string {
  const name = kind === 'main' ? 'PACS_CLIENT' : 'WS_CLIENT';
  return findAe(reg, name)?.aeTitle ?? listAes(reg).find((a) => a.role === 'client')?.aeTitle ?? name;
}

/** Where to reach a registered AE, as a built-in client (with TLS, the local CA and our client certificate, when the AE is marked TLS). */
export function targetOf(reg: Registry, dataDir: string, aet: string, field: string, client: ClientKind = 'main'): StoreTarget {
  const ae = findAe(reg, aet);
  if (!ae) throw new ConfigConflictError(`no AE "${aet}" in the registry`, 'not-found', field);
  if (ae.connection.port === undefined) throw new ConfigConflictError(`AE "${ae.aeTitle}" has no port (it only calls)`, 'conflict', field);
  const host = reachableHost(ae.connection.host);
  const tls = clientTlsOptions({ ...ae, connection: { ...ae.connection, host } }, dataDir);
  return { host, port: ae.connection.port, calledAeTitle: ae.aeTitle, callingAeTitle: clientAeTitle(reg, client), ...(tls ? { tls } : {}) };
}
