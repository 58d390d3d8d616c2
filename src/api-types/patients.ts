/** Patient identity (GET /api/patients/conflicts, /changes; PATCH /api/patients/{id}; POST /api/patients/merge). */

/** A patient: Patient ID and Issuer of Patient ID ('' when absent). */
export interface PatientKeyJson {
  patientId: string;
  issuer: string;
}

export interface PatientConflictStudyJson {
  studyInstanceUid: string;
  studyDate: string | null;
  studyDescription: string | null;
  accessionNumber: string | null;
  /** The study's own patient attributes (what its instances carried, or a correction). */
  patientName: string | null;
  patientBirthDate: string | null;
  patientSex: string | null;
}

/** A patient whose studies disagree on name, birth date or sex. */
export interface PatientConflictJson extends PatientKeyJson {
  /** The patient level's: the newest. */
  patientName: string | null;
  patientBirthDate: string | null;
  patientSex: string | null;
  studies: PatientConflictStudyJson[];
}

/** The patient attributes an update sets (absent: left as they are). */
export interface PatientUpdateJson {
  name?: string;
  birthDate?: string;
  sex?: string;
}

export interface PatientChangeJson {
  at: string;
  action: 'update' | 'merge';
  patient: PatientKeyJson;
  from: PatientKeyJson | null;
  update: PatientUpdateJson | null;
  reason: string;
  studies: number;
}

/** PATCH /api/patients/{id} and POST /api/patients/merge: the studies touched or moved. */
export interface PatientChangeResult {
  studies: number;
}
