import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodePdu,
  decodePduBody,
  encodePdu,
  PduDecodeError,
  PduFramer,
  ProtocolError,
  type Acceptor,
  type AssociateRq,
  type Pdu,
} from '../../src/net/index.js';
import { connectTo, startAcceptor, VERIFICATION, IMPLICIT_LE } from './helpers.js';
import { mulberry32 } from '../support/seeded-random.js';

const RQ: AssociateRq = {
  type: 'A-ASSOCIATE-RQ',
  protocolVersion: 1,
  calledAeTitle: 'PACS',
  callingAeTitle: 'FUZZ',
  applicationContextName: '1.2.840.10008.3.1.1.1',
  presentationContexts: [
    { id: 1, abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT_LE, '1.2.840.10008.1.2.1'] },
    { id: 3, abstractSyntax: '1.2.840.10008.5.1.4.1.1.2', transferSyntaxes: [IMPLICIT_LE] },
  ],
  userInformation: {
    maxPduLength: 16384,
    implementationClassUid: '1.2.3.4',
    implementationVersionName: 'FUZZ_1',
    asyncOps: { maxOperationsInvoked: 1, maxOperationsPerformed: 1 },
    roleSelections: [{ sopClassUid: '1.2.840.10008.5.1.4.1.1.2', scuRole: true, scpRole: false }],
    extendedNegotiations: [{ sopClassUid: '1.2.3', serviceClassApplicationInformation: Buffer.from([1, 0]) }],
    commonExtendedNegotiations: [{ sopClassUid: '1.2.3', serviceClassUid: '1.2.4', relatedGeneralSopClassUids: ['1.2.5'] }],
    userIdentity: { type: 2, positiveResponseRequested: true, primaryField: Buffer.from('u'), secondaryField: Buffer.from('p') },
  },
};

const SEEDS: Pdu[] = [
  RQ,
  {
    ...RQ,
    type: 'A-ASSOCIATE-AC',
    presentationContexts: [
      { id: 1, result: 0, transferSyntax: IMPLICIT_LE },
      { id: 3, result: 3, transferSyntax: '' },
    ],
    userInformation: { ...RQ.userInformation, commonExtendedNegotiations: [], userIdentity: undefined, userIdentityResponse: Buffer.from('r') },
  },
  { type: 'A-ASSOCIATE-RJ', result: 1, source: 1, reason: 7 },
  {
    type: 'P-DATA-TF',
    pdvs: [
      { contextId: 1, isCommand: true, isLast: true, data: Buffer.from('command') },
      { contextId: 1, isCommand: false, isLast: false, data: Buffer.alloc(40, 7) },
    ],
  },
  { type: 'A-RELEASE-RQ' },
  { type: 'A-RELEASE-RP' },
  { type: 'A-ABORT', source: 2, reason: 1 },
];
const SEED_BYTES = SEEDS.map(encodePdu);

function mutate(rand: () => number, input: Buffer): Buffer {
  const int = (n: number) => Math.floor(rand() * n);
  let b = Buffer.from(input);
  const rounds = 1 + int(3);
  for (let r = 0; r < rounds; r++) {
    switch (int(7)) {
      case 0: // bit flips
        for (let i = 0, n = 1 + int(8); i < n && b.length; i++) b[int(b.length)] ^= 1 << int(8);
        break;
      case 1: // truncation, length field fixed or not
        b = b.subarray(0, int(b.length + 1));
        if (b.length >= 6 && rand() < 0.5) b.writeUInt32BE(b.length - 6, 2);
        break;
      case 2: // PDU length field changed
        if (b.length >= 6) b.writeUInt32BE(rand() < 0.5 ? int(0x100000000) : Math.max(0, b.length - 6 + int(9) - 4), 2);
        break;
      case 3: // an item or PDV length somewhere changed
        if (b.length >= 8) {
          const pos = 6 + int(b.length - 7);
          b.writeUInt16BE(rand() < 0.5 ? int(0x10000) : Math.max(0, b.readUInt16BE(pos) + int(9) - 4), pos);
        }
        break;
      case 4: // random bytes overwritten
        for (let i = 0, n = 1 + int(6); i < n && b.length; i++) b[int(b.length)] = int(256);
        break;
      case 5: // bytes inserted, length fixed
        {
          const pos = int(b.length + 1);
          const ins = Buffer.from(Array.from({ length: 1 + int(8) }, () => int(256)));
          b = Buffer.concat([b.subarray(0, pos), ins, b.subarray(pos)]);
          if (b.length >= 6 && rand() < 0.7) b.writeUInt32BE(b.length - 6, 2);
        }
        break;
      case 6: // bytes deleted, length fixed
        {
          const pos = int(b.length + 1);
          b = Buffer.concat([b.subarray(0, pos), b.subarray(pos + 1 + int(8))]);
          if (b.length >= 6 && rand() < 0.7) b.writeUInt32BE(b.length - 6, 2);
        }
        break;
    }
  }
  return b;
}

function randomPdu(rand: () => number): Buffer {
  const len = Math.floor(rand() * 200);
  const b = Buffer.from(Array.from({ length: len + 6 }, () => Math.floor(rand() * 256)));
  if (rand() < 0.7) b[0] = 1 + Math.floor(rand() * 7);
  if (rand() < 0.7) b.writeUInt32BE(len, 2);
  return b;
}

describe('decoder fuzz', () => {
  it('20,000 random and mutated PDUs: each decodes or throws PduDecodeError', () => {
    const rand = mulberry32(0x5eed);
    let decoded = 0;
    let rejected = 0;
    for (let i = 0; i < 20_000; i++) {
      const bytes = i % 4 === 0 ? randomPdu(rand) : mutate(rand, SEED_BYTES[i % SEED_BYTES.length]);
      try {
        decodePdu(bytes);
        decoded++;
      } catch (err) {
        if (!(err instanceof PduDecodeError)) throw new Error(`non-PduDecodeError for ${bytes.toString('hex')}: ${String(err)}`, { cause: err });
        expect(err.abortReason).toBeGreaterThanOrEqual(0);
        rejected++;
      }
    }
    expect(decoded + rejected).toBe(20_000);
    expect(decoded).toBeGreaterThan(100); // the mutations also produce valid PDUs
    expect(rejected).toBeGreaterThan(10_000);
  });

  it('framer + decoder on mutated streams in random chunks: only ProtocolError or PduDecodeError', () => {
    const rand = mulberry32(42);
    for (let i = 0; i < 2_000; i++) {
      const stream = Buffer.concat(Array.from({ length: 1 + Math.floor(rand() * 4) }, (_, k) => mutate(rand, SEED_BYTES[(i + k) % SEED_BYTES.length])));
      const framer = new PduFramer({ maxPduLength: 1024, maxAssociatePduLength: 4096 });
      try {
        for (let pos = 0; pos < stream.length;) {
          const n = 1 + Math.floor(rand() * 64);
          framer.push(stream.subarray(pos, pos + n));
          pos += n;
          for (let f = framer.next(); f; f = framer.next()) {
            try {
              decodePduBody(f.typeCode, f.body);
            } catch (err) {
              if (!(err instanceof PduDecodeError)) throw err;
            }
          }
        }
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
      }
    }
  });
});

describe('socket fuzz', () => {
  let acceptor: Acceptor;
  let port: number;
  beforeAll(async () => {
    ({ acceptor, port } = await startAcceptor({ artimTimeoutMs: 300, maxPduLength: 16384, maxAssociatePduLength: 65536 }));
  });
  afterAll(() => acceptor.close());

  function sendStream(bytes: Buffer): Promise<'closed' | 'hung'> {
    return new Promise((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      const guard = setTimeout(() => {
        s.destroy();
        resolve('hung');
      }, 5000);
      s.on('error', () => undefined);
      s.on('data', () => undefined);
      s.on('close', () => {
        clearTimeout(guard);
        resolve('closed');
      });
      s.on('connect', () => {
        // Half-close after sending: the server must answer (or not) and close.
        s.end(bytes);
      });
    });
  }

  it('1,200 malformed streams (20 in parallel) leave the acceptor serving', async () => {
    const rand = mulberry32(7);
    const good = encodePdu(RQ);
    const pdata = SEED_BYTES[3];
    const streams: Buffer[] = [];
    for (let i = 0; i < 1_200; i++) {
      const kind = i % 4;
      if (kind === 0) streams.push(randomPdu(rand));
      else if (kind === 1) streams.push(mutate(rand, good));
      else if (kind === 2) streams.push(Buffer.concat([good, mutate(rand, pdata), mutate(rand, SEED_BYTES[4])]));
      else streams.push(Buffer.concat([mutate(rand, SEED_BYTES[Math.floor(rand() * SEED_BYTES.length)]), randomPdu(rand)]));
    }
    const results: string[] = [];
    for (let i = 0; i < streams.length; i += 20) results.push(...(await Promise.all(streams.slice(i, i + 20).map(sendStream))));
    expect(results.filter((r) => r === 'hung')).toEqual([]);
    const assoc = await connectTo(port);
    await assoc.sendPdv(1, true, Buffer.from([1, 2, 3]), true);
    await assoc.release();
    await new Promise((r) => setTimeout(r, 50));
    expect(acceptor.connections.size).toBe(0);
  });
});
