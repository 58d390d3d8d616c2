/** C-ECHO an AE of the registry, timed: for `pacs config verify` and `POST /api/aes/{aet}/echo`. */
import { clientTlsOptions, type AeEntry, type ClientTlsFiles } from '../config/index.js';
import { DimseConnection } from '../dimse/dimse-connection.js';
import { cEcho } from '../dimse/scu.js';
import { connect } from '../net/index.js';

const VERIFICATION = '1.2.840.10008.1.1';

export type { EchoResult } from '../api-types/index.js';
import type { EchoResult } from '../api-types/index.js';

/** Where to reach a listening AE: a wildcard listen address means this host. */
export function reachableHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}

export interface EchoOptions {
  /** Data directory whose `tls/` files secure a TLS AE (CA to trust, client certificate to present). */
  dataDir: string;
  timeoutMs?: number;
  /** Files replacing the data directory's (CLI flags). */
  tlsFiles?: ClientTlsFiles;
}

export async function echoAe(target: AeEntry, callingAeTitle: string, opts: EchoOptions): Promise<EchoResult> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const host = reachableHost(target.connection.host);
  const port = target.connection.port;
  const base = { aeTitle: target.aeTitle, host, port: port ?? 0 };
  if (port === undefined) return { ...base, ok: false, ms: 0, error: 'no port configured (this AE only calls)' };
  const started = performance.now();
  try {
    const tls = clientTlsOptions({ ...target, connection: { ...target.connection, host } }, opts.dataDir, opts.tlsFiles);
    const assoc = await connect({
      host,
      port,
      callingAeTitle,
      calledAeTitle: target.aeTitle,
      connectTimeoutMs: timeoutMs,
      artimTimeoutMs: timeoutMs,
      tls,
      presentationContexts: [{ abstractSyntax: VERIFICATION, transferSyntaxes: ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'] }],
    });
    try {
      await cEcho(new DimseConnection(assoc));
    } finally {
      await assoc.release().catch(() => assoc.abort());
    }
    return { ...base, ok: true, ms: performance.now() - started };
  } catch (err) {
    return { ...base, ok: false, ms: performance.now() - started, error: (err as Error).message };
  }
}
