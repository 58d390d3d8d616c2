/**
 * The study export's zip stream (src/web/study-zip.ts) past the limits of the original
 * zip format (issue 15 item 6): an entry over 4 GiB with one after it (offsets past
 * 4 GiB), and more than 65,535 entries, both read back by Info-ZIP's `unzip -t` (every
 * CRC checked) and by Python's zipfile. The 4 GiB input is a sparse file and the zip is
 * written sparse (runs of zeros skipped), so the test needs little disk; it still reads
 * 4 GiB twice (once to zip, once to test), about half a minute here.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, openSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zipFiles } from '../../src/web/study-zip.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

let dir: string;

beforeAll(async () => {
  dir = await makeTempDir('pacs-zip64-');
});

afterAll(removeTempDirs);

const ZEROS = Buffer.alloc(4 << 20);

/** Writes the stream to `file`, leaving holes where a chunk is all zeros; returns its length. */
async function writeSparse(stream: Readable, file: string): Promise<number> {
  const fd = openSync(file, 'w');
  let pos = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const zero = chunk.length <= ZEROS.length && chunk.equals(ZEROS.subarray(0, chunk.length));
      if (!zero) writeSync(fd, chunk, 0, chunk.length, pos);
      pos += chunk.length;
    }
    ftruncateSync(fd, pos);
  } finally {
    closeSync(fd);
  }
  return pos;
}

/** Python's zipfile: entry count, then name, size and local header offset of the first and last entries. */
function pythonList(zip: string): { count: number; first: [string, number, number]; last: [string, number, number] } {
  const py = `
import json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
i = z.infolist()
print(json.dumps({"count": len(i), "first": [i[0].filename, i[0].file_size, i[0].header_offset], "last": [i[-1].filename, i[-1].file_size, i[-1].header_offset]}))
`;
  const r = spawnSync('python3', ['-c', py, zip], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python zipfile: ${r.stderr.trim().split('\n').pop()}`);
  return JSON.parse(r.stdout) as ReturnType<typeof pythonList>;
}

/**
 * The entry count the end records give (APPNOTE 4.3.16, 4.3.14): the end of central
 * directory record's, or, when it says 0xFFFF, the ZIP64 end record's. Readers that trust
 * it (rather than walking the central directory, as unzip and Python do) see this many.
 */
function endRecordCount(zip: string): number {
  const py = `
import struct, sys
d = open(sys.argv[1], 'rb').read()
i = d.rfind(b'PK\\x05\\x06')
n = struct.unpack('<H', d[i + 10:i + 12])[0]
if n == 0xFFFF:
    loc = d[i - 20:i]
    assert loc[:4] == b'PK\\x06\\x07', 'no ZIP64 end of central directory locator'
    at = struct.unpack('<Q', loc[8:16])[0]
    assert d[at:at + 4] == b'PK\\x06\\x06', 'no ZIP64 end of central directory record where the locator points'
    n = struct.unpack('<Q', d[at + 32:at + 40])[0]
print(n)
`;
  const r = spawnSync('python3', ['-c', py, zip], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`end records: ${r.stderr.trim().split('\n').pop()}`);
  return Number(r.stdout.trim());
}

function unzipTest(zip: string): { status: number | null; output: string } {
  const r = spawnSync('unzip', ['-tqq', zip], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim().split('\n').slice(-3).join('\n') };
}

describe('study zip export', () => {
  it('writes ZIP64: an entry over 4 GiB and one after it unzip and test cleanly, in bounded memory', async () => {
    const big = join(dir, 'big.dcm');
    const bigSize = 2 ** 32 + (1 << 20); // 4 GiB + 1 MiB, sparse
    writeFileSync(big, 'DICM');
    truncateSync(big, bigSize);
    const small = join(dir, 'small.dcm');
    writeFileSync(small, 'a small file after the big one');
    const zip = join(dir, 'big.zip');
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 200);
    let length: number;
    try {
      length = await writeSparse(zipFiles([big, small]), zip);
    } finally {
      clearInterval(sampler);
    }
    expect(length).toBeGreaterThan(bigSize);
    expect(rssPeak - rssBefore, 'memory grew by more than 256 MB while zipping 4 GiB').toBeLessThan(256 << 20);
    const listed = pythonList(zip);
    expect(listed.count).toBe(2);
    expect(endRecordCount(zip)).toBe(2);
    expect(listed.first).toEqual(['0001.dcm', bigSize, 0]);
    expect(listed.last[0]).toBe('0002.dcm');
    expect(listed.last[1]).toBe(30);
    expect(listed.last[2]).toBeGreaterThan(2 ** 32);
    const t = unzipTest(zip);
    expect(t.status, t.output).toBe(0);
  }, 600_000);

  it('writes ZIP64 end records: 70,000 entries unzip and test cleanly', async () => {
    const tiny = join(dir, 'tiny.dcm');
    writeFileSync(tiny, 'tiny');
    const zip = join(dir, 'many.zip');
    await writeSparse(zipFiles(Array.from({ length: 70_000 }, () => tiny)), zip);
    const listed = pythonList(zip);
    expect(listed.count, 'entries Python sees').toBe(70_000);
    expect(endRecordCount(zip), 'entries the end records count').toBe(70_000);
    expect(listed.last[0]).toBe('70000.dcm');
    const t = unzipTest(zip);
    expect(t.status, t.output).toBe(0);
  }, 300_000);
});
