/**
 * Pure operations on the registry: each returns a new, validated registry with the
 * revision incremented, or throws ConfigValidationError / ConfigConflictError naming
 * the field. No I/O here (see store.ts).
 */
import { z } from 'zod';
import { ConfigConflictError, ConfigValidationError, fieldPath, issuesOf, parseOrThrow } from './errors.js';
import { limitsSchema } from './limits.js';
import {
  aeSchema,
  auditRepositorySchema,
  hl7Schema,
  isServerRole,
  isWildcardHost,
  prefetchSchema,
  registrySchema,
  webSchema,
  type Ae,
  type AeInput,
  type Registry,
  type ServerRole,
} from './schema.js';

/** An AE with the device it belongs to: the flat view the CLI and REST API show. */
export type AeEntry = Ae & { device: string; local: boolean };

export function listAes(reg: Registry): AeEntry[] {
  return reg.devices.flatMap((d) => d.aes.map((ae) => ({ ...ae, device: d.name, local: d.local })));
}

/** AE titles compare with leading/trailing spaces removed (PS3.5). */
export function findAe(reg: Registry, aeTitle: string): AeEntry | undefined {
  const t = aeTitle.trim();
  return listAes(reg).find((a) => a.aeTitle === t);
}

export function serverAe(reg: Registry, role: ServerRole): AeEntry | undefined {
  return listAes(reg).find((a) => a.role === role && a.local);
}

/** Validates a whole registry; issues about the AE being edited are named relative to it. */
function validated(reg: Registry, focus?: { device: number; ae: number }): Registry {
  const r = registrySchema.safeParse(reg);
  if (r.success) return r.data;
  const prefix = focus ? fieldPath(['devices', focus.device, 'aes', focus.ae]) : undefined;
  throw new ConfigValidationError(
    issuesOf(r.error).map((i) => (prefix && i.field.startsWith(`${prefix}.`) ? { ...i, field: i.field.slice(prefix.length + 1) } : i)),
  );
}

function locate(reg: Registry, aeTitle: string): { device: number; ae: number } {
  const t = aeTitle.trim();
  for (let d = 0; d < reg.devices.length; d++) {
    const a = reg.devices[d].aes.findIndex((x) => x.aeTitle === t);
    if (a >= 0) return { device: d, ae: a };
  }
  throw new ConfigConflictError(`no AE "${t}" in the registry`, 'not-found', 'aeTitle');
}

const clone = (reg: Registry): Registry => structuredClone(reg);

function refuseTakenTitle(reg: Registry, from: string, to: string): void {
  if (to !== from && findAe(reg, to)) throw new ConfigValidationError([{ field: 'aeTitle', message: `AE title "${to}" is already registered` }]);
}

export interface AddOptions {
  /** Device to add the AE to; default: a new device named after the AE title (or the local device for a client). */
  device?: string;
}

/**
 * Registers an AE. Unless the input says otherwise it may echo and store only (the schema's
 * default) and, a remote peer registered with a specific host, is bound to that host.
 */
export function addAe(reg: Registry, input: unknown, opts: AddOptions = {}): Registry {
  const ae = parseOrThrow(aeSchema, input);
  if (ae.checkHost === undefined && ae.role === 'peer' && !isWildcardHost(ae.connection.host)) ae.checkHost = true;
  if (isServerRole(ae.role)) {
    throw new ConfigValidationError([{ field: 'role', message: `the local ${ae.role} role already exists; change it instead of adding one` }]);
  }
  if (ae.policy) throw new ConfigValidationError([{ field: 'policy', message: 'only a server role (main, workstation, router) has an access policy' }]);
  if (findAe(reg, ae.aeTitle)) throw new ConfigValidationError([{ field: 'aeTitle', message: `AE title "${ae.aeTitle}" is already registered` }]);
  const next = clone(reg);
  const localDevice = next.devices.find((d) => d.local);
  const deviceName = opts.device ?? (ae.role === 'client' && localDevice ? localDevice.name : ae.aeTitle.toLowerCase());
  let d = next.devices.findIndex((x) => x.name === deviceName);
  if (d < 0) {
    next.devices.push({ name: deviceName, description: '', local: false, aes: [] });
    d = next.devices.length - 1;
  }
  if (next.devices[d].local && ae.role === 'peer') {
    throw new ConfigValidationError([{ field: 'device', message: `a remote peer cannot belong to the local device "${deviceName}"` }]);
  }
  next.devices[d].aes.push(ae);
  next.revision++;
  return validated(next, { device: d, ae: next.devices[d].aes.length - 1 });
}

/** The fields `setAe` may change (everything; nested objects merged). */
export const aePatchSchema = z.strictObject({
  aeTitle: z.unknown().optional(),
  description: z.unknown().optional(),
  role: z.unknown().optional(),
  connection: z.record(z.string(), z.unknown()).optional(),
  permissions: z.unknown().optional(),
  checkHost: z.unknown().optional(),
  moveDestination: z.unknown().optional(),
  queryRetrieve: z.unknown().optional(),
  policy: z.record(z.string(), z.unknown()).optional(),
  commitmentReport: z.unknown().optional(),
});
export type AePatch = Partial<Omit<AeInput, 'connection' | 'policy'>> & {
  connection?: Partial<AeInput['connection']>;
  policy?: Partial<NonNullable<AeInput['policy']>>;
};

/** Changes fields of an AE (renaming included); the role of an AE cannot change. */
export function setAe(reg: Registry, aeTitle: string, patch: unknown): Registry {
  const p = parseOrThrow(aePatchSchema, patch) as AePatch;
  const at = locate(reg, aeTitle);
  const old = reg.devices[at.device].aes[at.ae];
  if (p.role !== undefined && p.role !== old.role) {
    throw new ConfigValidationError([{ field: 'role', message: `the role of an AE cannot change (${old.role}); remove it and add it again` }]);
  }
  const merged = {
    ...old,
    ...p,
    connection: { ...old.connection, ...(p.connection ?? {}) },
    ...(p.policy || old.policy ? { policy: { ...(old.policy ?? {}), ...(p.policy ?? {}) } } : {}),
  };
  const ae = parseOrThrow(aeSchema, merged);
  refuseTakenTitle(reg, old.aeTitle, ae.aeTitle);
  const next = clone(reg);
  next.devices[at.device].aes[at.ae] = ae;
  next.revision++;
  return validated(next, at);
}

/** Replaces an AE entirely (REST PUT). */
export function replaceAe(reg: Registry, aeTitle: string, input: unknown): Registry {
  const at = locate(reg, aeTitle);
  const old = reg.devices[at.device].aes[at.ae];
  const ae = parseOrThrow(aeSchema, { role: old.role, ...(input as object) });
  if (ae.role !== old.role) throw new ConfigValidationError([{ field: 'role', message: `the role of an AE cannot change (${old.role})` }]);
  refuseTakenTitle(reg, old.aeTitle, ae.aeTitle);
  const next = clone(reg);
  next.devices[at.device].aes[at.ae] = ae;
  next.revision++;
  return validated(next, at);
}

export interface RemoveOptions {
  /** Also remove one of our own client AEs (the command line's `--force`; never the web app). */
  force?: boolean;
}

export function removeAe(reg: Registry, aeTitle: string, opts: RemoveOptions = {}): Registry {
  const at = locate(reg, aeTitle);
  const ae = reg.devices[at.device].aes[at.ae];
  if (isServerRole(ae.role)) {
    throw new ConfigConflictError(`"${ae.aeTitle}" is the local ${ae.role} role; it can be changed but not removed`, 'conflict', 'aeTitle');
  }
  // The web app and the command line call as these titles (PACS_CLIENT, WS_CLIENT): without
  // them the study browser and the viewer can no longer query or retrieve.
  if (ae.role === 'client' && !opts.force) {
    throw new ConfigConflictError(
      `"${ae.aeTitle}" is one of this PACS's own client AEs (the web app and the command line call as it); it can be changed but not removed`,
      'conflict',
      'aeTitle',
    );
  }
  const next = clone(reg);
  const dev = next.devices[at.device];
  dev.aes.splice(at.ae, 1);
  if (dev.aes.length === 0 && !dev.local) next.devices.splice(at.device, 1);
  next.revision++;
  return validated(next);
}

export function setWeb(reg: Registry, patch: unknown): Registry {
  const web = parseOrThrow(webSchema, { ...reg.web, ...(patch as object) }, ['web']);
  const next = clone(reg);
  next.web = web;
  next.revision++;
  return validated(next);
}

/** Changes the prefetch settings field by field; a field set to null goes back to its default. */
export function setPrefetch(reg: Registry, patch: unknown): Registry {
  const p = parseOrThrow(z.record(z.string(), z.unknown()), patch, ['prefetch']);
  const merged: Record<string, unknown> = { enabled: false, ...reg.prefetch };
  for (const [field, value] of Object.entries(p)) {
    if (value === null) delete merged[field];
    else merged[field] = value;
  }
  const next = clone(reg);
  next.prefetch = parseOrThrow(prefetchSchema, merged, ['prefetch']);
  next.revision++;
  return validated(next);
}

/** Changes the HL7 intake settings (`hl7`); fields not named keep their value, null resets one. */
export function setHl7(reg: Registry, patch: unknown): Registry {
  const merged: Record<string, unknown> = { ...(reg.hl7 ?? {}) };
  for (const [k, v] of Object.entries(parseOrThrow(z.record(z.string(), z.unknown()), patch, ['hl7']))) {
    if (v === null) delete merged[k];
    else merged[k] = v;
  }
  const hl7 = parseOrThrow(hl7Schema, merged, ['hl7']);
  const next = clone(reg);
  next.hl7 = hl7;
  next.revision++;
  return validated(next);
}

/**
 * Changes limits field by field (`{ dicom: { maxAssociations: 32 } }`); fields not named
 * keep their value, a field set to null goes back to its default.
 */
export function setLimits(reg: Registry, patch: unknown): Registry {
  const p = parseOrThrow(z.record(z.string(), z.record(z.string(), z.unknown())), patch, ['limits']);
  const merged: Record<string, Record<string, unknown>> = structuredClone((reg.limits ?? {}) as Record<string, Record<string, unknown>>);
  for (const [section, fields] of Object.entries(p)) {
    const s = (merged[section] ??= {});
    for (const [field, value] of Object.entries(fields)) {
      if (value === null) delete s[field];
      else s[field] = value;
    }
    if (Object.keys(s).length === 0) delete merged[section];
  }
  const limits = parseOrThrow(limitsSchema, merged, ['limits']);
  const next = clone(reg);
  if (Object.keys(limits).length) next.limits = limits;
  else delete next.limits;
  next.revision++;
  return validated(next);
}

/**
 * Points the audit trail at a repository, field by field over the current entry (a field
 * set to null is removed); `null` as the whole patch turns the audit trail off.
 */
export function setAudit(reg: Registry, patch: Record<string, unknown> | null): Registry {
  const next = clone(reg);
  if (patch === null) delete next.audit;
  else {
    const merged: Record<string, unknown> = { ...(reg.audit ?? {}) };
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete merged[k];
      else if (v !== undefined) merged[k] = v;
    }
    next.audit = parseOrThrow(auditRepositorySchema, merged, ['audit']);
  }
  next.revision++;
  return validated(next);
}
