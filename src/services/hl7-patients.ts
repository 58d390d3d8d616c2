/**
 * Patient updates and merges from the hospital information system (ADT^A08, ADT^A40),
 * handed to the archive's patient directory (issue 19 item 1: patients keyed by Patient ID
 * and Issuer of Patient ID). This module declares only the two calls it needs.
 */
import { Hl7Error, Hl7ErrorCode } from '../hl7/errors.js';
import type { Hl7Message } from '../hl7/message.js';
import type { Index } from '../archive/index-types.js';
import { dateTime, personName, placed, read, sex, type Placed } from './hl7-fields.js';

// The patient identity types are the archive's (src/archive/patient-identity.ts).
import type { PatientKey, PatientUpdate } from '../archive/patient-identity.js';
export type { PatientKey, PatientUpdate };

/** The archive index's patient calls (both backends implement them). */
export type PatientDirectory = Pick<Index, 'updatePatient' | 'mergePatients'>;

const LO_MAX = 64;

/** CX (PID-3, MRG-1): ID in component 1, assigning authority (HD) in component 4. */
function patientKey(p: Placed, field: number): PatientKey {
  const id = read(p, field);
  if (!id?.value) throw new Hl7Error(Hl7ErrorCode.RequiredFieldMissing, { segment: p.seg.name, sequence: p.sequence, field }, 'patient ID is required');
  const issuer = p.seg.value(field, 4).trim();
  for (const [v, component] of [
    [id.value, 1],
    [issuer, 4],
  ] as const) {
    if (v.length > LO_MAX) {
      throw new Hl7Error(Hl7ErrorCode.ValueTooLong, { segment: p.seg.name, sequence: p.sequence, field, component }, `at most ${LO_MAX} characters`);
    }
    if ([...v].some((ch) => ch === '\\' || ch.charCodeAt(0) < 0x20)) {
      throw new Hl7Error(Hl7ErrorCode.DataTypeError, { segment: p.seg.name, sequence: p.sequence, field, component }, 'no backslash or control characters');
    }
  }
  return { patientId: id.value, issuer };
}

function update(pid: Placed): PatientUpdate {
  const u: PatientUpdate = {};
  const name = personName(pid, 5);
  if (name?.value) u.name = name.value;
  const birth = read(pid, 7);
  if (birth?.value) u.birthDate = dateTime(birth).date;
  const sx = read(pid, 8);
  const s = sx?.value ? sex(sx) : undefined;
  if (s) u.sex = s;
  return u;
}

const segmentsOf = (msg: Hl7Message, name: string): Placed[] => placed(msg.segments).filter((p) => p.seg.name === name);

function reasonOf(msg: Hl7Message): string {
  const t = msg.type;
  const from = [msg.msh.value(3), msg.msh.value(4)].filter(Boolean).join('@');
  return `HL7 ${t.code}^${t.event} ${msg.controlId}${from ? ` from ${from}` : ''}`;
}

/** ADT^A08: the PID's patient takes the PID's name, birth date and sex. */
export async function updatePatientFrom(msg: Hl7Message, directory: PatientDirectory): Promise<string> {
  const [pid] = segmentsOf(msg, 'PID');
  if (!pid) throw new Hl7Error(Hl7ErrorCode.SegmentSequenceError, { segment: 'PID' }, 'ADT^A08 needs a PID segment');
  const key = patientKey(pid, 3);
  const u = update(pid);
  if (Object.keys(u).length === 0) {
    throw new Hl7Error(
      Hl7ErrorCode.RequiredFieldMissing,
      { segment: 'PID', sequence: pid.sequence, field: 5 },
      'nothing to update (PID-5, PID-7, PID-8 are empty)',
    );
  }
  const n = await directory.updatePatient(key, u, reasonOf(msg));
  return `patient ${key.patientId} updated (${n})`;
}

/**
 * ADT^A40: each PID (the surviving patient) with its MRG (MRG-1, the patient merged into it).
 * Every pair is checked before the first merge.
 */
export async function mergePatientsFrom(msg: Hl7Message, directory: PatientDirectory): Promise<string> {
  const pairs: { from: PatientKey; into: PatientKey }[] = [];
  let pid: Placed | undefined;
  for (const p of placed(msg.segments)) {
    if (p.seg.name === 'PID') pid = p;
    else if (p.seg.name === 'MRG') {
      if (!pid) throw new Hl7Error(Hl7ErrorCode.SegmentSequenceError, { segment: 'MRG', sequence: p.sequence }, 'MRG before its PID');
      pairs.push({ into: patientKey(pid, 3), from: patientKey(p, 1) });
      pid = undefined;
    }
  }
  if (pid || pairs.length === 0) {
    throw new Hl7Error(Hl7ErrorCode.SegmentSequenceError, { segment: 'MRG', sequence: pairs.length + 1 }, 'ADT^A40 needs a MRG segment after each PID');
  }
  const reason = reasonOf(msg);
  let n = 0;
  for (const { from, into } of pairs) n += await directory.mergePatients(from, into, reason);
  return `${pairs.length} merge(s) done (${n})`;
}
