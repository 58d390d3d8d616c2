// UIDs, transfer syntaxes and SOP classes the generators write.
import { randomBytes } from 'node:crypto';

/** A new UUID-derived UID (PS3.5 B.2: "2.25." + the UUID as one decimal integer). */
export function newUid(): string {
  const b = randomBytes(16);
  b[6] = (b[6] & 0x0f) | 0x40; // version 4
  b[8] = (b[8] & 0x3f) | 0x80; // variant
  return `2.25.${BigInt(`0x${b.toString('hex')}`).toString()}`;
}

export const TS = {
  implicitLE: '1.2.840.10008.1.2',
  explicitLE: '1.2.840.10008.1.2.1',
  deflatedLE: '1.2.840.10008.1.2.1.99',
  explicitBE: '1.2.840.10008.1.2.2',
  jpegBaseline: '1.2.840.10008.1.2.4.50',
  jpegExtended: '1.2.840.10008.1.2.4.51',
  jpegSpectral: '1.2.840.10008.1.2.4.53',
  jpegProgressive: '1.2.840.10008.1.2.4.55',
  jpegLossless: '1.2.840.10008.1.2.4.57',
  jpegLosslessSV1: '1.2.840.10008.1.2.4.70',
  jpegLsLossless: '1.2.840.10008.1.2.4.80',
  jpegLsNearLossless: '1.2.840.10008.1.2.4.81',
  jpeg2000Lossless: '1.2.840.10008.1.2.4.90',
  jpeg2000: '1.2.840.10008.1.2.4.91',
  rle: '1.2.840.10008.1.2.5',
  gePrivateImplicitLEBigEndianPixels: '1.2.840.113619.5.2',
} as const;

export const SOP_CLASS = {
  ct: '1.2.840.10008.5.1.4.1.1.2',
  mr: '1.2.840.10008.5.1.4.1.1.4',
  pet: '1.2.840.10008.5.1.4.1.1.128',
  secondaryCapture: '1.2.840.10008.5.1.4.1.1.7',
  multiFrameGrayscaleWordSC: '1.2.840.10008.5.1.4.1.1.7.3',
} as const;
