/**
 * Association limits of `pacs serve` (issue 15 item 5), the server in a child process and
 * 2,000 raw sockets in this one (ulimit -n is 20,000 here), each sending one
 * A-ASSOCIATE-RQ and then nothing:
 * - with the defaults, the Main Server admits 64 and refuses every other one with
 *   A-ASSOCIATE-RJ transient, service-provider (presentation), local limit exceeded;
 * - with a short idle timeout set by `pacs config limits set` on the running server, every
 *   admitted idle association is aborted (A-ABORT) and closed, and then a normal
 *   association (echoscu) is served;
 * - with a short ARTIM, connections that never send an A-ASSOCIATE-RQ are closed.
 */
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePdu, IMPLEMENTATION_CLASS_UID, DICOM_APPLICATION_CONTEXT } from '../../src/net/index.js';
import { runPacs } from '../cli/run-pacs.js';
import { echoscu, startPacs, stopAllPeers, type PacsPeer } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

const VERIFICATION = '1.2.840.10008.1.1';
const IMPLICIT_LE = '1.2.840.10008.1.2';
const N = 2000;
/** Sockets opening at once: enough to be quick, few enough not to overflow the listen backlog. */
const BATCH = 200;

let pacs: PacsPeer;

beforeAll(async () => {
  pacs = await startPacs({ dir: await makeTempDir('pacs-assoc-limits-') });
});

afterAll(async () => {
  await stopAllPeers();
  await removeTempDirs();
});

const RQ = encodePdu({
  type: 'A-ASSOCIATE-RQ',
  protocolVersion: 1,
  calledAeTitle: 'PACS',
  callingAeTitle: 'HOLDER',
  applicationContextName: DICOM_APPLICATION_CONTEXT,
  presentationContexts: [{ id: 1, abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT_LE] }],
  userInformation: {
    maxPduLength: 16384,
    implementationClassUid: IMPLEMENTATION_CLASS_UID,
    roleSelections: [],
    extendedNegotiations: [],
    commonExtendedNegotiations: [],
  },
});

interface Held {
  socket: net.Socket;
  /** The first PDU's type and, for an A-ASSOCIATE-RJ, result/source/reason. */
  answer: Promise<{ type: number; rj?: [number, number, number] }>;
  /** Resolves when the server has closed the connection, with the PDU types it sent. */
  closed: Promise<number[]>;
}

/** A connection that sends `bytes` (an A-ASSOCIATE-RQ, or nothing) and then stays silent. */
function hold(port: number, bytes?: Buffer): Held {
  const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
  const types: number[] = [];
  let buf = Buffer.alloc(0);
  let answered: (a: { type: number; rj?: [number, number, number] }) => void;
  const answer = new Promise<{ type: number; rj?: [number, number, number] }>((r) => (answered = r));
  const closed = new Promise<number[]>((resolve) => socket.once('close', () => resolve(types)));
  socket.on('error', () => undefined);
  if (bytes) socket.once('connect', () => socket.write(bytes));
  socket.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 6 && buf.length >= 6 + buf.readUInt32BE(2)) {
      const type = buf[0];
      if (types.length === 0) answered(type === 0x03 ? { type, rj: [buf[7], buf[8], buf[9]] } : { type });
      types.push(type);
      buf = buf.subarray(6 + buf.readUInt32BE(2));
    }
  });
  socket.once('close', () => answered({ type: -1 }));
  return { socket, answer, closed };
}

/** Opens n held associations, BATCH at a time, each once the previous batch was answered. */
async function holdMany(port: number, n: number): Promise<Held[]> {
  const all: Held[] = [];
  for (let i = 0; i < n; i += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, n - i) }, () => hold(port, RQ));
    await Promise.all(batch.map((h) => h.answer));
    all.push(...batch);
  }
  return all;
}

const A_ASSOCIATE_AC = 0x02;
const A_ASSOCIATE_RJ = 0x03;
const A_ABORT = 0x07;
/** PS3.8 Table 9-21: rejected-transient (2), service-provider presentation related (3), local-limit-exceeded (2). */
const LOCAL_LIMIT = [2, 3, 2];

describe('association limits', () => {
  it('admits 64 associations per role by default and refuses the rest with A-ASSOCIATE-RJ (transient, local limit exceeded)', async () => {
    const held = await holdMany(pacs.port, N);
    const answers = await Promise.all(held.map((h) => h.answer));
    const accepted = answers.filter((a) => a.type === A_ASSOCIATE_AC).length;
    const refused = answers.filter((a) => a.type === A_ASSOCIATE_RJ);
    expect({ accepted, refused: refused.length }).toEqual({ accepted: 64, refused: N - 64 });
    expect(new Set(refused.map((a) => a.rj!.join(',')))).toEqual(new Set([LOCAL_LIMIT.join(',')]));
    for (const h of held) h.socket.destroy();
    // Once they are gone, a normal association is served again.
    await expect.poll(async () => (await echoscu({ port: pacs.port, calledAet: 'PACS' })).code, { timeout: 20_000, interval: 250 }).toBe(0);
  });

  it('aborts idle associations after the idle timeout set on the running server, then serves a new one', async () => {
    const set = await runPacs('config', 'limits', 'set', 'dicom.idleTimeoutSeconds=2', 'dicom.artimTimeoutSeconds=1', '--data', pacs.dataDir);
    expect(set.status, set.stderr).toBe(0);
    // The running server follows the registry file: wait until a new association gets the new timeout.
    await expect
      .poll(
        async () =>
          (await (async () => {
            const h = hold(pacs.port, RQ);
            await h.answer;
            const t = await Promise.race([h.closed, new Promise<undefined>((r) => setTimeout(() => r(undefined), 5000))]);
            h.socket.destroy();
            return t;
          })()) ?? [],
        { timeout: 30_000, interval: 100 },
      )
      .toEqual([A_ASSOCIATE_AC, A_ABORT]);

    const held = await holdMany(pacs.port, N);
    const answers = await Promise.all(held.map((h) => h.answer));
    const acceptedHeld = held.filter((_, i) => answers[i].type === A_ASSOCIATE_AC);
    const refused = answers.filter((a) => a.type === A_ASSOCIATE_RJ);
    // Idle ones are aborted while the rest are still opening, so more than 64 may be admitted in turn.
    expect(acceptedHeld.length).toBeGreaterThanOrEqual(64);
    expect(refused.length).toBeGreaterThan(0);
    expect(acceptedHeld.length + refused.length).toBe(N);
    expect(new Set(refused.map((a) => a.rj!.join(',')))).toEqual(new Set([LOCAL_LIMIT.join(',')]));
    // Every admitted association, silent since its A-ASSOCIATE-AC, is aborted by the server and closed.
    const closedBy = await Promise.all(acceptedHeld.map((h) => h.closed));
    expect(new Set(closedBy.map((t) => t.join(',')))).toEqual(new Set([`${A_ASSOCIATE_AC},${A_ABORT}`]));
    for (const h of held) h.socket.destroy();
    expect((await echoscu({ port: pacs.port, calledAet: 'PACS' })).code).toBe(0);
  });

  it('closes connections that never send an A-ASSOCIATE-RQ when ARTIM expires', async () => {
    const start = Date.now();
    const silent = Array.from({ length: 100 }, () => hold(pacs.port));
    const types = await Promise.all(silent.map((h) => h.closed));
    // Closed by the server (this side never ends them), without a PDU, after ARTIM (1 s here;
    // the bound is generous for a loaded machine yet well below the 30 s default).
    expect(types.every((t) => t.length === 0)).toBe(true);
    expect(Date.now() - start).toBeLessThan(15_000);
    expect((await echoscu({ port: pacs.port, calledAet: 'PACS' })).code).toBe(0);
  }, 60_000);
});
