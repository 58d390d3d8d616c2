// PDU types of the DICOM upper layer (PS3.8 section 9.3). Plain data; the codec is in pdu-codec.ts.

/** PDU type codes (PS3.8 Table 9-11 and following). */
export const PduTypeCode = {
  'A-ASSOCIATE-RQ': 0x01,
  'A-ASSOCIATE-AC': 0x02,
  'A-ASSOCIATE-RJ': 0x03,
  'P-DATA-TF': 0x04,
  'A-RELEASE-RQ': 0x05,
  'A-RELEASE-RP': 0x06,
  'A-ABORT': 0x07,
} as const;
export type PduTypeName = keyof typeof PduTypeCode;

/** Item types of the variable fields (PS3.8 9.3.2 / 9.3.3, PS3.7 Annex D). */
export const ItemType = {
  ApplicationContext: 0x10,
  PresentationContextRq: 0x20,
  PresentationContextAc: 0x21,
  AbstractSyntax: 0x30,
  TransferSyntax: 0x40,
  UserInformation: 0x50,
  MaximumLength: 0x51,
  ImplementationClassUid: 0x52,
  AsynchronousOperationsWindow: 0x53,
  RoleSelection: 0x54,
  ImplementationVersionName: 0x55,
  SopClassExtendedNegotiation: 0x56,
  SopClassCommonExtendedNegotiation: 0x57,
  UserIdentityRq: 0x58,
  UserIdentityAc: 0x59,
} as const;

/** The DICOM application context name (PS3.7 Annex A.2.1). */
export const DICOM_APPLICATION_CONTEXT = '1.2.840.10008.3.1.1.1';

export interface PresentationContextRq {
  id: number;
  abstractSyntax: string;
  transferSyntaxes: string[];
}

/** Result/reason of a presentation context (PS3.8 Table 9-18). */
export type PresentationContextResultCode = 0 | 1 | 2 | 3 | 4;
export const PresentationContextResultName: Record<PresentationContextResultCode, string> = {
  0: 'acceptance',
  1: 'user-rejection',
  2: 'no-reason (provider rejection)',
  3: 'abstract-syntax-not-supported (provider rejection)',
  4: 'transfer-syntaxes-not-supported (provider rejection)',
};

export interface PresentationContextAc {
  id: number;
  result: PresentationContextResultCode;
  /** Significant only when result is 0; '' when the sub-item is absent. */
  transferSyntax: string;
}
export type PresentationContextResult = PresentationContextAc;

/** SCP/SCU Role Selection sub-item (PS3.7 D.3.3.4). */
export interface RoleSelection {
  sopClassUid: string;
  scuRole: boolean;
  scpRole: boolean;
}

/** Asynchronous Operations Window sub-item (PS3.7 D.3.3.3); 0 = unlimited. */
export interface AsyncOpsWindow {
  maxOperationsInvoked: number;
  maxOperationsPerformed: number;
}

/** SOP Class Extended Negotiation sub-item (PS3.7 D.3.3.5). */
export interface ExtendedNegotiation {
  sopClassUid: string;
  serviceClassApplicationInformation: Buffer;
}

/** SOP Class Common Extended Negotiation sub-item (PS3.7 D.3.3.6). */
export interface CommonExtendedNegotiation {
  sopClassUid: string;
  serviceClassUid: string;
  relatedGeneralSopClassUids: string[];
}

/** User Identity Negotiation, request (PS3.7 D.3.3.7.1). Type 1 username, 2 username+passcode, 3 Kerberos, 4 SAML, 5 JWT. */
export interface UserIdentityRq {
  type: 1 | 2 | 3 | 4 | 5;
  positiveResponseRequested: boolean;
  primaryField: Buffer;
  secondaryField: Buffer;
}

export interface UserInformation {
  /** Maximum Length Received (0x51); 0 = no limit. Undefined when the sub-item is absent. */
  maxPduLength?: number;
  implementationClassUid?: string;
  implementationVersionName?: string;
  asyncOps?: AsyncOpsWindow;
  roleSelections: RoleSelection[];
  extendedNegotiations: ExtendedNegotiation[];
  /** Only in A-ASSOCIATE-RQ. */
  commonExtendedNegotiations: CommonExtendedNegotiation[];
  /** Only in A-ASSOCIATE-RQ (0x58). */
  userIdentity?: UserIdentityRq;
  /** Only in A-ASSOCIATE-AC (0x59): the server response. */
  userIdentityResponse?: Buffer;
}

interface AssociateCommon {
  protocolVersion: number;
  /** Trimmed AE titles. */
  calledAeTitle: string;
  callingAeTitle: string;
  applicationContextName: string;
  userInformation: UserInformation;
}

export interface AssociateRq extends AssociateCommon {
  type: 'A-ASSOCIATE-RQ';
  presentationContexts: PresentationContextRq[];
}

export interface AssociateAc extends AssociateCommon {
  type: 'A-ASSOCIATE-AC';
  presentationContexts: PresentationContextAc[];
}

/** A-ASSOCIATE-RJ (PS3.8 Table 9-21). */
export interface AssociateRj {
  type: 'A-ASSOCIATE-RJ';
  /** 1 rejected-permanent, 2 rejected-transient. */
  result: 1 | 2;
  /** 1 service-user, 2 service-provider (ACSE), 3 service-provider (presentation). */
  source: 1 | 2 | 3;
  reason: number;
}

/** One Presentation Data Value. `data` is a view into the received PDU (no copy). */
export interface Pdv {
  contextId: number;
  isCommand: boolean;
  isLast: boolean;
  data: Buffer;
}

export interface PDataTf {
  type: 'P-DATA-TF';
  pdvs: Pdv[];
}

export interface ReleaseRq {
  type: 'A-RELEASE-RQ';
}
export interface ReleaseRp {
  type: 'A-RELEASE-RP';
}

/** A-ABORT (PS3.8 Table 9-26). source 0 service-user, 2 service-provider. */
export interface Abort {
  type: 'A-ABORT';
  source: 0 | 1 | 2;
  reason: number;
}

export type Pdu = AssociateRq | AssociateAc | AssociateRj | PDataTf | ReleaseRq | ReleaseRp | Abort;

export function emptyUserInformation(): UserInformation {
  return { roleSelections: [], extendedNegotiations: [], commonExtendedNegotiations: [] };
}
