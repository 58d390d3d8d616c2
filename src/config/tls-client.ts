/**
 * The TLS side of every association we request to an AE marked TLS in the registry
 * (C-MOVE sub-operations, storage commitment reports, the router's forwarding, the REST
 * and CLI echo, the CLI commands): one function, so they all trust and present the same.
 *
 *   trust      the local CA, `<data>/tls/ca.pem` (or the file given), nothing else
 *   present    our client certificate, `<data>/tls/client.pem` + `client-key.pem`, when present
 *   host name  checked against the certificate (DNS or IP subjectAltName) unless the AE's
 *              connection says `tlsVerifyHost: false`
 */
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { Connection } from './schema.js';
import { tlsPaths } from './tls-files.js';

/** TLS is wanted but cannot be set up (no CA, unreadable file): names the AE. */
export class TlsSetupError extends Error {
  override readonly name = 'TlsSetupError';
  constructor(
    readonly aeTitle: string,
    message: string,
  ) {
    super(`${aeTitle}: ${message}`);
  }
}

/** Files that replace the data directory's for one call (CLI `--tls-ca`, `--tls-cert`, `--tls-key`). */
export interface ClientTlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
}

export interface TlsTarget {
  aeTitle: string;
  connection: Pick<Connection, 'host' | 'tls' | 'tlsVerifyHost'>;
}

/**
 * node:tls options to call `target`, or undefined when its connection is not TLS.
 * Throws TlsSetupError naming the AE when there is no CA to trust or a file is missing.
 */
export function clientTlsOptions(target: TlsTarget, dataDir: string, files: ClientTlsFiles = {}): ConnectionOptions | undefined {
  if (!target.connection.tls) return undefined;
  const p = tlsPaths(dataDir);
  const read = (file: string, what: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new TlsSetupError(target.aeTitle, `cannot read the ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const caFile = files.ca ?? p.ca;
  if (!files.ca && !existsSync(caFile)) {
    throw new TlsSetupError(target.aeTitle, `marked TLS but there is no CA to verify it against (${caFile}; run pacs tls init or give --tls-ca)`);
  }
  const certFile = files.cert ?? (files.key ? undefined : p.clientCert);
  const keyFile = files.key ?? (files.cert ? undefined : p.clientKey);
  if ((files.cert && !files.key) || (files.key && !files.cert)) {
    throw new TlsSetupError(target.aeTitle, 'a client certificate needs both --tls-cert and --tls-key');
  }
  // Our certificate is presented when there is one; a peer requiring it refuses us otherwise.
  const present = certFile && keyFile && (files.cert || (existsSync(certFile) && existsSync(keyFile)));
  const host = target.connection.host;
  return {
    ca: read(caFile, 'CA certificate'),
    ...(present ? { cert: read(certFile, 'client certificate'), key: read(keyFile, 'client key') } : {}),
    // SNI takes host names only; identity is checked against `host` either way.
    ...(isIP(host) ? {} : { servername: host }),
    ...(target.connection.tlsVerifyHost === false ? { checkServerIdentity: () => undefined } : {}),
    minVersion: 'TLSv1.2',
  };
}

/** Where to reach a listening AE: a wildcard listen address means this host. */
export function reachableHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}
