// How the viewer fetches a stack in bulk (ui/src/viewer/fetch-order.ts, multipart-reader.ts):
// slices outwards from the one on screen, whole instances per batch, and the streaming
// multipart reader on bodies with and without Content-Length, split anywhere, and broken.
import { describe, expect, it } from 'vitest';
import { batchesOf, outwardOrder } from '../../ui/src/viewer/fetch-order.js';
import { boundaryOf, MultipartError, readMultipart, type MultipartPart } from '../../ui/src/viewer/multipart-reader.js';

const enc = (s: string) => new TextEncoder().encode(s);

/** A stream of `bytes` in pieces of `size`. */
function streamOf(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      for (let i = 0; i < bytes.length; i += size) c.enqueue(bytes.slice(i, i + size));
      c.close();
    },
  });
}

async function readAll(bytes: Uint8Array, boundary: string, size: number): Promise<MultipartPart[]> {
  const parts: MultipartPart[] = [];
  for await (const p of readMultipart(streamOf(bytes, size), boundary)) parts.push(p);
  return parts;
}

describe('fetch order', () => {
  it('goes outwards from the slice on screen, after before before', () => {
    expect(outwardOrder(7, 3)).toEqual([3, 4, 2, 5, 1, 6, 0]);
    expect(outwardOrder(5, 0)).toEqual([0, 1, 2, 3, 4]);
    expect(outwardOrder(4, 3)).toEqual([3, 2, 1, 0]);
    expect(outwardOrder(3, 99)).toEqual([2, 1, 0]);
    expect(outwardOrder(0, 0)).toEqual([]);
  });

  it('batches whole instances: a multi-frame instance is never split', () => {
    const f = (sopUid: string, n: number) => ({ sopUid, imageId: `${sopUid}/${n}` });
    const items = [f('a', 1), f('b', 1), f('b', 2), f('c', 1), f('b', 3), f('d', 1)];
    expect(batchesOf(items, 2).map((b) => b.map((x) => x.imageId))).toEqual([
      ['a/1', 'b/1', 'b/2', 'b/3'],
      ['c/1', 'd/1'],
    ]);
  });
});

describe('multipart reader', () => {
  const body = (withLength: boolean) =>
    enc(
      'preamble\r\n' +
        `--b1\r\nContent-Type: application/octet-stream\r\nContent-Location: /f/1\r\n${withLength ? 'Content-Length: 6\r\n' : ''}\r\nab\r\n-c` +
        `\r\n--b1\r\ncontent-type: image/jls\r\nContent-Location: /f/2\r\n${withLength ? 'Content-Length: 0\r\n' : ''}\r\n` +
        '\r\n--b1--\r\nepilogue',
    );

  for (const withLength of [true, false]) {
    for (const size of [1, 3, 1000]) {
      it(`reads the parts ${withLength ? 'by Content-Length' : 'up to the delimiter'}, in pieces of ${size} bytes`, async () => {
        const parts = await readAll(body(withLength), 'b1', size);
        expect(parts.map((p) => p.headers['content-location'])).toEqual(['/f/1', '/f/2']);
        expect(new TextDecoder().decode(parts[0].body)).toBe('ab\r\n-c');
        expect(parts[1].headers['content-type']).toBe('image/jls');
        expect(parts[1].body.length).toBe(0);
      });
    }
  }

  it('a part larger than its window grows it, and its bytes come out whole', async () => {
    const big = new Uint8Array(300_000).map((_, i) => i % 251);
    const head = enc(`--x\r\nContent-Length: ${big.length}\r\n\r\n`);
    const all = new Uint8Array([...head, ...big, ...enc('\r\n--x--')]);
    const [part] = await readAll(all, 'x', 4096);
    expect(part.body).toEqual(big);
  });

  it('refuses a body that ends early or lies about its lengths', async () => {
    const cut = body(true).slice(0, 103); // two bytes into the first part
    await expect(readAll(cut, 'b1', 7)).rejects.toThrow(new MultipartError('the body ends inside a part'));
    const lying = enc('--b1\r\nContent-Length: 2\r\n\r\nabc\r\n--b1--');
    await expect(readAll(lying, 'b1', 5)).rejects.toThrow(new MultipartError('a part is not followed by the delimiter its Content-Length places'));
    await expect(readAll(enc('no delimiter here'), 'b1', 4)).rejects.toThrow(new MultipartError('the body has no multipart delimiter'));
  });

  it('finds the boundary of a Content-Type, quoted or not', () => {
    expect(boundaryOf('multipart/related; type="application/octet-stream"; boundary=pacs-1f')).toBe('pacs-1f');
    expect(boundaryOf('multipart/related; boundary="a b"; type=x')).toBe('a b');
    expect(boundaryOf('application/json')).toBeUndefined();
  });
});
