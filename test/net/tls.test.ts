import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectError, type Association } from '../../src/net/index.js';
import { connectTo, startAcceptor } from './helpers.js';

describe('TLS', () => {
  let dir: string;
  let key: Buffer;
  let cert: Buffer;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'net-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { stdio: 'ignore' },
    );
    key = readFileSync(join(dir, 'key.pem'));
    cert = readFileSync(join(dir, 'cert.pem'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('associates, exchanges PDVs and releases over TLS', async () => {
    const { acceptor, port } = await startAcceptor({
      tls: { key, cert },
      onAssociation: (a: Association) => a.on('pdv', (pdvs) => void a.sendPdv(pdvs[0].contextId, true, Buffer.from('pong'), true)),
    });
    try {
      const client = await connectTo(port, { tls: { ca: cert } });
      const got = new Promise<string>((r) => client.once('pdv', (p) => r(p[0].data.toString())));
      await client.sendPdv(1, true, Buffer.from('ping'), true);
      expect(await got).toBe('pong');
      await client.release();
      // An untrusted certificate fails the connection, not the server.
      await expect(connectTo(port, { tls: {} })).rejects.toBeInstanceOf(ConnectError);
      const again = await connectTo(port, { tls: { ca: cert } });
      await again.release();
    } finally {
      await acceptor.close();
    }
  });
});
