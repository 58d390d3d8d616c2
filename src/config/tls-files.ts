/**
 * Where the certificates of DICOM TLS (PS3.15 B.1 / BCP 195) live: `<data>/tls/`, as
 * `pacs tls init` writes them. One local CA; one server certificate for every listening
 * role; one client certificate for our SCUs (see tls-client.ts). PEM files, keys readable
 * by the owner only.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const TLS_DIR = 'tls';

export interface TlsPaths {
  dir: string;
  ca: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

export function tlsPaths(dataDir: string): TlsPaths {
  const dir = join(dataDir, TLS_DIR);
  return {
    dir,
    ca: join(dir, 'ca.pem'),
    caKey: join(dir, 'ca-key.pem'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server-key.pem'),
    clientCert: join(dir, 'client.pem'),
    clientKey: join(dir, 'client-key.pem'),
  };
}

/** PEM contents for a TLS listener: its certificate and key, and the CA that signs client certificates. */
export interface ServerTlsFiles {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
}

/** The server certificate and key of `<data>/tls`; an error naming the missing file (and `pacs tls init`) when absent. */
export function loadServerTlsFiles(dataDir: string): ServerTlsFiles {
  const p = tlsPaths(dataDir);
  for (const f of [p.serverCert, p.serverKey]) {
    if (!existsSync(f)) throw new Error(`TLS is on but ${f} does not exist (run pacs tls init); not listening`);
  }
  return { cert: readFileSync(p.serverCert), key: readFileSync(p.serverKey), ...(existsSync(p.ca) ? { ca: readFileSync(p.ca) } : {}) };
}
