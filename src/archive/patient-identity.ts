/**
 * Patient identity (issue 19): a patient is its Patient ID *and* Issuer of Patient ID
 * (0010,0021); each study keeps the patient attributes its own instances carried, and
 * the patient row holds the newest. Update (ADT^A08, PATCH /api/patients/{id}) and
 * merge (ADT^A40, POST /api/patients/merge) change the index only: a study they touch
 * is marked corrected, and its instances are given the corrected patient module on
 * the way out (retrieval.ts), never rewritten in place.
 *
 * The types the index (index-sql.ts) and its callers (REST, the HL7 listener) share,
 * the validation of an update, and the patch applied to an outgoing data set.
 */
import type { Dataset } from '../dicom/dataset.js';
import { putString } from '../dicom/dataset-writer.js';
import type { PatientChangeJson, PatientConflictJson, PatientConflictStudyJson, PatientKeyJson, PatientUpdateJson } from '../api-types/patients.js';

// The shapes are the REST API's (src/api-types/patients.ts), defined once there.
/** A patient: Patient ID and Issuer of Patient ID, issuer '' when absent. */
export type PatientKey = PatientKeyJson;
/** The patient attributes an update sets (absent: left as they are). */
export type PatientUpdate = PatientUpdateJson;
/** A study of a patient whose studies disagree on name, birth date or sex. */
export type PatientConflictStudy = PatientConflictStudyJson;
/** A patient whose studies disagree, with the patient level's (newest) attributes and every study's own. */
export type PatientConflict = PatientConflictJson;
/** One update or merge as recorded in the index (patient_changes). */
export type PatientChange = PatientChangeJson;

/**
 * The patient module a corrected study's instances go out with: the study's patient
 * (ID, issuer) and its own name, birth date and sex. A null attribute is left as the file has it.
 */
export interface PatientCorrection {
  patientId: string;
  issuer: string;
  name: string | null;
  birthDate: string | null;
  sex: string | null;
}

/** An update or merge refused: no such patient ('not-found') or a value that is not valid ('invalid'), naming the field. */
export class PatientIdentityError extends Error {
  override readonly name = 'PatientIdentityError';
  constructor(
    readonly kind: 'not-found' | 'invalid',
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

// LO (Patient ID, Issuer): 64 characters, no backslash or control characters.
const LO = /^[^\\\x00-\x1f\x7f]{0,64}$/;
// PN: up to three component groups of 64 characters each (PS3.5 6.2), no backslash or control characters.
const PN_GROUP = /^[^\\=\x00-\x1f\x7f]{0,64}$/;
const DA = /^\d{8}$/;
const SEX = new Set(['M', 'F', 'O']);

/** Checks a patient key; PatientIdentityError naming `field` when it cannot be one. */
export function checkPatientKey(key: PatientKey, field: string): PatientKey {
  if (typeof key?.patientId !== 'string' || key.patientId.trim() === '' || !LO.test(key.patientId)) {
    throw new PatientIdentityError('invalid', `${field}.patientId`, 'Patient ID must be 1 to 64 characters, without backslash or control characters');
  }
  if (typeof key.issuer !== 'string' || !LO.test(key.issuer)) {
    throw new PatientIdentityError('invalid', `${field}.issuer`, 'Issuer of Patient ID must be at most 64 characters, without backslash or control characters');
  }
  return { patientId: key.patientId.trim(), issuer: key.issuer.trim() };
}

/** Checks an update (at least one attribute; PN, DA YYYYMMDD, sex M/F/O); PatientIdentityError naming the field. */
export function checkPatientUpdate(u: PatientUpdate): PatientUpdate {
  const out: PatientUpdate = {};
  if (u.name !== undefined) {
    const groups = typeof u.name === 'string' ? u.name.split('=') : [];
    if (typeof u.name !== 'string' || u.name.trim() === '' || groups.length > 3 || !groups.every((g) => PN_GROUP.test(g))) {
      throw new PatientIdentityError('invalid', 'name', 'name must be a person name (up to 3 "="-separated groups of 64 characters, no backslash)');
    }
    out.name = u.name.trim();
  }
  if (u.birthDate !== undefined) {
    if (typeof u.birthDate !== 'string' || !DA.test(u.birthDate) || !validDate(u.birthDate)) {
      throw new PatientIdentityError('invalid', 'birthDate', 'birthDate must be a date YYYYMMDD');
    }
    out.birthDate = u.birthDate;
  }
  if (u.sex !== undefined) {
    if (typeof u.sex !== 'string' || !SEX.has(u.sex)) throw new PatientIdentityError('invalid', 'sex', 'sex must be M, F or O');
    out.sex = u.sex;
  }
  if (out.name === undefined && out.birthDate === undefined && out.sex === undefined) {
    throw new PatientIdentityError('invalid', 'name', 'nothing to update: give name, birthDate or sex');
  }
  return out;
}

function validDate(d: string): boolean {
  const y = Number(d.slice(0, 4));
  const m = Number(d.slice(4, 6));
  const day = Number(d.slice(6, 8));
  const t = new Date(Date.UTC(y, m - 1, day));
  return y >= 1800 && t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === day;
}

/** Checks a reason: 1 to 256 characters. */
export function checkReason(reason: string): string {
  if (typeof reason !== 'string' || reason.trim() === '' || reason.length > 256) {
    throw new PatientIdentityError('invalid', 'reason', 'reason must be 1 to 256 characters');
  }
  return reason.trim();
}

const TAG = {
  SpecificCharacterSet: 0x00080005,
  PatientName: 0x00100010,
  PatientID: 0x00100020,
  IssuerOfPatientID: 0x00100021,
  PatientBirthDate: 0x00100030,
  PatientSex: 0x00100040,
} as const;

/**
 * Gives a data set the corrected patient module. Text goes in the data set's character
 * set: ASCII always; other text only where the data set declares ISO_IR 192 (UTF-8) or
 * ISO_IR 100 alone (Latin-1), else an Error (the instance fails its sub-operation rather
 * than go out with a name its reader would decode wrongly).
 */
export function applyPatientCorrection(ds: Dataset, c: PatientCorrection): void {
  const put = (tag: number, vr: 'PN' | 'LO' | 'DA' | 'CS', value: string) => {
    if (/^[\x00-\x7f]*$/.test(value)) return void putString(ds, tag, vr, value);
    const sets = ds.characterSets();
    if (sets.includes('ISO_IR 192')) return void putString(ds, tag, vr, value);
    if (sets.length === 1 && sets[0] === 'ISO_IR 100' && /^[\x00-\xff]*$/.test(value)) {
      const bytes = Buffer.from(value, 'latin1');
      return void ds.put({ tag, vr, length: bytes.length, value: new Uint8Array(bytes) });
    }
    throw new Error(`cannot write the corrected patient "${value}": the instance's Specific Character Set is ${sets.join('\\') || 'the default repertoire'}`);
  };
  put(TAG.PatientID, 'LO', c.patientId);
  if (c.issuer === '') ds.delete(TAG.IssuerOfPatientID);
  else put(TAG.IssuerOfPatientID, 'LO', c.issuer);
  if (c.name !== null) put(TAG.PatientName, 'PN', c.name);
  if (c.birthDate !== null) put(TAG.PatientBirthDate, 'DA', c.birthDate);
  if (c.sex !== null) put(TAG.PatientSex, 'CS', c.sex);
}

/** The same correction on an instance's DICOM JSON (WADO-RS metadata): PN as Alphabetic[=Ideographic[=Phonetic]]. */
export function applyPatientCorrectionJson(json: Record<string, unknown>, c: PatientCorrection): void {
  const set = (hex: string, vr: string, value: unknown) => (json[hex] = { vr, Value: [value] });
  set('00100020', 'LO', c.patientId);
  if (c.issuer === '') delete json['00100021'];
  else set('00100021', 'LO', c.issuer);
  if (c.name !== null) {
    const [a, i, p] = c.name.split('=');
    const pn: Record<string, string> = {};
    if (a) pn.Alphabetic = a;
    if (i) pn.Ideographic = i;
    if (p) pn.Phonetic = p;
    set('00100010', 'PN', pn);
  }
  if (c.birthDate !== null) set('00100030', 'DA', c.birthDate);
  if (c.sex !== null) set('00100040', 'CS', c.sex);
}
