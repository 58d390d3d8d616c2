/** The registry's `hl7` section: off by default, its defaults, and every bad value named. */
import { describe, expect, it } from 'vitest';
import { ConfigValidationError, defaultRegistry, registrySchema, setHl7 } from '../../src/config/index.js';

function issuesOf(f: () => unknown): { field: string; message: string }[] {
  try {
    f();
  } catch (err) {
    if (err instanceof ConfigValidationError) return err.issues;
    throw err;
  }
  throw new Error('did not throw');
}

describe('hl7 settings', () => {
  it('is absent (off) in the first registry, and takes its defaults when set', () => {
    expect(defaultRegistry().hl7).toBeUndefined();
    const reg = setHl7(defaultRegistry(), { enabled: true });
    expect(reg.hl7).toEqual({ enabled: true, host: '0.0.0.0', port: 2575, maxMessageBytes: 1048576, idleTimeoutSeconds: 300, maxConnections: 16 });
    expect(reg.revision).toBe(2);
    expect(registrySchema.safeParse(reg).success).toBe(true);
    // Fields not named stay; null goes back to the default.
    const next = setHl7(setHl7(reg, { port: 6661, allowedHosts: ['10.1.2.3'] }), { port: null });
    expect(next.hl7).toMatchObject({ enabled: true, port: 2575, allowedHosts: ['10.1.2.3'] });
  });

  it.each([
    [{ port: 0 }, 'hl7.port', /port must be an integer from 1 to 65535/],
    [{ port: 'x' }, 'hl7.port', /port must be an integer/],
    [{ allowedHosts: ['ris.example.org'] }, 'hl7.allowedHosts[0]', /an allowed host is an IP address/],
    [{ maxMessageBytes: 10 }, 'hl7.maxMessageBytes', /at least 1024/],
    [{ idleTimeoutSeconds: 0 }, 'hl7.idleTimeoutSeconds', /at least 1/],
    [{ maxConnections: 5000 }, 'hl7.maxConnections', /at most 1024/],
    [{ enabled: 'yes' }, 'hl7.enabled', /true or false/],
    [{ color: 'red' }, 'hl7.color', /unknown field/],
  ])('refuses %o, naming %s', (patch, field, message) => {
    const [issue] = issuesOf(() => setHl7(defaultRegistry(), patch));
    expect(issue.field).toBe(field);
    expect(issue.message).toMatch(message);
  });

  it('refuses the web server port when enabled, and not when off', () => {
    const [issue] = issuesOf(() => setHl7(defaultRegistry(), { enabled: true, port: 8080 }));
    expect(issue).toEqual({ field: 'hl7.port', message: 'port 8080 is already used by the web server' });
    expect(setHl7(defaultRegistry(), { enabled: false, port: 8080 }).hl7?.port).toBe(8080);
    const [role] = issuesOf(() => setHl7(defaultRegistry(), { enabled: true, port: 11112 }));
    expect(role.message).toBe('port 11112 is already used by the HL7 listener');
  });
});
