/**
 * Service class plug-ins (PS3.4): a service declares the SOP classes it serves and
 * handlers per DIMSE command; the registry routes each request by SOP Class UID.
 */
import type { CommandSet } from './command-set.js';
import type { DimseConnection } from './dimse-connection.js';
import type { DatasetSink } from './sink-writer.js';

export interface AssociationInfo {
  callingAeTitle: string;
  calledAeTitle: string;
  peerAddress?: string;
}

export interface ResponseSpec {
  status: number;
  errorComment?: string;
  offendingElement?: number[];
  affectedSopInstanceUid?: string;
  /** Any further response command fields (sub-operation counts, event type, ...). */
  fields?: Partial<CommandSet>;
  dataset?: Buffer;
  /** What the request was about (a stored instance's patient and study), for the activity log; never sent. */
  subject?: { patientId?: string; studyInstanceUid?: string };
}

export interface DimseRequestContext {
  readonly command: CommandSet;
  readonly contextId: number;
  readonly abstractSyntax: string;
  readonly transferSyntax: string;
  readonly association: AssociationInfo;
  readonly connection: DimseConnection;
  /** Aborted when the peer sends C-CANCEL for this request or the association ends. */
  readonly signal: AbortSignal;
  /** Sends a Pending (or other non-final) response for this request. */
  sendResponse(rsp: ResponseSpec): Promise<void>;
}

export type StreamingHandler = (ctx: DimseRequestContext) => DatasetSink<ResponseSpec>;
export type RequestHandler = (ctx: DimseRequestContext, dataset: Buffer | undefined) => Promise<ResponseSpec>;

export interface ServiceClassProvider {
  readonly name: string;
  readonly sopClasses: readonly string[];
  /**
   * Meta SOP classes among `sopClasses` (PS3.4 H.3: Print Management): the SOP classes whose
   * requests may travel on such a presentation context, by meta SOP Class UID.
   */
  readonly metaSopClasses?: Readonly<Record<string, readonly string[]>>;
  /** Whether a transfer syntax is acceptable for one of its SOP classes; default: every known one. */
  acceptsTransferSyntax?(sopClassUid: string, transferSyntaxUid: string): boolean;
  /** Handlers whose data set is streamed (C-STORE), by request command field. */
  readonly streamingHandlers?: Partial<Record<number, StreamingHandler>>;
  /** Handlers whose (small) data set is collected first, by request command field. */
  readonly handlers?: Partial<Record<number, RequestHandler>>;
}

export class ServiceRegistry {
  private readonly bySopClass = new Map<string, ServiceClassProvider>();

  constructor(services: Iterable<ServiceClassProvider> = []) {
    for (const s of services) this.register(s);
  }

  /** Adds a service; a SOP class already served by another service is taken over by the newer one. */
  register(service: ServiceClassProvider): this {
    for (const uid of service.sopClasses) this.bySopClass.set(uid, service);
    return this;
  }

  lookup(sopClassUid: string): ServiceClassProvider | undefined {
    return this.bySopClass.get(sopClassUid);
  }

  sopClasses(): string[] {
    return [...this.bySopClass.keys()];
  }
}
