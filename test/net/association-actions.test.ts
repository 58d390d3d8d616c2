// The action table through its seam: a driver that records what each action asks of it,
// as test/dimse/memory-transport.ts does for DIMSE. The socket-level behaviour is in
// association.test.ts; here the order and content of what an action does, per PS3.8.
import { describe, expect, it } from 'vitest';
import { PERFORM, type ActionDriver, type AssociationView, type EventArg } from '../../src/net/association-actions.js';
import { ArtimTimer } from '../../src/net/artim-timer.js';
import { AssociationAbortedError, AssociationRejectedError, ConnectError, ProtocolError } from '../../src/net/errors.js';
import { ACTIONS, STATES, transition, type Event, type State } from '../../src/net/state-machine.js';
import type { AssociateAc, AssociateRq, Pdu } from '../../src/net/pdu.js';

class LoggedTimer extends ArtimTimer {
  constructor(
    private readonly name: string,
    private readonly log: string[],
  ) {
    super(0, () => undefined);
  }
  override start(): void {
    this.log.push(`${this.name}.start`);
  }
  override stop(): void {
    this.log.push(`${this.name}.stop`);
  }
  override refresh(): void {
    this.log.push(`${this.name}.refresh`);
  }
}

interface Recorded {
  driver: ActionDriver;
  log: string[];
  sent: Pdu[];
  closeInfo: unknown[];
  connectErrors: Error[];
  dispatched: Array<[Event, EventArg | undefined]>;
}

function recordingDriver(o: { isRequestor?: boolean; contexts?: number[]; transportError?: Error } = {}): Recorded {
  const log: string[] = [];
  const sent: Pdu[] = [];
  const closeInfo: unknown[] = [];
  const connectErrors: Error[] = [];
  const dispatched: Array<[Event, EventArg | undefined]> = [];
  const assoc: AssociationView = { isRequestor: o.isRequestor ?? false, request: undefined, peerAddress: '10.0.0.7', peerPort: 11112 };
  const driver: ActionDriver = {
    assoc,
    transportError: () => o.transportError,
    artim: new LoggedTimer('artim', log),
    responseTimer: new LoggedTimer('response', log),
    idle: new LoggedTimer('idle', log),
    dispatch: (event, arg) => {
      log.push(`dispatch ${event}`);
      dispatched.push([event, arg]);
    },
    send: (pdu) => {
      log.push(`send ${pdu.type}`);
      sent.push(pdu);
    },
    writeFrames: (frames) => log.push(`write ${frames.length} frames`),
    openTransport: () => log.push('openTransport'),
    endTransport: () => log.push('endTransport'),
    closeTransport: () => log.push('closeTransport'),
    setCloseInfo: (info) => {
      log.push(`close ${info.reason}`);
      closeInfo.push(info);
    },
    stopConnectTimer: () => log.push('stopConnectTimer'),
    confirmConnect: () => log.push('confirmConnect'),
    failConnect: (err) => {
      log.push('failConnect');
      connectErrors.push(err);
    },
    confirmRelease: () => log.push('confirmRelease'),
    applyNegotiation: () => log.push('applyNegotiation'),
    hasContext: (id) => (o.contexts ?? [1]).includes(id),
    indicatePData: (pdvs) => log.push(`indicate pdv x${pdvs.length}`),
    indicateRelease: () => log.push('indicate release'),
    indicateAbort: (abort) => log.push(`indicate abort ${abort.source}/${abort.reason}`),
    askUser: () => log.push('askUser'),
    established: () => log.push('established'),
  };
  return { driver, log, sent, closeInfo, connectErrors, dispatched };
}

const RQ: AssociateRq = {
  type: 'A-ASSOCIATE-RQ',
  protocolVersion: 1,
  calledAeTitle: 'PACS',
  callingAeTitle: 'SCU',
  applicationContextName: '1.2.840.10008.3.1.1.1',
  presentationContexts: [{ id: 1, abstractSyntax: '1.2.840.10008.1.1', transferSyntaxes: ['1.2.840.10008.1.2'] }],
  userInformation: { maxPduLength: 16384, roleSelections: [], extendedNegotiations: [], commonExtendedNegotiations: [] },
};

describe('the action table', () => {
  it('has one function for every action of the transition table, and no other', () => {
    expect(Object.keys(PERFORM).sort()).toEqual(Object.keys(ACTIONS).sort());
    for (const f of Object.values(PERFORM)) expect(typeof f).toBe('function');
  });

  it('Evt17 leads to Sta1 from every state but Sta1 (the driver relies on it when the transport closes)', () => {
    for (const state of Object.keys(STATES) as State[]) {
      const t = transition(state, 'Evt17');
      if (state === 'Sta1') expect(t.valid).toBe(false);
      else expect(t).toMatchObject({ valid: true, next: 'Sta1' });
    }
  });
});

describe('actions', () => {
  it('AE-2 stops the connect timeout, sends the A-ASSOCIATE-RQ, then waits for the answer', () => {
    const r = recordingDriver({ isRequestor: true });
    r.driver.assoc.request = RQ;
    PERFORM['AE-2'](r.driver, {}, 'Sta4');
    expect(r.log).toEqual(['stopConnectTimer', 'send A-ASSOCIATE-RQ', 'response.start']);
    expect(r.sent[0]).toBe(RQ);
  });

  it('AE-3 records the negotiation before the caller hears of it', () => {
    const r = recordingDriver({ isRequestor: true });
    PERFORM['AE-3'](r.driver, { pdu: { type: 'A-ASSOCIATE-AC' } as AssociateAc }, 'Sta5');
    expect(r.log).toEqual(['response.stop', 'applyNegotiation', 'idle.start', 'confirmConnect']);
  });

  it('AE-4 fails the connect with the rejection and closes the transport', () => {
    const r = recordingDriver({ isRequestor: true });
    PERFORM['AE-4'](r.driver, { pdu: { type: 'A-ASSOCIATE-RJ', result: 1, source: 1, reason: 3 } }, 'Sta5');
    expect(r.log).toEqual(['response.stop', 'close error', 'failConnect', 'closeTransport']);
    expect(r.connectErrors[0]).toBeInstanceOf(AssociationRejectedError);
    expect(r.connectErrors[0]).toMatchObject({ result: 1, source: 1, reason: 3 });
  });

  it('AE-6 keeps the request and asks the local user when the provider can accept it', () => {
    const r = recordingDriver();
    PERFORM['AE-6'](r.driver, { pdu: RQ }, 'Sta2');
    expect(r.driver.assoc.request).toBe(RQ);
    expect(r.log).toEqual(['artim.stop', 'askUser']);
  });

  it('AE-6 sends A-ASSOCIATE-RJ, restarts ARTIM and half-closes when the provider cannot', () => {
    const r = recordingDriver();
    PERFORM['AE-6'](r.driver, { pdu: RQ, rj: { result: 2, source: 2, reason: 2 } }, 'Sta2');
    expect(r.log).toEqual(['artim.stop', 'close error', 'send A-ASSOCIATE-RJ', 'artim.start', 'endTransport']);
    expect(r.sent[0]).toEqual({ type: 'A-ASSOCIATE-RJ', result: 2, source: 2, reason: 2 });
  });

  it('AE-7 sends the A-ASSOCIATE-AC before the local user hears the association is established', () => {
    const r = recordingDriver();
    PERFORM['AE-7'](r.driver, { ac: { type: 'A-ASSOCIATE-AC' } as AssociateAc }, 'Sta3');
    expect(r.log).toEqual(['send A-ASSOCIATE-AC', 'applyNegotiation', 'idle.start', 'established']);
  });

  it('DT-2 indicates the PDVs of accepted contexts; a PDV of another context is an invalid PDU (Evt19)', () => {
    const ok = recordingDriver({ contexts: [1, 3] });
    const pdv = (contextId: number) => ({ contextId, isCommand: true, isLast: true, data: Buffer.alloc(0) });
    PERFORM['DT-2'](ok.driver, { pdu: { type: 'P-DATA-TF', pdvs: [pdv(1), pdv(3)] } }, 'Sta6');
    expect(ok.log).toEqual(['indicate pdv x2']);

    const bad = recordingDriver({ contexts: [1] });
    PERFORM['DT-2'](bad.driver, { pdu: { type: 'P-DATA-TF', pdvs: [pdv(1), pdv(5)] } }, 'Sta6');
    expect(bad.log).toEqual(['dispatch Evt19']);
    const arg = bad.dispatched[0][1]!;
    expect(arg.abortReason).toBe(6);
    expect(arg.error).toBeInstanceOf(ProtocolError);
  });

  it('AR-2 indicates the release, then answers it (Evt14) through the table', () => {
    const r = recordingDriver();
    PERFORM['AR-2'](r.driver, {}, 'Sta6');
    expect(r.log).toEqual(['idle.stop', 'indicate release', 'dispatch Evt14']);
  });

  it('AR-8 answers a release collision itself only on the requestor side', () => {
    const requestor = recordingDriver({ isRequestor: true });
    PERFORM['AR-8'](requestor.driver, {}, 'Sta7');
    expect(requestor.log).toEqual(['indicate release', 'dispatch Evt14']);
    const acceptor = recordingDriver({ isRequestor: false });
    PERFORM['AR-8'](acceptor.driver, {}, 'Sta7');
    expect(acceptor.log).toEqual(['indicate release']);
  });

  it('AA-1 for an unexpected PDU in Sta2 aborts as the provider with unexpected-PDU', () => {
    const r = recordingDriver();
    PERFORM['AA-1'](r.driver, { pdu: { type: 'A-RELEASE-RQ' } }, 'Sta2');
    expect(r.log).toEqual(['close aborted', 'idle.stop', 'response.stop', 'send A-ABORT', 'artim.start', 'endTransport']);
    expect(r.sent[0]).toEqual({ type: 'A-ABORT', source: 2, reason: 2 });
    expect((r.closeInfo[0] as { error: Error }).error.message).toBe('unexpected A-RELEASE-RQ in state Sta2');
  });

  it('AA-1 for a local A-ABORT request sends the given source and reason', () => {
    const r = recordingDriver();
    PERFORM['AA-1'](r.driver, { abort: { source: 0, reason: 0 } }, 'Sta6');
    expect(r.sent[0]).toEqual({ type: 'A-ABORT', source: 0, reason: 0 });
    expect(r.closeInfo).toEqual([]); // the caller of abort() has recorded why
  });

  it('AA-3 tells the listeners of the peer abort except while the connect is pending (Sta5)', () => {
    const established = recordingDriver();
    PERFORM['AA-3'](established.driver, { pdu: { type: 'A-ABORT', source: 0, reason: 0 } }, 'Sta6');
    expect(established.log).toEqual(['close aborted', 'failConnect', 'indicate abort 0/0', 'closeTransport']);
    const connecting = recordingDriver({ isRequestor: true });
    PERFORM['AA-3'](connecting.driver, { pdu: { type: 'A-ABORT', source: 2, reason: 1 } }, 'Sta5');
    expect(connecting.log).toEqual(['close aborted', 'failConnect', 'closeTransport']);
    expect(connecting.connectErrors[0]).toBeInstanceOf(AssociationAbortedError);
  });

  it('AA-4 in Sta4 fails the connect with the transport error and the peer address', () => {
    const r = recordingDriver({ isRequestor: true, transportError: new Error('connect ECONNREFUSED') });
    PERFORM['AA-4'](r.driver, {}, 'Sta4');
    expect(r.connectErrors[0]).toBeInstanceOf(ConnectError);
    expect(r.connectErrors[0].message).toBe('cannot connect to 10.0.0.7:11112: connect ECONNREFUSED');
    const later = recordingDriver({ transportError: new Error('read ECONNRESET') });
    PERFORM['AA-4'](later.driver, {}, 'Sta6');
    expect(later.log).toEqual(['close error']);
  });

  it('AA-8 sends the provider A-ABORT before the A-P-ABORT indication', () => {
    const r = recordingDriver();
    const error = new ProtocolError('bad PDU', 4);
    PERFORM['AA-8'](r.driver, { abortReason: 4, error }, 'Sta6');
    expect(r.log).toEqual(['close aborted', 'idle.stop', 'response.stop', 'send A-ABORT', 'artim.start', 'endTransport', 'failConnect', 'indicate abort 2/4']);
    expect(r.sent[0]).toEqual({ type: 'A-ABORT', source: 2, reason: 4 });
    expect(r.connectErrors[0].message).toContain('bad PDU');
  });
});
