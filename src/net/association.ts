// The association driver: one socket, its timers and the pure PS3.8 state machine.
// Every PDU received, primitive issued and timer expiry goes through `dispatch`, which
// looks up (event, state) in the transition table, moves to the next state and performs
// the action from the action table (association-actions.ts). Only `dispatch` changes the
// state. Nothing a peer sends throws out of here: every failure becomes an A-ABORT or a close.
import { EventEmitter } from 'node:events';
import type * as net from 'node:net';
import { ArtimTimer } from './artim-timer.js';
import { PERFORM, type ActionDriver, type EventArg } from './association-actions.js';
import type { AcceptedContext, AssociationEventMap, ClosedInfo, RejectParams } from './association-types.js';
import { ConnectRequest } from './connect-request.js';
import { AssociationAbortedError, ConnectError, ConnectionClosedError, InvalidStateError, NetError, PduDecodeError, ProtocolError } from './errors.js';
import { AbortReason, AbortSource, Reject } from './reasons.js';
import type { AssociateAc, AssociateRq, Pdu, RoleSelection, UserIdentityRq, AsyncOpsWindow } from './pdu.js';
import { decodePduBody, encodePdu } from './pdu-codec.js';
import { PduFramer } from './pdu-framer.js';
import { PDataWriter, pdataFrames } from './pdata-writer.js';
import { adoptReceiveBuffer } from './receive-buffer.js';
import { transition, type Event, type State } from './state-machine.js';

export type { AcceptedContext, AbortInfo, AssociationEventMap, ClosedInfo, RejectParams } from './association-types.js';

/** How the acceptor side answers the A-ASSOCIATE indication. */
export interface AcceptorHooks {
  /** AE-6: undefined when the A-ASSOCIATE-RQ is acceptable by the service-provider, else the rejection. */
  check(rq: AssociateRq, assoc: Association): RejectParams | undefined;
  /** The A-ASSOCIATE indication: resolves to the A-ASSOCIATE-AC to send or a rejection. */
  indication(rq: AssociateRq, assoc: Association): Promise<{ ac: AssociateAc } | { reject: RejectParams }>;
  /** Called once the association is established (after AE-7). */
  established(assoc: Association): void;
}

export interface AssociationOptions {
  isRequestor: boolean;
  /** Largest P-DATA-TF PDU we accept (and announce). */
  maxPduLength: number;
  /** Largest A-ASSOCIATE-RQ/AC PDU we accept. Default 1 MiB. */
  maxAssociatePduLength?: number;
  /** ARTIM timer, also the wait for A-ASSOCIATE-AC and A-RELEASE-RP. */
  artimTimeoutMs: number;
  /** No PDU sent or received for this long on an established association -> A-ABORT. 0 = none. */
  idleTimeoutMs?: number;
  /**
   * Acceptor: read the connection into this buffer (receive-buffer.ts) instead of a new
   * buffer per read; the PDV data of 'pdv' events is then valid only during the event. One
   * buffer can serve every connection: reads are handled one at a time, and nothing keeps a
   * view of it past its read. Absent: Node's 'data' events. (A requestor's socket is given
   * its buffer by net.connect's `onread`: requestor.ts.)
   */
  receiveBuffer?: Buffer;
}

const ESTABLISHED: ReadonlySet<State> = new Set(['Sta6', 'Sta7', 'Sta8', 'Sta9', 'Sta10', 'Sta11', 'Sta12']);

export class Association extends EventEmitter<AssociationEventMap> {
  readonly isRequestor: boolean;
  /** Current PS3.8 state. */
  get state(): State {
    return this._state;
  }
  /** The A-ASSOCIATE-RQ (sent or received). */
  request: AssociateRq | undefined;
  /** The A-ASSOCIATE-AC (sent or received), once established. */
  acceptance: AssociateAc | undefined;
  /** Accepted presentation contexts by id. */
  readonly contexts = new Map<number, AcceptedContext>();
  /** Max PDU length the peer accepts (0 = unlimited). */
  peerMaxPduLength = 0;
  roleSelections: RoleSelection[] = [];
  asyncOps: AsyncOpsWindow | undefined;
  userIdentityResponse: Buffer | undefined;
  /** The peer's IP address and port. */
  peerAddress = '';
  peerPort = 0;

  /** Written by dispatch only. */
  private _state: State = 'Sta1';
  private socket: net.Socket | undefined;
  private writer: PDataWriter | undefined;
  private readonly framer: PduFramer;
  private readonly artim: ArtimTimer;
  private readonly idle: ArtimTimer;
  private readonly responseTimer: ArtimTimer;
  private paused = false;
  /** Reading held until the requestor's caller has had a chance to add listeners. */
  private hold = false;
  private readingStopped = false;
  private sendChain: Promise<void> = Promise.resolve();
  /** sendPdv calls not finished (see writesPending). */
  private sendsQueued = 0;
  private closeInfo: ClosedInfo | undefined;
  private closedEmitted = false;
  private transportError: Error | undefined;
  private connectRequest: ConnectRequest<Association> | undefined;
  private pendingRelease: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private hooks: AcceptorHooks | undefined;
  /** What the actions of association-actions.ts may do to this association. */
  private readonly driver: ActionDriver;

  constructor(private readonly opts: AssociationOptions) {
    super();
    this.isRequestor = opts.isRequestor;
    this.framer = new PduFramer({ maxPduLength: opts.maxPduLength, maxAssociatePduLength: opts.maxAssociatePduLength });
    this.artim = new ArtimTimer(opts.artimTimeoutMs, () => this.dispatch('Evt18'));
    this.idle = new ArtimTimer(opts.idleTimeoutMs ?? 0, () => this.onIdleTimeout());
    this.responseTimer = new ArtimTimer(opts.artimTimeoutMs, () => this.onResponseTimeout());
    this.driver = this.actionDriver();
  }

  /** Largest P-DATA-TF PDU this side accepts (announced in its A-ASSOCIATE-RQ/AC). */
  get maxPduLength(): number {
    return this.opts.maxPduLength;
  }

  get callingAeTitle(): string {
    return this.request?.callingAeTitle ?? '';
  }
  get calledAeTitle(): string {
    return this.request?.calledAeTitle ?? '';
  }
  get userIdentity(): UserIdentityRq | undefined {
    return this.request?.userInformation.userIdentity;
  }
  /** Implementation class UID / version name of the peer. */
  get peerImplementation(): { classUid?: string; versionName?: string } {
    const ui = (this.isRequestor ? this.acceptance : this.request)?.userInformation;
    return { classUid: ui?.implementationClassUid, versionName: ui?.implementationVersionName };
  }
  get isEstablished(): boolean {
    return ESTABLISHED.has(this._state);
  }

  // ---------------------------------------------------------------- local primitives

  /**
   * Send one message fragment stream: `data` is split into P-DATA-TF PDUs no larger than
   * the peer's maximum length; the last one carries `isLast`. Resolves when the socket
   * has accepted the bytes (waits for 'drain'). Calls are serialized. `data` must not be
   * modified until the promise resolves.
   */
  sendPdv(contextId: number, isCommand: boolean, data: Buffer, isLast: boolean): Promise<void> {
    this.sendsQueued++;
    const p = this.sendChain.then(() => this.doSendPdv(contextId, isCommand, data, isLast));
    this.sendChain = p.catch(() => undefined);
    return p;
  }

  private async doSendPdv(contextId: number, isCommand: boolean, data: Buffer, isLast: boolean): Promise<void> {
    try {
      if (!this.contexts.has(contextId)) throw new NetError(`presentation context ${contextId} was not accepted`);
      // All P-DATA-TF PDUs of one call are one P-DATA request (Evt9 -> DT-1/AR-7) written in one
      // corked burst: a 512 KB data set to a peer taking 16 KB PDUs is 32 PDUs, and a write plus
      // a wait for 'drain' per PDU cost more than the bytes (a writev per PDU, an event-loop
      // turn each). Memory stays bounded by the caller's buffer, which is already in memory.
      this.localPrimitive('Evt9', { frames: pdataFrames(contextId, isCommand, data, isLast, this.peerMaxPduLength) });
      if (this.writer?.needsDrain) await this.writer.drained();
    } finally {
      this.sendsQueued--;
    }
  }

  /**
   * Whether bytes given to sendPdv may still be read from their Buffers: a call not yet
   * written (calls wait for the ones before them), corked or in the arena until the next
   * tick, or queued in the socket (its writableLength drops only when a write has
   * completed into the kernel). A destroyed or absent socket counts as pending:
   * what it holds is not known, and a caller that reuses buffers loses only a reuse.
   */
  get writesPending(): boolean {
    const s = this.socket;
    return this.sendsQueued > 0 || this.writer?.holding === true || !s || s.destroyed || s.writableLength > 0;
  }

  /** A-RELEASE request: sends A-RELEASE-RQ after pending sends, resolves on A-RELEASE-RP. */
  async release(): Promise<void> {
    await this.sendChain;
    return new Promise<void>((resolve, reject) => {
      const t = transition(this._state, 'Evt11');
      if (!t.valid) {
        reject(this.closedEmitted ? this.closedError() : new InvalidStateError(this._state, 'Evt11', `A-RELEASE request is not valid in state ${this._state}`));
        return;
      }
      this.pendingRelease = { resolve, reject };
      this.dispatch('Evt11');
    });
  }

  /** A-ABORT request (source 0 service-user by default). A no-op when no association exists. */
  abort(source: number = AbortSource.ServiceUser, reason: number = AbortReason.NotSpecified): void {
    if (!transition(this._state, 'Evt15').valid) return;
    this.setCloseInfo({ reason: 'aborted', abort: { source, reason } });
    this.dispatch('Evt15', { abort: { source, reason } });
  }

  /** Stop reading from the peer (TCP backpressure) until resumeReading(). */
  pauseReading(): void {
    this.paused = true;
    this.socket?.pause();
    this.idle.stop();
  }

  resumeReading(): void {
    if (!this.paused) return;
    this.paused = false;
    this.drainFramer();
    if (!this.paused) {
      this.socket?.resume();
      if (this._state === 'Sta6') this.idle.start();
    }
  }

  // ---------------------------------------------------------------- wiring (internal)

  /** @internal Drop the transport connection without any PDU (server shutdown). */
  destroy(): void {
    this.socket?.destroy();
  }

  /** @internal Acceptor: adopt an accepted transport connection (Evt5). */
  acceptTransport(socket: net.Socket, hooks: AcceptorHooks): void {
    this.hooks = hooks;
    this.attach(socket);
    this.dispatch('Evt5');
  }

  /** @internal Requestor: the bytes of one read into a reused buffer (net.connect's `onread`), valid only during the call. */
  receiveRead(bytes: Buffer): void {
    this.onData(bytes, true);
  }

  /** @internal Requestor: A-ASSOCIATE request (Evt1); `open` creates the transport connection. */
  requestAssociation(rq: AssociateRq, open: () => net.Socket, connectTimeoutMs: number): Promise<Association> {
    this.request = rq;
    const cr = new ConnectRequest<Association>(open, connectTimeoutMs, () => {
      if (this._state !== 'Sta4') return;
      cr.fail(new ConnectError(`connection to ${this.peerAddress}:${this.peerPort} timed out after ${connectTimeoutMs} ms`));
      this.dispatch('Evt15', { abort: { source: AbortSource.ServiceUser, reason: AbortReason.NotSpecified } });
    });
    this.connectRequest = cr;
    this.dispatch('Evt1');
    return cr.promise;
  }

  private attach(socket: net.Socket): void {
    this.socket = socket;
    this.writer = new PDataWriter(socket);
    if (socket.remoteAddress) {
      this.peerAddress = socket.remoteAddress;
      this.peerPort = socket.remotePort ?? 0;
    }
    socket.setNoDelay(true);
    const shared = this.opts.receiveBuffer;
    if (shared) adoptReceiveBuffer(socket, shared, (bytes) => this.onData(bytes, true));
    // Never called where the buffer was adopted; kept as well, so that a Node whose socket
    // internals differ (receive-buffer.ts) loses speed, not data.
    socket.on('data', (chunk: Buffer) => this.onData(chunk, false));
    socket.on('error', (err) => {
      this.transportError ??= err;
    });
    socket.on('close', () => this.onTransportClosed());
  }

  /** AE-1: Evt2 once connected; Evt17 (Sta4 -> AA-4 -> Sta1) when it cannot be opened at all. */
  private openTransport(): void {
    const cr = this.connectRequest!;
    let socket: net.Socket;
    try {
      socket = cr.openTransport((s) => {
        this.peerAddress = s.remoteAddress ?? this.peerAddress;
        this.peerPort = s.remotePort ?? this.peerPort;
        this.dispatch('Evt2');
      });
    } catch (err) {
      cr.fail(err as Error);
      this.dispatch('Evt17');
      return;
    }
    this.attach(socket);
  }

  /** `transient`: the chunk is the reused receive buffer; what the framer keeps of it is copied. */
  private onData(chunk: Buffer, transient: boolean): void {
    if (this.readingStopped) return;
    this.framer.push(chunk);
    this.drainFramer();
    if (transient) this.framer.ownLastChunk();
  }

  private drainFramer(): void {
    while (!this.paused && !this.hold && !this.readingStopped) {
      let framed;
      try {
        framed = this.framer.nextData();
      } catch (err) {
        // The byte stream cannot be framed any more: stop reading, abort.
        this.readingStopped = true;
        const e = err instanceof ProtocolError || err instanceof PduDecodeError ? err : new ProtocolError(String(err), AbortReason.NotSpecified);
        this.dispatch('Evt19', { abortReason: e.abortReason, error: e });
        return;
      }
      if (!framed) return;
      this.idle.refresh();
      let pdu: Pdu;
      if (framed.kind === 'pdata') {
        // The PDV data as it arrived: views of the socket's chunks ('pdv' listeners copy what they keep).
        pdu = { type: 'P-DATA-TF', pdvs: framed.pdvs };
      } else {
        try {
          // Copied: what a PDU other than P-DATA-TF decodes to may be kept.
          pdu = decodePduBody(framed.typeCode, Buffer.from(framed.body));
        } catch (err) {
          const e = err instanceof PduDecodeError ? err : new PduDecodeError(String(err), AbortReason.NotSpecified);
          this.dispatch('Evt19', { abortReason: e.abortReason, error: e });
          continue;
        }
      }
      const event = pduEvent(pdu);
      // AE-6 branches on whether the service-provider can accept the request at all.
      const rj = event === 'Evt6' && this._state === 'Sta2' ? this.hooks?.check(pdu as AssociateRq, this) : undefined;
      this.dispatch(event, { pdu, rj });
    }
  }

  private onTransportClosed(): void {
    this.readingStopped = true;
    // Evt17 leads to Sta1 from every state but Sta1 (Table 9-10).
    if (this._state !== 'Sta1') this.dispatch('Evt17');
    this.finish();
  }

  private onIdleTimeout(): void {
    if (this._state !== 'Sta6' || this.paused) return;
    this.setCloseInfo({
      reason: 'error',
      abort: { source: AbortSource.ServiceProvider, reason: AbortReason.NotSpecified },
      error: new NetError(`no PDU for ${this.opts.idleTimeoutMs} ms: association aborted`),
    });
    this.dispatch('Evt15', { abort: { source: AbortSource.ServiceProvider, reason: AbortReason.NotSpecified } });
  }

  private onResponseTimeout(): void {
    const what = this._state === 'Sta5' ? 'A-ASSOCIATE-AC/RJ' : 'A-RELEASE-RP';
    if (!transition(this._state, 'Evt15').valid) return;
    const err = new AssociationAbortedError(
      AbortSource.ServiceUser,
      AbortReason.NotSpecified,
      `no ${what} within ${this.opts.artimTimeoutMs} ms: association aborted`,
    );
    this.setCloseInfo({ reason: 'error', abort: { source: AbortSource.ServiceUser, reason: AbortReason.NotSpecified }, error: err });
    this.connectRequest?.fail(err);
    this.dispatch('Evt15', { abort: { source: AbortSource.ServiceUser, reason: AbortReason.NotSpecified } });
  }

  // ---------------------------------------------------------------- the state machine

  /** A local-user primitive: throws InvalidStateError when the table has no cell for it. */
  private localPrimitive(event: Event, arg: EventArg): void {
    if (!transition(this._state, event).valid) {
      if (this.closedEmitted || this._state === 'Sta13') throw this.closedError();
      throw new InvalidStateError(this._state, event);
    }
    this.dispatch(event, arg);
  }

  private dispatch(event: Event, arg: EventArg = {}): void {
    const t = transition(this._state, event, { isRequestor: this.isRequestor, rqAcceptable: arg.rj === undefined });
    if (!t.valid) return; // stale timer or transport indication
    const from = this._state;
    this._state = t.next;
    try {
      PERFORM[t.action](this.driver, arg, from);
    } catch (err) {
      // Only a bug can get here; keep the process alive and drop the connection.
      this.setCloseInfo({ reason: 'error', error: err instanceof Error ? err : new Error(String(err)) });
      this.socket?.destroy();
    }
  }

  /** The primitives the actions work with, bound to this association. */
  private actionDriver(): ActionDriver {
    return {
      assoc: this,
      transportError: () => this.transportError,
      artim: this.artim,
      responseTimer: this.responseTimer,
      idle: this.idle,
      dispatch: (event, arg) => this.dispatch(event, arg),
      send: (pdu) => this.send(pdu),
      writeFrames: (frames) => this.writer!.write(frames),
      openTransport: () => this.openTransport(),
      endTransport: () => this.socket?.end(),
      closeTransport: () => this.socket?.destroy(),
      setCloseInfo: (info) => this.setCloseInfo(info),
      stopConnectTimer: () => this.connectRequest?.stopTimer(),
      confirmConnect: () => this.confirmConnect(),
      failConnect: (err) => this.connectRequest?.fail(err),
      confirmRelease: () => {
        const pr = this.pendingRelease;
        this.pendingRelease = undefined;
        pr?.resolve();
      },
      applyNegotiation: (ac) => this.applyNegotiation(this.request!, ac),
      hasContext: (id) => this.contexts.has(id),
      indicatePData: (pdvs) => this.userCall(() => this.emit('pdv', pdvs)),
      indicateRelease: () => this.userCall(() => this.emit('release')),
      indicateAbort: (abort) => this.userCall(() => this.emit('abort', abort)),
      askUser: (rq) => this.askUser(rq),
      established: () => this.userCall(() => this.hooks?.established(this)),
    };
  }

  /** AE-3: the caller's connect resolves; PDUs that came with the A-ASSOCIATE-AC wait until its await has resumed. */
  private confirmConnect(): void {
    this.hold = true;
    this.socket?.pause();
    this.connectRequest?.succeed(this);
    setImmediate(() => {
      this.hold = false;
      if (this.paused) return;
      this.drainFramer();
      if (!this.paused) this.socket?.resume();
    });
  }

  /** Sta3: ask the local user (the acceptor's callback) and feed the answer back as Evt7/Evt8. */
  private askUser(rq: AssociateRq): void {
    const hooks = this.hooks!;
    let p: Promise<{ ac: AssociateAc } | { reject: RejectParams }>;
    try {
      p = hooks.indication(rq, this);
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      (answer) => {
        if (this._state !== 'Sta3') return;
        if ('ac' in answer) this.dispatch('Evt7', { ac: answer.ac });
        else this.dispatch('Evt8', { rj: answer.reject });
      },
      (err) => {
        if (this._state !== 'Sta3') return;
        this.setCloseInfo({ reason: 'error', error: err instanceof Error ? err : new Error(String(err)) });
        this.dispatch('Evt8', { rj: Reject.TransientNoReasonGiven });
      },
    );
  }

  private applyNegotiation(rq: AssociateRq, ac: AssociateAc): void {
    this.acceptance = ac;
    const proposed = new Map(rq.presentationContexts.map((pc) => [pc.id, pc]));
    for (const pc of ac.presentationContexts) {
      const p = proposed.get(pc.id);
      if (pc.result === 0 && p) this.contexts.set(pc.id, { id: pc.id, abstractSyntax: p.abstractSyntax, transferSyntax: pc.transferSyntax });
    }
    this.peerMaxPduLength = (this.isRequestor ? ac : rq).userInformation.maxPduLength ?? 0;
    this.roleSelections = ac.userInformation.roleSelections;
    this.asyncOps = ac.userInformation.asyncOps;
    this.userIdentityResponse = ac.userInformation.userIdentityResponse;
  }

  private send(pdu: Pdu): void {
    const buf = encodePdu(pdu);
    // P-DATA written earlier in this turn goes first.
    if (this.writer?.writePdu(buf)) this.idle.refresh();
  }

  /** Run user code (listeners, callbacks); an exception aborts this association only. */
  private userCall(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.setCloseInfo({
        reason: 'error',
        abort: { source: AbortSource.ServiceUser, reason: AbortReason.NotSpecified },
        error: err instanceof Error ? err : new Error(String(err)),
      });
      this.abort();
    }
  }

  private setCloseInfo(info: ClosedInfo): void {
    this.closeInfo ??= info;
  }

  private closedError(): Error {
    const info = this.closeInfo;
    if (info?.error) return info.error;
    if (info?.abort) return new AssociationAbortedError(info.abort.source, info.abort.reason);
    return new ConnectionClosedError(info?.reason === 'released' ? 'association released' : 'association closed');
  }

  /** The transport is closed (and the state machine in Sta1): settle what waits, emit 'closed' once. */
  private finish(): void {
    if (this.closedEmitted) return;
    this.closedEmitted = true;
    this.artim.stop();
    this.idle.stop();
    this.responseTimer.stop();
    if (!this.closeInfo)
      this.setCloseInfo({ reason: 'error', error: new ConnectionClosedError('transport connection closed', { cause: this.transportError }) });
    const err = this.closedError();
    this.connectRequest?.fail(
      err instanceof ConnectionClosedError && this.transportError ? new ConnectError(err.message, { cause: this.transportError }) : err,
    );
    const pr = this.pendingRelease;
    this.pendingRelease = undefined;
    pr?.reject(err);
    const info = this.closeInfo!;
    try {
      this.emit('closed', info);
    } catch {
      // a failing 'closed' listener cannot be allowed to escape the socket handler
    }
  }
}

function pduEvent(pdu: Pdu): Event {
  switch (pdu.type) {
    case 'A-ASSOCIATE-RQ':
      return 'Evt6';
    case 'A-ASSOCIATE-AC':
      return 'Evt3';
    case 'A-ASSOCIATE-RJ':
      return 'Evt4';
    case 'P-DATA-TF':
      return 'Evt10';
    case 'A-RELEASE-RQ':
      return 'Evt12';
    case 'A-RELEASE-RP':
      return 'Evt13';
    case 'A-ABORT':
      return 'Evt16';
  }
}
