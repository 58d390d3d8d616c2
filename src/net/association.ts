// The association driver: one socket, its timers and the pure PS3.8 state machine.
// Every PDU received, primitive issued and timer expiry goes through `dispatch`, which
// looks up (event, state) in the transition table and performs the named action.
// Nothing a peer sends throws out of here: every failure becomes an A-ABORT or a close.
import { EventEmitter } from 'node:events';
import type * as net from 'node:net';
import * as tls from 'node:tls';
import { ArtimTimer } from './artim-timer.js';
import {
  AssociationAbortedError,
  AssociationRejectedError,
  ConnectError,
  ConnectionClosedError,
  InvalidStateError,
  NetError,
  PduDecodeError,
  ProtocolError,
} from './errors.js';
import { AbortReason, AbortSource, Reject } from './reasons.js';
import type { AssociateAc, AssociateRj, AssociateRq, Pdu, Pdv, RoleSelection, UserIdentityRq, AsyncOpsWindow } from './pdu.js';
import { decodePDataTfParts, decodePduBody, encodePDataTfHeader, encodePdu } from './pdu-codec.js';
import { PduFramer } from './pdu-framer.js';
import { transition, type Action, type Event, type State } from './state-machine.js';

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

/** How the acceptor side answers the A-ASSOCIATE indication. */
export interface AcceptorHooks {
  /** AE-6: undefined when the A-ASSOCIATE-RQ is acceptable by the service-provider, else the rejection. */
  check(rq: AssociateRq): RejectParams | undefined;
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
}

interface EventArg {
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

/** When the peer announces no limit, we still send P-DATA-TF PDUs of at most this size. */
const UNLIMITED_FRAGMENT = 1024 * 1024;
/** P-DATA pieces below this size are coalesced into an arena of ARENA_SIZE bytes (see writeFrames). */
const ARENA_PIECE = 2048;
const ARENA_SIZE = 64 * 1024;

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

  private _state: State = 'Sta1';
  private socket: net.Socket | undefined;
  private readonly framer: PduFramer;
  private readonly artim: ArtimTimer;
  private readonly idle: ArtimTimer;
  private readonly responseTimer: ArtimTimer;
  private paused = false;
  /** Reading held until the requestor's caller has had a chance to add listeners. */
  private hold = false;
  private readingStopped = false;
  /** The socket is corked until the next tick (DT-1). */
  private corked = false;
  /** Small P-DATA pieces are copied into this arena; [arenaFrom, arenaLength) is not written yet. */
  private arena: Buffer | undefined;
  private arenaFrom = 0;
  private arenaLength = 0;
  private sendChain: Promise<void> = Promise.resolve();
  /** sendPdv calls not finished (see writesPending). */
  private sendsQueued = 0;
  private closeInfo: ClosedInfo | undefined;
  private closedEmitted = false;
  private transportError: Error | undefined;
  private pendingConnect: { resolve: (a: Association) => void; reject: (e: Error) => void; open: () => net.Socket; timer?: ArtimTimer } | undefined;
  private pendingRelease: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private hooks: AcceptorHooks | undefined;

  constructor(private readonly opts: AssociationOptions) {
    super();
    this.isRequestor = opts.isRequestor;
    this.framer = new PduFramer({ maxPduLength: opts.maxPduLength, maxAssociatePduLength: opts.maxAssociatePduLength });
    this.artim = new ArtimTimer(opts.artimTimeoutMs, () => this.dispatch('Evt18'));
    this.idle = new ArtimTimer(opts.idleTimeoutMs ?? 0, () => this.onIdleTimeout());
    this.responseTimer = new ArtimTimer(opts.artimTimeoutMs, () => this.onResponseTimeout());
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
      const max = this.peerMaxPduLength > 0 ? Math.max(1, this.peerMaxPduLength - 6) : UNLIMITED_FRAGMENT;
      // All P-DATA-TF PDUs of one call are one P-DATA request (Evt9 -> DT-1/AR-7) written in one
      // corked burst: a 512 KB data set to a peer taking 16 KB PDUs is 32 PDUs, and a write plus
      // a wait for 'drain' per PDU cost more than the bytes (a writev per PDU, an event-loop
      // turn each). Memory stays bounded by the caller's buffer, which is already in memory.
      const frames: Buffer[] = [];
      let off = 0;
      do {
        const n = Math.min(max, data.length - off);
        const last = off + n >= data.length;
        frames.push(encodePDataTfHeader(contextId, isCommand, isLast && last, n), off === 0 && last ? data : data.subarray(off, off + n));
        off += n;
      } while (off < data.length);
      this.localPrimitive('Evt9', { frames });
      // The socket's own flag, not the last write's result: small pieces wait in the arena
      // until the next tick, and a 'drain' that already happened will not come again.
      if (this.socket?.writableNeedDrain) await this.waitDrain();
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
    return this.sendsQueued > 0 || this.corked || this.arenaLength > this.arenaFrom || !s || s.destroyed || s.writableLength > 0;
  }

  private waitDrain(): Promise<void> {
    const socket = this.socket;
    if (!socket || socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
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

  /** @internal Requestor: A-ASSOCIATE request (Evt1); `open` creates the transport connection. */
  requestAssociation(rq: AssociateRq, open: () => net.Socket, connectTimeoutMs: number): Promise<Association> {
    this.request = rq;
    return new Promise((resolve, reject) => {
      this.pendingConnect = { resolve, reject, open };
      if (connectTimeoutMs > 0) {
        this.pendingConnect.timer = new ArtimTimer(connectTimeoutMs, () => {
          if (this._state !== 'Sta4') return;
          this.failConnect(new ConnectError(`connection to ${this.peerAddress}:${this.peerPort} timed out after ${connectTimeoutMs} ms`));
          this.dispatch('Evt15', { abort: { source: AbortSource.ServiceUser, reason: AbortReason.NotSpecified } });
        });
      }
      this.dispatch('Evt1');
    });
  }

  private attach(socket: net.Socket): void {
    this.socket = socket;
    if (socket.remoteAddress) {
      this.peerAddress = socket.remoteAddress;
      this.peerPort = socket.remotePort ?? 0;
    }
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => {
      this.transportError ??= err;
    });
    socket.on('close', () => this.onTransportClosed());
  }

  private onData(chunk: Buffer): void {
    if (this.readingStopped) return;
    this.framer.push(chunk);
    this.drainFramer();
  }

  private drainFramer(): void {
    while (!this.paused && !this.hold && !this.readingStopped) {
      let framed;
      try {
        framed = this.framer.nextParts();
      } catch (err) {
        // The byte stream cannot be framed any more: stop reading, abort.
        this.readingStopped = true;
        const e = err instanceof ProtocolError ? err : new ProtocolError(String(err), AbortReason.NotSpecified);
        this.dispatch('Evt19', { abortReason: e.abortReason, error: e });
        return;
      }
      if (!framed) return;
      this.idle.refresh();
      let pdu: Pdu;
      try {
        // P-DATA values stay in the socket's chunks (no copy); other PDUs are small.
        const { typeCode, parts } = framed;
        pdu = typeCode === 0x04 ? decodePDataTfParts(parts) : decodePduBody(typeCode, parts.length === 1 ? parts[0] : Buffer.concat(parts));
      } catch (err) {
        const e = err instanceof PduDecodeError ? err : new PduDecodeError(String(err), AbortReason.NotSpecified);
        this.dispatch('Evt19', { abortReason: e.abortReason, error: e });
        continue;
      }
      const event = pduEvent(pdu);
      // AE-6 branches on whether the service-provider can accept the request at all.
      const rj = event === 'Evt6' && this._state === 'Sta2' ? this.hooks?.check(pdu as AssociateRq) : undefined;
      this.dispatch(event, { pdu, rj });
    }
  }

  private onTransportClosed(): void {
    this.readingStopped = true;
    if (this._state !== 'Sta1') this.dispatch('Evt17');
    this.finish();
  }

  private onIdleTimeout(): void {
    if (this._state !== 'Sta6' || this.paused) return;
    this.setCloseInfo({ reason: 'error', abort: { source: AbortSource.ServiceProvider, reason: AbortReason.NotSpecified }, error: new NetError(`no PDU for ${this.opts.idleTimeoutMs} ms: association aborted`) });
    this.dispatch('Evt15', { abort: { source: AbortSource.ServiceProvider, reason: AbortReason.NotSpecified } });
  }

  private onResponseTimeout(): void {
    const what = this._state === 'Sta5' ? 'A-ASSOCIATE-AC/RJ' : 'A-RELEASE-RP';
    if (!transition(this._state, 'Evt15').valid) return;
    const err = new AssociationAbortedError(AbortSource.ServiceUser, AbortReason.NotSpecified, `no ${what} within ${this.opts.artimTimeoutMs} ms: association aborted`);
    this.setCloseInfo({ reason: 'error', abort: { source: AbortSource.ServiceUser, reason: AbortReason.NotSpecified }, error: err });
    this.failConnect(err);
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
      this.perform(t.action, from, arg);
    } catch (err) {
      // Only a bug can get here; keep the process alive and drop the connection.
      this.setCloseInfo({ reason: 'error', error: err instanceof Error ? err : new Error(String(err)) });
      this.socket?.destroy();
    }
  }

  private perform(action: Action, from: State, arg: EventArg): void {
    switch (action) {
      case 'AE-1':
        this.openTransport();
        return;
      case 'AE-2':
        this.pendingConnect?.timer?.stop();
        this.send(encodePdu(this.request!));
        this.responseTimer.start();
        return;
      case 'AE-3': {
        this.responseTimer.stop();
        const ac = arg.pdu as AssociateAc;
        this.applyNegotiation(this.request!, ac);
        this.idle.start();
        const pc = this.pendingConnect;
        this.pendingConnect = undefined;
        pc?.timer?.stop();
        // Hold PDUs that came with the A-ASSOCIATE-AC until the caller's await has resumed.
        this.hold = true;
        this.socket?.pause();
        pc?.resolve(this);
        setImmediate(() => {
          this.hold = false;
          if (this.paused) return;
          this.drainFramer();
          if (!this.paused) this.socket?.resume();
        });
        return;
      }
      case 'AE-4': {
        this.responseTimer.stop();
        const rj = arg.pdu as AssociateRj;
        const err = new AssociationRejectedError(rj.result, rj.source, rj.reason);
        this.setCloseInfo({ reason: 'error', error: err });
        this.failConnect(err);
        this.socket?.destroy();
        return;
      }
      case 'AE-5':
        this.artim.start();
        return;
      case 'AE-6': {
        this.artim.stop();
        const rq = arg.pdu as AssociateRq;
        this.request = rq;
        if (arg.rj) {
          this.sendReject(arg.rj);
          return;
        }
        this.askUser(rq);
        return;
      }
      case 'AE-7':
        this.acceptance = arg.ac!;
        this.send(encodePdu(arg.ac!));
        this.applyNegotiation(this.request!, arg.ac!);
        this.idle.start();
        this.userCall(() => this.hooks?.established(this));
        return;
      case 'AE-8':
        this.sendReject(arg.rj!);
        return;
      case 'DT-1':
      case 'AR-7': {
        const socket = this.socket!;
        this.writeFrames(arg.frames!);
        this.idle.refresh();
        return;
      }
      case 'DT-2':
      case 'AR-6': {
        const pdvs = (arg.pdu as { pdvs: Pdv[] }).pdvs;
        for (const pdv of pdvs) {
          if (!this.contexts.has(pdv.contextId)) {
            this.protocolError(new ProtocolError(`PDV for presentation context ${pdv.contextId}, which was not accepted`, AbortReason.InvalidPduParameterValue));
            return;
          }
        }
        this.userCall(() => this.emit('pdv', pdvs));
        return;
      }
      case 'AR-1':
        this.send(encodePdu({ type: 'A-RELEASE-RQ' }));
        this.responseTimer.start();
        return;
      case 'AR-2':
        this.idle.stop();
        this.userCall(() => this.emit('release'));
        this.dispatch('Evt14'); // the release response is automatic
        return;
      case 'AR-3': {
        this.responseTimer.stop();
        this.setCloseInfo({ reason: 'released' });
        const pr = this.pendingRelease;
        this.pendingRelease = undefined;
        pr?.resolve();
        this.socket?.destroy();
        return;
      }
      case 'AR-4':
        this.idle.stop();
        this.setCloseInfo({ reason: 'released' });
        this.send(encodePdu({ type: 'A-RELEASE-RP' }));
        this.artim.start();
        return;
      case 'AR-5':
        this.artim.stop();
        this.socket?.destroy();
        return;
      case 'AR-8':
        this.userCall(() => this.emit('release'));
        if (this.isRequestor) this.dispatch('Evt14'); // Sta9: answer the collision
        return;
      case 'AR-9':
        this.send(encodePdu({ type: 'A-RELEASE-RP' }));
        return;
      case 'AR-10': {
        this.responseTimer.stop();
        const pr = this.pendingRelease;
        this.pendingRelease = undefined;
        pr?.resolve();
        this.dispatch('Evt14');
        return;
      }
      case 'AA-1': {
        // Local A-ABORT request, or an unexpected PDU in Sta2 (then the provider aborts).
        const abort = arg.abort ?? { source: AbortSource.ServiceProvider, reason: arg.abortReason ?? AbortReason.UnexpectedPdu };
        if (!arg.abort) this.setCloseInfo({ reason: 'aborted', abort, error: arg.error ?? unexpected(arg.pdu, from) });
        this.sendAbort(abort);
        return;
      }
      case 'AA-2':
        this.artim.stop();
        this.socket?.destroy();
        return;
      case 'AA-3': {
        const a = arg.pdu as { source: number; reason: number };
        const abort = { source: a.source, reason: a.reason };
        this.setCloseInfo({ reason: 'aborted', abort });
        this.failConnect(new AssociationAbortedError(a.source, a.reason));
        if (from !== 'Sta5') this.userCall(() => this.emit('abort', abort));
        this.socket?.destroy();
        return;
      }
      case 'AA-4':
        this.setCloseInfo({ reason: 'error', error: new ConnectionClosedError('transport connection closed by the peer without release or abort', { cause: this.transportError }) });
        if (from === 'Sta4') this.failConnect(new ConnectError(`cannot connect to ${this.peerAddress}:${this.peerPort}: ${this.transportError?.message ?? 'connection closed'}`, { cause: this.transportError }));
        return;
      case 'AA-5':
        this.artim.stop();
        return;
      case 'AA-6':
        return;
      case 'AA-7':
        this.sendAbort({ source: AbortSource.ServiceProvider, reason: arg.abortReason ?? AbortReason.UnexpectedPdu });
        return;
      case 'AA-8': {
        const abort = { source: AbortSource.ServiceProvider, reason: arg.abortReason ?? AbortReason.UnexpectedPdu };
        const error = arg.error ?? unexpected(arg.pdu, from);
        this.setCloseInfo({ reason: 'aborted', abort, error });
        this.sendAbort(abort);
        this.failConnect(new AssociationAbortedError(AbortSource.ServiceProvider, abort.reason, error.message));
        if (from !== 'Sta5' && from !== 'Sta3') this.userCall(() => this.emit('abort', abort));
        return;
      }
    }
  }

  private openTransport(): void {
    const pc = this.pendingConnect!;
    let socket: net.Socket;
    try {
      socket = pc.open();
    } catch (err) {
      this._state = 'Sta1';
      this.failConnect(new ConnectError(`cannot open the transport connection: ${(err as Error).message}`, { cause: err }));
      return;
    }
    this.attach(socket);
    pc.timer?.start();
    socket.once(socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect', () => {
      this.peerAddress = socket.remoteAddress ?? this.peerAddress;
      this.peerPort = socket.remotePort ?? this.peerPort;
      this.dispatch('Evt2');
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

  private protocolError(err: ProtocolError): void {
    // Re-enter the state machine as an invalid PDU (Evt19 -> AA-8 in the established states).
    this.dispatch('Evt19', { abortReason: err.abortReason, error: err });
  }

  /**
   * DT-1 / AR-7: writes P-DATA-TF PDUs (header, value, header, value, ...). Everything
   * written in one turn of the event loop (a C-FIND's Pending responses, a command and its
   * data set, the 32 PDUs of a 512 KB data set to a peer taking 16 KB PDUs) leaves in one
   * writev at the next tick: a syscall per PDU cost ~20 us each here. Pieces smaller than
   * ARENA_PIECE are copied into an arena first, so a burst of small responses is a few
   * large buffers rather than four iovecs per response (the kernel's cost per iovec on a
   * TCP socket was most of a C-FIND's send time). Larger pieces are written as they are.
   */
  private writeFrames(frames: Buffer[]): void {
    const socket = this.socket!;
    if (!this.corked) {
      this.corked = true;
      socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.flushArena();
        socket.uncork();
      });
    }
    for (const f of frames) {
      if (f.length >= ARENA_PIECE) {
        this.flushArena();
        socket.write(f);
        continue;
      }
      if (!this.arena || this.arenaLength + f.length > this.arena.length) {
        this.flushArena();
        this.arena = Buffer.allocUnsafe(ARENA_SIZE);
        this.arenaFrom = 0;
        this.arenaLength = 0;
      }
      f.copy(this.arena, this.arenaLength);
      this.arenaLength += f.length;
    }
  }

  /** Writes what the arena holds that is not written yet (the region stays untouched after). */
  private flushArena(): void {
    if (!this.arena || this.arenaLength === this.arenaFrom) return;
    const chunk = this.arena.subarray(this.arenaFrom, this.arenaLength);
    this.arenaFrom = this.arenaLength;
    const s = this.socket;
    if (s && !s.destroyed && s.writable) s.write(chunk);
  }

  private send(buf: Buffer): void {
    this.flushArena(); // P-DATA written earlier in this turn goes first
    const s = this.socket;
    if (s && !s.destroyed && s.writable) {
      s.write(buf);
      this.idle.refresh();
    }
  }

  private sendReject(rj: RejectParams): void {
    this.setCloseInfo({ reason: 'error', error: new AssociationRejectedError(rj.result, rj.source, rj.reason) });
    this.send(encodePdu({ type: 'A-ASSOCIATE-RJ', ...rj }));
    this.artim.start();
    this.socket?.end();
  }

  private sendAbort(abort: AbortInfo): void {
    this.idle.stop();
    this.responseTimer.stop();
    this.send(encodePdu({ type: 'A-ABORT', source: abort.source as 0 | 2, reason: abort.reason }));
    this.artim.start();
    this.socket?.end();
  }

  /** Run user code (listeners, callbacks); an exception aborts this association only. */
  private userCall(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.setCloseInfo({ reason: 'error', abort: { source: AbortSource.ServiceUser, reason: AbortReason.NotSpecified }, error: err instanceof Error ? err : new Error(String(err)) });
      this.abort();
    }
  }

  private setCloseInfo(info: ClosedInfo): void {
    this.closeInfo ??= info;
  }

  private failConnect(err: Error): void {
    const pc = this.pendingConnect;
    this.pendingConnect = undefined;
    pc?.timer?.stop();
    pc?.reject(err);
  }

  private closedError(): Error {
    const info = this.closeInfo;
    if (info?.error) return info.error;
    if (info?.abort) return new AssociationAbortedError(info.abort.source, info.abort.reason);
    return new ConnectionClosedError(info?.reason === 'released' ? 'association released' : 'association closed');
  }

  private finish(): void {
    if (this.closedEmitted) return;
    this.closedEmitted = true;
    this._state = 'Sta1';
    this.artim.stop();
    this.idle.stop();
    this.responseTimer.stop();
    if (!this.closeInfo) this.setCloseInfo({ reason: 'error', error: new ConnectionClosedError('transport connection closed', { cause: this.transportError }) });
    const err = this.closedError();
    this.failConnect(err instanceof ConnectionClosedError && this.transportError ? new ConnectError(err.message, { cause: this.transportError }) : err);
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

function unexpected(pdu: Pdu | undefined, state: State): Error {
  return new ProtocolError(`unexpected ${pdu?.type ?? 'PDU'} in state ${state}`, AbortReason.UnexpectedPdu);
}
