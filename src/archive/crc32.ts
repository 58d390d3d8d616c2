/**
 * CRC-32 (IEEE 802.3, the polynomial of zlib and of ZIP) of stored files' bodies.
 *
 * The receive path checksums every byte it stores (the seal in the preamble and the index
 * row carry it; start-up recovery checks it). zlib's crc32 runs at ~4 GB/s here: 0.11 ms
 * (more under load) of a 512 KB instance's CPU. @node-rs/crc32 (crc32fast, PCLMULQDQ) gives
 * the same value ~3x faster. It is a prebuilt native addon: where no build for the platform
 * loads, zlib's serves, with the same results.
 */
import { createRequire } from 'node:module';
import { crc32 as zlibCrc32 } from 'node:zlib';

type Crc32 = (data: Uint8Array, value?: number) => number;

function loadNative(): Crc32 | undefined {
  try {
    const native = createRequire(import.meta.url)('@node-rs/crc32') as { crc32: (input: Uint8Array, initial?: number) => number };
    // One known value, so that a wrong build can never sign a file.
    return native.crc32(Buffer.from('123456789')) === 0xcbf43926 ? native.crc32 : undefined;
  } catch {
    return undefined;
  }
}

const native = loadNative();

/** Which implementation computes `crc32` (for the bench's and the tests' reports). */
export const crc32Implementation: 'native' | 'zlib' = native ? 'native' : 'zlib';

/** The CRC-32 of `data`, continuing from `value` (0 to start). */
export const crc32: Crc32 = native ?? ((data, value = 0) => zlibCrc32(data, value));
