import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AssociationAbortedError,
  AssociationRejectedError,
  ConnectError,
  encodePdu,
  negotiatePresentationContexts,
  negotiateRoleSelections,
  type Acceptor,
  type AssociateRq,
  type Association,
  type ClosedInfo,
  type Pdv,
} from '../../src/net/index.js';
import { CT_STORAGE, EXPLICIT_LE, IMPLICIT_LE, RawPeer, VERIFICATION, connectTo, startAcceptor, waitFor } from './helpers.js';

const acceptors: Acceptor[] = [];
afterEach(async () => {
  await Promise.all(acceptors.splice(0).map((a) => a.close()));
});
async function start(opts: Parameters<typeof startAcceptor>[0] = {}) {
  const r = await startAcceptor(opts);
  acceptors.push(r.acceptor);
  return r;
}

function rq(over: Partial<AssociateRq> = {}): AssociateRq {
  return {
    type: 'A-ASSOCIATE-RQ',
    protocolVersion: 1,
    calledAeTitle: 'PACS',
    callingAeTitle: 'RAW',
    applicationContextName: '1.2.840.10008.3.1.1.1',
    presentationContexts: [{ id: 1, abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT_LE] }],
    userInformation: { maxPduLength: 16384, roleSelections: [], extendedNegotiations: [], commonExtendedNegotiations: [] },
    ...over,
  };
}

describe('negotiation', () => {
  it('accepts the first acceptable proposed transfer syntax; 3 and 4 otherwise', () => {
    const res = negotiatePresentationContexts(
      [
        { id: 1, abstractSyntax: VERIFICATION, transferSyntaxes: [EXPLICIT_LE, IMPLICIT_LE] },
        { id: 3, abstractSyntax: CT_STORAGE, transferSyntaxes: ['1.2.840.10008.1.2.4.50', IMPLICIT_LE] },
        { id: 5, abstractSyntax: CT_STORAGE, transferSyntaxes: ['1.2.840.10008.1.2.4.50'] },
        { id: 7, abstractSyntax: '1.2.3', transferSyntaxes: [IMPLICIT_LE] },
        { id: 8, abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT_LE] },
      ],
      (as) => (as === VERIFICATION ? true : as === CT_STORAGE ? { transferSyntaxes: [IMPLICIT_LE, EXPLICIT_LE] } : false),
    );
    expect(res).toEqual([
      { id: 1, result: 0, transferSyntax: EXPLICIT_LE },
      { id: 3, result: 0, transferSyntax: IMPLICIT_LE },
      { id: 5, result: 4, transferSyntax: '' },
      { id: 7, result: 3, transferSyntax: '' },
      { id: 8, result: 2, transferSyntax: '' },
    ]);
    expect(
      negotiatePresentationContexts([{ id: 1, abstractSyntax: CT_STORAGE, transferSyntaxes: [EXPLICIT_LE, IMPLICIT_LE] }], () => (ts) => ts === IMPLICIT_LE),
    ).toEqual([{ id: 1, result: 0, transferSyntax: IMPLICIT_LE }]);
  });
  it('accepts only proposed and allowed roles', () => {
    expect(
      negotiateRoleSelections(
        [
          { sopClassUid: CT_STORAGE, scuRole: true, scpRole: true },
          { sopClassUid: VERIFICATION, scuRole: false, scpRole: true },
        ],
        (uid) => (uid === CT_STORAGE ? { scp: true } : true),
      ),
    ).toEqual([
      { sopClassUid: CT_STORAGE, scuRole: false, scpRole: true },
      { sopClassUid: VERIFICATION, scuRole: false, scpRole: true },
    ]);
  });
});

describe('acceptor and requestor over loopback', () => {
  it('associates and exposes the negotiated parameters on both sides', async () => {
    let server!: Association;
    const { port } = await start({
      maxPduLength: 32768,
      onAssociationRequest: (r, peer) => {
        expect(peer.address).toBe('127.0.0.1');
        return {
          accept: {
            contexts: negotiatePresentationContexts(r.presentationContexts, (as) => as === VERIFICATION || { transferSyntaxes: [IMPLICIT_LE] }),
            roleSelections: negotiateRoleSelections(r.userInformation.roleSelections),
            userIdentityResponse: Buffer.from('ok'),
          },
        };
      },
      onAssociation: (a) => (server = a),
    });
    const client = await connectTo(port, {
      callingAeTitle: ' TEST_SCU ',
      maxPduLength: 4096,
      roleSelections: [{ sopClassUid: CT_STORAGE, scuRole: true, scpRole: true }],
      userIdentity: { type: 2, positiveResponseRequested: true, primaryField: Buffer.from('bob'), secondaryField: Buffer.from('pw') },
    });
    expect(client.isRequestor).toBe(true);
    expect(client.callingAeTitle).toBe(' TEST_SCU ');
    expect([...client.contexts.values()]).toEqual([
      { id: 1, abstractSyntax: VERIFICATION, transferSyntax: IMPLICIT_LE },
      { id: 3, abstractSyntax: CT_STORAGE, transferSyntax: IMPLICIT_LE },
    ]);
    expect(client.peerMaxPduLength).toBe(32768);
    expect(client.roleSelections).toEqual([{ sopClassUid: CT_STORAGE, scuRole: true, scpRole: true }]);
    expect(client.userIdentityResponse?.toString()).toBe('ok');
    expect(server.isRequestor).toBe(false);
    expect(server.callingAeTitle).toBe('TEST_SCU'); // trimmed on the wire
    expect(server.calledAeTitle).toBe('PACS');
    expect(server.peerMaxPduLength).toBe(4096);
    expect(server.userIdentity?.primaryField.toString()).toBe('bob');
    expect(server.contexts.get(3)?.transferSyntax).toBe(IMPLICIT_LE);
    expect(server.peerAddress).toBe('127.0.0.1');
    await client.release();
  });

  it('exchanges PDVs both ways, fragmented at the peer max PDU length', async () => {
    const serverPdus: Pdv[][] = [];
    const { port } = await start({
      maxPduLength: 1024,
      onAssociation: (a) => {
        const parts: Buffer[] = [];
        a.on('pdv', (pdvs) => {
          serverPdus.push(pdvs);
          for (const p of pdvs) {
            parts.push(p.data);
            if (p.isLast) void a.sendPdv(p.contextId, false, Buffer.concat(parts).reverse(), true);
          }
        });
      },
    });
    const client = await connectTo(port, { maxPduLength: 512 });
    const data = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 251));
    const received: Pdv[] = [];
    const done = new Promise<void>((resolve) =>
      client.on('pdv', (pdvs) => {
        received.push(...pdvs);
        if (pdvs.some((p) => p.isLast)) resolve();
      }),
    );
    await client.sendPdv(3, false, data, true);
    await done;
    const flat = serverPdus.flat();
    expect(flat.length).toBe(Math.ceil(10_000 / (1024 - 6)));
    expect(flat.every((p) => p.data.length <= 1018 && p.contextId === 3 && !p.isCommand)).toBe(true);
    expect(flat.map((p) => p.isLast)).toEqual(flat.map((_, i) => i === flat.length - 1));
    expect(received.every((p) => p.data.length <= 506)).toBe(true);
    expect(received.length).toBe(Math.ceil(10_000 / 506));
    expect(Buffer.concat(received.map((p) => p.data)).equals(Buffer.from(data).reverse())).toBe(true);
    await expect(client.sendPdv(5, false, data, true)).rejects.toThrow(/not accepted/);
    await client.release();
  });

  it('releases: both sides closed as released', async () => {
    let server!: Association;
    const released = { release: false };
    const { port, acceptor } = await start({
      onAssociation: (a) => {
        server = a;
        a.on('release', () => (released.release = true));
      },
    });
    const client = await connectTo(port);
    const serverClosed = waitFor<[ClosedInfo]>(server, 'closed');
    const clientClosed = waitFor<[ClosedInfo]>(client, 'closed');
    await client.release();
    expect((await clientClosed)[0].reason).toBe('released');
    expect((await serverClosed)[0].reason).toBe('released');
    expect(released.release).toBe(true);
    expect(acceptor.connections.size).toBe(0);
    await expect(client.release()).rejects.toThrow();
    await expect(client.sendPdv(1, true, Buffer.alloc(1), true)).rejects.toThrow();
  });

  it('handles a release collision', async () => {
    const { port } = await start({ onAssociation: (a) => void a.release() });
    const client = await connectTo(port);
    const closed = waitFor<[ClosedInfo]>(client, 'closed');
    await client.release().catch(() => undefined);
    expect((await closed)[0].reason).toBe('released');
  });

  it('aborts: the peer sees A-ABORT with source and reason', async () => {
    let server!: Association;
    const { port } = await start({ onAssociation: (a) => (server = a) });
    const client = await connectTo(port);
    const abort = waitFor<[{ source: number; reason: number }]>(server, 'abort');
    const closed = waitFor<[ClosedInfo]>(server, 'closed');
    client.abort();
    expect((await abort)[0]).toEqual({ source: 0, reason: 0 });
    expect((await closed)[0]).toMatchObject({ reason: 'aborted', abort: { source: 0, reason: 0 } });
  });

  it('rejects as the callback decides (unknown called AE)', async () => {
    const { port } = await start({
      onAssociationRequest: (r) =>
        r.calledAeTitle === 'PACS'
          ? { accept: { contexts: negotiatePresentationContexts(r.presentationContexts, () => true) } }
          : { reject: { result: 1, source: 1, reason: 7 } },
    });
    const err = await connectTo(port, { calledAeTitle: 'NOBODY' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AssociationRejectedError);
    expect(err).toMatchObject({ result: 1, source: 1, reason: 7 });
    expect((err as Error).message).toMatch(/called-AE-title-not-recognized/);
    const ok = await connectTo(port);
    await ok.release();
  });

  it('rejects over maxAssociations with transient, local limit exceeded', async () => {
    const { port } = await start({ maxAssociations: 1 });
    const first = await connectTo(port);
    const err = await connectTo(port).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'AssociationRejectedError', result: 2, source: 3, reason: 2 });
    await first.release();
    const again = await connectTo(port);
    await again.release();
  });

  it('closes a connection that sends nothing (ARTIM timer)', async () => {
    const { port } = await start({ artimTimeoutMs: 150 });
    const peer = await RawPeer.connect(port);
    const t0 = Date.now();
    await peer.closed;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('aborts an idle association (idle timeout)', async () => {
    const { port } = await start({ idleTimeoutMs: 200 });
    const client = await connectTo(port);
    const [abort] = await waitFor<[{ source: number; reason: number }]>(client, 'abort');
    expect(abort).toEqual({ source: 2, reason: 0 });
  });

  it('fails to connect with ConnectError', async () => {
    const { port, acceptor } = await startAcceptor();
    await acceptor.close();
    await expect(connectTo(port)).rejects.toBeInstanceOf(ConnectError);
  });

  it('fails with ConnectError when the transport connection cannot be opened at all', async () => {
    const err = await connectTo(1, {
      socketFactory: () => {
        throw new Error('no route');
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as Error).message).toBe('cannot open the transport connection: no route');
  });

  it('times out connecting with ConnectError and closes the socket', async () => {
    // A socket that is never connected: the connect timeout, not the peer, ends the attempt.
    const socket = new net.Socket();
    const err = await connectTo(1, { socketFactory: () => socket, connectTimeoutMs: 100 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as Error).message).toBe('connection to 127.0.0.1:1 timed out after 100 ms');
    expect(socket.destroyed).toBe(true);
  });

  it('times out waiting for A-ASSOCIATE-AC', async () => {
    const { port } = await start({ onAssociationRequest: () => new Promise(() => undefined) });
    const err = await connectTo(port, { artimTimeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AssociationAbortedError);
    expect((err as Error).message).toMatch(/no A-ASSOCIATE-AC/);
  });

  it('applies backpressure while reading is paused', async () => {
    let total = 0;
    let resolveFirst!: () => void;
    const gotFirst = new Promise<void>((r) => (resolveFirst = r));
    let server!: Association;
    const { port } = await start({
      onAssociation: (a) => {
        server = a;
        a.on('pdv', (pdvs) => {
          if (total === 0) {
            a.pauseReading();
            resolveFirst();
          }
          for (const p of pdvs) total += p.data.length;
        });
      },
    });
    const client = await connectTo(port);
    const size = 48 * 1024 * 1024;
    let resolved = false;
    const sending = client.sendPdv(3, false, Buffer.alloc(size), true).then(() => (resolved = true));
    await gotFirst;
    await new Promise((r) => setTimeout(r, 300));
    expect(resolved).toBe(false);
    expect(total).toBeLessThan(size);
    server.resumeReading();
    await sending;
    await client.release();
    expect(total).toBe(size);
  });
});

describe('writesPending', () => {
  it('is true from sendPdv until the socket has written every byte, false after', async () => {
    let server!: Association;
    let received = 0;
    let resolveFirst!: () => void;
    const gotFirst = new Promise<void>((r) => (resolveFirst = r));
    let resolveAll!: () => void;
    const gotAll = new Promise<void>((r) => (resolveAll = r));
    const size = 48 * 1024 * 1024; // more than the loopback socket buffers hold
    const { port } = await start({
      onAssociation: (a) => {
        server = a;
        a.on('pdv', (pdvs) => {
          if (received === 0) {
            a.pauseReading();
            resolveFirst();
          }
          for (const p of pdvs) received += p.data.length;
          if (received === size) {
            resolveAll();
            void a.sendPdv(1, true, Buffer.from([1, 2]), true); // tell the client
          }
        });
      },
    });
    const client = await connectTo(port);
    expect(client.writesPending).toBe(false);
    const sending = client.sendPdv(3, false, Buffer.alloc(size), true);
    expect(client.writesPending).toBe(true); // corked until the next tick
    await gotFirst;
    expect(client.writesPending).toBe(true); // the peer stopped reading: bytes wait in the socket
    server.resumeReading();
    await sending;
    await gotAll;
    await waitFor(client, 'pdv');
    await new Promise((r) => setImmediate(r)); // the write's completion, if it came with the reply
    expect(client.writesPending).toBe(false);
    await client.release();
    expect(client.writesPending).toBe(true); // no socket any more: unknown, never reuse
  });
});

describe('protocol errors', () => {
  it('A-ASSOCIATE-RQ with a wrong protocol version -> RJ permanent, provider (ACSE), reason 2', async () => {
    const { port } = await start();
    const peer = await RawPeer.connect(port);
    peer.send(encodePdu(rq({ protocolVersion: 2 })));
    expect(await peer.next()).toEqual({ type: 'A-ASSOCIATE-RJ', result: 1, source: 2, reason: 2 });
    await peer.closed;
  });

  it.each([
    ['P-DATA-TF before association (Sta2, AA-1)', encodePdu({ type: 'A-RELEASE-RQ' }), 2],
    ['unknown PDU type', Buffer.from([0x09, 0, 0, 0, 0, 0]), 1],
    ['unknown item in A-ASSOCIATE-RQ', Buffer.concat([encodePdu(rq()), Buffer.from([0x77, 0, 0, 0])]), 4],
    ['invalid A-ASSOCIATE-RQ', Buffer.from([0x01, 0, 0, 0, 0, 4, 0, 1, 0, 0]), 6],
  ])('%s -> A-ABORT source 2, reason as given', async (_n, bytes, reason) => {
    const { port } = await start();
    const peer = await RawPeer.connect(port);
    if (bytes[0] === 0x01 && bytes.length > 10) bytes.writeUInt32BE(bytes.length - 6, 2);
    peer.send(bytes);
    expect(await peer.next()).toEqual({ type: 'A-ABORT', source: 2, reason });
    await peer.closed;
  });

  it.each([
    ['unexpected A-ASSOCIATE-RQ in Sta6', () => encodePdu(rq()), 2],
    ['oversize P-DATA-TF', () => encodePdu({ type: 'P-DATA-TF', pdvs: [{ contextId: 1, isCommand: true, isLast: true, data: Buffer.alloc(20000) }] }), 6],
    ['PDV on an unaccepted context', () => encodePdu({ type: 'P-DATA-TF', pdvs: [{ contextId: 9, isCommand: true, isLast: true, data: Buffer.alloc(2) }] }), 6],
    ['A-RELEASE-RP in Sta6', () => encodePdu({ type: 'A-RELEASE-RP' }), 2],
  ])('%s -> A-ABORT source 2, closed as aborted', async (_n, bytes, reason) => {
    let server!: Association;
    const { port } = await start({ maxPduLength: 16384, onAssociation: (a) => (server = a) });
    const peer = await RawPeer.connect(port);
    peer.send(encodePdu(rq()));
    expect((await peer.next()).type).toBe('A-ASSOCIATE-AC');
    const closed = waitFor<[ClosedInfo]>(server, 'closed');
    peer.send(bytes());
    expect(await peer.next()).toEqual({ type: 'A-ABORT', source: 2, reason });
    await peer.closed;
    expect((await closed)[0]).toMatchObject({ reason: 'aborted', abort: { source: 2, reason } });
  });

  it('a throwing listener aborts only its own association', async () => {
    const { port } = await start({
      onAssociation: (a) =>
        a.on('pdv', (pdvs) => {
          if (pdvs[0].data[0] === 1) throw new Error('listener bug');
        }),
    });
    const bad = await connectTo(port);
    const good = await connectTo(port);
    const closed = waitFor<[ClosedInfo]>(bad, 'closed');
    await bad.sendPdv(1, true, Buffer.from([1]), true);
    expect((await closed)[0]).toMatchObject({ reason: 'aborted', abort: { source: 0 } });
    await good.sendPdv(1, true, Buffer.from([2]), true);
    await good.release();
  });
});
