/**
 * The registry's DICOM access defaults (issue 15 items 4 and 5): what a new AE may do,
 * when it is bound to its host, which AEs cannot be removed, and the `limits.dicom`
 * section with its defaults in force.
 */
import { describe, expect, it } from 'vitest';
import {
  addAe,
  ConfigConflictError,
  defaultRegistry,
  describeLimits,
  effectiveLimits,
  findAe,
  registrySchema,
  removeAe,
  setAe,
  setLimits,
} from '../../src/config/index.js';
import { issues } from './helpers.js';

describe('a new AE', () => {
  it('may echo and store only, unless its permissions are given', () => {
    const reg = addAe(defaultRegistry(), { aeTitle: 'MODALITY', connection: { host: '10.1.2.3' } });
    expect(findAe(reg, 'MODALITY')?.permissions).toEqual(['echo', 'store']);
    const given = addAe(reg, { aeTitle: 'VIEWER', connection: { host: '10.1.2.4' }, permissions: ['echo', 'find', 'move'] });
    expect(findAe(given, 'VIEWER')?.permissions).toEqual(['echo', 'find', 'move']);
  });

  it('is bound to its host when registered with one, not with 0.0.0.0 or ::, and not when told so', () => {
    let reg = addAe(defaultRegistry(), { aeTitle: 'BOUND', connection: { host: '10.1.2.3' } });
    reg = addAe(reg, { aeTitle: 'NAMED', connection: { host: 'ct1.example.org' } });
    reg = addAe(reg, { aeTitle: 'ANY4', connection: { host: '0.0.0.0' } });
    reg = addAe(reg, { aeTitle: 'ANY6', connection: { host: '::' } });
    reg = addAe(reg, { aeTitle: 'UNBOUND', connection: { host: '10.1.2.5' }, checkHost: false });
    expect(['BOUND', 'NAMED', 'ANY4', 'ANY6', 'UNBOUND'].map((t) => findAe(reg, t)?.checkHost ?? false)).toEqual([true, true, false, false, false]);
  });

  it('cannot be bound to the wildcard host', () => {
    expect(issues(() => addAe(defaultRegistry(), { aeTitle: 'ANY', connection: { host: '0.0.0.0' }, checkHost: true }))).toEqual([
      ['checkHost', 'an AE registered with host 0.0.0.0 (any address) cannot be bound to its host; give its address or host name, or turn checkHost off'],
    ]);
    const reg = addAe(defaultRegistry(), { aeTitle: 'BOUND', connection: { host: '10.1.2.3' } });
    expect(issues(() => setAe(reg, 'BOUND', { connection: { host: '::' } }))[0][0]).toBe('checkHost');
    expect(findAe(setAe(reg, 'BOUND', { connection: { host: '::' }, checkHost: false }), 'BOUND')?.checkHost).toBe(false);
  });
});

describe('the defaults of a first start', () => {
  it('let unknown callers echo and store only, on every role', () => {
    const reg = defaultRegistry();
    for (const t of ['PACS', 'WORKSTATION', 'ROUTER']) expect(findAe(reg, t)?.policy?.unknownCallers, t).toEqual(['echo', 'store']);
  });

  it('keep what an existing registry file says', () => {
    const file = structuredClone(defaultRegistry()) as unknown as { devices: { aes: Record<string, unknown>[] }[] };
    const pacs = file.devices[0].aes[0];
    pacs.policy = { strict: false, unknownCallers: ['echo', 'store', 'find', 'move'] };
    file.devices.push({
      aes: [
        {
          aeTitle: 'OLD_PEER',
          connection: { host: '10.9.9.9', port: 104 },
          permissions: ['echo', 'store', 'find', 'move', 'get', 'worklist', 'mpps', 'commit'],
        },
      ],
      ...{ name: 'old', description: '', local: false },
    });
    const reg = registrySchema.parse(file);
    expect(findAe(reg, 'PACS')?.policy?.unknownCallers).toEqual(['echo', 'store', 'find', 'move']);
    expect(findAe(reg, 'OLD_PEER')?.permissions).toHaveLength(8);
    expect(findAe(reg, 'OLD_PEER')?.checkHost).toBeUndefined();
  });

  it('refuse to remove the built-in client AEs the web app calls as (409 conflict)', () => {
    for (const t of ['PACS_CLIENT', 'WS_CLIENT']) {
      const err = (() => {
        try {
          removeAe(defaultRegistry(), t);
        } catch (e) {
          return e;
        }
      })();
      expect(err, t).toBeInstanceOf(ConfigConflictError);
      expect((err as ConfigConflictError).kind).toBe('conflict');
      expect((err as Error).message).toMatch(new RegExp(`"${t}" is one of this PACS's own client AEs`));
    }
  });
});

describe('limits.dicom', () => {
  it('has its defaults in force: 64 associations per role, 300 s idle timeout, 30 s ARTIM, 256 KiB PDUs', () => {
    expect(effectiveLimits(defaultRegistry()).dicom).toEqual({ maxAssociations: 64, idleTimeoutSeconds: 300, artimTimeoutSeconds: 30, maxPduLength: 262144 });
    expect(describeLimits(defaultRegistry())).toEqual(
      expect.arrayContaining(['dicom.maxAssociations = 64', 'dicom.idleTimeoutSeconds = 300', 'dicom.artimTimeoutSeconds = 30', 'dicom.maxPduLength = 262144']),
    );
  });

  it('is set field by field, validated, and names a wrong field', () => {
    const reg = setLimits(defaultRegistry(), { dicom: { maxAssociations: 10, idleTimeoutSeconds: 0.5 } });
    expect(effectiveLimits(reg).dicom).toMatchObject({ maxAssociations: 10, idleTimeoutSeconds: 0.5, artimTimeoutSeconds: 30 });
    expect(reg.revision).toBe(2);
    expect(issues(() => setLimits(reg, { dicom: { maxAssociations: 0 } }))).toEqual([
      ['limits.dicom.maxAssociations', 'maxAssociations must be a positive integer'],
    ]);
    expect(issues(() => setLimits(reg, { dicom: { idleTimeout: 5 } }))).toEqual([['limits.dicom.idleTimeout', 'unknown field "idleTimeout"']]);
    expect(issues(() => setLimits(reg, { dicom: { maxPduLength: 100 } }))[0][0]).toBe('limits.dicom.maxPduLength');
    // Other fields of the section stay as they were.
    expect(effectiveLimits(setLimits(reg, { dicom: { artimTimeoutSeconds: 2 } })).dicom).toMatchObject({ maxAssociations: 10, artimTimeoutSeconds: 2 });
  });
});
