/**
 * De-identification by the PS3.15 Annex E Basic Application Level Confidentiality
 * Profile (Table E.1-1): each listed attribute is removed (X), emptied (Z), given a dummy
 * value (D) or a new UID (U), at any depth of sequences; every private attribute is
 * removed; attributes not listed are kept (K). Where the table allows several actions
 * (X/Z/D) we take the least revealing one that keeps the common IODs conformant.
 *
 * `anonymizeDataset` is pure apart from the UID map it is given: one map per export, so
 * the same original UID becomes the same new UID in every file of the export, also in
 * references inside sequences.
 */
import { Dataset, type Element } from './dataset.js';
import { putString } from './dataset-writer.js';
import { keywordToTag } from './dictionary.js';
import { isPrivateTag } from './tag.js';
import { newUid } from './uid-generator.js';
import type { VR } from './vr.js';

type Action = 'X' | 'Z' | 'D' | 'U';

// Table E.1-1, by keyword (grouped for reading; the table itself is alphabetical).
const TABLE: Record<Action, readonly string[]> = {
  U: [
    'StudyInstanceUID',
    'SeriesInstanceUID',
    'SOPInstanceUID',
    'ReferencedSOPInstanceUID',
    'FrameOfReferenceUID',
    'SynchronizationFrameOfReferenceUID',
    'ReferencedFrameOfReferenceUID',
    'RelatedFrameOfReferenceUID',
    'ConcatenationUID',
    'DimensionOrganizationUID',
    'IrradiationEventUID',
    'UID',
    'TargetUID',
    'FiducialUID',
    'InstanceCreatorUID',
    'DeviceUID',
    'StorageMediaFileSetUID',
    'TransactionUID',
    'MediaStorageSOPInstanceUID',
    'ReferencedSOPInstanceUIDInFile',
    'SourceFrameOfReferenceUID',
    'DoseReferenceUID',
    'ContextGroupExtensionCreatorUID',
    'TemplateExtensionCreatorUID',
    'TemplateExtensionOrganizationUID',
    'LargePaletteColorLookupTableUID',
    'PaletteColorLookupTableUID',
    'CreatorVersionUID',
    'SpecimenUID',
    'ObservationUID',
    'TrackingUID',
    'EncryptedContentTransferSyntaxUID',
  ],
  // Type 1 in common IODs: a dummy keeps the instance conformant.
  D: ['PersonName', 'VerifyingObserverName', 'ContentCreatorName'],
  Z: [
    'PatientBirthDate',
    'PatientSex',
    'StudyDate',
    'StudyTime',
    'AccessionNumber',
    'StudyID',
    'ReferringPhysicianName',
    'ContentDate',
    'ContentTime',
    'FillerOrderNumberImagingServiceRequest',
    'PlacerOrderNumberImagingServiceRequest',
    'VerifyingObserverIdentificationCodeSequence',
    'ContrastBolusAgent',
    'AcquisitionDate',
    'AcquisitionTime',
  ],
  X: [
    // patient
    'OtherPatientIDs',
    'OtherPatientIDsSequence',
    'OtherPatientNames',
    'PatientBirthName',
    'PatientMotherBirthName',
    'PatientBirthTime',
    'PatientAge',
    'PatientSize',
    'PatientWeight',
    'PatientAddress',
    'PatientTelephoneNumbers',
    'PatientTelecomInformation',
    'MilitaryRank',
    'BranchOfService',
    'CountryOfResidence',
    'RegionOfResidence',
    'EthnicGroup',
    'Occupation',
    'PatientReligiousPreference',
    'MedicalRecordLocator',
    'MedicalAlerts',
    'Allergies',
    'PregnancyStatus',
    'SmokingStatus',
    'LastMenstrualDate',
    'AdditionalPatientHistory',
    'PatientComments',
    'PatientState',
    'SpecialNeeds',
    'IssuerOfPatientID',
    'IssuerOfPatientIDQualifiersSequence',
    'PatientInsurancePlanCodeSequence',
    'InsurancePlanIdentification',
    'ReferencedPatientSequence',
    'ReferencedPatientPhotoSequence',
    'ResponsiblePerson',
    'ResponsibleOrganization',
    'PatientSexNeutered',
    'PatientInstitutionResidence',
    'AdmissionID',
    'IssuerOfAdmissionIDSequence',
    'AdmittingDiagnosesDescription',
    'AdmittingDiagnosesCodeSequence',
    'AdmittingDate',
    'AdmittingTime',
    'DischargeDiagnosisDescription',
    'VisitComments',
    'ServiceEpisodeID',
    'ServiceEpisodeDescription',
    'PatientTransportArrangements',
    'CurrentPatientLocation',
    // physicians and operators
    'ReferringPhysicianAddress',
    'ReferringPhysicianTelephoneNumbers',
    'ReferringPhysicianIdentificationSequence',
    'PhysiciansOfRecord',
    'PhysiciansOfRecordIdentificationSequence',
    'PerformingPhysicianName',
    'PerformingPhysicianIdentificationSequence',
    'NameOfPhysiciansReadingStudy',
    'PhysiciansReadingStudyIdentificationSequence',
    'OperatorsName',
    'OperatorIdentificationSequence',
    'RequestingPhysician',
    'RequestingService',
    'ScheduledPerformingPhysicianName',
    'ConsultingPhysicianName',
    'ReviewerName',
    'HumanPerformerName',
    'HumanPerformerOrganization',
    'PersonAddress',
    'PersonTelephoneNumbers',
    'PersonIdentificationCodeSequence',
    'PhysicianApprovingInterpretation',
    'InterpretationRecorder',
    'InterpretationTranscriber',
    'InterpretationAuthor',
    'DistributionName',
    'DistributionAddress',
    'OrderEnteredBy',
    'OrderEntererLocation',
    'OrderCallbackPhoneNumber',
    'RequestingPhysicianIdentificationSequence',
    // institution and device
    'InstitutionName',
    'InstitutionAddress',
    'InstitutionalDepartmentName',
    'InstitutionCodeSequence',
    'InstitutionalDepartmentTypeCodeSequence',
    'StationName',
    'DeviceSerialNumber',
    'PlateID',
    'GantryID',
    'DetectorID',
    'CassetteID',
    'GeneratorID',
    'DeviceDescription',
    'DeviceLabel',
    'SourceSerialNumber',
    'SourceManufacturer',
    'ModifyingDeviceID',
    'ModifyingDeviceManufacturer',
    'ManufacturerModelName',
    'ScheduledStationName',
    'ScheduledStationAETitle',
    'PerformedStationName',
    'PerformedStationAETitle',
    'PerformedLocation',
    'ScheduledProcedureStepLocation',
    // study, series, procedure text and dates
    'StudyDescription',
    'SeriesDescription',
    'SeriesDate',
    'SeriesTime',
    'AcquisitionDateTime',
    'OverlayDate',
    'OverlayTime',
    'CurveDate',
    'CurveTime',
    'InstanceCreationDate',
    'InstanceCreationTime',
    'StudyComments',
    'ImageComments',
    'FrameComments',
    'ProtocolName',
    'DerivationDescription',
    'AcquisitionComments',
    'AcquisitionDeviceProcessingDescription',
    'RequestAttributesSequence',
    'RequestedProcedureDescription',
    'RequestedProcedureID',
    'RequestedProcedureComments',
    'ReasonForTheRequestedProcedure',
    'PerformedProcedureStepDescription',
    'PerformedProcedureStepID',
    'PerformedProcedureStepStartDate',
    'PerformedProcedureStepStartTime',
    'PerformedProcedureStepEndDate',
    'PerformedProcedureStepEndTime',
    'ScheduledProcedureStepDescription',
    'ScheduledProcedureStepID',
    'ScheduledProcedureStepStartDate',
    'ScheduledProcedureStepStartTime',
    'ScheduledProcedureStepEndDate',
    'ScheduledProcedureStepEndTime',
    'ReferencedStudySequence',
    'ReferencedPerformedProcedureStepSequence',
    'ReferencedImageSequence',
    'ImagingServiceRequestComments',
    'ResultsIDIssuer',
    'ResultsComments',
    'InterpretationText',
    'InterpretationDiagnosisDescription',
    'TextComments',
    'TextString',
    'TopicTitle',
    'TopicAuthor',
    'TopicKeywords',
    'TopicSubject',
    'DigitalSignaturesSequence',
    'DataSetTrailingPadding',
    'ModifiedAttributesSequence',
    'OriginalAttributesSequence',
    'ContentSequence',
    'IconImageSequence',
    'StudyArrivalDate',
    'StudyArrivalTime',
    'StudyCompletionDate',
    'StudyCompletionTime',
    'StudyVerifiedDate',
    'StudyVerifiedTime',
    'StudyReadDate',
    'StudyReadTime',
    'ScheduledStudyStartDate',
    'ScheduledStudyStartTime',
    'TimezoneOffsetFromUTC',
  ],
};

const ACTIONS = new Map<number, Action>();
for (const action of ['X', 'Z', 'D', 'U'] as const) {
  for (const kw of TABLE[action]) {
    const tag = keywordToTag(kw);
    if (tag !== undefined) ACTIONS.set(tag, action);
  }
}

/** The action the profile takes on a public tag (K when unlisted); private tags are always removed. */
export function profileAction(tag: number): Action | 'K' {
  if (isPrivateTag(tag)) return 'X';
  const group = tag >>> 16;
  // Curves (50xx) and overlay comments (60xx,4000) carry free text.
  if ((group & 0xff00) === 0x5000 || ((group & 0xff00) === 0x6000 && (tag & 0xffff) === 0x4000)) return 'X';
  return ACTIONS.get(tag) ?? 'K';
}

/** Original UID -> new UID, shared by all files of one export. */
export class UidMap {
  private readonly map = new Map<string, string>();

  get(original: string): string {
    let next = this.map.get(original);
    if (!next) {
      next = newUid();
      this.map.set(original, next);
    }
    return next;
  }

  get size(): number {
    return this.map.size;
  }
}

export interface AnonymizeOptions {
  uids: UidMap;
  /** Default "ANONYMOUS". */
  patientName?: string;
  /** The same for every file of an export (see newPatientId). */
  patientId: string;
}

/** A generated Patient ID for one export: "ANON" + 10 hex digits. */
export function newPatientId(): string {
  return `ANON${newUid().slice(-12).replace(/\D/g, '0').slice(0, 10)}`;
}

const DEIDENTIFICATION_METHOD = 'PS3.15 E.1 Basic Application Level Confidentiality Profile (open-pacs)';

function dummy(vr: VR): string {
  switch (vr) {
    case 'DA':
      return '19000101';
    case 'TM':
      return '000000';
    case 'DT':
      return '19000101000000';
    case 'PN':
      return 'ANONYMOUS';
    case 'IS':
    case 'DS':
      return '0';
    case 'CS':
      return 'ANON';
    default:
      return 'ANONYMIZED';
  }
}

const decoder = new TextDecoder('latin1');

function replaceUids(el: Element, uids: UidMap): Element {
  if (el.vr !== 'UI' || !el.value) return el;
  const values = decoder
    .decode(el.value)
    .replace(/[\0 ]+$/, '')
    .split('\\')
    .map((v) => v.trim());
  // The writer pads UI values with NUL.
  return putString(
    new Dataset(),
    el.tag,
    'UI',
    values.map((v) => (v ? uids.get(v) : v)),
  ).get(el.tag)!;
}

function clean(ds: Dataset, opts: AnonymizeOptions, parent: Dataset | undefined): Dataset {
  const out = new Dataset(parent);
  for (const el of ds.sorted()) {
    const action = profileAction(el.tag);
    if (action === 'X') continue;
    if (action === 'Z') {
      out.put({ tag: el.tag, vr: el.vr, length: 0, ...(el.vr === 'SQ' ? { items: [] } : { value: new Uint8Array(0) }) });
      continue;
    }
    if (action === 'D') {
      if (el.vr === 'SQ') out.put({ tag: el.tag, vr: 'SQ', length: 0, items: [] });
      else putString(out, el.tag, el.vr, dummy(el.vr));
      continue;
    }
    if (el.items) {
      const item: Element = { ...el, items: [] };
      out.put(item);
      item.items = el.items.map((i) => clean(i, opts, out));
      continue;
    }
    out.put(action === 'U' ? replaceUids(el, opts.uids) : el);
  }
  return out;
}

/**
 * A de-identified copy of `ds` (the input is not changed; element values are shared
 * where kept). Sets Patient's Name and ID, Patient Identity Removed, De-identification
 * Method and its Code Sequence (DCM 113100).
 */
export function anonymizeDataset(ds: Dataset, opts: AnonymizeOptions): Dataset {
  const out = clean(ds, opts, undefined);
  putString(out, keywordToTag('PatientName')!, 'PN', opts.patientName ?? 'ANONYMOUS');
  putString(out, keywordToTag('PatientID')!, 'LO', opts.patientId);
  putString(out, keywordToTag('PatientIdentityRemoved')!, 'CS', 'YES');
  putString(out, keywordToTag('DeidentificationMethod')!, 'LO', DEIDENTIFICATION_METHOD);
  const code = new Dataset(out);
  putString(code, keywordToTag('CodeValue')!, 'SH', '113100');
  putString(code, keywordToTag('CodingSchemeDesignator')!, 'SH', 'DCM');
  putString(code, keywordToTag('CodeMeaning')!, 'LO', 'Basic Application Confidentiality Profile');
  out.put({ tag: keywordToTag('DeidentificationMethodCodeSequence')!, vr: 'SQ', length: 0, items: [code] });
  return out;
}
