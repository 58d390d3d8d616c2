import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DuplicateInstanceError, InvalidDatasetError, OutOfResourcesError, StoreAbortedError } from '../../src/archive/errors.js';
import { Status, statusOfError } from '../../src/dicom/status.js';
import { CommandField } from '../../src/dimse/command-fields.js';
import { DimseConnection } from '../../src/dimse/dimse-connection.js';
import { DimseFailureStatusError, DimseServiceError, toDimseServiceError } from '../../src/dimse/errors.js';
import { ScpDispatcher } from '../../src/dimse/scp-dispatcher.js';
import { cEcho } from '../../src/dimse/scu.js';
import { ServiceRegistry } from '../../src/dimse/service.js';
import { transportPair } from './memory-transport.js';

// The DIMSE boundary's one mapping (src/dimse/errors.ts): each typed error answers with
// its own status and offending element; anything else with the caller's fallback.
describe('toDimseServiceError', () => {
  it('passes a service error through unchanged', () => {
    const err = new DimseServiceError(Status.MissingAttribute, 'Patient ID is required', [0x00100020]);
    expect(toDimseServiceError(err)).toBe(err);
  });

  it.each([
    [
      'InvalidDatasetError 0xA900',
      new InvalidDatasetError(Status.DataSetDoesNotMatchSopClass, 'SOP Instance UID differs', { offendingElement: [0x00080018] }),
      0xa900,
      [0x00080018],
    ],
    ['InvalidDatasetError 0xC000', new InvalidDatasetError(Status.CannotUnderstand, 'cannot parse dataset'), 0xc000, undefined],
    ['OutOfResourcesError', new OutOfResourcesError('disk full'), 0xa700, undefined],
    ['DuplicateInstanceError', new DuplicateInstanceError('exists'), 0x0111, undefined],
    ['StoreAbortedError', new StoreAbortedError('aborted'), 0xa700, undefined],
  ] as const)('answers an archive %s with its status', (_name, err, status, offending) => {
    const failure = toDimseServiceError(err, Status.UnableToProcess);
    expect(failure).toBeInstanceOf(DimseServiceError);
    expect(failure.status).toBe(status);
    expect(failure.message).toBe(err.message);
    expect(failure.offendingElement).toEqual(offending);
  });

  it("answers an untyped error with the fallback: 0xC001 by default, the caller's when given", () => {
    expect(toDimseServiceError(new Error('boom'))).toMatchObject({ status: 0xc001, message: 'boom' });
    expect(toDimseServiceError(new Error('EIO'), Status.OutOfResources)).toMatchObject({ status: 0xa700, message: 'EIO' });
    expect(toDimseServiceError('a string')).toMatchObject({ status: 0xc001, message: 'a string' });
  });

  it('does not read a status off an object that merely has one (no duck typing)', () => {
    const lookalike = Object.assign(new Error('looks typed'), { status: 0x0111, dimseStatus: 0x0111 });
    expect(toDimseServiceError(lookalike).status).toBe(0xc001);
    expect(statusOfError(lookalike, Status.ProcessingFailure)).toBe(0x0110);
  });
});

// The SCP dispatcher uses that mapping for whatever a handler throws.
describe("the SCP dispatcher answers a handler's error", () => {
  const ECHO = '1.2.840.10008.1.1';
  const echoThrowing = async (err: unknown): Promise<DimseFailureStatusError> => {
    const [scuSide, scpSide] = transportPair(new Map([[1, { abstractSyntax: ECHO, transferSyntax: '1.2.840.10008.1.2' }]]), 16384);
    const registry = new ServiceRegistry([
      {
        name: 'failing',
        sopClasses: [ECHO],
        handlers: {
          [CommandField.C_ECHO_RQ]: async () => {
            throw err;
          },
        },
      },
    ]);
    new ScpDispatcher(scpSide, registry, pino({ level: 'silent' }));
    return cEcho(new DimseConnection(scuSide)).then(
      () => {
        throw new Error('C-ECHO succeeded');
      },
      (e: DimseFailureStatusError) => e,
    );
  };

  it("with an archive error's own status, comment and offending element", async () => {
    const err = await echoThrowing(new InvalidDatasetError(Status.DataSetDoesNotMatchSopClass, 'SOP Class UID differs', { offendingElement: [0x00080016] }));
    expect(err.status).toBe(0xa900);
    expect(err.errorComment).toBe('SOP Class UID differs');
  });

  it('with 0xC001 and the message for an untyped error', async () => {
    const err = await echoThrowing(new Error('index closed'));
    expect(err.status).toBe(0xc001);
    expect(err.errorComment).toBe('index closed');
  });
});
