/**
 * The activity events of a listening role (roles/association-activity.ts): one per
 * association when it ends, with its AEs, peer, TLS, the contexts (the ones used first),
 * duration and outcome, and what its requests did (stores counted with the failures'
 * statuses and the patients and studies stored; C-FIND matches counted; echoes); one per
 * association the upper layer refuses (maxAssociations reached) with the reason.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActivityInput } from '../../src/api-types/activity.js';
import { CommandField } from '../../src/dimse/command-fields.js';
import { DimseConnection } from '../../src/dimse/dimse-connection.js';
import { DimseServiceError } from '../../src/dimse/errors.js';
import { cEcho } from '../../src/dimse/scu.js';
import { ServiceRegistry, type ServiceClassProvider } from '../../src/dimse/service.js';
import { Status } from '../../src/dicom/status.js';
import { connect, type Association } from '../../src/net/index.js';
import { startDicomServer, type DicomServer } from '../../src/roles/dicom-server.js';
import { verificationService } from '../../src/services/verification.js';
import { rejection } from '../net/helpers.js';

const VERIFICATION = '1.2.840.10008.1.1';
const CT = '1.2.840.10008.5.1.4.1.1.2';
const FIND = '1.2.840.10008.5.1.4.1.2.2.1';
const ELE = '1.2.840.10008.1.2.1';

/** C-STORE: instance 1.9 is refused (0xA700); every other one is "stored" as patient P7's study 1.5. C-FIND: two matches. */
const fakeServices: ServiceClassProvider[] = [
  {
    name: 'fake storage',
    sopClasses: [CT],
    streamingHandlers: {
      [CommandField.C_STORE_RQ]: (ctx) => ({
        write: () => undefined,
        abort: async () => undefined,
        end: async () => {
          if (ctx.command.affectedSopInstanceUid === '1.9') throw new DimseServiceError(Status.OutOfResources, 'disk full');
          return { status: Status.Success, subject: { patientId: 'P7', studyInstanceUid: '1.5' } };
        },
      }),
    },
  },
  {
    name: 'fake find',
    sopClasses: [FIND],
    handlers: {
      [CommandField.C_FIND_RQ]: async (ctx) => {
        await ctx.sendResponse({ status: Status.Pending, dataset: Buffer.alloc(0) });
        await ctx.sendResponse({ status: Status.Pending, dataset: Buffer.alloc(0) });
        return { status: Status.Success };
      },
    },
  },
];

const events: ActivityInput[] = [];
let server: DicomServer;

beforeAll(async () => {
  server = await startDicomServer({
    aeTitle: 'PACS',
    port: 0,
    host: '127.0.0.1',
    registry: new ServiceRegistry([verificationService(), ...fakeServices]),
    logger: pino({ level: 'silent' }),
    maxAssociations: 2,
    activity: { record: (e) => void events.push(e) },
    role: 'main',
  });
});

afterAll(async () => {
  await server?.close();
});

const open = (calling: string, contexts = [VERIFICATION, CT, FIND]): Promise<Association> =>
  connect({
    host: '127.0.0.1',
    port: server.port,
    callingAeTitle: calling,
    calledAeTitle: 'PACS',
    presentationContexts: contexts.map((abstractSyntax) => ({ abstractSyntax, transferSyntaxes: [ELE] })),
  });

const ended = async (n: number) => {
  await expect.poll(() => events.length).toBe(n);
  return events[n - 1];
};

describe('association activity', () => {
  it('counts stores (with failures and subjects), finds and echoes, once, when the association is released', async () => {
    const a = await open('MOD1');
    const conn = new DimseConnection(a);
    const ctCtx = [...a.contexts.values()].find((c) => c.abstractSyntax === CT)!.id;
    const findCtx = [...a.contexts.values()].find((c) => c.abstractSyntax === FIND)!.id;
    const store = (uid: string) =>
      conn.request(ctCtx, { commandField: CommandField.C_STORE_RQ, affectedSopClassUid: CT, affectedSopInstanceUid: uid, priority: 0 }, Buffer.alloc(8));
    expect((await store('1.1')).command.status).toBe(Status.Success);
    expect((await store('1.2')).command.status).toBe(Status.Success);
    expect((await store('1.9')).command.status).toBe(Status.OutOfResources);
    expect(
      (await conn.request(findCtx, { commandField: CommandField.C_FIND_RQ, affectedSopClassUid: FIND, priority: 0 }, Buffer.alloc(0))).command.status,
    ).toBe(Status.Success);
    await cEcho(conn);
    await a.release();
    const e = await ended(1);
    expect(e).toMatchObject({
      kind: 'association',
      outcome: 'released',
      role: 'main',
      callingAe: 'MOD1',
      calledAe: 'PACS',
      peerAddress: '127.0.0.1',
      tls: false,
      // All three used: in the order accepted.
      contexts: ['Verification SOP Class', 'CT Image Storage', 'Study Root Query/Retrieve Information Model - FIND'],
      summary: {
        stored: { requests: 3, completed: 2, failed: 1, failures: [{ status: 0xa700, count: 1, comment: 'disk full' }] },
        found: { requests: 1, completed: 2, failed: 0, failures: [] },
        echoed: { requests: 1, completed: 1, failed: 0, failures: [] },
      },
      patientIds: ['P7'],
      studyUids: ['1.5'],
    });
    expect(e.reason).toBeUndefined();
    expect(e.message).toMatch(/^MOD1 -> PACS \(127\.0\.0\.1\): released after \d+\.\d s; stored 2 \(1 failed\), found 2, echoed 1$/);
    await new Promise((r) => setTimeout(r, 100));
    expect(events).toHaveLength(1); // once
  });

  it('records an abort with its reason', async () => {
    const a = await open('MOD2', [CT, VERIFICATION]);
    await cEcho(new DimseConnection(a));
    a.abort();
    const e = await ended(2);
    // The context used first, then the one only accepted.
    expect(e).toMatchObject({ outcome: 'aborted', callingAe: 'MOD2', contexts: ['Verification SOP Class', 'CT Image Storage'] });
    expect(Object.keys(e.summary ?? {})).toEqual(['echoed']);
    expect(e.reason).toMatch(/A-ABORT/);
  });

  it('records the upper layer refusing an association over maxAssociations', async () => {
    const held = await Promise.all([open('HOLD1', [VERIFICATION]), open('HOLD2', [VERIFICATION])]);
    expect(await rejection(open('LATE1', [VERIFICATION]))).toBe(2); // local limit exceeded
    const e = await ended(3);
    expect(e).toMatchObject({ kind: 'association', outcome: 'rejected', callingAe: 'LATE1', calledAe: 'PACS', peerAddress: '127.0.0.1', role: 'main' });
    expect(e.reason).toBe('A-ASSOCIATE-RJ rejected-transient, service-provider (presentation): local-limit-exceeded');
    for (const a of held) await a.release();
    await expect.poll(() => events.length).toBe(5);
  });
});
