/** Value representations (PS3.5 6.2, table 7.1-1/7.1-2). */

export type VR =
  | 'AE'
  | 'AS'
  | 'AT'
  | 'CS'
  | 'DA'
  | 'DS'
  | 'DT'
  | 'FD'
  | 'FL'
  | 'IS'
  | 'LO'
  | 'LT'
  | 'OB'
  | 'OD'
  | 'OF'
  | 'OL'
  | 'OV'
  | 'OW'
  | 'PN'
  | 'SH'
  | 'SL'
  | 'SQ'
  | 'SS'
  | 'ST'
  | 'SV'
  | 'TM'
  | 'UC'
  | 'UI'
  | 'UL'
  | 'UN'
  | 'UR'
  | 'US'
  | 'UT'
  | 'UV';

export interface VrInfo {
  /** In explicit VR: a 2-byte length (false) or reserved 2 bytes + 4-byte length (true). */
  longLength: boolean;
  /** Padding byte for odd-length values. */
  padding: 0x20 | 0x00;
  kind: 'string' | 'binary' | 'sequence';
  /** Value may be large and is skipped above the reader's bulk threshold. */
  bulk: boolean;
  /** Text decoded with the Specific Character Set (else the default repertoire). */
  charset: boolean;
  /** Size in bytes of one value for fixed-size binary VRs (0 = n/a). */
  size: number;
  /** Maximum length of one value in bytes/characters (0 = unlimited / n/a). */
  maxLength: number;
}

const s = (maxLength: number, charset = false, longLength = false, bulk = false): VrInfo => ({
  longLength,
  padding: 0x20,
  kind: 'string',
  bulk,
  charset,
  size: 0,
  maxLength,
});
const n = (size: number): VrInfo => ({
  longLength: false,
  padding: 0x00,
  kind: 'binary',
  bulk: false,
  charset: false,
  size,
  maxLength: 0,
});
const o = (size: number): VrInfo => ({
  longLength: true,
  padding: 0x00,
  kind: 'binary',
  bulk: true,
  charset: false,
  size,
  maxLength: 0,
});

export const VR_INFO: Readonly<Record<VR, VrInfo>> = {
  AE: s(16),
  AS: s(4),
  CS: s(16),
  DA: s(8),
  DS: s(16),
  DT: s(26),
  IS: s(12),
  TM: s(14),
  LO: s(64, true),
  SH: s(16, true),
  PN: s(64, true),
  ST: s(1024, true),
  LT: s(10240, true),
  UC: s(0, true, true),
  UT: s(0, true, true, true),
  UR: s(0, false, true),
  UI: { ...s(64), padding: 0x00 },
  AT: n(4),
  FL: n(4),
  FD: n(8),
  SL: n(4),
  SS: n(2),
  UL: n(4),
  US: n(2),
  SV: { ...n(8), longLength: true },
  UV: { ...n(8), longLength: true },
  OB: o(1),
  OD: o(8),
  OF: o(4),
  OL: o(4),
  OV: o(8),
  OW: o(2),
  UN: o(1),
  SQ: { longLength: true, padding: 0x00, kind: 'sequence', bulk: false, charset: false, size: 0, maxLength: 0 },
};

export function isVr(s: string): s is VR {
  return Object.prototype.hasOwnProperty.call(VR_INFO, s);
}

/** Each VR by its two characters' codes (first << 8 | second). */
const VR_BY_CODE = new Map<number, VR>(Object.keys(VR_INFO).map((v) => [(v.charCodeAt(0) << 8) | v.charCodeAt(1), v as VR]));

/**
 * The VR of an explicit VR element header's two bytes, or undefined: a lookup by number,
 * so that a header makes no string (every element of every received header, issue 16).
 */
export function vrOfBytes(c0: number, c1: number): VR | undefined {
  return VR_BY_CODE.get((c0 << 8) | c1);
}
export const isStringVr = (vr: VR): boolean => VR_INFO[vr].kind === 'string';
export const isBulkVr = (vr: VR): boolean => VR_INFO[vr].bulk;
export const hasLongLength = (vr: VR): boolean => VR_INFO[vr].longLength;
export const paddingByte = (vr: VR): number => VR_INFO[vr].padding;
