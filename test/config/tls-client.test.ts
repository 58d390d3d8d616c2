/**
 * clientTlsOptions (the one place our SCUs get their TLS options from) against a real TLS
 * acceptor: trust of the local CA only, the client certificate presented, the host-name
 * check and its registry switch, and errors that name the AE.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientTlsOptions, tlsPaths, TlsSetupError } from '../../src/config/index.js';
import { TlsHandshakeError, type Acceptor, type Association } from '../../src/net/index.js';
import { connectTo, startAcceptor } from '../net/helpers.js';

let dir: string;
let data: string;
let acceptor: Acceptor;
let port: number;
/** Calling AE titles of the associations the acceptor established. */
const seen: string[] = [];

const ossl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tls-client-'));
  data = join(dir, 'data');
  const p = tlsPaths(data);
  mkdirSync(p.dir, { recursive: true });
  writeFileSync(
    join(dir, 'ext.cnf'),
    ['[server]', 'subjectAltName = DNS:pacs.example', 'extendedKeyUsage = serverAuth', '[client]', 'extendedKeyUsage = clientAuth', ''].join('\n'),
  );
  ossl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    p.caKey,
    '-out',
    p.ca,
    '-days',
    '1',
    '-subj',
    '/CN=test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign',
  );
  // The server certificate names pacs.example only: calling 127.0.0.1 fails the host-name check.
  for (const [name, cn, ext] of [
    ['server', 'pacs.example', 'server'],
    ['client', 'our client', 'client'],
  ]) {
    ossl('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(p.dir, `${name}-key.pem`), '-out', join(dir, `${name}.csr`), '-subj', `/CN=${cn}`);
    ossl(
      'x509',
      '-req',
      '-in',
      join(dir, `${name}.csr`),
      '-CA',
      p.ca,
      '-CAkey',
      p.caKey,
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      join(dir, 'ext.cnf'),
      '-extensions',
      ext,
      '-out',
      join(p.dir, `${name}.pem`),
    );
  }
  ({ acceptor, port } = await startAcceptor({
    tls: { key: readFileSync(p.serverKey), cert: readFileSync(p.serverCert), ca: readFileSync(p.ca), requestCert: true, rejectUnauthorized: true },
    onAssociation: (a: Association) => {
      seen.push(a.callingAeTitle);
    },
  }));
});

afterAll(async () => {
  await acceptor?.close();
  rmSync(dir, { recursive: true, force: true });
});

const ae = (o: { tls?: boolean; tlsVerifyHost?: boolean; host?: string } = {}) => ({
  aeTitle: 'REMOTE',
  connection: { host: o.host ?? '127.0.0.1', tls: o.tls ?? true, tlsVerifyHost: o.tlsVerifyHost },
});

describe('clientTlsOptions', () => {
  it('is undefined for an AE not marked TLS', () => {
    expect(clientTlsOptions(ae({ tls: false }), data)).toBeUndefined();
  });

  it('names the AE when there is no CA to trust, or only half a client certificate', () => {
    expect(() => clientTlsOptions(ae(), join(dir, 'empty'))).toThrow(TlsSetupError);
    expect(() => clientTlsOptions(ae(), join(dir, 'empty'))).toThrow(/^REMOTE: marked TLS but there is no CA .*pacs tls init/);
    expect(() => clientTlsOptions(ae(), data, { cert: tlsPaths(data).clientCert })).toThrow(/REMOTE: a client certificate needs both --tls-cert and --tls-key/);
    expect(() => clientTlsOptions(ae(), data, { ca: join(dir, 'nope.pem') })).toThrow(/REMOTE: cannot read the CA certificate .*nope\.pem: ENOENT/);
  });

  it('checks the host name: a certificate for pacs.example called as 127.0.0.1 fails, naming the AE', async () => {
    const err = await connectTo(port, { calledAeTitle: 'REMOTE', tls: clientTlsOptions(ae(), data) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TlsHandshakeError);
    expect((err as TlsHandshakeError).code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect((err as Error).message).toMatch(/^TLS handshake with REMOTE at 127\.0\.0\.1:\d+ failed: its certificate does not name 127\.0\.0\.1/);
  });

  it('with tlsVerifyHost false trusts the CA-signed certificate whatever its name, and presents our client certificate', async () => {
    const before = seen.length;
    const a = await connectTo(port, { tls: clientTlsOptions(ae({ tlsVerifyHost: false }), data) });
    await a.release();
    // The acceptor requires a client certificate signed by the CA (rejectUnauthorized): getting here means ours was sent.
    expect(seen.length).toBe(before + 1);
  });

  it('an acceptor requiring a client certificate refuses us without one', async () => {
    const emptyClient = join(dir, 'ca-only');
    mkdirSync(join(emptyClient, 'tls'), { recursive: true });
    writeFileSync(tlsPaths(emptyClient).ca, readFileSync(tlsPaths(data).ca));
    const opts = clientTlsOptions(ae({ tlsVerifyHost: false }), emptyClient);
    expect(opts?.cert).toBeUndefined();
    const err = await connectTo(port, { calledAeTitle: 'REMOTE', tls: opts }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TlsHandshakeError);
    expect((err as Error).message).toMatch(/^TLS handshake with REMOTE at 127\.0\.0\.1:\d+ failed: the peer refused our client certificate or its absence/);
  });

  it('another CA is not trusted', async () => {
    const other = join(dir, 'other.pem');
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'other-key.pem'), '-out', other, '-days', '1', '-subj', '/CN=other CA'],
      { stdio: 'ignore' },
    );
    const err = await connectTo(port, { calledAeTitle: 'REMOTE', tls: clientTlsOptions(ae({ tlsVerifyHost: false }), data, { ca: other }) }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TlsHandshakeError);
    expect((err as Error).message).toMatch(/REMOTE at 127\.0\.0\.1:\d+ failed: its certificate is not signed by a CA we trust/);
  });
});
