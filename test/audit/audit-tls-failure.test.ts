/**
 * A caller that fails the TLS handshake of a role requiring client certificates is
 * reported to the audit trail (Security Alert, Node Authentication); a connection that
 * merely opens and closes (a port probe) is not.
 */
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit/index.js';
import { tlsInit } from '../../src/cli/tls-commands.js';
import { loadServerTlsFiles, tlsPaths } from '../../src/config/index.js';
import { ServiceRegistry } from '../../src/dimse/service.js';
import { verificationService } from '../../src/services/verification.js';
import { startDicomServer } from '../../src/roles/dicom-server.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { until } from '../support/until.js';

afterAll(removeTempDirs);

describe('TLS handshake failures in the audit trail', () => {
  it('reports a caller without a client certificate, not a bare TCP probe', async () => {
    const dir = await makeTempDir('pacs-atna-tls-');
    await tlsInit(dir, { host: 'localhost' });
    const files = loadServerTlsFiles(dir);
    const events: AuditEvent[] = [];
    const server = await startDicomServer({
      aeTitle: 'SECURE',
      port: 0,
      host: '127.0.0.1',
      registry: new ServiceRegistry([verificationService()]),
      logger: pino({ level: 'silent' }),
      tls: { cert: files.cert, key: files.key, ca: files.ca, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' },
      audit: { record: (e) => events.push(e) },
    });
    try {
      // A port probe: connect and close.
      await new Promise<void>((resolve) => {
        const s = netConnect({ host: '127.0.0.1', port: server.port }, () => s.end());
        s.on('close', () => resolve());
        s.on('error', () => resolve());
      });
      // A TLS client trusting our CA but presenting no certificate.
      await new Promise<void>((resolve) => {
        const s = tlsConnect({ host: '127.0.0.1', port: server.port, ca: readFileSync(tlsPaths(dir).ca), servername: 'localhost' });
        s.on('secureConnect', () => s.write(Buffer.from([0x01])));
        s.on('error', () => resolve());
        s.on('close', () => resolve());
      });
      const failure = await until('a tls-failure event', async () => events.find((e) => e.kind === 'tls-failure'));
      expect(failure).toMatchObject({ kind: 'tls-failure', called: 'SECURE', address: '127.0.0.1' });
      expect(failure.reason).toMatch(/certificate/i);
      expect(events.filter((e) => e.kind === 'tls-failure')).toHaveLength(1);
    } finally {
      await server.close();
    }
  });
});
