/**
 * The provider side of one association: routes each request to its service by
 * the presentation context's abstract syntax and sends the response(s).
 */
import type { Logger } from 'pino';
import { CommandField, commandName } from './command-fields.js';
import { Status, StatusError } from '../dicom/status.js';
import type { CommandSet } from './command-set.js';
import { DimseConnection, type IncomingMessage, type RequestDispatcher } from './dimse-connection.js';
import { DimseServiceError, toDimseServiceError } from './errors.js';
import type { AssociationInfo, DimseRequestContext, ResponseSpec, ServiceRegistry } from './service.js';
import type { DatasetSink } from './sink-writer.js';
import type { DimseTransport } from './transport.js';

type Log = Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>;

/** A sink that swallows a data set whose request already failed, so the peer can finish sending it. */
function discardingSink(err: DimseServiceError): DatasetSink<ResponseSpec> {
  return {
    write: () => undefined,
    end: () => Promise.reject(err),
    abort: () => Promise.resolve(),
  };
}

export function responseFor(rq: CommandSet, rsp: ResponseSpec): CommandSet {
  const cmd: CommandSet = {
    commandField: rq.commandField | 0x8000,
    commandDataSetType: 0x0101,
    messageIdBeingRespondedTo: rq.messageId,
    affectedSopClassUid: rq.affectedSopClassUid ?? rq.requestedSopClassUid,
    status: rsp.status,
    ...rsp.fields,
  };
  const instance = rsp.affectedSopInstanceUid ?? rq.affectedSopInstanceUid ?? rq.requestedSopInstanceUid;
  if (instance !== undefined && rq.commandField !== CommandField.C_FIND_RQ) cmd.affectedSopInstanceUid = instance;
  // Error Comment is LO: at most 64 characters (PS3.7 C.4).
  if (rsp.errorComment) cmd.errorComment = rsp.errorComment.replace(/[\\\r\n]/g, ' ').slice(0, 64);
  if (rsp.offendingElement) cmd.offendingElement = rsp.offendingElement;
  return cmd;
}

/**
 * A request's cancellation (C-CANCEL, or the association's end). Its AbortController is
 * made only when a handler reads the signal: C-STORE handlers never do, and one costs
 * about 4 us here, per stored instance (issue 16).
 */
class Cancellation {
  private controller: AbortController | undefined;
  private reason: Error | undefined;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: Error): void {
    if (this.reason) return; // the first reason stands, as with AbortController
    this.reason = reason;
    this.controller?.abort(reason);
  }
}

export class ScpDispatcher implements RequestDispatcher {
  readonly connection: DimseConnection;
  private readonly active = new Map<number, Cancellation>();
  private readonly info: AssociationInfo;

  constructor(
    transport: DimseTransport,
    private readonly registry: ServiceRegistry,
    private readonly log: Log,
  ) {
    this.info = { callingAeTitle: transport.callingAeTitle, calledAeTitle: transport.calledAeTitle, peerAddress: transport.peerAddress };
    this.connection = new DimseConnection(transport, this);
    this.connection.on('closed', () => {
      for (const c of this.active.values()) c.abort(new Error('association closed'));
    });
    this.connection.on('protocol-error', (err: Error) => {
      this.log.warn({ peer: this.info, err: err.message }, 'DIMSE protocol error; association aborted');
    });
  }

  private context(msg: IncomingMessage): DimseRequestContext {
    const cancellation = new Cancellation();
    const id = msg.command.messageId ?? 0;
    this.active.set(id, cancellation);
    return {
      command: msg.command,
      contextId: msg.contextId,
      abstractSyntax: msg.context.abstractSyntax,
      transferSyntax: msg.context.transferSyntax,
      association: this.info,
      connection: this.connection,
      get signal() {
        return cancellation.signal;
      },
      sendResponse: (rsp) => this.connection.send(msg.contextId, responseFor(msg.command, rsp), rsp.dataset),
    };
  }

  /** Checks that a request fits its presentation context; returns the failure, if any. */
  private check(msg: IncomingMessage): DimseServiceError | undefined {
    const sopClass = msg.command.affectedSopClassUid ?? msg.command.requestedSopClassUid;
    const members = this.registry.lookup(msg.context.abstractSyntax)?.metaSopClasses?.[msg.context.abstractSyntax];
    if (sopClass !== undefined && sopClass !== msg.context.abstractSyntax && !members?.includes(sopClass)) {
      return new DimseServiceError(Status.SopClassNotSupported, `SOP Class ${sopClass} differs from the presentation context's ${msg.context.abstractSyntax}`);
    }
    return undefined;
  }

  streamDataset(msg: IncomingMessage): DatasetSink<unknown> | undefined {
    const service = this.registry.lookup(msg.context.abstractSyntax);
    const handler = service?.streamingHandlers?.[msg.command.commandField];
    if (!handler) return undefined;
    const bad = this.check(msg);
    if (bad) return discardingSink(bad);
    try {
      return handler(this.context(msg));
    } catch (err) {
      return discardingSink(toDimseServiceError(err));
    }
  }

  onRequest(msg: IncomingMessage, dataset: Buffer | undefined, streamed: Promise<unknown> | undefined): void {
    void this.handle(msg, dataset, streamed as Promise<ResponseSpec> | undefined);
  }

  onCancel(messageId: number): void {
    this.active.get(messageId)?.abort(new Error('C-CANCEL'));
  }

  private async handle(msg: IncomingMessage, dataset: Buffer | undefined, streamed: Promise<ResponseSpec> | undefined): Promise<void> {
    const cmd = msg.command;
    let rsp: ResponseSpec;
    try {
      if (streamed) {
        rsp = await streamed;
      } else {
        const bad = this.check(msg);
        if (bad) throw bad;
        const handler = this.registry.lookup(msg.context.abstractSyntax)?.handlers?.[cmd.commandField];
        if (!handler) {
          throw new DimseServiceError(Status.UnrecognizedOperation, `${commandName(cmd.commandField)} is not supported for ${msg.context.abstractSyntax}`);
        }
        rsp = await handler(this.context(msg), dataset);
      }
    } catch (err) {
      const failure = toDimseServiceError(err);
      if (err instanceof StatusError) {
        this.log.warn({ peer: this.info, command: commandName(cmd.commandField), status: failure.status }, failure.message);
      } else {
        if (this.connection.isClosed) return; // nobody to answer; the archive already discarded the data
        this.log.error({ peer: this.info, command: commandName(cmd.commandField), err }, 'request failed');
      }
      rsp = { status: failure.status, errorComment: failure.message, offendingElement: failure.offendingElement };
    } finally {
      this.active.delete(cmd.messageId ?? 0);
    }
    if (this.connection.isClosed) return;
    await this.connection.send(msg.contextId, responseFor(cmd, rsp), rsp.dataset).catch((err: Error) => {
      this.log.debug({ peer: this.info, err: err.message }, 'response not sent');
    });
  }
}
