/** multipart/related bodies (RFC 2387, PS3.18 8.6.1.2) written part by part as a stream. */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

export interface Part {
  contentType: string;
  contentLocation?: string;
  body: Uint8Array | AsyncIterable<Uint8Array>;
}

export function newBoundary(): string {
  return `pacs-${randomBytes(12).toString('hex')}`;
}

/** The response's Content-Type: multipart/related with the parts' media type and the boundary. */
export function multipartContentType(partMediaType: string, boundary: string): string {
  return `multipart/related; type="${partMediaType}"; boundary=${boundary}`;
}

/**
 * A stream of the parts as `parts` yields them (each part is produced only when the
 * previous one was consumed); `done` runs at the end, also when the client goes away.
 */
export function multipartStream(boundary: string, parts: AsyncIterable<Part>, done: () => Promise<void>): Readable {
  async function* body(): AsyncGenerator<Uint8Array> {
    try {
      for await (const p of parts) {
        let head = `--${boundary}\r\nContent-Type: ${p.contentType}\r\n`;
        if (p.contentLocation) head += `Content-Location: ${p.contentLocation}\r\n`;
        if (p.body instanceof Uint8Array) head += `Content-Length: ${p.body.length}\r\n`;
        yield Buffer.from(`${head}\r\n`, 'latin1');
        if (p.body instanceof Uint8Array) yield p.body;
        else for await (const chunk of p.body) yield chunk;
        yield Buffer.from('\r\n', 'latin1');
      }
      yield Buffer.from(`--${boundary}--\r\n`, 'latin1');
    } finally {
      await done();
    }
  }
  return Readable.from(body(), { objectMode: false });
}
