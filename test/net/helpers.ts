import * as net from 'node:net';
import {
  AssociationRejectedError,
  connect,
  createAcceptor,
  decodePduBody,
  PduFramer,
  type Acceptor,
  type AcceptorOptions,
  type Association,
  type ConnectOptions,
  type Pdu,
} from '../../src/net/index.js';

export const VERIFICATION = '1.2.840.10008.1.1';
export const CT_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
export const IMPLICIT_LE = '1.2.840.10008.1.2';
export const EXPLICIT_LE = '1.2.840.10008.1.2.1';

export async function startAcceptor(opts: AcceptorOptions = {}): Promise<{ acceptor: Acceptor; port: number }> {
  const acceptor = createAcceptor(opts);
  await acceptor.listen(0, '127.0.0.1');
  return { acceptor, port: acceptor.address()!.port };
}

export function connectTo(port: number, extra: Partial<ConnectOptions> = {}): Promise<Association> {
  return connect({
    host: '127.0.0.1',
    port,
    callingAeTitle: 'TEST_SCU',
    calledAeTitle: 'PACS',
    presentationContexts: [
      { abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT_LE] },
      { abstractSyntax: CT_STORAGE, transferSyntaxes: [EXPLICIT_LE, IMPLICIT_LE] },
    ],
    ...extra,
  });
}

export function waitFor<T extends unknown[]>(emitter: { once(ev: string, fn: (...a: T) => void): unknown }, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, (...a: T) => resolve(a)));
}

/** A scripted fake peer over a raw socket: sends bytes, collects the PDUs it receives. */
export class RawPeer {
  readonly pdus: Pdu[] = [];
  readonly closed: Promise<void>;
  private framer = new PduFramer({ maxPduLength: 0 });
  private waiters: (() => void)[] = [];
  constructor(readonly socket: net.Socket) {
    socket.on('data', (c: Buffer) => {
      this.framer.push(c);
      for (let f = this.framer.next(); f; f = this.framer.next()) this.pdus.push(decodePduBody(f.typeCode, f.body));
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((r) => socket.once('close', () => r()));
  }
  static async connect(port: number): Promise<RawPeer> {
    const socket = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((r, j) => socket.once('connect', r).once('error', j));
    return new RawPeer(socket);
  }
  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }
  async next(): Promise<Pdu> {
    while (this.pdus.length === 0) {
      const closed = this.socket.destroyed || this.socket.readableEnded;
      if (closed) throw new Error('closed without a PDU');
      await Promise.race([new Promise<void>((r) => this.waiters.push(r)), this.closed]);
    }
    return this.pdus.shift()!;
  }
}

/** The A-ASSOCIATE-RJ reason of a refused association, or undefined when it was accepted (then released). */
export async function rejection(p: Promise<Association>): Promise<number | undefined> {
  try {
    const a = await p;
    await a.release();
    return undefined;
  } catch (err) {
    if (err instanceof AssociationRejectedError) return err.reason;
    throw err;
  }
}
