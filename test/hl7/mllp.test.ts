/** MLLP framing and the listener, over real sockets: chunking, many messages, limits, failures. */
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CR, EB, MllpFramer, mllpFrame, SB, type MllpFrame } from '../../src/hl7/mllp.js';
import { startMllpServer, type MllpLimits, type MllpServer } from '../../src/hl7/mllp-server.js';
import { until } from '../support/until.js';

const b = (s: string) => Buffer.from(s, 'latin1');
const texts = (frames: MllpFrame[]) => frames.map((f) => (f.oversized ? `OVERSIZED ${f.size} ${f.head.toString('latin1')}` : f.bytes.toString('latin1')));

describe('MllpFramer', () => {
  it('finds frames in any chunking, ignores bytes outside blocks', () => {
    const wire = Buffer.concat([b('junk'), mllpFrame(b('ONE')), b('\r\n'), mllpFrame(b('TWO\rTWO')), mllpFrame(b(''))]);
    for (const size of [1, 2, 3, 5, 7, wire.length]) {
      const f = new MllpFramer(1024);
      const out: MllpFrame[] = [];
      for (let i = 0; i < wire.length; i += size) out.push(...f.push(wire.subarray(i, i + size)));
      expect(texts(out), `chunks of ${size}`).toEqual(['ONE', 'TWO\rTWO', '']);
      expect(f.buffered).toBe(0);
    }
  });

  it('drops a block that a new SB interrupts', () => {
    const f = new MllpFramer(1024);
    expect(texts(f.push(Buffer.concat([b('\x0bHALF'), mllpFrame(b('WHOLE'))])))).toEqual(['WHOLE']);
  });

  it('keeps only the head of an oversized frame, however it arrives', () => {
    const f = new MllpFramer(100, 10);
    const out: MllpFrame[] = [];
    out.push(...f.push(Buffer.from([SB])));
    for (let i = 0; i < 1000; i++) {
      out.push(...f.push(b('0123456789')));
      expect(f.buffered).toBeLessThanOrEqual(100);
    }
    out.push(...f.push(Buffer.from([EB, CR])));
    out.push(...f.push(mllpFrame(b('NEXT'))));
    expect(texts(out)).toEqual(['OVERSIZED 10000 0123456789', 'NEXT']);
  });
});

let server: MllpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const silent = { info: () => undefined, warn: () => undefined, debug: () => undefined };
const limits = (o: Partial<MllpLimits> = {}): MllpLimits => ({ maxMessageBytes: 1024, idleTimeoutMs: 60_000, maxConnections: 4, ...o });

/** A client that collects every answer frame. */
function connect(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  const framer = new MllpFramer(1 << 20);
  const answers: string[] = [];
  let closed = false;
  socket.on('data', (c) => answers.push(...texts(framer.push(c))));
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  return { socket, answers, closed: () => closed };
}

describe('startMllpServer', () => {
  it('answers many messages on one connection, in order, one at a time', async () => {
    let running = 0;
    let most = 0;
    server = await startMllpServer({
      host: '127.0.0.1',
      port: 0,
      logger: silent,
      limits: () => limits(),
      handle: async (f) => {
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        return b(`ACK ${f.oversized ? `big ${f.size}` : f.bytes.toString('latin1')}`);
      },
    });
    const c = connect(server.port);
    const wire = Buffer.concat([...Array.from({ length: 20 }, (_, i) => mllpFrame(b(`M${i}`))), mllpFrame(Buffer.alloc(5000, 0x41))]);
    c.socket.write(wire);
    await until('the condition', async () => c.answers.length === 21);
    expect(c.answers).toEqual([...Array.from({ length: 20 }, (_, i) => `ACK M${i}`), 'ACK big 5000']);
    expect(most).toBe(1);
    c.socket.destroy();
  });

  it('closes an idle connection, refuses one over the cap and one from an address not allowed', async () => {
    let allowed: string[] | undefined;
    server = await startMllpServer({
      host: '127.0.0.1',
      port: 0,
      logger: silent,
      limits: () => limits({ idleTimeoutMs: 300, maxConnections: 1, allowedAddresses: allowed }),
      handle: async () => b('ACK'),
    });
    const idle = connect(server.port);
    await until('the condition', async () => server!.connections === 1);
    const second = connect(server.port);
    await until('the condition', async () => second.closed());
    expect(idle.closed()).toBe(false);
    await until('the condition', async () => idle.closed());
    expect(server.connections).toBe(0);
    allowed = ['10.9.9.9'];
    const stranger = connect(server.port);
    stranger.socket.write(mllpFrame(b('X')));
    await until('the condition', async () => stranger.closed());
    expect(stranger.answers).toEqual([]);
    allowed = ['127.0.0.1'];
    const friend = connect(server.port);
    friend.socket.write(mllpFrame(b('X')));
    await until('the condition', async () => friend.answers.length === 1);
    friend.socket.destroy();
  });

  it('stops answering a sender that does not read its ACKs, until it reads', async () => {
    let handled = 0;
    server = await startMllpServer({
      host: '127.0.0.1',
      port: 0,
      logger: silent,
      limits: () => limits(),
      handle: async () => {
        handled++;
        return Buffer.alloc(100_000, 0x41);
      },
    });
    const c = connect(server.port);
    c.socket.pause();
    c.socket.write(Buffer.concat(Array.from({ length: 2000 }, (_, i) => mllpFrame(b(`M${i}`)))));
    // Wait until the server stops taking messages (socket buffers full), then look.
    let last = -1;
    await until('the server to stop', async () => {
      const settled = handled === last;
      last = handled;
      await new Promise((r) => setTimeout(r, 200));
      return settled && handled > 0;
    });
    expect(handled).toBeLessThan(2000);
    c.socket.resume();
    await until('every answer', async () => c.answers.length === 2000, 60_000);
    expect(handled).toBe(2000);
    c.socket.destroy();
  });

  it('a handler failure closes that connection only; the server goes on', async () => {
    server = await startMllpServer({
      host: '127.0.0.1',
      port: 0,
      logger: silent,
      limits: () => limits(),
      handle: async (f) => {
        if (!f.oversized && f.bytes.toString() === 'BOOM') throw new Error('boom');
        return b('ACK');
      },
    });
    const bad = connect(server.port);
    bad.socket.write(mllpFrame(b('BOOM')));
    await until('the condition', async () => bad.closed());
    const good = connect(server.port);
    good.socket.write(mllpFrame(b('fine')));
    await until('the condition', async () => good.answers.length === 1);
    expect(good.answers).toEqual(['ACK']);
    good.socket.destroy();
  });
});
