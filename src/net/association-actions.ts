// The PS3.8 actions (AE-1 ... AA-8) as a table beside the transition table: ACTIONS in
// state-machine.ts says what each action is and which state it leads to, PERFORM here
// does it to one association through the driver's primitives (ActionDriver, implemented
// by association.ts). The driver moves to the table's next state before it performs the
// action; no action sets the state itself. An action that needs a follow-up (the
// automatic A-RELEASE response after AR-2, an A-ABORT for a PDV on a context that was
// not accepted) dispatches that event, which goes through the table like any other.
import type { ArtimTimer } from './artim-timer.js';
import type { AbortInfo, ClosedInfo, RejectParams } from './association-types.js';
import { AssociationAbortedError, AssociationRejectedError, ConnectError, ConnectionClosedError, ProtocolError } from './errors.js';
import { AbortReason, AbortSource } from './reasons.js';
import type { AssociateAc, AssociateRj, AssociateRq, Pdu, Pdv } from './pdu.js';
import type { Action, Event, State } from './state-machine.js';

/** What comes with an event into the action it leads to. */
export interface EventArg {
  pdu?: Pdu;
  /** Evt19 / protocol errors: the A-ABORT reason to send. */
  abortReason?: number;
  error?: Error;
  /** Evt15: the A-ABORT to send. */
  abort?: AbortInfo;
  /** Evt6 in Sta2: the service-provider rejection, if any. */
  rj?: RejectParams;
  /** Evt7 / Evt8. */
  ac?: AssociateAc;
  /** Evt9: the P-DATA-TF PDUs to write, as header, value, header, value, ... */
  frames?: Buffer[];
}

/** The association as its actions see it: the driver's timers, transport and local user. */
/** The association's own public fields that the actions read or set. */
export interface AssociationView {
  readonly isRequestor: boolean;
  /** The A-ASSOCIATE-RQ sent (requestor) or received (acceptor: set by AE-6). */
  request: AssociateRq | undefined;
  readonly peerAddress: string;
  readonly peerPort: number;
}

/** The association as its actions see it: the driver's timers, transport and local user. */
export interface ActionDriver {
  readonly assoc: AssociationView;
  /** The transport's error, if it reported one. */
  transportError(): Error | undefined;
  /** The ARTIM timer of PS3.8 (Sta2, Sta13). */
  readonly artim: ArtimTimer;
  /** The wait for A-ASSOCIATE-AC/RJ and A-RELEASE-RP. */
  readonly responseTimer: ArtimTimer;
  /** No PDU on an established association for this long -> A-ABORT. */
  readonly idle: ArtimTimer;

  /** Feed an event into the state machine (nested: after this action's own work). */
  dispatch(event: Event, arg?: EventArg): void;
  /** Write a PDU other than P-DATA-TF. */
  send(pdu: Pdu): void;
  /** Write P-DATA-TF PDUs (coalesced until the next tick). */
  writeFrames(frames: Buffer[]): void;
  /** Requestor: open the transport connection; Evt2 when connected, Evt17 when it cannot be. */
  openTransport(): void;
  /** Half-close after our last PDU; the peer closes, or the ARTIM timer does. */
  endTransport(): void;
  /** Close the transport connection now. */
  closeTransport(): void;
  /** How the association ended; the first call wins. */
  setCloseInfo(info: ClosedInfo): void;

  /** Requestor: the transport is connected, the connect timeout no longer applies. */
  stopConnectTimer(): void;
  /** Requestor: A-ASSOCIATE confirmation (accept) to the caller. */
  confirmConnect(): void;
  /** Requestor: A-ASSOCIATE confirmation (reject), abort or failure to the caller; a no-op once settled. */
  failConnect(err: Error): void;
  /** A-RELEASE confirmation to the caller of release(). */
  confirmRelease(): void;

  /** Record the negotiated presentation contexts, PDU length and user information. */
  applyNegotiation(ac: AssociateAc): void;
  hasContext(contextId: number): boolean;
  // Indications to the association's listeners; a listener that throws aborts the association.
  /** P-DATA indication: the PDVs of one P-DATA-TF PDU. */
  indicatePData(pdvs: Pdv[]): void;
  /** A-RELEASE indication. */
  indicateRelease(): void;
  /** A-ABORT or A-P-ABORT indication. */
  indicateAbort(abort: AbortInfo): void;
  /** Acceptor: the A-ASSOCIATE indication to the local user, answered later as Evt7 / Evt8. */
  askUser(rq: AssociateRq): void;
  /** Acceptor: tell the local user the association is established. */
  established(): void;
}

type Perform = (d: ActionDriver, arg: EventArg, from: State) => void;

/** Each action of PS3.8 Table 9-9, keyed as ACTIONS in state-machine.ts. */
export const PERFORM: { readonly [A in Action]: Perform } = {
  'AE-1': (d) => d.openTransport(),
  'AE-2': (d) => {
    d.stopConnectTimer();
    d.send(d.assoc.request!);
    d.responseTimer.start();
  },
  'AE-3': (d, arg) => {
    d.responseTimer.stop();
    d.applyNegotiation(arg.pdu as AssociateAc);
    d.idle.start();
    d.confirmConnect();
  },
  'AE-4': (d, arg) => {
    d.responseTimer.stop();
    const rj = arg.pdu as AssociateRj;
    const err = new AssociationRejectedError(rj.result, rj.source, rj.reason);
    d.setCloseInfo({ reason: 'error', error: err });
    d.failConnect(err);
    d.closeTransport();
  },
  'AE-5': (d) => d.artim.start(),
  'AE-6': (d, arg) => {
    d.artim.stop();
    const rq = arg.pdu as AssociateRq;
    d.assoc.request = rq;
    if (arg.rj) sendReject(d, arg.rj);
    else d.askUser(rq);
  },
  'AE-7': (d, arg) => {
    d.send(arg.ac!);
    d.applyNegotiation(arg.ac!);
    d.idle.start();
    d.established();
  },
  'AE-8': (d, arg) => sendReject(d, arg.rj!),
  'DT-1': sendPData,
  'DT-2': indicatePData,
  'AR-1': (d) => {
    d.send({ type: 'A-RELEASE-RQ' });
    d.responseTimer.start();
  },
  'AR-2': (d) => {
    d.idle.stop();
    d.indicateRelease();
    d.dispatch('Evt14'); // the release response is automatic
  },
  'AR-3': (d) => {
    d.responseTimer.stop();
    d.setCloseInfo({ reason: 'released' });
    d.confirmRelease();
    d.closeTransport();
  },
  'AR-4': (d) => {
    d.idle.stop();
    d.setCloseInfo({ reason: 'released' });
    d.send({ type: 'A-RELEASE-RP' });
    d.artim.start();
  },
  'AR-5': (d) => {
    d.artim.stop();
    d.closeTransport();
  },
  'AR-6': indicatePData,
  'AR-7': sendPData,
  'AR-8': (d) => {
    d.indicateRelease();
    if (d.assoc.isRequestor) d.dispatch('Evt14'); // Sta9: answer the collision
  },
  'AR-9': (d) => d.send({ type: 'A-RELEASE-RP' }),
  'AR-10': (d) => {
    d.responseTimer.stop();
    d.confirmRelease();
    d.dispatch('Evt14');
  },
  'AA-1': (d, arg, from) => {
    // Local A-ABORT request, or an unexpected PDU in Sta2 (then the provider aborts).
    const abort = arg.abort ?? { source: AbortSource.ServiceProvider, reason: arg.abortReason ?? AbortReason.UnexpectedPdu };
    if (!arg.abort) d.setCloseInfo({ reason: 'aborted', abort, error: arg.error ?? unexpected(arg.pdu, from) });
    sendAbort(d, abort);
  },
  'AA-2': (d) => {
    d.artim.stop();
    d.closeTransport();
  },
  'AA-3': (d, arg, from) => {
    const a = arg.pdu as { source: number; reason: number };
    const abort = { source: a.source, reason: a.reason };
    d.setCloseInfo({ reason: 'aborted', abort });
    d.failConnect(new AssociationAbortedError(a.source, a.reason));
    if (from !== 'Sta5') d.indicateAbort(abort);
    d.closeTransport();
  },
  'AA-4': (d, _arg, from) => {
    const cause = d.transportError();
    d.setCloseInfo({ reason: 'error', error: new ConnectionClosedError('transport connection closed by the peer without release or abort', { cause }) });
    if (from === 'Sta4')
      d.failConnect(new ConnectError(`cannot connect to ${d.assoc.peerAddress}:${d.assoc.peerPort}: ${cause?.message ?? 'connection closed'}`, { cause }));
  },
  'AA-5': (d) => d.artim.stop(),
  'AA-6': () => undefined,
  'AA-7': (d, arg) => sendAbort(d, { source: AbortSource.ServiceProvider, reason: arg.abortReason ?? AbortReason.UnexpectedPdu }),
  'AA-8': (d, arg, from) => {
    const abort = { source: AbortSource.ServiceProvider, reason: arg.abortReason ?? AbortReason.UnexpectedPdu };
    const error = arg.error ?? unexpected(arg.pdu, from);
    d.setCloseInfo({ reason: 'aborted', abort, error });
    sendAbort(d, abort);
    d.failConnect(new AssociationAbortedError(AbortSource.ServiceProvider, abort.reason, error.message));
    if (from !== 'Sta5' && from !== 'Sta3') d.indicateAbort(abort);
  },
};

/** DT-1 / AR-7. */
function sendPData(d: ActionDriver, arg: EventArg): void {
  d.writeFrames(arg.frames!);
  d.idle.refresh();
}

/** DT-2 / AR-6: a PDV on a context that was not accepted is an invalid PDU (Evt19). */
function indicatePData(d: ActionDriver, arg: EventArg): void {
  const pdvs = (arg.pdu as { pdvs: Pdv[] }).pdvs;
  for (const pdv of pdvs) {
    if (!d.hasContext(pdv.contextId)) {
      const err = new ProtocolError(`PDV for presentation context ${pdv.contextId}, which was not accepted`, AbortReason.InvalidPduParameterValue);
      d.dispatch('Evt19', { abortReason: err.abortReason, error: err });
      return;
    }
  }
  d.indicatePData(pdvs);
}

/** AE-6 (not acceptable) / AE-8: A-ASSOCIATE-RJ, then wait for the peer to close. */
function sendReject(d: ActionDriver, rj: RejectParams): void {
  d.setCloseInfo({ reason: 'error', error: new AssociationRejectedError(rj.result, rj.source, rj.reason) });
  d.send({ type: 'A-ASSOCIATE-RJ', ...rj });
  d.artim.start();
  d.endTransport();
}

/** AA-1 / AA-7 / AA-8: A-ABORT, then wait for the peer to close. */
function sendAbort(d: ActionDriver, abort: AbortInfo): void {
  d.idle.stop();
  d.responseTimer.stop();
  d.send({ type: 'A-ABORT', source: abort.source as 0 | 2, reason: abort.reason });
  d.artim.start();
  d.endTransport();
}

function unexpected(pdu: Pdu | undefined, state: State): Error {
  return new ProtocolError(`unexpected ${pdu?.type ?? 'PDU'} in state ${state}`, AbortReason.UnexpectedPdu);
}
