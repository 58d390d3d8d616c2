/** Patient identity's checks and the patch of an outgoing data set (archive/patient-identity.ts). */
import { describe, expect, it } from 'vitest';
import {
  applyPatientCorrection,
  applyPatientCorrectionJson,
  checkPatientKey,
  checkPatientUpdate,
  PatientIdentityError,
} from '../../src/archive/patient-identity.js';
import { Dataset, getString } from '../../src/dicom/dataset.js';
import { putString } from '../../src/dicom/dataset-writer.js';

const correction = { patientId: 'NEW-ID', issuer: '', name: 'MÜLLER^ANNA', birthDate: '19700101', sex: 'F' };

function ds(charset?: string): Dataset {
  const d = new Dataset();
  if (charset) putString(d, 0x00080005, 'CS', charset);
  putString(d, 0x00100010, 'PN', 'OLD^NAME');
  putString(d, 0x00100020, 'LO', 'OLD-ID');
  putString(d, 0x00100021, 'LO', 'OLD-ISSUER');
  return d;
}

describe('applyPatientCorrection', () => {
  it('writes Latin-1 under ISO_IR 100 and removes an issuer that is now none', () => {
    const d = ds('ISO_IR 100');
    applyPatientCorrection(d, correction);
    expect([getString(d, 0x00100010), getString(d, 0x00100020), getString(d, 0x00100030), getString(d, 0x00100040), d.get(0x00100021)]).toEqual([
      'MÜLLER^ANNA',
      'NEW-ID',
      '19700101',
      'F',
      undefined,
    ]);
    expect(Buffer.from(d.get(0x00100010)!.value!).toString('latin1')).toBe('MÜLLER^ANNA');
  });

  it('refuses non-ASCII text in a data set of the default repertoire', () => {
    expect(() => applyPatientCorrection(ds(), correction)).toThrow(/Specific Character Set is the default repertoire/);
  });

  it('sets the same values in DICOM JSON', () => {
    const json: Record<string, unknown> = { '00100021': { vr: 'LO', Value: ['X'] } };
    applyPatientCorrectionJson(json, { ...correction, name: 'A^B=C^D' });
    expect(json).toEqual({
      '00100010': { vr: 'PN', Value: [{ Alphabetic: 'A^B', Ideographic: 'C^D' }] },
      '00100020': { vr: 'LO', Value: ['NEW-ID'] },
      '00100030': { vr: 'DA', Value: ['19700101'] },
      '00100040': { vr: 'CS', Value: ['F'] },
    });
  });
});

describe('checks', () => {
  it.each([
    [() => checkPatientKey({ patientId: '', issuer: '' }, 'from'), 'from.patientId'],
    [() => checkPatientKey({ patientId: 'A\\B', issuer: '' }, 'into'), 'into.patientId'],
    [() => checkPatientKey({ patientId: 'A', issuer: 'x'.repeat(65) }, 'patient'), 'patient.issuer'],
    [() => checkPatientUpdate({ name: 'A=B=C=D' }), 'name'],
    [() => checkPatientUpdate({ birthDate: '1970-01-01' }), 'birthDate'],
    [() => checkPatientUpdate({ sex: 'male' }), 'sex'],
    [() => checkPatientUpdate({}), 'name'],
  ])('refuses bad input naming the field (%#)', (run, field) => {
    let err: unknown;
    try {
      run();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PatientIdentityError);
    expect((err as PatientIdentityError).field).toBe(field);
  });
});
