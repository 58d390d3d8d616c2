/** Two linked in-memory transports, for DIMSE tests that need no sockets. */
import { EventEmitter } from 'node:events';
import type { AcceptedContext, DimseTransport, Pdv } from '../../src/dimse/transport.js';

export class MemoryTransport extends EventEmitter implements DimseTransport {
  peer!: MemoryTransport;
  paused = 0;
  aborted: { source?: number; reason?: number } | undefined;
  readonly maxPdv: number;

  constructor(
    readonly contexts: ReadonlyMap<number, AcceptedContext>,
    readonly callingAeTitle = 'SCU',
    readonly calledAeTitle = 'SCP',
    maxPdv = 16,
  ) {
    super();
    this.maxPdv = maxPdv;
  }

  async sendPdv(contextId: number, isCommand: boolean, data: Buffer, isLast: boolean): Promise<void> {
    // Fragment like a peer with a tiny maximum PDU length would.
    const pdvs: Pdv[] = [];
    for (let off = 0; off < data.length || (off === 0 && data.length === 0); off += this.maxPdv) {
      const end = Math.min(off + this.maxPdv, data.length);
      pdvs.push({ contextId, isCommand, isLast: isLast && end === data.length, data: Buffer.from(data.subarray(off, end)) });
      if (data.length === 0) break;
    }
    await new Promise((r) => setImmediate(r));
    this.peer.emit('pdv', pdvs);
  }
  pauseReading(): void {
    this.paused++;
  }
  resumeReading(): void {}
  abort(source?: number, reason?: number): void {
    this.aborted = { source, reason };
    this.emit('closed', { reason: 'aborted' });
    this.peer.emit('closed', { reason: 'aborted' });
  }
  async release(): Promise<void> {
    this.emit('closed', { reason: 'released' });
    this.peer.emit('closed', { reason: 'released' });
  }
}

export function transportPair(contexts: Map<number, AcceptedContext>, maxPdv = 16): [MemoryTransport, MemoryTransport] {
  const a = new MemoryTransport(contexts, 'SCU', 'SCP', maxPdv);
  const b = new MemoryTransport(contexts, 'SCU', 'SCP', maxPdv);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
