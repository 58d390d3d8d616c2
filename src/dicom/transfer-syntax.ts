/** Transfer syntaxes (PS3.5 section 10, PS3.6 Annex A). */

export interface TransferSyntax {
  uid: string;
  name: string;
  explicitVr: boolean;
  littleEndian: boolean;
  /** The dataset is a raw deflate stream (PS3.5 A.5). */
  deflated: boolean;
  /** Pixel data is encapsulated (fragments, PS3.5 A.4). */
  encapsulated: boolean;
  retired: boolean;
}

export const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
export const DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1.99';
export const EXPLICIT_VR_BIG_ENDIAN = '1.2.840.10008.1.2.2';

type Row = [uid: string, name: string, flags?: string];
// flags: i = implicit VR, b = big endian, d = deflated, e = encapsulated, r = retired
const ROWS: Row[] = [
  [IMPLICIT_VR_LITTLE_ENDIAN, 'Implicit VR Little Endian', 'i'],
  [EXPLICIT_VR_LITTLE_ENDIAN, 'Explicit VR Little Endian'],
  ['1.2.840.10008.1.2.1.98', 'Encapsulated Uncompressed Explicit VR Little Endian', 'e'],
  [DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN, 'Deflated Explicit VR Little Endian', 'd'],
  [EXPLICIT_VR_BIG_ENDIAN, 'Explicit VR Big Endian', 'br'],
  ['1.2.840.10008.1.2.4.50', 'JPEG Baseline (Process 1)', 'e'],
  ['1.2.840.10008.1.2.4.51', 'JPEG Extended (Process 2 and 4)', 'e'],
  ['1.2.840.10008.1.2.4.52', 'JPEG Extended (Process 3 and 5)', 'er'],
  ['1.2.840.10008.1.2.4.53', 'JPEG Spectral Selection, Non-Hierarchical (Process 6 and 8)', 'er'],
  ['1.2.840.10008.1.2.4.54', 'JPEG Spectral Selection, Non-Hierarchical (Process 7 and 9)', 'er'],
  ['1.2.840.10008.1.2.4.55', 'JPEG Full Progression, Non-Hierarchical (Process 10 and 12)', 'er'],
  ['1.2.840.10008.1.2.4.56', 'JPEG Full Progression, Non-Hierarchical (Process 11 and 13)', 'er'],
  ['1.2.840.10008.1.2.4.57', 'JPEG Lossless, Non-Hierarchical (Process 14)', 'e'],
  ['1.2.840.10008.1.2.4.58', 'JPEG Lossless, Non-Hierarchical (Process 15)', 'er'],
  ['1.2.840.10008.1.2.4.59', 'JPEG Extended, Hierarchical (Process 16 and 18)', 'er'],
  ['1.2.840.10008.1.2.4.60', 'JPEG Extended, Hierarchical (Process 17 and 19)', 'er'],
  ['1.2.840.10008.1.2.4.61', 'JPEG Spectral Selection, Hierarchical (Process 20 and 22)', 'er'],
  ['1.2.840.10008.1.2.4.62', 'JPEG Spectral Selection, Hierarchical (Process 21 and 23)', 'er'],
  ['1.2.840.10008.1.2.4.63', 'JPEG Full Progression, Hierarchical (Process 24 and 26)', 'er'],
  ['1.2.840.10008.1.2.4.64', 'JPEG Full Progression, Hierarchical (Process 25 and 27)', 'er'],
  ['1.2.840.10008.1.2.4.65', 'JPEG Lossless, Hierarchical (Process 28)', 'er'],
  ['1.2.840.10008.1.2.4.66', 'JPEG Lossless, Hierarchical (Process 29)', 'er'],
  ['1.2.840.10008.1.2.4.70', 'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])', 'e'],
  ['1.2.840.10008.1.2.4.80', 'JPEG-LS Lossless Image Compression', 'e'],
  ['1.2.840.10008.1.2.4.81', 'JPEG-LS Lossy (Near-Lossless) Image Compression', 'e'],
  ['1.2.840.10008.1.2.4.90', 'JPEG 2000 Image Compression (Lossless Only)', 'e'],
  ['1.2.840.10008.1.2.4.91', 'JPEG 2000 Image Compression', 'e'],
  ['1.2.840.10008.1.2.4.92', 'JPEG 2000 Part 2 Multi-component Image Compression (Lossless Only)', 'e'],
  ['1.2.840.10008.1.2.4.93', 'JPEG 2000 Part 2 Multi-component Image Compression', 'e'],
  ['1.2.840.10008.1.2.4.94', 'JPIP Referenced', ''],
  ['1.2.840.10008.1.2.4.95', 'JPIP Referenced Deflate', 'd'],
  ['1.2.840.10008.1.2.4.100', 'MPEG2 Main Profile / Main Level', 'e'],
  ['1.2.840.10008.1.2.4.101', 'MPEG2 Main Profile / High Level', 'e'],
  ['1.2.840.10008.1.2.4.102', 'MPEG-4 AVC/H.264 High Profile / Level 4.1', 'e'],
  ['1.2.840.10008.1.2.4.103', 'MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1', 'e'],
  ['1.2.840.10008.1.2.4.104', 'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video', 'e'],
  ['1.2.840.10008.1.2.4.105', 'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video', 'e'],
  ['1.2.840.10008.1.2.4.106', 'MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2', 'e'],
  ['1.2.840.10008.1.2.4.107', 'HEVC/H.265 Main Profile / Level 5.1', 'e'],
  ['1.2.840.10008.1.2.4.108', 'HEVC/H.265 Main 10 Profile / Level 5.1', 'e'],
  ['1.2.840.10008.1.2.4.201', 'High-Throughput JPEG 2000 Image Compression (Lossless Only)', 'e'],
  ['1.2.840.10008.1.2.4.202', 'High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)', 'e'],
  ['1.2.840.10008.1.2.4.203', 'High-Throughput JPEG 2000 Image Compression', 'e'],
  ['1.2.840.10008.1.2.5', 'RLE Lossless', 'e'],
  // Private, but written by GE scanners and by DCMTK (dcmconv +tg): implicit VR little
  // endian with big endian pixel data. The header parses as implicit VR LE.
  ['1.2.840.113619.5.2', 'GE Private Implicit VR Little Endian with Big Endian Pixel Data', 'i'],
];

export const TRANSFER_SYNTAXES: ReadonlyMap<string, TransferSyntax> = new Map(
  ROWS.map(([uid, name, f = '']) => [
    uid,
    {
      uid,
      name,
      explicitVr: !f.includes('i'),
      littleEndian: !f.includes('b'),
      deflated: f.includes('d'),
      encapsulated: f.includes('e'),
      retired: f.includes('r'),
    },
  ]),
);

/** The transfer syntax of a UID, or undefined if unknown. */
export function getTransferSyntax(uid: string): TransferSyntax | undefined {
  return TRANSFER_SYNTAXES.get(uid.replace(/\0+$/, '').trim());
}

/**
 * Like getTransferSyntax, but an unknown UID is taken as an encapsulated explicit VR little
 * endian syntax (PS3.5 A.4: every compressed transfer syntax is explicit VR LE), as DCMTK does.
 */
export function resolveTransferSyntax(uid: string): TransferSyntax {
  const clean = uid.replace(/\0+$/, '').trim();
  return (
    TRANSFER_SYNTAXES.get(clean) ?? {
      uid: clean,
      name: `Unknown (${clean})`,
      explicitVr: true,
      littleEndian: true,
      deflated: false,
      encapsulated: true,
      retired: false,
    }
  );
}
