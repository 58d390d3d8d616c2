/**
 * multipart/related bodies (RFC 2387, PS3.18 8.6.1.2) written part by part as a stream.
 * Header values come from the encoders of header-values.ts (media types, percent-encoded
 * URLs); one a header cannot carry is refused before it is written.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { checkedHeaderValue, mediaType } from '../header-values.js';

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
  return mediaType('multipart/related', { type: partMediaType, boundary });
}

/**
 * A stream of the parts as `parts` yields them (each part is produced only when the
 * previous one was consumed); `done` runs at the end, also when the client goes away.
 */
export function multipartStream(boundary: string, parts: AsyncIterable<Part>, done: () => Promise<void>): Readable {
  async function* body(): AsyncGenerator<Uint8Array> {
    try {
      for await (const p of parts) {
        let head = `--${boundary}\r\nContent-Type: ${checkedHeaderValue(p.contentType)}\r\n`;
        if (p.contentLocation) head += `Content-Location: ${checkedHeaderValue(p.contentLocation)}\r\n`;
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
