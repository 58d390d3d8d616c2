/**
 * A failed TLS handshake said plainly, naming the AE we called: the node:tls error codes
 * (OpenSSL's verify results and alerts) mapped to what to check. Only errors that carry a
 * TLS code become TlsHandshakeError; anything else (refused, rejected) passes unchanged.
 */
import { ConnectError } from './errors.js';

export class TlsHandshakeError extends ConnectError {
  override name = 'TlsHandshakeError';
  constructor(
    readonly calledAeTitle: string,
    readonly host: string,
    readonly port: number,
    /** node:tls / OpenSSL code, e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE, ERR_TLS_CERT_ALTNAME_INVALID. */
    readonly code: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`TLS handshake with ${calledAeTitle} at ${host}:${port} failed: ${reason} (${code})`, options);
  }
}

const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);

function reasonOf(code: string, message: string, host: string): string {
  if (UNTRUSTED.has(code)) return 'its certificate is not signed by a CA we trust (check the CA file)';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `its certificate does not name ${host}: ${message}`;
  if (code === 'CERT_HAS_EXPIRED') return 'its certificate has expired';
  if (code === 'CERT_NOT_YET_VALID') return 'its certificate is not valid yet';
  if (/CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|HANDSHAKE_FAILURE/.test(code)) {
    return 'the peer refused our client certificate or its absence';
  }
  return message;
}

const TLS_CODE = /^(ERR_SSL_|ERR_TLS_|UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO|CERT_|HOSTNAME_|INVALID_CA|PATH_LENGTH)/;

/** The TLS error in `err`'s cause chain as a TlsHandshakeError, or undefined. */
export function tlsFailure(err: unknown, target: { calledAeTitle: string; host: string; port: number }): TlsHandshakeError | undefined {
  for (let e = err as (Error & { code?: unknown }) | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e instanceof TlsHandshakeError) return e;
    if (typeof e.code === 'string' && TLS_CODE.test(e.code)) {
      return new TlsHandshakeError(target.calledAeTitle, target.host, target.port, e.code, reasonOf(e.code, e.message, target.host), { cause: err });
    }
  }
  return undefined;
}
