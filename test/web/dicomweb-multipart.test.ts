/** The streaming multipart/related reader and writer, over every way a body can be split into chunks. */
import { describe, expect, it } from 'vitest';
import { MultipartError, MultipartReader, writeMultipart } from '../../src/web/dicomweb/multipart.js';
import { DicomwebError } from '../../src/web/dicomweb/errors.js';

async function* chunks(b: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

async function readAll(body: Buffer, boundary: string, size: number, max?: number) {
  const out: { headers: Record<string, string>; body: string }[] = [];
  for await (const p of new MultipartReader(chunks(body, size), boundary, max).parts()) {
    const parts: Buffer[] = [];
    for await (const c of p.body) parts.push(c);
    out.push({ headers: Object.fromEntries(p.headers), body: Buffer.concat(parts).toString('latin1') });
  }
  return out;
}

const sample = Buffer.from(
  'preamble to ignore\r\n--b0undary\r\nContent-Type: application/dicom\r\nX-Folded: a\r\n  b\r\n\r\n' +
    'first\r\n--b0undar not yet\r\n--b0undary  \r\n\r\nsecond (no headers)\r\n--b0undary--\r\nepilogue',
  'latin1',
);

describe('multipart/related reader', () => {
  it('reads the same parts whatever the chunk size', async () => {
    for (const size of [1, 2, 3, 7, 13, 64, 4096]) {
      expect(await readAll(sample, 'b0undary', size), `chunks of ${size}`).toEqual([
        { headers: { 'content-type': 'application/dicom', 'x-folded': 'a b' }, body: 'first\r\n--b0undar not yet' },
        { headers: {}, body: 'second (no headers)' },
      ]);
    }
  });

  it('round-trips what the writer writes, binary bodies included', async () => {
    const bin = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) % 256));
    const parts = (async function* () {
      yield { contentType: 'application/dicom', body: bin };
      yield { contentType: 'application/dicom; transfer-syntax=*', body: chunks(Buffer.from('\r\n--x\r\n-'), 3) };
    })();
    const bytes: Buffer[] = [];
    for await (const c of writeMultipart('xx', parts)) bytes.push(c);
    const got = await readAll(Buffer.concat(bytes), 'xx', 11);
    expect(got.map((p) => p.headers['content-type'])).toEqual(['application/dicom', 'application/dicom; transfer-syntax=*']);
    expect(Buffer.from(got[0].body, 'latin1').equals(bin)).toBe(true);
    expect(got[1].body).toBe('\r\n--x\r\n-'); // almost a delimiter
  });

  it('names what is wrong with a broken body', async () => {
    await expect(readAll(Buffer.from('nothing here'), 'b', 4)).rejects.toThrow(new MultipartError('no boundary delimiter found in the body'));
    await expect(readAll(Buffer.from('--b\r\nContent-Type: x\r\n\r\npart without end'), 'b', 4)).rejects.toThrow(/ends inside a part/);
    await expect(readAll(Buffer.from('--b\r\nno colon\r\n\r\nx\r\n--b--'), 'b', 4)).rejects.toThrow(/malformed part header line/);
    await expect(readAll(Buffer.from('--bX\r\n\r\nx\r\n--b--'), 'b', 4)).rejects.toThrow(/not followed by CRLF/);
    await expect(readAll(sample, 'b0undary', 16, 40)).rejects.toThrow(DicomwebError);
  });
});
