import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { CommandField } from '../../src/dimse/command-fields.js';
import { Status } from '../../src/dicom/status.js';
import { decodeCommandSet, encodeCommandSet } from '../../src/dimse/command-set.js';
import { DimseConnection } from '../../src/dimse/dimse-connection.js';
import { DimseFailureStatusError, DimseProtocolError, DimseServiceError } from '../../src/dimse/errors.js';
import { ScpDispatcher } from '../../src/dimse/scp-dispatcher.js';
import { cEcho, cStore } from '../../src/dimse/scu.js';
import { ServiceRegistry, type ResponseSpec } from '../../src/dimse/service.js';
import { transportPair } from './memory-transport.js';

const log = pino({ level: 'silent' });
const ECHO = '1.2.840.10008.1.1';
const CT = '1.2.840.10008.5.1.4.1.1.2';
const ELE = '1.2.840.10008.1.2.1';
const contexts = new Map([
  [1, { abstractSyntax: ECHO, transferSyntax: '1.2.840.10008.1.2' }],
  [3, { abstractSyntax: CT, transferSyntax: ELE }],
]);

describe('command set codec', () => {
  it('round-trips every field, with the group length first', () => {
    const cmd = {
      commandField: CommandField.C_MOVE_RSP,
      commandDataSetType: 0x0101,
      messageIdBeingRespondedTo: 7,
      affectedSopClassUid: '1.2.840.10008.5.1.4.1.2.2.2',
      status: 0xff00,
      remaining: 3,
      completed: 2,
      failed: 1,
      warning: 0,
      errorComment: 'odd',
      offendingElement: [0x00100010],
      moveDestination: 'DEST',
    };
    const bytes = encodeCommandSet(cmd);
    expect(bytes.readUInt32LE(0)).toBe(0); // (0000,0000)
    expect(bytes.readUInt32LE(8)).toBe(bytes.length - 12);
    expect(bytes.length % 2).toBe(0);
    expect(decodeCommandSet(bytes)).toEqual(cmd);
  });

  it('rejects elements outside group 0000, bad lengths and missing fields', () => {
    const ok = encodeCommandSet({ commandField: 0x0030, commandDataSetType: 0x0101, messageId: 1 });
    const foreign = Buffer.concat([ok, Buffer.from([0x08, 0x00, 0x16, 0x00, 0, 0, 0, 0])]);
    expect(() => decodeCommandSet(foreign)).toThrow(/outside group 0000/);
    expect(() => decodeCommandSet(ok.subarray(0, ok.length - 3))).toThrow(DimseProtocolError);
    const noField = encodeCommandSet({ commandDataSetType: 0x0101 } as never);
    expect(() => decodeCommandSet(noField)).toThrow(/Command Field/);
    const badUs = Buffer.from([0, 0, 0x00, 0x01, 3, 0, 0, 0, 1, 2, 3, 0, 0, 0x00, 0x08, 2, 0, 0, 0, 1, 1]);
    expect(() => decodeCommandSet(badUs)).toThrow(/length 3, expected 2/);
  });
});

function setup(registry: ServiceRegistry, maxPdv = 16) {
  const [scuSide, scpSide] = transportPair(contexts, maxPdv);
  const scp = new ScpDispatcher(scpSide, registry, log);
  const scu = new DimseConnection(scuSide);
  return { scu, scp, scuSide, scpSide };
}

describe('DIMSE over fragmented PDVs', () => {
  it('answers C-ECHO', async () => {
    const registry = new ServiceRegistry([{ name: 'v', sopClasses: [ECHO], handlers: { [CommandField.C_ECHO_RQ]: async () => ({ status: 0 }) } }]);
    const { scu } = setup(registry);
    const rsp = await cEcho(scu);
    expect(rsp.command.commandField).toBe(CommandField.C_ECHO_RSP);
    expect(rsp.command.status).toBe(0);
  });

  it('streams a C-STORE data set to the sink in order, with backpressure', async () => {
    const received: Buffer[] = [];
    let writes = 0;
    const registry = new ServiceRegistry([
      {
        name: 's',
        sopClasses: [CT],
        streamingHandlers: {
          [CommandField.C_STORE_RQ]: (ctx) => ({
            write: (chunk: Buffer) => {
              received.push(Buffer.from(chunk));
              // Every third write makes the producer wait, as a busy disk would.
              if (++writes % 3 === 0) return new Promise<void>((r) => setTimeout(r, 2));
            },
            end: async (): Promise<ResponseSpec> => ({ status: 0, affectedSopInstanceUid: ctx.command.affectedSopInstanceUid }),
            abort: async () => undefined,
          }),
        },
      },
    ]);
    const { scu, scpSide } = setup(registry, 7);
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i & 0xff));
    async function* chunks() {
      for (let i = 0; i < data.length; i += 100) yield data.subarray(i, i + 100);
    }
    const rsp = await cStore(scu, { sopClassUid: CT, sopInstanceUid: '1.2.3.4', transferSyntaxUid: ELE }, chunks());
    expect(rsp.command.affectedSopInstanceUid).toBe('1.2.3.4');
    expect(Buffer.concat(received).equals(data)).toBe(true);
    expect(scpSide.paused).toBeGreaterThan(0);
  });

  it('turns a service failure into a failure status with an error comment', async () => {
    const registry = new ServiceRegistry([
      {
        name: 's',
        sopClasses: [CT],
        streamingHandlers: {
          [CommandField.C_STORE_RQ]: () => ({
            write: () => undefined,
            end: () => Promise.reject(new DimseServiceError(Status.DataSetDoesNotMatchSopClass, 'SOP Instance UID differs')),
            abort: async () => undefined,
          }),
        },
      },
    ]);
    const { scu } = setup(registry);
    const err = await cStore(scu, { sopClassUid: CT, sopInstanceUid: '1.2.3', transferSyntaxUid: ELE }, Buffer.alloc(10)).catch((e) => e);
    expect(err).toBeInstanceOf(DimseFailureStatusError);
    expect(err.status).toBe(0xa900);
    expect(err.errorComment).toBe('SOP Instance UID differs');
  });

  it('answers an operation the service does not handle with 0x0211', async () => {
    const registry = new ServiceRegistry([{ name: 'v', sopClasses: [ECHO] }]);
    const { scu } = setup(registry);
    const err = await cEcho(scu).catch((e) => e);
    expect(err.status).toBe(0x0211);
  });

  it('aborts on a data set fragment without a command', async () => {
    const { scuSide, scpSide } = setup(new ServiceRegistry());
    await scuSide.sendPdv(3, false, Buffer.alloc(4), true);
    await new Promise((r) => setImmediate(r));
    expect(scpSide.aborted).toEqual({ source: 2, reason: 0 });
  });

  it('aborts on a PDV for a presentation context that was not accepted', async () => {
    const { scuSide, scpSide } = setup(new ServiceRegistry());
    await scuSide.sendPdv(5, true, encodeCommandSet({ commandField: 0x30, commandDataSetType: 0x0101, messageId: 1 }), true);
    await new Promise((r) => setImmediate(r));
    expect(scpSide.aborted).toBeDefined();
  });

  it('discards a streamed data set when the association closes mid-way', async () => {
    let aborted = false;
    const registry = new ServiceRegistry([
      {
        name: 's',
        sopClasses: [CT],
        streamingHandlers: {
          [CommandField.C_STORE_RQ]: () => ({
            write: () => undefined,
            end: async () => ({ status: 0 }),
            abort: async () => {
              aborted = true;
            },
          }),
        },
      },
    ]);
    const { scuSide } = setup(registry);
    await scuSide.sendPdv(
      3,
      true,
      encodeCommandSet({ commandField: 1, commandDataSetType: 0, messageId: 1, affectedSopClassUid: CT, affectedSopInstanceUid: '1.2' }),
      true,
    );
    await scuSide.sendPdv(3, false, Buffer.alloc(40), false);
    scuSide.abort();
    await new Promise((r) => setImmediate(r));
    expect(aborted).toBe(true);
  });

  it("aborts a request's signal on C-CANCEL, whether the handler read it before or after", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const reasons: string[] = [];
    const registry = new ServiceRegistry([
      {
        name: 'v',
        sopClasses: [ECHO],
        handlers: {
          [CommandField.C_ECHO_RQ]: async (ctx) => {
            if (ctx.command.messageId === 1) {
              // Read first, then cancelled.
              const signal = ctx.signal;
              expect(signal.aborted).toBe(false);
              await new Promise((r) => signal.addEventListener('abort', r, { once: true }));
              reasons.push((signal.reason as Error).message);
              return { status: 0xfe00 };
            }
            // Cancelled first, then read.
            await gate;
            reasons.push(ctx.signal.aborted ? (ctx.signal.reason as Error).message : 'not aborted');
            return { status: ctx.signal.aborted ? 0xfe00 : 0 };
          },
        },
      },
    ]);
    const { scu } = setup(registry);
    const first = scu.request(1, { commandField: CommandField.C_ECHO_RQ, affectedSopClassUid: ECHO });
    const second = scu.request(1, { commandField: CommandField.C_ECHO_RQ, affectedSopClassUid: ECHO });
    expect([first.messageId, second.messageId]).toEqual([1, 2]);
    // The memory transport delivers each PDV one setImmediate after it was sent.
    const delivered = async () => {
      for (let i = 0; i < 4; i++) await new Promise((r) => setImmediate(r));
    };
    await delivered();
    await scu.cancel(1, 1);
    await scu.cancel(1, 2);
    await delivered();
    release();
    expect((await first).command.status).toBe(0xfe00);
    expect((await second).command.status).toBe(0xfe00);
    expect(reasons).toEqual(['C-CANCEL', 'C-CANCEL']);
  });
});
