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
  /**
   * A peer that answers C-FIND and C-MOVE (a PACS, not a plain storage SCP): offered as a
   * query target in the web app. Our own roles' capability follows from the role
   * (api-types answersQueries); set only on peers with a port.
   */
  queryRetrieve: z.boolean().optional(),
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

/**
 * Prefetch of priors into the Workstation Server: when a worklist step is scheduled, or a
 * study of a patient arrives at the Workstation, the patient's most recent other studies
 * are queried at `source` and moved into the Workstation. Off unless `enabled`.
 */
export const prefetchSchema = z.strictObject({
  enabled: z.boolean({ error: 'enabled must be true or false' }),
  /** The AE queried and moved from (a registered AE with a port); default the Main Server. */
  source: aeTitleSchema.optional(),
  /** How many prior studies per patient, newest first (default 3). */
  priors: z.number().int('priors must be an integer').min(1, 'priors must be at least 1').max(50, 'priors may be at most 50').optional(),
  /** Only priors with one of these modalities in the study (ModalitiesInStudy); default any. */
  modalities: z
    .array(z.string().regex(/^[A-Z0-9_]{1,16}$/, 'a modality is 1-16 upper-case letters, digits or underscores'))
    .max(32)
    .optional(),
  /** Prefetch when a worklist step is scheduled on the Main Server (default true). */
  onWorklist: z.boolean().optional(),
  /** Prefetch when a study arrives at the Workstation Server (default true). */
  onArrival: z.boolean().optional(),
});
export type PrefetchSettings = z.infer<typeof prefetchSchema>;

/**
 * The HL7 v2 intake of the Main Server (an MLLP listener; README "HL7 intake"). Off unless
 * `enabled`: whoever reaches the port can schedule and cancel procedure steps and merge
 * patients, so it is turned on on purpose, best with `allowedHosts` (the RIS and HIS).
 */
export const hl7Schema = z.strictObject({
  enabled: z.boolean({ error: 'enabled must be true or false' }).default(false),
  host: hostSchema.default('0.0.0.0'),
  /** 2575 is the port IANA registered for HL7 over MLLP. */
  port: portSchema.default(2575),
  /** IP addresses that may connect (others are closed at once). Absent: any. */
  allowedHosts: z
    .array(z.string().refine((v) => isIP(v) !== 0, 'an allowed host is an IP address'))
    .max(256, 'at most 256 allowed hosts')
    .optional(),
  /** Largest message (MLLP frame), bytes; a larger one is answered AR and dropped. Default 1 MiB. */
  maxMessageBytes: z
    .number()
    .int('maxMessageBytes must be an integer')
    .min(1024, 'maxMessageBytes is at least 1024')
    .max(64 * 1024 * 1024, 'maxMessageBytes is at most 64 MiB')
    .default(1024 * 1024),
  /** A connection that sends nothing for this long is closed. Default 300 s. */
  idleTimeoutSeconds: z.number().int('idleTimeoutSeconds must be an integer').min(1, 'idleTimeoutSeconds is at least 1').default(300),
  /** Connections at once; more are closed at once. Default 16. */
  maxConnections: z
    .number()
    .int('maxConnections must be an integer')
    .min(1, 'maxConnections is at least 1')
    .max(1024, 'maxConnections is at most 1024')
    .default(16),
});
export type Hl7Settings = z.infer<typeof hl7Schema>;

/**
 * The audit record repository (IHE ATNA, PS3.15 A.5): where the DICOM audit messages go,
 * as syslog (RFC 5424) over UDP (RFC 5426) or TLS (RFC 5425). With TLS the repository's
 * certificate is checked against the local CA (`<data>/tls/ca.pem`) and names `host`
 * unless `tlsVerifyHost` is false, and our client certificate (`<data>/tls/client.pem`)
 * is presented when there is one, as for a DICOM peer marked TLS (tls-client.ts); `tlsCa`,
 * `tlsCert` and `tlsKey` name other PEM files instead.
 */
export const auditRepositorySchema = z.strictObject({
  host: hostSchema,
  port: portSchema,
  protocol: z.enum(['udp', 'tls'], { error: 'protocol must be udp or tls' }),
  tlsVerifyHost: z.boolean({ error: 'tlsVerifyHost must be true or false' }).optional(),
  tlsCa: z.string().min(1, 'tlsCa must name a PEM file').optional(),
  tlsCert: z.string().min(1, 'tlsCert must name a PEM file').optional(),
  tlsKey: z.string().min(1, 'tlsKey must name a PEM file').optional(),
  /** AuditEnterpriseSiteID of every message (the hospital); default none. */
  siteId: z.string().min(1).max(64, 'siteId may be at most 64 characters').optional(),
  /** Messages kept while the repository is unreachable (oldest dropped beyond); default 10000. */
  maxQueued: z
    .number()
    .int('maxQueued must be an integer')
    .min(1, 'maxQueued must be at least 1')
    .max(1_000_000, 'maxQueued may be at most 1000000')
    .optional(),
});
export type AuditRepository = z.infer<typeof auditRepositorySchema>;

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
    /** HL7 v2 intake (MLLP); absent: off. */
    hl7: hl7Schema.optional(),
    /** Limits and timeouts (limits.ts); absent fields take their defaults. */
    limits: limitsSchema.optional(),
    prefetch: prefetchSchema.optional(),
    /** Where the audit trail goes (IHE ATNA); absent: no audit messages are made. */
    audit: auditRepositorySchema.optional(),
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
    if (reg.hl7?.enabled) {
      if (ports.has(reg.hl7.port)) ctx.addIssue({ code: 'custom', path: ['hl7', 'port'], message: `port ${reg.hl7.port} is already used by the web server` });
      else ports.set(reg.hl7.port, 'the HL7 listener');
    }
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
        if (ae.queryRetrieve && ae.role !== 'peer')
          ctx.addIssue({
            code: 'custom',
            path: [...path, 'queryRetrieve'],
            message: `queryRetrieve is for peers: what the ${ae.role} role answers follows from the role`,
          });
        else if (ae.queryRetrieve && ae.connection.port === undefined)
          ctx.addIssue({ code: 'custom', path: [...path, 'queryRetrieve'], message: 'a query/retrieve peer needs a port to be called on' });
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
