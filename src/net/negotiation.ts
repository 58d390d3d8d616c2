// Presentation context and role selection negotiation (PS3.8 9.3.2.2, PS3.7 D.3.3.4),
// as plain functions the acceptor's callback can use.
import type { PresentationContextAc, PresentationContextRq, RoleSelection } from './pdu.js';

/** false: not supported; true: any proposed transfer syntax; a list or a predicate: those transfer syntaxes. */
export type AbstractSyntaxSupport = boolean | { transferSyntaxes?: readonly string[] } | ((transferSyntax: string) => boolean);

export interface NegotiationOptions {
  /** Transfer syntaxes acceptable when `supported` does not list them; default: every proposed one. */
  acceptTransferSyntax?: (transferSyntax: string, abstractSyntax: string) => boolean;
}

/**
 * For each proposed context: abstract syntax not supported -> 3; no acceptable transfer
 * syntax -> 4; an even or duplicate id -> 2 (no reason); else accept the FIRST proposed
 * transfer syntax that is acceptable (the requestor's order of preference).
 */
export function negotiatePresentationContexts(
  proposed: readonly PresentationContextRq[],
  supported: (abstractSyntax: string) => AbstractSyntaxSupport,
  options: NegotiationOptions = {},
): PresentationContextAc[] {
  const seen = new Set<number>();
  return proposed.map((pc): PresentationContextAc => {
    if (pc.id % 2 === 0 || seen.has(pc.id)) return { id: pc.id, result: 2, transferSyntax: '' };
    seen.add(pc.id);
    const support = supported(pc.abstractSyntax);
    if (!support) return { id: pc.id, result: 3, transferSyntax: '' };
    const list = typeof support === 'object' ? support.transferSyntaxes : undefined;
    const ok = (ts: string) =>
      typeof support === 'function'
        ? support(ts)
        : list
          ? list.includes(ts)
          : options.acceptTransferSyntax
            ? options.acceptTransferSyntax(ts, pc.abstractSyntax)
            : true;
    const ts = pc.transferSyntaxes.find(ok);
    return ts === undefined ? { id: pc.id, result: 4, transferSyntax: '' } : { id: pc.id, result: 0, transferSyntax: ts };
  });
}

export type RoleSupport = boolean | { scu?: boolean; scp?: boolean };

/**
 * Answer SCP/SCU role selection proposals: a role is accepted only when it was proposed
 * and `allowed` permits it. Default: accept what was proposed.
 */
export function negotiateRoleSelections(proposed: readonly RoleSelection[], allowed: (sopClassUid: string) => RoleSupport = () => true): RoleSelection[] {
  return proposed.map((rs) => {
    const a = allowed(rs.sopClassUid);
    const scu = typeof a === 'object' ? (a.scu ?? false) : a;
    const scp = typeof a === 'object' ? (a.scp ?? false) : a;
    return { sopClassUid: rs.sopClassUid, scuRole: rs.scuRole && scu, scpRole: rs.scpRole && scp };
  });
}
