/**
 * Tags as numbers: (group << 16 | element) >>> 0, always non-negative.
 */
import { keywordToTag, lookupTag } from './dictionary.js';

export type Tag = number;

export function makeTag(group: number, element: number): Tag {
  return ((group & 0xffff) * 0x10000 + (element & 0xffff)) >>> 0;
}
export const tagGroup = (tag: Tag): number => tag >>> 16;
export const tagElement = (tag: Tag): number => tag & 0xffff;
export const isPrivateTag = (tag: Tag): boolean => (tag >>> 16) % 2 === 1;
/** Private creator elements (gggg,0010-00FF) in odd groups. */
export const isPrivateCreator = (tag: Tag): boolean => isPrivateTag(tag) && (tag & 0xffff) >= 0x10 && (tag & 0xffff) <= 0xff;
export const isGroupLength = (tag: Tag): boolean => (tag & 0xffff) === 0;

const hex4 = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0');

/** '(0010,0010)' */
export function formatTag(tag: Tag): string {
  return `(${hex4(tag >>> 16)},${hex4(tag & 0xffff)})`;
}
/** '00100010' (the DICOM JSON key form). */
export function tagToHex(tag: Tag): string {
  return hex4(tag >>> 16) + hex4(tag & 0xffff);
}

/** Parses '(0010,0010)', '0010,0010', '00100010' or a dictionary keyword ('PatientName'). */
export function parseTag(s: string): Tag {
  const t = s.trim();
  let m = /^\(?([0-9A-Fa-f]{4}),([0-9A-Fa-f]{4})\)?$/.exec(t);
  if (!m) m = /^([0-9A-Fa-f]{4})([0-9A-Fa-f]{4})$/.exec(t);
  if (m) return makeTag(parseInt(m[1], 16), parseInt(m[2], 16));
  const k = keywordToTag(t);
  if (k !== undefined) return k;
  throw new Error(`not a tag or keyword: '${s}'`);
}

/** Dictionary keyword of a tag, or undefined (private, unknown). */
export function tagKeyword(tag: Tag): string | undefined {
  return lookupTag(tag)?.keyword;
}

// Frequently used tags.
export const Tags = {
  FileMetaInformationGroupLength: 0x00020000,
  FileMetaInformationVersion: 0x00020001,
  MediaStorageSOPClassUID: 0x00020002,
  MediaStorageSOPInstanceUID: 0x00020003,
  TransferSyntaxUID: 0x00020010,
  ImplementationClassUID: 0x00020012,
  ImplementationVersionName: 0x00020013,
  SourceApplicationEntityTitle: 0x00020016,
  SpecificCharacterSet: 0x00080005,
  SOPClassUID: 0x00080016,
  SOPInstanceUID: 0x00080018,
  StudyDate: 0x00080020,
  Modality: 0x00080060,
  PatientName: 0x00100010,
  PatientID: 0x00100020,
  StudyInstanceUID: 0x0020000d,
  SeriesInstanceUID: 0x0020000e,
  PixelData: 0x7fe00010,
  FloatPixelData: 0x7fe00008,
  DoubleFloatPixelData: 0x7fe00009,
  Item: 0xfffee000,
  ItemDelimitationItem: 0xfffee00d,
  SequenceDelimitationItem: 0xfffee0dd,
} as const;
