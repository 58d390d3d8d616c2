/**
 * One association seen as DIMSE messages (PS3.7): reassembles commands from PDV
 * fragments, streams data sets to handlers, matches responses to requests,
 * serializes outgoing messages so their fragments never interleave.
 */
import { EventEmitter } from 'node:events';
import { CommandField, NO_DATASET, isResponse, commandName } from './command-fields.js';
import { statusCategory } from '../dicom/status.js';
import { type CommandSet, decodeCommandSet, encodeCommandSet, hasDataset } from './command-set.js';
import { DimseProtocolError } from './errors.js';
import { AbortReason, AbortSource } from '../net/reasons.js';
import { type DatasetSink, SinkWriter } from './sink-writer.js';
import type { AcceptedContext, DimseTransport, Pdv } from './transport.js';

/** Largest command set we accept (a real one is a few hundred bytes). */
const MAX_COMMAND_BYTES = 1 << 20;
/** Largest non-streamed data set (C-FIND identifiers, N-ACTION/N-SET attributes). */
const MAX_BUFFERED_DATASET = 64 << 20;

export interface IncomingMessage {
  command: CommandSet;
  contextId: number;
  context: AcceptedContext;
}

/** How an incoming request's data set is consumed: streamed into a sink, or collected whole. */
export interface RequestDispatcher {
  /** Called when a request command is complete. Return a sink to stream its data set, or undefined to collect it. */
  streamDataset?(msg: IncomingMessage): DatasetSink<unknown> | undefined;
  /** Called with a complete request (data set collected, streamed result, or none). */
  onRequest(msg: IncomingMessage, dataset: Buffer | undefined, streamed: Promise<unknown> | undefined): void;
  onCancel?(messageIdBeingRespondedTo: number): void;
}

export interface ResponseMessage {
  command: CommandSet;
  dataset?: Buffer;
}

interface PendingRequest {
  resolve: (rsp: ResponseMessage) => void;
  reject: (err: Error) => void;
  onPending?: (rsp: ResponseMessage) => void;
}

type Receiving =
  | { kind: 'idle' }
  | { kind: 'command'; contextId: number; chunks: Buffer[]; bytes: number }
  | { kind: 'dataset-buffered'; msg: IncomingMessage; chunks: Buffer[]; bytes: number; response: boolean }
  | { kind: 'dataset-streamed'; msg: IncomingMessage; writer: SinkWriter<unknown> };

export type DatasetSource = Buffer | AsyncIterable<Buffer>;

export class DimseConnection extends EventEmitter {
  private receiving: Receiving = { kind: 'idle' };
  private nextMessageId = 1;
  private readonly pending = new Map<number, PendingRequest>();
  private sendChain: Promise<void> = Promise.resolve();
  private closedReason: string | undefined;

  constructor(
    readonly transport: DimseTransport,
    private readonly dispatcher?: RequestDispatcher,
  ) {
    super();
    transport.on('pdv', (pdvs) => {
      try {
        for (const pdv of pdvs) this.receive(pdv);
      } catch (err) {
        this.protocolFailure(err as Error);
      }
    });
    transport.on('closed', (info) => this.onClosed(info.reason));
  }

  get isClosed(): boolean {
    return this.closedReason !== undefined;
  }

  private protocolFailure(err: Error): void {
    this.emit('protocol-error', err);
    // PS3.8: an unrecoverable message framing error aborts the association (A-ABORT, provider).
    this.transport.abort(AbortSource.ServiceProvider, AbortReason.NotSpecified);
    this.onClosed(`protocol error: ${err.message}`);
  }

  private onClosed(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    const r = this.receiving;
    this.receiving = { kind: 'idle' };
    if (r.kind === 'dataset-streamed') void r.writer.abort(new Error(`association closed during data set: ${reason}`));
    const err = new Error(`association closed: ${reason}`);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.emit('closed', reason);
  }

  private receive(pdv: Pdv): void {
    const context = this.transport.contexts.get(pdv.contextId);
    if (!context) throw new DimseProtocolError(`PDV on presentation context ${pdv.contextId}, which was not accepted`);
    const r = this.receiving;
    if (pdv.isCommand) {
      // Copied, as everything kept past this call: the PDV may be a view of a reused receive buffer.
      if (r.kind === 'idle') {
        this.receiving = { kind: 'command', contextId: pdv.contextId, chunks: [Buffer.from(pdv.data)], bytes: pdv.data.length };
      } else if (r.kind === 'command') {
        if (r.contextId !== pdv.contextId) throw new DimseProtocolError('command fragments on different presentation contexts');
        r.chunks.push(Buffer.from(pdv.data));
        r.bytes += pdv.data.length;
      } else {
        throw new DimseProtocolError('command fragment received while a data set was expected');
      }
      const cur = this.receiving as Extract<Receiving, { kind: 'command' }>;
      if (cur.bytes > MAX_COMMAND_BYTES) throw new DimseProtocolError(`command set larger than ${MAX_COMMAND_BYTES} bytes`);
      if (pdv.isLast) this.commandComplete(cur, context);
      return;
    }
    if (r.kind === 'dataset-streamed') {
      if (r.msg.contextId !== pdv.contextId) throw new DimseProtocolError('data set fragments on different presentation contexts');
      r.writer.write(pdv.data);
      if (pdv.isLast) {
        this.receiving = { kind: 'idle' };
        r.writer.finish(); // the outcome reaches the handler through `writer.result`
      }
      return;
    }
    if (r.kind === 'dataset-buffered') {
      if (r.msg.contextId !== pdv.contextId) throw new DimseProtocolError('data set fragments on different presentation contexts');
      if (r.bytes + pdv.data.length > MAX_BUFFERED_DATASET) throw new DimseProtocolError(`data set larger than ${MAX_BUFFERED_DATASET} bytes`);
      r.chunks.push(Buffer.from(pdv.data));
      r.bytes += pdv.data.length;
      if (pdv.isLast) {
        this.receiving = { kind: 'idle' };
        const dataset = r.chunks.length === 1 ? r.chunks[0] : Buffer.concat(r.chunks, r.bytes);
        this.messageComplete(r.msg, dataset, undefined, r.response);
      }
      return;
    }
    throw new DimseProtocolError('data set fragment received without a preceding command');
  }

  private commandComplete(r: Extract<Receiving, { kind: 'command' }>, context: AcceptedContext): void {
    const bytes = r.chunks.length === 1 ? r.chunks[0] : Buffer.concat(r.chunks, r.bytes);
    const command = decodeCommandSet(bytes);
    const msg: IncomingMessage = { command, contextId: r.contextId, context };
    const response = isResponse(command.commandField);
    if (!hasDataset(command)) {
      this.receiving = { kind: 'idle' };
      this.messageComplete(msg, undefined, undefined, response);
      return;
    }
    const sink = !response ? this.dispatcher?.streamDataset?.(msg) : undefined;
    if (sink) {
      const writer = new SinkWriter(
        sink,
        () => this.transport.pauseReading(),
        () => this.transport.resumeReading(),
      );
      this.receiving = { kind: 'dataset-streamed', msg, writer };
      this.messageComplete(msg, undefined, writer.result, false);
    } else {
      this.receiving = { kind: 'dataset-buffered', msg, chunks: [], bytes: 0, response };
    }
  }

  private messageComplete(msg: IncomingMessage, dataset: Buffer | undefined, streamed: Promise<unknown> | undefined, response: boolean): void {
    const cmd = msg.command;
    if (response) {
      const id = cmd.messageIdBeingRespondedTo;
      const p = id === undefined ? undefined : this.pending.get(id);
      if (!p) throw new DimseProtocolError(`${commandName(cmd.commandField)} answers message ${id}, which is not outstanding`);
      const rsp = { command: cmd, dataset };
      if (statusCategory(cmd.status ?? 0) === 'pending') {
        p.onPending?.(rsp);
      } else {
        this.pending.delete(id!);
        p.resolve(rsp);
      }
      return;
    }
    if (cmd.commandField === CommandField.C_CANCEL_RQ) {
      if (cmd.messageIdBeingRespondedTo !== undefined) this.dispatcher?.onCancel?.(cmd.messageIdBeingRespondedTo);
      return;
    }
    if (!this.dispatcher) throw new DimseProtocolError(`unexpected request ${commandName(cmd.commandField)}`);
    this.dispatcher.onRequest(msg, dataset, streamed);
  }

  /** Sends one message; its fragments go out contiguously, after any message already being sent. */
  send(contextId: number, command: CommandSet, dataset?: DatasetSource): Promise<void> {
    const job = this.sendChain.then(() => this.sendNow(contextId, command, dataset));
    this.sendChain = job.catch(() => undefined);
    return job;
  }

  private async sendNow(contextId: number, command: CommandSet, dataset?: DatasetSource): Promise<void> {
    if (this.closedReason !== undefined) throw new Error(`association closed: ${this.closedReason}`);
    const cmd = { ...command, commandDataSetType: dataset ? 0x0000 : NO_DATASET };
    await this.transport.sendPdv(contextId, true, encodeCommandSet(cmd), true);
    if (!dataset) return;
    if (Buffer.isBuffer(dataset)) {
      await this.transport.sendPdv(contextId, false, dataset, true);
      return;
    }
    // Hold one chunk back so the last fragment can be flagged as last. Fragments keep an even
    // length (DCMTK refuses odd ones): an odd chunk's last byte moves to the next fragment.
    let held: Buffer | undefined;
    let carry: Buffer | undefined;
    for await (const input of dataset) {
      let chunk = carry ? Buffer.concat([carry, input]) : input;
      carry = undefined;
      if (chunk.length % 2 === 1) {
        carry = chunk.subarray(chunk.length - 1);
        chunk = chunk.subarray(0, chunk.length - 1);
      }
      if (chunk.length === 0) continue;
      if (held) await this.transport.sendPdv(contextId, false, held, false);
      held = chunk;
    }
    const last = held && carry ? Buffer.concat([held, carry]) : (held ?? carry ?? Buffer.alloc(0));
    await this.transport.sendPdv(contextId, false, last, true);
  }

  /** Sends a request and resolves with its final response; pending responses go to onPending. */
  request(
    contextId: number,
    command: Omit<CommandSet, 'messageId' | 'commandDataSetType'>,
    dataset?: DatasetSource,
    onPending?: (rsp: ResponseMessage) => void,
  ): Promise<ResponseMessage> & { messageId: number } {
    const messageId = this.allocateMessageId();
    const promise = new Promise<ResponseMessage>((resolve, reject) => {
      this.pending.set(messageId, { resolve, reject, onPending });
      this.send(contextId, { ...command, messageId, commandDataSetType: NO_DATASET }, dataset).catch((err: Error) => {
        this.pending.delete(messageId);
        reject(err);
      });
    });
    return Object.assign(promise, { messageId });
  }

  /** Sends C-CANCEL-RQ for an outstanding request (PS3.7 9.3.2.3). */
  cancel(contextId: number, messageId: number): Promise<void> {
    return this.send(contextId, {
      commandField: CommandField.C_CANCEL_RQ,
      messageIdBeingRespondedTo: messageId,
      commandDataSetType: NO_DATASET,
    });
  }

  private allocateMessageId(): number {
    const id = this.nextMessageId;
    this.nextMessageId = id >= 0xffff ? 1 : id + 1;
    return id;
  }
}
