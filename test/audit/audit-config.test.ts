/**
 * Where the audit trail goes: the registry's `audit` entry (setAudit, validated like every
 * registry change) and `pacs config audit set|off` on the command line.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigStore, ConfigValidationError, defaultRegistry, setAudit } from '../../src/config/index.js';
import { runPacs } from '../cli/run-pacs.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

afterAll(removeTempDirs);

describe('the audit repository in the registry', () => {
  it('is set field by field, validated, and removed with null', () => {
    const reg = defaultRegistry();
    expect(reg.audit).toBeUndefined();
    const on = setAudit(reg, { host: 'audit.example.org', port: 6514, protocol: 'tls', siteId: 'Hospital A' });
    expect(on.audit).toEqual({ host: 'audit.example.org', port: 6514, protocol: 'tls', siteId: 'Hospital A' });
    expect(on.revision).toBe(reg.revision + 1);
    const udp = setAudit(on, { protocol: 'udp', port: 514, siteId: null });
    expect(udp.audit).toEqual({ host: 'audit.example.org', port: 514, protocol: 'udp' });
    expect(setAudit(udp, null).audit).toBeUndefined();
  });

  it('refuses what cannot work, naming the field', () => {
    const reg = defaultRegistry();
    const fields = (patch: Record<string, unknown>) => {
      try {
        setAudit(reg, patch);
        return [];
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigValidationError);
        return (err as ConfigValidationError).issues.map((i) => `${i.field}: ${i.message}`);
      }
    };
    expect(fields({ host: 'audit.example.org', port: 6514, protocol: 'tcp' })).toEqual(['audit.protocol: protocol must be udp or tls']);
    expect(fields({ host: 'bad host', port: 6514, protocol: 'tls' })[0]).toMatch(/^audit\.host: host must be a host name/);
    expect(fields({ host: 'audit.example.org', port: 70000, protocol: 'tls' })).toEqual(['audit.port: port must be an integer from 1 to 65535']);
    expect(fields({ port: 6514, protocol: 'tls' })).toEqual(['audit.host: host is required']);
    expect(fields({ host: 'a.example.org', port: 1, protocol: 'udp', maxQueued: 0 })).toEqual(['audit.maxQueued: maxQueued must be at least 1']);
  });
});

describe('pacs config audit', () => {
  it('set points the audit trail at a repository, show says where, off turns it off', async () => {
    const data = join(await makeTempDir('pacs-audit-cli-'), 'data');
    const set = await runPacs('config', 'audit', 'set', '--host', '127.0.0.1', '--port', '6514', '--protocol', 'tls', '--site-id', 'Site A', '--data', data);
    expect(set.status, set.stderr).toBe(0);
    expect(set.stdout).toBe('audit trail: syslog over TLS to 127.0.0.1:6514\n');
    expect((await ConfigStore.open(data)).current.audit).toEqual({ host: '127.0.0.1', port: 6514, protocol: 'tls', siteId: 'Site A' });
    expect((await runPacs('config', 'show', '--data', data)).stdout).toMatch(/^audit trail: syslog over TLS to 127\.0\.0\.1:6514 \(site Site A\)$/m);
    const bad = await runPacs('config', 'audit', 'set', '--protocol', 'tcp', '--data', data);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/audit\.protocol: protocol must be udp or tls/);
    expect((await runPacs('config', 'audit', 'off', '--data', data)).stdout).toBe('audit trail: off\n');
    expect((await ConfigStore.open(data)).current.audit).toBeUndefined();
  }, 120_000);
});
