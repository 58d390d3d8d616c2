/**
 * The AE registry's schema (zod): one schema for the file, the command line and the
 * REST API. Shaped like the DICOM configuration model (PS3.15 Annex H): devices own
 * application entities; each AE has a network connection (host, port, TLS).
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { limitsSchema } from './limits.js';
import { aeTitleProblem } from './ae-title.js';
export { aeTitleProblem } from './ae-title.js';

// The lists the web app needs too live in the shared API types (browser-safe, no imports).
import { AE_ROLES, PERMISSIONS, SERVER_ROLES, UNKNOWN_CALLER_PERMISSIONS, type AeRole, type ServerRole } from '../api-types/registry.js';

export { AE_ROLES, PERMISSIONS, SERVER_ROLES, UNKNOWN_CALLER_PERMISSIONS };
export type { AeRole, Permission, ServerRole } from '../api-types/registry.js';
export const isServerRole = (r: AeRole): r is ServerRole => (SERVER_ROLES as readonly string[]).includes(r);

/** Why a host is not a valid hostname (RFC 1123) or IP address, or undefined. */
export function hostProblem(value: string): string | undefined {
  if (isIP(value)) return undefined;
  if (value.length === 0) return 'host must not be empty';
  if (value.length > 253) return 'host name may be at most 253 characters';
  const label = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
  if (
    !value
      .replace(/\.$/, '')
      .split('.')
      .every((l) => label.test(l))
  ) {
    return `host must be a host name (letters, digits, hyphens, dots) or an IP address, got "${value}"`;
  }
  if (/^[\d.]+$/.test(value)) return `host "${value}" is not a valid IPv4 address`;
  return undefined;
}

export const aeTitleSchema = z
  .string({ error: 'AE title is required' })
  .transform((s) => s.trim())
  .superRefine((v, ctx) => {
    const p = aeTitleProblem(v);
    if (p) ctx.addIssue({ code: 'custom', message: p });
  });

export const hostSchema = z.string({ error: 'host is required' }).superRefine((v, ctx) => {
  const p = hostProblem(v);
  if (p) ctx.addIssue({ code: 'custom', message: p });
});

export const portSchema = z
  .number({ error: 'port must be an integer from 1 to 65535' })
  .int('port must be an integer from 1 to 65535')
  .min(1, 'port must be an integer from 1 to 65535')
  .max(65535, 'port must be an integer from 1 to 65535');

export const permissionSchema = z.enum(PERMISSIONS, { error: `permission must be one of ${PERMISSIONS.join(', ')}` });

/** What a new AE may do unless told otherwise: as an unknown caller of a role that is not strict. */
export const NEW_AE_PERMISSIONS = UNKNOWN_CALLER_PERMISSIONS;

/** Hosts that mean "any address" (a listening wildcard), so nothing to bind a caller to. */
export const isWildcardHost = (host: string): boolean => host === '0.0.0.0' || host === '::';

/** PS3.15 H.4.3 Network Connection: where an AE listens (or, for a client, calls from). */
export const connectionSchema = z.strictObject({
  host: hostSchema,
  /** Absent for AEs that only call (modalities, our clients). */
  port: portSchema.optional(),
  tls: z.boolean().default(false),
  /**
   * With `tls`, when we call this AE: check that its certificate names `host` (default true).
   * False trusts any certificate signed by the local CA, whatever name it carries (peers
   * reached through an address their certificate does not list).
   */
  tlsVerifyHost: z.boolean().optional(),
});

/** What a listening role lets callers it does not know do. */
export const accessPolicySchema = z.strictObject({
  /** Refuse unknown calling AE titles (A-ASSOCIATE-RJ reason 3). */
  strict: z.boolean().default(false),
  /**
   * What an unknown caller may do when not strict: echo and store (Orthanc's default), so a
   * modality can send at once but nobody unregistered can list or retrieve patients.
   */
  unknownCallers: z.array(permissionSchema).default([...UNKNOWN_CALLER_PERMISSIONS]),
  /** With TLS on: require a client certificate signed by the local CA (`<data>/tls/ca.pem`), i.e. mutual authentication. */
  requireClientCert: z.boolean().optional(),
  /**
   * Enforce the host binding of registered callers (an AE's `checkHost`; our own client AEs
   * from loopback only). Default true; false admits a registered title from any address.
   */
  checkCallerHosts: z.boolean().optional(),
});

export const aeSchema = z.strictObject({
  aeTitle: aeTitleSchema,
  description: z.string().max(256, 'description may be at most 256 characters').default(''),
  role: z.enum(AE_ROLES, { error: `role must be one of ${AE_ROLES.join(', ')}` }).default('peer'),
  connection: connectionSchema,
  /** What this AE may do when it calls our servers (default: echo and store). */
  permissions: z.array(permissionSchema).default([...NEW_AE_PERMISSIONS]),
  /**
   * Host binding: accept this calling AE title only from the address(es) of `connection.host`
   * (a host name is resolved when the caller is admitted). Set on by `addAe` for an AE
   * registered with a specific host. Absent: not checked, except our own AEs (the local
   * device's: client titles, roles calling each other), accepted from loopback only.
   */
  checkHost: z.boolean().optional(),
  /** May be named as the destination of a C-MOVE. */
  moveDestination: z.boolean().default(false),
  /** Server roles only: how unknown callers are treated. */
  policy: accessPolicySchema.optional(),
  /**
   * Where our Storage Commitment SCP sends this AE's reports: 'same' (default) on the
   * requesting association while it is open, else a new one; 'new' always a new
   * association to this AE's connection (PS3.4 J.3.3).
   */
  commitmentReport: z.enum(['same', 'new'], { error: 'commitmentReport must be same or new' }).optional(),
});

export const deviceSchema = z.strictObject({
  name: z.string().min(1, 'device name is required').max(64, 'device name may be at most 64 characters'),
  description: z.string().default(''),
  /** The device this process is: its server roles listen, its clients call. */
  local: z.boolean().default(false),
  aes: z.array(aeSchema),
});

/** DICOMweb (PS3.18) settings of the web server; every field optional (defaults below). */
export const dicomwebSettingsSchema = z.strictObject({
  /** GET/HEAD (QIDO-RS, WADO-RS) without a login; STOW-RS always needs one. Default false. */
  openRead: z.boolean().optional(),
  /**
   * Origins allowed to call DICOMweb from a browser (CORS): exact origins such as
   * "https://viewer.example.org", or "*" for any. Default none (CORS off).
   */
  corsOrigins: z.array(z.string().regex(/^(\*|https?:\/\/[^/\s]+)$/, 'a CORS origin is "*" or scheme://host[:port]')).optional(),
  /** Largest STOW-RS request body in bytes (413 beyond). Default 4 GiB. */
  maxStowBytes: z.number().int('maxStowBytes must be an integer').positive('maxStowBytes must be positive').optional(),
});
export type DicomwebSettings = z.infer<typeof dicomwebSettingsSchema>;

export const webSchema = z.strictObject({
  host: hostSchema,
  port: portSchema,
  /**
   * HTTPS on `port` with `<data>/tls/server.pem` and its key (`pacs tls init`); plain HTTP
   * is then off (no redirect port: a redirect would invite scripts to send their Basic
   * credentials in clear text first). Default false.
   */
  tls: z.boolean({ error: 'tls must be true or false' }).optional(),
  dicomweb: dicomwebSettingsSchema.optional(),
});

/** A plug-in's name: the path segment of its routes (`/api/plugins/NAME`) and its key on the Status page. */
export const PLUGIN_NAME = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * An add-in (docs/plugins.md): an ES module the server imports at start, with the options
 * handed to its factory. `module` is a path (absolute, or relative to the data directory)
 * or a package name.
 */
export const pluginEntrySchema = z.strictObject({
  module: z
    .string({ error: 'module is required' })
    .min(1, 'module is required')
    .max(1024, 'module may be at most 1024 characters')
    .refine((m) => ![...m].some((c) => c.charCodeAt(0) < 0x20), 'module must not contain control characters'),
  /** Overrides the name the module declares (to load one module twice). */
  name: z.string().regex(PLUGIN_NAME, 'a plug-in name is 1-32 lower-case letters, digits and hyphens, starting with a letter').optional(),
  /** Handed to the plug-in's factory as is (it validates them). */
  options: z.record(z.string(), z.unknown()).default({}),
  /** How long each call into it may take (load, events, requests) before it counts as failed. Default 10. */
  timeoutSeconds: z.number().positive('timeoutSeconds must be positive').max(600, 'timeoutSeconds may be at most 600').optional(),
  /** false: listed but not loaded. Default true. */
  enabled: z.boolean().default(true),
});

export const registrySchema = z
  .strictObject({
    schemaVersion: z.literal(1),
    /** Incremented by every change. */
    revision: z.number().int().nonnegative(),
    web: webSchema,
    /** Limits and timeouts (limits.ts); absent fields take their defaults. */
    limits: limitsSchema.optional(),
    devices: z.array(deviceSchema),
    /** Add-ins loaded at start, in this order (docs/plugins.md). */
    plugins: z.array(pluginEntrySchema).optional(),
  })
  .superRefine((reg, ctx) => {
    (reg.plugins ?? []).forEach((p, i) => {
      if (p.name !== undefined && (reg.plugins ?? []).findIndex((o) => o.name === p.name) !== i) {
        ctx.addIssue({ code: 'custom', path: ['plugins', i, 'name'], message: `plug-in name "${p.name}" is used twice` });
      }
    });
    const titles = new Map<string, string>();
    const ports = new Map<number, string>([[reg.web.port, 'the web server']]);
    reg.devices.forEach((d, di) => {
      if (reg.devices.findIndex((o) => o.name === d.name) !== di) {
        ctx.addIssue({ code: 'custom', path: ['devices', di, 'name'], message: `device name "${d.name}" is used twice` });
      }
      d.aes.forEach((ae, ai) => {
        const path = ['devices', di, 'aes', ai];
        if (titles.has(ae.aeTitle)) {
          ctx.addIssue({ code: 'custom', path: [...path, 'aeTitle'], message: `AE title "${ae.aeTitle}" is already registered` });
        }
        titles.set(ae.aeTitle, d.name);
        if (isServerRole(ae.role)) {
          if (!d.local) ctx.addIssue({ code: 'custom', path: [...path, 'role'], message: `role "${ae.role}" belongs to the local device` });
          if (ae.connection.port === undefined) {
            ctx.addIssue({ code: 'custom', path: [...path, 'connection', 'port'], message: `the ${ae.role} role needs a port to listen on` });
          } else if (ports.has(ae.connection.port)) {
            ctx.addIssue({
              code: 'custom',
              path: [...path, 'connection', 'port'],
              message: `port ${ae.connection.port} is already used by ${ports.get(ae.connection.port)}`,
            });
          } else ports.set(ae.connection.port, `${ae.aeTitle} (${ae.role})`);
          if (d.aes.filter((o) => o.role === ae.role).length > 1 && d.aes.findIndex((o) => o.role === ae.role) !== ai) {
            ctx.addIssue({ code: 'custom', path: [...path, 'role'], message: `there is already a ${ae.role} role` });
          }
        } else if (ae.moveDestination && ae.connection.port === undefined) {
          ctx.addIssue({ code: 'custom', path: [...path, 'connection', 'port'], message: 'a move destination needs a port' });
        }
        if (ae.checkHost === true && isWildcardHost(ae.connection.host)) {
          ctx.addIssue({
            code: 'custom',
            path: [...path, 'checkHost'],
            message: `an AE registered with host ${ae.connection.host} (any address) cannot be bound to its host; give its address or host name, or turn checkHost off`,
          });
        }
        if (!isServerRole(ae.role) && ae.policy) {
          ctx.addIssue({ code: 'custom', path: [...path, 'policy'], message: 'only a server role (main, workstation, router) has an access policy' });
        }
      });
    });
  });

export type Connection = z.infer<typeof connectionSchema>;
export type AccessPolicy = z.infer<typeof accessPolicySchema>;
export type Ae = z.infer<typeof aeSchema>;
export type AeInput = z.input<typeof aeSchema>;
export type Device = z.infer<typeof deviceSchema>;
export type Registry = z.infer<typeof registrySchema>;
export type PluginEntry = z.infer<typeof pluginEntrySchema>;
