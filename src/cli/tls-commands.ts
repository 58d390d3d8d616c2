/**
 * `pacs tls init`: a first set-up of DICOM TLS. Creates `<data>/tls/` with a local CA,
 * a server certificate for the listening roles (CN = this host; subjectAltName
 * 127.0.0.1, ::1, localhost and the host name) and a client certificate for our SCUs,
 * all signed by the CA, with the `openssl` command line (argument arrays, no shell).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { tlsPaths } from '../config/index.js';
import { COMMANDS } from './commands.js';

function openssl(args: string[], cwd: string): Promise<void> {
  return new Promise((res, rej) => {
    execFile(process.env.OPENSSL_BIN ?? 'openssl', args, { cwd }, (err, _stdout, stderr) => {
      if (err) rej(new Error(`openssl ${args[0]} failed: ${stderr.trim() || err.message}`));
      else res();
    });
  });
}

const DNS_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export interface TlsInitResult {
  files: string[];
}

/** Writes the CA, server and client certificates into `<dataDir>/tls`; refuses to replace existing ones unless `force`. */
export async function tlsInit(dataDir: string, opts: { force?: boolean; days?: number; host?: string } = {}): Promise<TlsInitResult> {
  const p = tlsPaths(dataDir);
  const ours = [p.ca, p.caKey, p.serverCert, p.serverKey, p.clientCert, p.clientKey];
  const present = ours.filter((f) => existsSync(f));
  if (present.length && !opts.force) throw new Error(`${present[0]} already exists (give --force to replace the certificates)`);
  await mkdir(dataDir, { recursive: true });
  await mkdir(p.dir, { recursive: true, mode: 0o700 });
  const work = await mkdtemp(join(p.dir, '.init-'));
  try {
    const host = opts.host ?? hostname();
    const days = String(opts.days ?? 825);
    const names = ['IP:127.0.0.1', 'IP:::1', 'DNS:localhost', ...(DNS_NAME.test(host) && host !== 'localhost' ? [`DNS:${host}`] : [])];
    await writeFile(
      join(work, 'openssl.cnf'),
      [
        '[req]',
        'distinguished_name = dn',
        'prompt = no',
        '[dn]',
        'CN = PACS local CA',
        '[ca]',
        'basicConstraints = critical, CA:TRUE',
        'keyUsage = critical, keyCertSign, cRLSign',
        'subjectKeyIdentifier = hash',
        '[server]',
        'basicConstraints = critical, CA:FALSE',
        'keyUsage = critical, digitalSignature, keyEncipherment',
        'extendedKeyUsage = serverAuth, clientAuth',
        `subjectAltName = ${names.join(', ')}`,
        'subjectKeyIdentifier = hash',
        'authorityKeyIdentifier = keyid',
        '[client]',
        'basicConstraints = critical, CA:FALSE',
        'keyUsage = critical, digitalSignature, keyEncipherment',
        'extendedKeyUsage = clientAuth',
        'subjectKeyIdentifier = hash',
        'authorityKeyIdentifier = keyid',
        '',
      ].join('\n'),
    );
    // The CA: self-signed, ten years.
    await openssl(
      [
        'req',
        '-x509',
        '-new',
        '-newkey',
        'rsa:3072',
        '-nodes',
        '-sha256',
        '-days',
        '3650',
        '-config',
        'openssl.cnf',
        '-extensions',
        'ca',
        '-keyout',
        'ca-key.pem',
        '-out',
        'ca.pem',
      ],
      work,
    );
    const leaf = async (name: string, cn: string, ext: string) => {
      await openssl(
        [
          'req',
          '-new',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-sha256',
          '-config',
          'openssl.cnf',
          '-subj',
          `/CN=${cn}`,
          '-keyout',
          `${name}-key.pem`,
          '-out',
          `${name}.csr`,
        ],
        work,
      );
      await openssl(
        [
          'x509',
          '-req',
          '-in',
          `${name}.csr`,
          '-CA',
          'ca.pem',
          '-CAkey',
          'ca-key.pem',
          '-set_serial',
          `0x${randomBytes(16).toString('hex').replace(/^./, '1')}`,
          '-days',
          days,
          '-sha256',
          '-extfile',
          'openssl.cnf',
          '-extensions',
          ext,
          '-out',
          `${name}.pem`,
        ],
        work,
      );
    };
    await leaf('server', host, 'server');
    await leaf('client', 'PACS client', 'client');
    for (const f of ours) {
      const base = f.slice(p.dir.length + 1);
      await chmod(join(work, base), base.endsWith('-key.pem') ? 0o600 : 0o644);
      await rename(join(work, base), f);
    }
    return { files: ours };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export function registerTlsCommands(program: Command): void {
  const tls = program.command('tls').description(COMMANDS.tls);
  tls
    .command('init')
    .description('create <data>/tls: a local CA, a server certificate for the listening roles and a client certificate, signed by the CA')
    .option('--data <dir>', 'data directory', process.env.PACS_DATA_DIR ?? './data')
    .option('--force', 'replace existing certificates')
    .option('--host <name>', 'host name in the server certificate (default: this host)')
    .action(async (o: { data: string; force?: boolean; host?: string }) => {
      const r = await tlsInit(resolve(o.data), { force: o.force, host: o.host });
      process.stdout.write(`${r.files.join('\n')}\n`);
      process.stdout.write('Turn TLS on for a role with: pacs config ae set PACS --tls (and --require-client-cert for mutual authentication)\n');
    });
}
