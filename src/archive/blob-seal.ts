/**
 * The seal in a stored file's Part 10 preamble: what makes the file its own durable record.
 *
 * PS3.10 7.1 leaves the 128-byte preamble to "specific implementations". Ours holds, once
 * the whole file is written and before its final fdatasync: a magic text, the file's size
 * and the CRC-32 of everything after the preamble, and a CRC-32 of those fields. A file
 * whose seal is intact and whose bytes match it was written to its end, whatever became of
 * its index row; the start-up sweep indexes such a file again when the row was lost with
 * the index's unsynced tail (the protocol: top of file-blob-store.ts). Readers of Part 10
 * ignore the preamble; the dataset and meta header are as received.
 */
import { crc32 } from './crc32.js';

export const PREAMBLE_BYTES = 128;
const MAGIC = Buffer.from('open-pacs seal 1', 'latin1'); // 16 bytes
const SIZE_AT = 16; // uint64 LE
const CRC_AT = 24; // uint32 LE: CRC-32 of bytes [128, size)
const SELF_AT = 28; // uint32 LE: CRC-32 of bytes [0, 28)

export interface Seal {
  /** The whole file's size. */
  size: number;
  /** CRC-32 of the bytes after the preamble. */
  bodyCrc32: number;
}

/** The 128 preamble bytes sealing a file of `size` bytes whose bytes after the preamble have CRC-32 `bodyCrc32`. */
export function encodeSeal(seal: Seal): Buffer {
  const b = Buffer.alloc(PREAMBLE_BYTES);
  MAGIC.copy(b, 0);
  b.writeBigUInt64LE(BigInt(seal.size), SIZE_AT);
  b.writeUInt32LE(seal.bodyCrc32 >>> 0, CRC_AT);
  b.writeUInt32LE(crc32(b.subarray(0, SELF_AT)), SELF_AT);
  return b;
}

/** The seal in a file's first bytes, or undefined when there is none or it is damaged. */
export function decodeSeal(preamble: Buffer): Seal | undefined {
  if (preamble.length < PREAMBLE_BYTES || !preamble.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  if (preamble.readUInt32LE(SELF_AT) !== crc32(preamble.subarray(0, SELF_AT))) return undefined;
  const size = preamble.readBigUInt64LE(SIZE_AT);
  if (size > BigInt(Number.MAX_SAFE_INTEGER) || size < BigInt(PREAMBLE_BYTES)) return undefined;
  return { size: Number(size), bodyCrc32: preamble.readUInt32LE(CRC_AT) };
}
