// The public shapes of an association's life: accepted contexts, how it ended, the
// events it emits. Kept apart so that the driver (association.ts) and its actions
// (association-actions.ts) share them without importing each other.
import type { AssociateRj, Pdv } from './pdu.js';

export interface AcceptedContext {
  id: number;
  abstractSyntax: string;
  transferSyntax: string;
}

export interface AbortInfo {
  source: number;
  reason: number;
}

export interface ClosedInfo {
  reason: 'released' | 'aborted' | 'error';
  abort?: AbortInfo;
  error?: Error;
}

export interface AssociationEventMap {
  /** The PDVs of one received P-DATA-TF PDU. */
  pdv: [pdvs: Pdv[]];
  /** The peer asked to release (answered automatically). */
  release: [];
  /** A-ABORT received from the peer, or a provider-initiated abort (A-P-ABORT). */
  abort: [abort: AbortInfo];
  /** The transport connection is closed; emitted once. */
  closed: [info: ClosedInfo];
}

export type RejectParams = Omit<AssociateRj, 'type'>;
