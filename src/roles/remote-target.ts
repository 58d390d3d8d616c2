/** Where to reach a registered AE as one of our built-in clients (the study browser's, the viewer's, the prefetch's). */
import { clientTlsOptions, ConfigConflictError, findAe, listAes, type Registry } from '../config/index.js';
import type { StoreTarget } from '../services/storage-scu.js';
import { reachableHost } from './echo-peer.js';

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
