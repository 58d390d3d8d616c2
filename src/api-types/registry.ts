/**
 * The AE registry as the REST API shows it (GET /api/aes): the shapes of the zod schema in
 * config/schema.ts after parsing, and the lists both the server and the web app need at
 * run time. No imports: the web app (ui/, built by vite for the browser) compiles this
 * file too. test/ui/api-types.test.ts holds the server's types to these.
 */

/** What a peer may do at our servers. */
export const PERMISSIONS = ['echo', 'store', 'find', 'move', 'get', 'worklist', 'mpps', 'commit'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** main/workstation/router: our listening roles; client: our own calling AEs; peer: a remote AE. */
export const AE_ROLES = ['main', 'workstation', 'router', 'client', 'peer'] as const;
export type AeRole = (typeof AE_ROLES)[number];
export const SERVER_ROLES = ['main', 'workstation', 'router'] as const;
export type ServerRole = (typeof SERVER_ROLES)[number];

/** What a new AE, and an unknown caller of a role that is not strict, may do unless told otherwise. */
export const UNKNOWN_CALLER_PERMISSIONS = ['echo', 'store'] as const satisfies readonly Permission[];

/** PS3.15 H.4.3 Network Connection (config/schema.ts connectionSchema). */
export interface Connection {
  host: string;
  port?: number;
  tls: boolean;
  tlsVerifyHost?: boolean;
}

/** What a listening role lets callers it does not know do (config/schema.ts accessPolicySchema). */
export interface AccessPolicy {
  strict: boolean;
  unknownCallers: Permission[];
  requireClientCert?: boolean;
  checkCallerHosts?: boolean;
}

/** One application entity (config/schema.ts aeSchema). */
export interface Ae {
  aeTitle: string;
  description: string;
  role: AeRole;
  connection: Connection;
  permissions: Permission[];
  checkHost?: boolean;
  moveDestination: boolean;
  queryRetrieve?: boolean;
  policy?: AccessPolicy;
  commitmentReport?: 'same' | 'new';
}

/**
 * Whether an AE answers C-FIND and C-MOVE as an SCP, i.e. is worth offering as a query
 * target: our Main Server does; the Workstation Server (it refuses C-FIND from other
 * AEs), the Router (a store-and-forward SCP) and our clients (no port) do not; a peer
 * does when registered with queryRetrieve (a plain storage SCP is not).
 */
export function answersQueries(ae: Pick<Ae, 'role' | 'queryRetrieve' | 'connection'>): boolean {
  if (ae.connection.port === undefined) return false;
  if (ae.role === 'main') return true;
  return ae.role === 'peer' && ae.queryRetrieve === true;
}

/** An AE as listed: with its device and whether that device is this process. */
export type AeEntry = Ae & { device: string; local: boolean };

/** POST /api/aes/{aet}/echo. */
export interface EchoResult {
  aeTitle: string;
  host: string;
  port: number;
  ok: boolean;
  /** Round trip from connect to release, milliseconds. */
  ms: number;
  error?: string;
}
