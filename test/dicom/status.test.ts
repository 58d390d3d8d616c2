import { describe, expect, it } from 'vitest';
import { allStatuses, Status, statusCategory, statusHex, statusInfo, type StatusCategory } from '../../src/dicom/status.js';

// The categories PS3.7 Annex C gives, written out code by code from the standard (C.1
// success, C.2 pending, C.3 cancel, C.4 warning); every other catalogued code is a
// failure (C.5, and PS3.4's service-specific Axxx/Cxxx refusals and errors).
const STANDARD: Partial<Record<number, StatusCategory>> = {
  0x0000: 'success',
  0xff00: 'pending',
  0xff01: 'pending',
  0xfe00: 'cancel',
  0x0001: 'warning',
  0x0107: 'warning',
  0x0116: 'warning',
  0xb000: 'warning',
  0xb006: 'warning',
  0xb007: 'warning',
};

describe('status catalogue', () => {
  it('lists every code once, under one name', () => {
    const all = allStatuses();
    expect(all.length).toBeGreaterThan(30);
    expect(new Set(all.map((s) => s.code)).size).toBe(all.length);
    expect(new Set(all.map((s) => s.name)).size).toBe(all.length);
    for (const s of all) {
      expect(Status[s.name as keyof typeof Status]).toBe(s.code);
      expect(s.code).toBeGreaterThanOrEqual(0);
      expect(s.code).toBeLessThanOrEqual(0xffff);
      expect(s.meaning.length).toBeGreaterThan(5);
    }
  });

  it('gives each code the category of PS3.7 Annex C', () => {
    for (const s of allStatuses()) {
      const expected = STANDARD[s.code] ?? 'failure';
      expect({ code: statusHex(s.code), category: s.category }).toEqual({ code: statusHex(s.code), category: expected });
      expect(statusCategory(s.code)).toBe(expected);
    }
    // The standard's warnings and pendings are all in the catalogue.
    for (const code of Object.keys(STANDARD)) expect(statusInfo(Number(code))).toBeDefined();
  });

  it('classifies codes it does not list by their range', () => {
    expect(statusCategory(0xa7ff)).toBe('failure');
    expect(statusCategory(0xa9ff)).toBe('failure');
    expect(statusCategory(0xc123)).toBe('failure');
    expect(statusCategory(0xb123)).toBe('warning');
    expect(statusCategory(0x0199)).toBe('failure');
    expect(statusInfo(0xc123)).toBeUndefined();
  });

  it('holds the codes the standard assigns', () => {
    expect(Status.OutOfResources).toBe(0xa700);
    expect(Status.OutOfResourcesNumberOfMatches).toBe(0xa701);
    expect(Status.OutOfResourcesSubOperations).toBe(0xa702);
    expect(Status.MoveDestinationUnknown).toBe(0xa801);
    expect(Status.DataSetDoesNotMatchSopClass).toBe(0xa900);
    expect(Status.CannotUnderstand).toBe(0xc000);
    expect(Status.ProcessingFailure).toBe(0x0110);
    expect(Status.DuplicateSopInstance).toBe(0x0111);
    expect(Status.NoSuchSopInstance).toBe(0x0112);
    expect(Status.ClassInstanceConflict).toBe(0x0119);
    expect(Status.MissingAttribute).toBe(0x0120);
    expect(Status.SopClassNotSupported).toBe(0x0122);
    expect(Status.NotAuthorized).toBe(0x0124);
    expect(Status.UnrecognizedOperation).toBe(0x0211);
  });

  it('looks a code up by number: name, meaning and category', () => {
    expect(statusInfo(0xa700)).toEqual({ code: 0xa700, name: 'OutOfResources', meaning: 'Refused: out of resources', category: 'failure' });
    expect(statusInfo(0x0111)).toMatchObject({ name: 'DuplicateSopInstance', category: 'failure' });
    expect(statusInfo(0x0111)!.meaning).toMatch(/duplicate SOP Instance/i);
    expect(statusInfo(0xb000)).toMatchObject({ name: 'SubOperationsWithFailures', category: 'warning' });
    expect(statusInfo(0xb000)!.meaning).toMatch(/coercion/);
    expect(statusInfo(0xff01)).toMatchObject({ name: 'PendingWarning', category: 'pending' });
    expect(statusInfo(0xfe00)).toMatchObject({ name: 'Cancel', category: 'cancel' });
  });

  it('formats a code as four hex digits', () => {
    expect(statusHex(0x0111)).toBe('0x0111');
    expect(statusHex(0xa700)).toBe('0xa700');
    expect(statusHex(0)).toBe('0x0000');
  });
});
