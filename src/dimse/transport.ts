/**
 * What the DIMSE layer needs of an established association (net/ provides it).
 * Kept structural so DIMSE can be tested over any transport.
 */
export interface Pdv {
  contextId: number;
  isCommand: boolean;
  isLast: boolean;
  data: Buffer;
}

export interface AcceptedContext {
  abstractSyntax: string;
  transferSyntax: string;
}

export interface DimseTransport {
  readonly callingAeTitle: string;
  readonly calledAeTitle: string;
  readonly peerAddress?: string;
  readonly contexts: ReadonlyMap<number, AcceptedContext>;
  /** SCP/SCU Role Selection as negotiated (PS3.7 D.3.3.4); absent: none. */
  readonly roleSelections?: readonly { sopClassUid: string; scuRole: boolean; scpRole: boolean }[];
  on(event: 'pdv', listener: (pdvs: Pdv[]) => void): unknown;
  on(event: 'closed', listener: (info: { reason: string }) => void): unknown;
  sendPdv(contextId: number, isCommand: boolean, data: Buffer, isLast: boolean): Promise<void>;
  /**
   * False once every byte given to sendPdv has been written to the transport connection,
   * so the Buffers passed are no longer read (a caller may then reuse them); true while
   * some may still be; absent: unknown (never reuse).
   */
  readonly writesPending?: boolean;
  pauseReading(): void;
  resumeReading(): void;
  abort(source?: number, reason?: number): void;
  release(): Promise<void>;
}
