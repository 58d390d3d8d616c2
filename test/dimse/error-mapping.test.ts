import { describe, expect, it } from 'vitest';
import { DuplicateInstanceError, InvalidDatasetError, OutOfResourcesError, StoreAbortedError } from '../../src/archive/errors.js';
import { Status, statusOfError } from '../../src/dicom/status.js';
import { DimseServiceError, toDimseServiceError } from '../../src/dimse/errors.js';

// The DIMSE boundary's one mapping (src/dimse/errors.ts): each typed error answers with
// its own status and offending element; anything else with the caller's fallback.
describe('toDimseServiceError', () => {
  it('passes a service error through unchanged', () => {
    const err = new DimseServiceError(Status.MissingAttribute, 'Patient ID is required', [0x00100020]);
    expect(toDimseServiceError(err)).toBe(err);
  });

  it.each([
    ['InvalidDatasetError 0xA900', new InvalidDatasetError(Status.DataSetDoesNotMatchSopClass, 'SOP Instance UID differs', { offendingElement: [0x00080018] }), 0xa900, [0x00080018]],
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

  it('answers an untyped error with the fallback: 0xC001 by default, the caller\'s when given', () => {
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
