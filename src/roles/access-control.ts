/**
 * Access control at the DICOM level, from the AE registry.
 *
 * Two checks, at two moments:
 * 1. Association: the called AE title must be the role's (else A-ASSOCIATE-RJ reason 7);
 *    a calling AE title in the registry gets the permissions of its entry, if it calls
 *    from where it is bound (its host with `checkHost`; our own AEs from loopback only),
 *    else it is refused with reason 3; an unknown one gets the role policy's
 *    `unknownCallers` permissions (echo, store by default), or, in strict mode, is
 *    refused with reason 3. Each proposed presentation context whose SOP class needs a
 *    permission the caller lacks is refused (result 1, user rejection).
 * 2. Request: every DIMSE request is checked again against the permission its command
 *    needs on that SOP class (a C-STORE on a context accepted for C-GET, say); a request
 *    not allowed is answered 0x0124 Refused: Not Authorized.
 */
import type { Logger } from 'pino';
import { findAe, isWildcardHost, serverAe, type AeEntry, type Permission, type Registry, type ServerRole } from '../config/index.js';
import { CommandField } from '../dimse/command-fields.js';
import { Status } from '../dicom/status.js';
import { DimseServiceError } from '../dimse/errors.js';
import { ServiceRegistry, type DimseRequestContext, type RequestHandler, type ServiceClassProvider, type StreamingHandler } from '../dimse/service.js';
import { isStorageSopClass, uidName } from '../dicom/uids.js';
import { HostResolver, isLoopbackAddress, normalizeAddress } from './host-addresses.js';

const VERIFICATION = '1.2.840.10008.1.1';
const STORAGE_COMMITMENT_PUSH = '1.2.840.10008.1.20.1';
const MPPS = '1.2.840.10008.3.1.2.3.3';
const MODALITY_WORKLIST_FIND = '1.2.840.10008.5.1.4.31';

/** The permission a SOP class needs (by its PS3.6 name); undefined: none beyond being admitted. */
export function requiredPermission(sopClassUid: string, commandField?: number): Permission | undefined {
  if (sopClassUid === VERIFICATION) return 'echo';
  if (sopClassUid === MODALITY_WORKLIST_FIND) return 'worklist';
  if (sopClassUid === MPPS) return 'mpps';
  if (sopClassUid === STORAGE_COMMITMENT_PUSH) return 'commit';
  if (isStorageSopClass(sopClassUid)) return commandField === undefined || commandField === CommandField.C_STORE_RQ ? 'store' : undefined;
  const name = uidName(sopClassUid) ?? '';
  if (/- FIND$/.test(name)) return 'find';
  if (/- MOVE$/.test(name)) return 'move';
  if (/- GET$/.test(name)) return 'get';
  return undefined;
}

/** What an admitted caller may do. */
export interface Admission {
  callingAeTitle: string;
  /** The registry entry of the caller; undefined for an unknown caller admitted by policy. */
  entry?: AeEntry;
  permissions: ReadonlySet<Permission>;
}

export type AdmissionResult = { admitted: Admission } | { refused: 'called-ae' | 'calling-ae'; message: string };

/** The access decisions of one server role, always against the registry's current revision. */
export interface AccessControl {
  /** The role's AE title right now (it can be renamed while running). */
  calledAeTitle(): string;
  /** Whether `calling`, calling `called` from `peerAddress`, is admitted and with which permissions. */
  admit(callingAeTitle: string, calledAeTitle: string, peerAddress: string): Promise<AdmissionResult>;
}

/**
 * Where a registered calling AE may call from: anywhere; its host's addresses; or, for our
 * own AEs, loopback (plus their own specific host: roles listening on one address call
 * each other from it).
 */
export type HostBinding = { kind: 'any' } | { kind: 'host'; host: string } | { kind: 'loopback'; host?: string };

export function hostBinding(entry: AeEntry): HostBinding {
  const host = entry.connection.host;
  if (entry.checkHost === false) return { kind: 'any' };
  if (entry.checkHost === true && !isWildcardHost(host)) return { kind: 'host', host };
  // Our own AEs (the client titles printed in the README, the roles calling each other)
  // call from this machine; anyone can claim their titles, so nowhere else unless configured.
  if (entry.local) return isWildcardHost(host) || isLoopbackAddress(host) || host === 'localhost' ? { kind: 'loopback' } : { kind: 'loopback', host };
  return { kind: 'any' };
}

/** Whether the binding needs `host` resolved to judge a caller at `peerAddress`. */
function needsAddresses(binding: HostBinding | undefined, peerAddress: string): binding is { kind: 'host' | 'loopback'; host: string } {
  if (binding?.kind === 'host') return true;
  return binding?.kind === 'loopback' && binding.host !== undefined && !isLoopbackAddress(peerAddress);
}

/**
 * The admission decision, pure: `hostAddresses` are the addresses the caller's bound host
 * resolved to (an Error when it could not be), needed for a binding of kind 'host', and
 * for one of kind 'loopback' with a host when the caller is not on loopback.
 */
export function decideAdmission(
  reg: Registry,
  role: ServerRole,
  claim: { calling: string; called: string; peerAddress: string },
  hostAddresses?: readonly string[] | Error,
): AdmissionResult {
  const self = serverAe(reg, role);
  if (!self) throw new Error(`the registry has no ${role} role`);
  const calling = claim.calling.trim();
  const from = normalizeAddress(claim.peerAddress);
  if (claim.called.trim() !== self.aeTitle) return { refused: 'called-ae', message: `called AE title "${claim.called.trim()}" is not ${self.aeTitle}` };
  const policy = self.policy ?? { strict: false, unknownCallers: [] };
  const entry = findAe(reg, calling);
  if (entry) {
    const binding = policy.checkCallerHosts === false ? ({ kind: 'any' } as const) : hostBinding(entry);
    if (binding.kind === 'loopback' && !isLoopbackAddress(from)) {
      const own = binding.host !== undefined && Array.isArray(hostAddresses) && hostAddresses.includes(from);
      if (!own) {
        const where = binding.host === undefined ? 'loopback only' : `loopback and ${binding.host} only`;
        return {
          refused: 'calling-ae',
          message: `calling AE title "${calling}" is one of this PACS's own AEs, accepted from ${where}; refused from ${claim.peerAddress}`,
        };
      }
    }
    if (binding.kind === 'host') {
      if (hostAddresses instanceof Error || hostAddresses === undefined) {
        const why = hostAddresses instanceof Error ? ((hostAddresses as NodeJS.ErrnoException).code ?? hostAddresses.message) : 'not resolved';
        return {
          refused: 'calling-ae',
          message: `calling AE title "${calling}" is bound to host ${binding.host}, which could not be resolved (${why}); refused from ${claim.peerAddress}`,
        };
      }
      if (!hostAddresses.includes(from)) {
        return {
          refused: 'calling-ae',
          message: `calling AE title "${calling}" is bound to host ${binding.host} (${hostAddresses.join(', ')}); refused from ${claim.peerAddress}`,
        };
      }
    }
    return { admitted: { callingAeTitle: entry.aeTitle, entry, permissions: new Set(entry.permissions) } };
  }
  if (policy.strict) return { refused: 'calling-ae', message: `calling AE title "${calling}" is not registered (strict mode)` };
  return { admitted: { callingAeTitle: calling, permissions: new Set(policy.unknownCallers) } };
}

/** Host names of bound AEs, resolved at admission; shared by the roles of the process. */
const sharedResolver = new HostResolver();

export function registryAccessControl(role: ServerRole, registry: () => Registry, resolver: HostResolver = sharedResolver): AccessControl {
  return {
    calledAeTitle() {
      const ae = serverAe(registry(), role);
      if (!ae) throw new Error(`the registry has no ${role} role`);
      return ae.aeTitle;
    },
    async admit(calling, called, peerAddress) {
      // One revision for the whole decision, even if the registry changes during the lookup.
      const reg = registry();
      const entry = findAe(reg, calling);
      const binding = entry && serverAe(reg, role)?.policy?.checkCallerHosts !== false ? hostBinding(entry) : undefined;
      let addresses: readonly string[] | Error | undefined;
      if (needsAddresses(binding, peerAddress)) addresses = await resolver.addresses(binding.host).catch((err: Error) => err);
      return decideAdmission(reg, role, { calling, called, peerAddress }, addresses);
    },
  };
}

/**
 * Whether a proposed presentation context is allowed. Storage contexts are also allowed
 * to a caller that may C-GET (they carry the C-STOREs back to it); the C-STOREs the
 * caller itself sends are still checked per request.
 */
export function contextAllowed(admission: Admission, abstractSyntax: string): boolean {
  const need = requiredPermission(abstractSyntax);
  if (!need) return true;
  if (need === 'store' && admission.permissions.has('get')) return true;
  return admission.permissions.has(need);
}

/** A registered move destination with a port, or undefined (C-MOVE to anything else is refused). */
export function moveDestination(reg: Registry, aeTitle: string): AeEntry | undefined {
  const ae = findAe(reg, aeTitle);
  return ae && ae.moveDestination && ae.connection.port !== undefined ? ae : undefined;
}

function notAuthorized(ctx: DimseRequestContext, need: Permission, admission: Admission, log: Pick<Logger, 'warn'>): DimseServiceError {
  const peer = ctx.association.peerAddress;
  log.warn({ peer, calling: admission.callingAeTitle, permission: need, sopClass: ctx.abstractSyntax }, 'request refused: not authorized');
  return new DimseServiceError(Status.NotAuthorized, `${admission.callingAeTitle} may not ${need} here`);
}

/**
 * The service registry as one association sees it: the same services, each handler
 * first checking the caller's permission for its command on its SOP class.
 */
export function guardedRegistry(registry: ServiceRegistry, admission: Admission, log: Pick<Logger, 'warn'>): ServiceRegistry {
  const cache = new Map<ServiceClassProvider, ServiceClassProvider>();
  const wrap = (service: ServiceClassProvider): ServiceClassProvider => {
    let w = cache.get(service);
    if (w) return w;
    const check = (ctx: DimseRequestContext) => {
      const need = requiredPermission(ctx.abstractSyntax, ctx.command.commandField);
      if (need && !admission.permissions.has(need)) throw notAuthorized(ctx, need, admission, log);
    };
    const handlers: Partial<Record<number, RequestHandler>> = {};
    for (const [k, h] of Object.entries(service.handlers ?? {})) {
      if (h) handlers[Number(k)] = async (ctx, ds) => (check(ctx), h(ctx, ds));
    }
    const streamingHandlers: Partial<Record<number, StreamingHandler>> = {};
    for (const [k, h] of Object.entries(service.streamingHandlers ?? {})) {
      if (h) streamingHandlers[Number(k)] = (ctx) => (check(ctx), h(ctx));
    }
    w = { ...service, handlers, streamingHandlers, acceptsTransferSyntax: service.acceptsTransferSyntax?.bind(service) };
    cache.set(service, w);
    return w;
  };
  const guarded = Object.create(registry) as ServiceRegistry;
  guarded.lookup = (uid: string) => {
    const s = registry.lookup(uid);
    return s && wrap(s);
  };
  return guarded;
}
