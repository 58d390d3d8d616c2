import { randomBytes } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, crc32Implementation } from '../../src/archive/crc32.js';

describe('crc32', () => {
  it('is the native build on this platform (the fallback would cost ~0.07 ms per 512 KB instance)', () => {
    expect(crc32Implementation).toBe('native');
  });

  it("gives zlib's CRC-32, so files sealed before the change still verify", () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
    const data = randomBytes(300_001);
    expect(crc32(data)).toBe(zlibCrc32(data));
  });

  it('continues from a previous value across chunks of any size, as the writer feeds it', () => {
    const data = randomBytes(70_000);
    let value = 0;
    for (let at = 0; at < data.length;) {
      const n = Math.min(data.length - at, 1 + ((at * 7919) % 16_411));
      value = crc32(data.subarray(at, at + n), value);
      at += n;
    }
    expect(value).toBe(zlibCrc32(data));
  });
});
