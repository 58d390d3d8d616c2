import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Acceptor, Association, Pdv } from '../../src/net/index.js';
import { PduFramer } from '../../src/net/pdu-framer.js';
import { adoptReceiveBuffer, RECEIVE_BUFFER_BYTES } from '../../src/net/receive-buffer.js';
import { until } from '../support/until.js';
import { connectTo, startAcceptor } from './helpers.js';

const acceptors: Acceptor[] = [];
const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(acceptors.splice(0).map((a) => a.close()));
  for (const s of servers.splice(0)) s.close();
});

describe('an accepted socket read into one reused buffer', () => {
  it('gets every read in the buffer and no data events; pause() stops reading, resume() goes on', async () => {
    const buffer = Buffer.alloc(1000);
    const got: Buffer[] = [];
    let dataEvents = 0;
    let adopted = false;
    let socket!: net.Socket;
    const closed = new Promise<void>((resolve) => {
      const server = net.createServer((s) => {
        socket = s;
        adopted = adoptReceiveBuffer(s, buffer, (bytes) => {
          expect(bytes.buffer).toBe(buffer.buffer);
          got.push(Buffer.from(bytes));
        });
        s.on('data', () => dataEvents++);
        s.on('close', () => resolve());
      });
      servers.push(server);
      server.listen(0, '127.0.0.1', () => {
        const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1', () => {
          client.write(first);
          void until('the first bytes', async () => received() === first.length).then(() => {
            socket.pause();
            client.write(second, () =>
              setTimeout(() => {
                pausedAt = received();
                socket.resume();
                void until('all the bytes', async () => received() === first.length + second.length).then(() => client.end());
              }, 100),
            );
          });
        });
      });
    });
    const first = randomBytes(5000);
    const second = randomBytes(3000);
    let pausedAt = -1;
    const received = () => got.reduce((n, b) => n + b.length, 0);
    await closed;
    expect(adopted).toBe(true); // Node 20: the accepted socket takes the buffer
    expect(dataEvents).toBe(0);
    expect(pausedAt).toBe(first.length); // nothing read while paused
    expect(got.every((b) => b.length <= buffer.length)).toBe(true);
    expect(Buffer.concat(got).equals(Buffer.concat([first, second]))).toBe(true);
  });

  it('keeps PDVs whole across reads that split PDUs anywhere, on two associations sharing the buffer, with reading paused and resumed', async () => {
    const received = new Map<string, Buffer[]>();
    let events = 0;
    let pieces = 0;
    let inReceiveBuffer = 0;
    const { acceptor, port } = await startAcceptor({
      maxPduLength: 1024,
      receiveBufferBytes: 97, // smaller than a PDU header plus a little: reads end anywhere
      onAssociation: (a: Association) => {
        a.on('pdv', (pdvs: Pdv[]) => {
          const key = a.callingAeTitle;
          const parts = received.get(key) ?? [];
          received.set(key, parts);
          for (const p of pdvs) {
            parts.push(Buffer.from(p.data)); // a listener copies what it keeps
            pieces++;
            if (p.data.buffer.byteLength === 97) inReceiveBuffer++; // a view of the shared buffer, not of a copy
          }
          // Now and then, hold reading: the framer keeps the rest of the last read meanwhile.
          if (++events % 3 === 0) {
            a.pauseReading();
            setImmediate(() => a.resumeReading());
          }
        });
      },
    });
    acceptors.push(acceptor);
    const payload = { A: randomBytes(40_000), B: randomBytes(30_000) };
    const clients = await Promise.all([connectTo(port, { callingAeTitle: 'A' }), connectTo(port, { callingAeTitle: 'B' })]);
    await Promise.all(
      clients.map(async (c, i) => {
        const data = i === 0 ? payload.A : payload.B;
        for (let at = 0; at < data.length; at += 7000) await c.sendPdv(3, false, data.subarray(at, at + 7000), at + 7000 >= data.length);
      }),
    );
    await until('A whole', async () => (received.get('A') ?? []).reduce((n, b) => n + b.length, 0) === payload.A.length);
    await until('B whole', async () => (received.get('B') ?? []).reduce((n, b) => n + b.length, 0) === payload.B.length);
    expect(Buffer.concat(received.get('A')!).equals(payload.A)).toBe(true);
    expect(Buffer.concat(received.get('B')!).equals(payload.B)).toBe(true);
    expect(events).toBeGreaterThan(60); // PDUs of at most 1024 bytes: many events, many pauses
    expect(inReceiveBuffer).toBeGreaterThan(pieces / 2); // read into the buffer (copied only while paused)
    await Promise.all(clients.map((c) => c.release()));
  });
});

describe('a requestor read into one reused buffer', () => {
  it('gets the PDV data as views of the shared buffer (net.connect onread), whole', async () => {
    const { acceptor, port } = await startAcceptor({
      maxPduLength: 16384,
      onAssociation: (a: Association) => {
        const parts: Buffer[] = [];
        a.on('pdv', (pdvs: Pdv[]) => {
          for (const p of pdvs) {
            parts.push(Buffer.from(p.data));
            if (p.isLast) void a.sendPdv(p.contextId, false, Buffer.concat(parts).reverse(), true);
          }
        });
      },
    });
    acceptors.push(acceptor);
    const client = await connectTo(port);
    const sent = randomBytes(300_000);
    const back: Buffer[] = [];
    let pieces = 0;
    let inReceiveBuffer = 0;
    const done = new Promise<void>((resolve) =>
      client.on('pdv', (pdvs: Pdv[]) => {
        for (const p of pdvs) {
          back.push(Buffer.from(p.data));
          pieces++;
          if (p.data.buffer.byteLength === RECEIVE_BUFFER_BYTES) inReceiveBuffer++;
          if (p.isLast) resolve();
        }
      }),
    );
    await client.sendPdv(3, false, sent, true);
    await done;
    expect(Buffer.concat(back).equals(Buffer.from(sent).reverse())).toBe(true);
    expect(inReceiveBuffer).toBeGreaterThan(pieces / 2);
    await client.release();
  });
});

describe('PduFramer.ownLastChunk', () => {
  it('copies what is held of the last chunk, so that the chunk can be reused', () => {
    const framer = new PduFramer({ maxPduLength: 0 });
    const pdu = (fill: number) => Buffer.concat([Buffer.from([0x04, 0, 0, 0, 0, 10]), Buffer.alloc(10, fill)]);
    const chunk = Buffer.concat([pdu(1), pdu(2).subarray(0, 9)]); // one PDU and a half
    framer.push(chunk);
    expect(framer.next()?.body).toEqual(Buffer.alloc(10, 1));
    expect(framer.next()).toBeNull();
    framer.ownLastChunk();
    chunk.fill(0xee); // the receive buffer's next read
    framer.push(pdu(2).subarray(9));
    expect(framer.next()).toEqual({ typeCode: 0x04, body: Buffer.alloc(10, 2) });
  });
});
