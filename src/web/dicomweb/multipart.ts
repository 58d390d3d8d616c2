/**
 * multipart/related (RFC 2387 over RFC 2046 5.1) for DICOMweb, streamed both ways.
 *
 * Reader: parts are read one after another from the request stream; each part's body is
 * an async iterable of the bytes between its header block and the next delimiter, handed
 * on as they arrive (only the last delimiter-length bytes are held back). The caller
 * consumes one part's body before asking for the next part; the stream is pulled only as
 * fast as the caller consumes (back-pressure). A byte limit covers the whole body.
 *
 * Writer: a boundary, then each part's header block and body, then the close delimiter.
 */
import { randomBytes } from 'node:crypto';
import { checkedHeaderValue } from '../header-values.js';
import { DicomwebError } from './errors.js';

/** The framing of a multipart body is broken: the message says where. */
export class MultipartError extends Error {
  override readonly name = 'MultipartError';
}

export interface Part {
  /** Header names in lower case. */
  headers: Map<string, string>;
  body: AsyncIterable<Buffer>;
}

const CRLF = Buffer.from('\r\n');
const MAX_HEADER_BYTES = 16 * 1024;

/**
 * A boundary is RFC 2046's bchars, not ending in a space. RFC 2046 allows 70 characters;
 * up to 200 are accepted because Orthanc's DICOMweb plugin sends 73.
 */
export function checkBoundary(boundary: string | undefined): string {
  if (!boundary || !/^[0-9A-Za-z'()+_,\-./:=? ]{0,199}[0-9A-Za-z'()+_,\-./:=?]$/.test(boundary)) {
    throw new DicomwebError(
      'bad-request',
      `multipart/related needs a valid boundary parameter (1-200 characters of RFC 2046), got ${JSON.stringify(boundary ?? null)}`,
      'Content-Type',
    );
  }
  return boundary;
}

export class MultipartReader {
  private buf: Buffer;
  private readonly it: AsyncIterator<Buffer | string>;
  private readonly delimiter: Buffer;
  private total = 0;
  private ended = false;

  /** `maxBytes`: past this many body bytes, reading throws DicomwebError('payload-too-large'). */
  constructor(
    source: AsyncIterable<Buffer | string>,
    boundary: string,
    private readonly maxBytes = Number.POSITIVE_INFINITY,
  ) {
    this.it = source[Symbol.asyncIterator]();
    this.delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
    // The first delimiter may begin the body without a CRLF before it.
    this.buf = CRLF;
  }

  /** Body bytes read so far. */
  get bytesRead(): number {
    return this.total;
  }

  /** Appends the next chunk of the stream; false at its end. */
  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    const r = await this.it.next();
    if (r.done) {
      this.ended = true;
      return false;
    }
    const chunk = typeof r.value === 'string' ? Buffer.from(r.value, 'latin1') : r.value;
    this.total += chunk.length;
    if (this.total > this.maxBytes) {
      throw new DicomwebError('payload-too-large', `the request body is larger than the limit of ${this.maxBytes} bytes`);
    }
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    return true;
  }

  private async need(n: number, what: string): Promise<void> {
    while (this.buf.length < n) if (!(await this.fill())) throw new MultipartError(`body ends ${what}`);
  }

  async *parts(): AsyncGenerator<Part> {
    const d = this.delimiter;
    // Preamble: everything before the first delimiter.
    for (;;) {
      const i = this.buf.indexOf(d);
      if (i >= 0) {
        this.buf = this.buf.subarray(i + d.length);
        break;
      }
      this.buf = this.buf.subarray(Math.max(0, this.buf.length - d.length + 1));
      if (!(await this.fill())) throw new MultipartError('no boundary delimiter found in the body');
    }
    for (;;) {
      await this.need(2, 'after a boundary delimiter');
      if (this.buf[0] === 0x2d && this.buf[1] === 0x2d) return; // close delimiter: the epilogue is ignored
      // Transport padding, then CRLF.
      for (;;) {
        let k = 0;
        while (k < this.buf.length && (this.buf[k] === 0x20 || this.buf[k] === 0x09)) k++;
        if (k + 2 <= this.buf.length) {
          if (this.buf[k] !== 0x0d || this.buf[k + 1] !== 0x0a) throw new MultipartError('boundary delimiter not followed by CRLF');
          this.buf = this.buf.subarray(k + 2);
          break;
        }
        if (k > 80) throw new MultipartError('boundary delimiter followed by too much padding');
        if (!(await this.fill())) throw new MultipartError('body ends after a boundary delimiter');
      }
      const headers = await this.readHeaders();
      let done = false;
      // eslint-disable-next-line @typescript-eslint/no-this-alias -- a generator function has no lexical `this`
      const self = this;
      const body = (async function* (): AsyncGenerator<Buffer> {
        for (;;) {
          const i = self.buf.indexOf(d);
          if (i >= 0) {
            const data = self.buf.subarray(0, i);
            self.buf = self.buf.subarray(i + d.length);
            done = true;
            if (data.length) yield data;
            return;
          }
          const safe = self.buf.length - d.length + 1;
          if (safe > 0) {
            const data = self.buf.subarray(0, safe);
            self.buf = self.buf.subarray(safe);
            yield data;
          }
          if (!(await self.fill())) throw new MultipartError('body ends inside a part (no closing boundary)');
        }
      })();
      yield { headers, body };
      if (!done) for await (const _ of body) void _; // the caller left the rest of the part
    }
  }

  private async readHeaders(): Promise<Map<string, string>> {
    const headers = new Map<string, string>();
    await this.need(2, 'in a part header');
    if (this.buf[0] === 0x0d && this.buf[1] === 0x0a) {
      this.buf = this.buf.subarray(2);
      return headers;
    }
    let end: number;
    for (;;) {
      end = this.buf.indexOf('\r\n\r\n');
      if (end >= 0) break;
      if (this.buf.length > MAX_HEADER_BYTES) throw new MultipartError(`part header longer than ${MAX_HEADER_BYTES} bytes`);
      if (!(await this.fill())) throw new MultipartError('body ends in a part header');
    }
    const text = this.buf.toString('latin1', 0, end);
    this.buf = this.buf.subarray(end + 4);
    let last: string | undefined;
    for (const line of text.split('\r\n')) {
      if (/^[ \t]/.test(line) && last) {
        headers.set(last, `${headers.get(last)} ${line.trim()}`); // folded header line
        continue;
      }
      const c = line.indexOf(':');
      if (c <= 0) throw new MultipartError(`malformed part header line ${JSON.stringify(line.slice(0, 80))}`);
      last = line.slice(0, c).trim().toLowerCase();
      headers.set(last, line.slice(c + 1).trim());
    }
    return headers;
  }
}

export function newBoundary(): string {
  return `openpacs-${randomBytes(12).toString('hex')}`;
}

/**
 * The delimiter and header block that open a part; `first` = no CRLF before (the end of the
 * previous part's body). `contentType` comes from mediaType() (header-values.ts); a value a
 * header cannot carry is refused, never written.
 */
export function partHead(boundary: string, contentType: string, first: boolean): Buffer {
  return Buffer.from(`${first ? '' : '\r\n'}--${boundary}\r\nContent-Type: ${checkedHeaderValue(contentType)}\r\n\r\n`, 'latin1');
}

/** The close delimiter, with the CRLF that ends the last part's body (none when there was no part). */
export function closeDelimiter(boundary: string, afterPart: boolean): Buffer {
  return Buffer.from(`${afterPart ? '\r\n' : ''}--${boundary}--\r\n`, 'latin1');
}

/**
 * The bytes of a multipart/related body: each part's header block and streamed body, then
 * the close delimiter. The CRLF ending a body goes out with the next delimiter (one write
 * fewer per part).
 */
export async function* writeMultipart(
  boundary: string,
  parts: AsyncIterable<{ contentType: string; body: AsyncIterable<Buffer> | Buffer }>,
): AsyncGenerator<Buffer> {
  let first = true;
  for await (const part of parts) {
    yield partHead(boundary, part.contentType, first);
    first = false;
    if (Buffer.isBuffer(part.body)) yield part.body;
    else yield* part.body;
  }
  yield closeDelimiter(boundary, !first);
}
