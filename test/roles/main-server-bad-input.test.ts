/**
 * Bad input against a running Main Server (a child process): protocol violations get
 * the right A-ABORT / A-ASSOCIATE-RJ / failure status, the server keeps serving, and
 * nothing already stored changes. Ends with a seeded fuzz of mutated association streams.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCtSeries } from '../../scripts/gen-test-data.js';
import { CommandField } from '../../src/dimse/command-fields.js';
import { encodeCommandSet } from '../../src/dimse/command-set.js';
import { DimseConnection } from '../../src/dimse/dimse-connection.js';
import { cEcho, cStore } from '../../src/dimse/scu.js';
import { readMetaHeader } from '../../src/dicom/part10.js';
import { connect, emptyUserInformation, encodePdu, DICOM_APPLICATION_CONTEXT, type Pdu } from '../../src/net/index.js';
import { RawPeer } from '../net/helpers.js';
import { dataSetHash, indexPart10Files, type Part10Info } from '../interop/dicom-files.js';
import { startPacs, stopAllPeers, type PacsPeer } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const ELE = '1.2.840.10008.1.2.1';
const VERIFICATION = '1.2.840.10008.1.1';

let pacs: PacsPeer;
let dataSet: Buffer; // a valid CT data set (explicit VR LE)
let sopInstanceUid: string;
let baseline: Map<string, Part10Info>;
let baselineHash: string;

function associateRq(contexts: { id: number; abstractSyntax: string; transferSyntaxes: string[] }[]): Buffer {
  return encodePdu({
    type: 'A-ASSOCIATE-RQ',
    protocolVersion: 1,
    calledAeTitle: 'PACS',
    callingAeTitle: 'FUZZER',
    applicationContextName: DICOM_APPLICATION_CONTEXT,
    presentationContexts: contexts,
    userInformation: { ...emptyUserInformation(), maxPduLength: 16384, implementationClassUid: '1.2.3.4' },
  });
}

function pdata(contextId: number, isCommand: boolean, isLast: boolean, data: Buffer): Buffer {
  return encodePdu({ type: 'P-DATA-TF', pdvs: [{ contextId, isCommand, isLast, data }] });
}

function storeCommand(uid: string): Buffer {
  return encodeCommandSet({
    commandField: CommandField.C_STORE_RQ,
    commandDataSetType: 0,
    messageId: 1,
    priority: 0,
    affectedSopClassUid: CT,
    affectedSopInstanceUid: uid,
  });
}

async function association(): Promise<DimseConnection> {
  const assoc = await connect({
    host: '127.0.0.1',
    port: pacs.port,
    callingAeTitle: 'TESTER',
    calledAeTitle: 'PACS',
    presentationContexts: [
      { abstractSyntax: VERIFICATION, transferSyntaxes: [ELE] },
      { abstractSyntax: CT, transferSyntaxes: [ELE] },
    ],
  });
  return new DimseConnection(assoc);
}

async function rawAssociated(): Promise<RawPeer> {
  const peer = await RawPeer.connect(pacs.port);
  peer.send(associateRq([{ id: 1, abstractSyntax: CT, transferSyntaxes: [ELE] }]));
  const ac = await peer.next();
  expect(ac.type).toBe('A-ASSOCIATE-AC');
  return peer;
}

async function expectAbort(peer: RawPeer, reason?: number): Promise<void> {
  const pdu = await peer.next();
  expect(pdu.type).toBe('A-ABORT');
  if (reason !== undefined) expect((pdu as Extract<Pdu, { type: 'A-ABORT' }>).reason).toBe(reason);
  await peer.closed;
}

async function stillServing(): Promise<void> {
  expect(pacs.exited).toBe(false);
  const conn = await association();
  await cEcho(conn);
  await conn.transport.release();
}

async function storedUnchanged(): Promise<void> {
  const now = await indexPart10Files(pacs.dataDir);
  for (const [uid, info] of baseline) expect(now.get(uid)?.path, `${uid} still stored`).toBe(info.path);
  expect(await dataSetHash(now.get(sopInstanceUid)!)).toBe(baselineHash);
}

beforeAll(async () => {
  const dir = await makeTempDir('pacs-bad-');
  const [server, series] = await Promise.all([startPacs({ dir }), writeCtSeries({ dir: join(dir, 'ct'), count: 1, rows: 64, cols: 64 })]);
  pacs = server;
  const file = readFileSync(series.files[0]);
  const { meta, dataSetOffset } = readMetaHeader(file);
  dataSet = file.subarray(dataSetOffset);
  sopInstanceUid = meta.mediaStorageSopInstanceUid;
  const conn = await association();
  await cStore(conn, { sopClassUid: CT, sopInstanceUid, transferSyntaxUid: ELE }, dataSet);
  await conn.transport.release();
  baseline = await indexPart10Files(pacs.dataDir);
  baselineHash = await dataSetHash(baseline.get(sopInstanceUid)!);
  expect(baseline.size).toBe(1);
}, 120_000);

afterAll(async () => {
  await stopAllPeers();
  await removeTempDirs();
});

describe('Main Server under bad input', () => {
  it('rejects an unknown abstract syntax (result 3) and accepts the rest', async () => {
    const peer = await RawPeer.connect(pacs.port);
    peer.send(
      associateRq([
        { id: 1, abstractSyntax: '1.2.3.4.5.6.7', transferSyntaxes: [ELE] },
        { id: 3, abstractSyntax: CT, transferSyntaxes: ['1.2.3.99', ELE] },
        { id: 5, abstractSyntax: CT, transferSyntaxes: ['1.2.3.99'] },
      ]),
    );
    const ac = await peer.next();
    if (ac.type !== 'A-ASSOCIATE-AC') throw new Error(`expected A-ASSOCIATE-AC, got ${ac.type}`);
    const results = Object.fromEntries(ac.presentationContexts.map((c) => [c.id, [c.result, c.transferSyntax]]));
    expect(results[1][0]).toBe(3); // abstract syntax not supported
    expect(results[3]).toEqual([0, ELE]); // first acceptable transfer syntax
    expect(results[5][0]).toBe(4); // no transfer syntax supported
    peer.socket.destroy();
    await stillServing();
  });

  it('aborts on a P-DATA-TF before any association', async () => {
    const peer = await RawPeer.connect(pacs.port);
    peer.send(pdata(1, true, true, storeCommand('1.2.3')));
    await expectAbort(peer);
    await stillServing();
  });

  it('aborts on an unknown PDU type', async () => {
    const peer = await rawAssociated();
    peer.send(Buffer.from([0x0a, 0, 0, 0, 0, 4, 1, 2, 3, 4]));
    await expectAbort(peer, 1);
    await stillServing();
  });

  it('aborts on a PDU whose length disagrees with its content', async () => {
    const peer = await RawPeer.connect(pacs.port);
    const rq = associateRq([{ id: 1, abstractSyntax: CT, transferSyntaxes: [ELE] }]);
    rq.writeUInt32BE(rq.length - 6 - 20, 2); // claims 20 bytes less than its items take
    peer.send(rq);
    const pdu = await peer.next();
    expect(['A-ABORT', 'A-ASSOCIATE-RJ']).toContain(pdu.type);
    peer.socket.destroy();
    await stillServing();
  });

  it('aborts on a P-DATA-TF larger than the maximum PDU length it announced', async () => {
    const peer = await rawAssociated();
    peer.send(pdata(1, false, false, Buffer.alloc(4 << 20)));
    await expectAbort(peer);
    await stillServing();
  });

  it('aborts on a PDV for a presentation context it did not accept', async () => {
    const peer = await rawAssociated();
    peer.send(pdata(7, true, true, storeCommand('1.2.3.4')));
    await expectAbort(peer);
    await stillServing();
  });

  it('answers a truncated data set with a failure status and stores nothing', async () => {
    const conn = await association();
    const uid = '1.2.826.0.1.3680043.99.1';
    const err = await cStore(conn, { sopClassUid: CT, sopInstanceUid: uid, transferSyntaxUid: ELE }, dataSet.subarray(0, 301)).catch((e) => e);
    expect(err.status).toBe(0xc000);
    expect(err.errorComment).toMatch(/truncat/i);
    await cEcho(conn); // the association itself is still fine
    await conn.transport.release();
    expect((await indexPart10Files(pacs.dataDir)).has(uid)).toBe(false);
    await storedUnchanged();
  });

  it('answers a malformed data set with a failure status and stores nothing', async () => {
    const conn = await association();
    const uid = '1.2.826.0.1.3680043.99.2';
    const garbage = Buffer.concat([
      dataSet.subarray(0, 64),
      Buffer.from([0x08, 0x00, 0x20, 0x00, 0x53, 0x51, 0, 0, 0xff, 0xff, 0xff, 0x7f]),
      Buffer.alloc(64, 0xee),
    ]);
    const err = await cStore(conn, { sopClassUid: CT, sopInstanceUid: uid, transferSyntaxUid: ELE }, garbage).catch((e) => e);
    expect(err.status).toBeGreaterThanOrEqual(0xa000);
    expect(err.errorComment).toBeTruthy();
    await conn.transport.release();
    expect((await indexPart10Files(pacs.dataDir)).has(uid)).toBe(false);
    await storedUnchanged();
  });

  it('refuses a data set whose SOP Instance UID differs from the command (0xA900)', async () => {
    const conn = await association();
    const err = await cStore(conn, { sopClassUid: CT, sopInstanceUid: '1.2.826.0.1.3680043.99.3', transferSyntaxUid: ELE }, dataSet).catch((e) => e);
    expect(err.status).toBe(0xa900);
    expect(err.errorComment).toMatch(/SOP Instance UID/i);
    await conn.transport.release();
    await storedUnchanged();
  });

  it('answers a duplicate with success and keeps the stored copy', async () => {
    const conn = await association();
    const rsp = await cStore(conn, { sopClassUid: CT, sopInstanceUid, transferSyntaxUid: ELE }, dataSet);
    expect(rsp.command.status).toBe(0);
    await conn.transport.release();
    await storedUnchanged();
  });

  it('survives 2,000 mutated association streams (fixed seed) and keeps serving', async () => {
    // mulberry32: a tiny seeded PRNG, so a failure replays exactly.
    let seed = 0x5eed2026;
    const rand = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = seed;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const valid = Buffer.concat([
      associateRq([{ id: 1, abstractSyntax: CT, transferSyntaxes: [ELE] }]),
      pdata(1, true, true, storeCommand(sopInstanceUid)),
      pdata(1, false, true, dataSet.subarray(0, 2048)),
      encodePdu({ type: 'A-RELEASE-RQ' }),
    ]);
    const mutate = (): Buffer => {
      const b = Buffer.from(valid);
      const kind = Math.floor(rand() * 4);
      if (kind === 0) for (let i = 0; i < 1 + rand() * 8; i++) b[Math.floor(rand() * b.length)] ^= 1 << Math.floor(rand() * 8);
      if (kind === 1) return b.subarray(0, Math.floor(rand() * b.length));
      if (kind === 2) b.writeUInt32BE(Math.floor(rand() * 0xffffffff), [2, 74 + Math.floor(rand() * 40)][Math.floor(rand() * 2)]);
      if (kind === 3) for (let i = 0; i < 64; i++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      return b;
    };
    const runOne = async (bytes: Buffer): Promise<void> => {
      const peer = await RawPeer.connect(pacs.port);
      peer.send(bytes);
      // Give the server a moment to answer, then hang up as a misbehaving peer would.
      await Promise.race([peer.closed, new Promise((r) => setTimeout(r, 30))]);
      peer.socket.destroy();
    };
    const total = 2000;
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < total) {
          next++;
          await runOne(mutate());
        }
      }),
    );
    await stillServing();
    await storedUnchanged();
  }, 300_000);
});
