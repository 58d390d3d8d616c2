// multipart/related bodies (RFC 2046, PS3.18 8.6.1.2) read part by part as they arrive:
// each part is handed on when its last byte is in, not when the whole response is. A part
// with Content-Length (what our server writes) is read by length, straight from the
// stream's chunks into a buffer of its size: each of its bytes is copied once (through a
// window, then out of it, the 150 MB of a 300-slice CT stack cost more main-thread time
// than anything else but decoding). One without is ended by the next delimiter. Memory:
// the unread tail of the stream plus one part.

export interface MultipartPart {
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: Uint8Array;
}

/** Thrown when the body breaks the framing (or ends before its closing delimiter). */
export class MultipartError extends Error {
  override readonly name = 'MultipartError';
}

/** The boundary parameter of a multipart Content-Type, unquoted; undefined when absent. */
export function boundaryOf(contentType: string): string | undefined {
  for (const param of contentType.split(';').slice(1)) {
    const eq = param.indexOf('=');
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'boundary') continue;
    const v = param.slice(eq + 1).trim();
    return v.startsWith('"') && v.endsWith('"') && v.length >= 2 ? v.slice(1, -1) : v;
  }
  return undefined;
}

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const MAX_HEADER_BYTES = 16 * 1024;
/** The largest part read by its Content-Length (a frame of 8k x 8k x 3 x 16 bits is 384 MB). */
const MAX_PART_BYTES = 512 * 1024 * 1024;

/** A growing window over the stream's bytes: what has arrived and is not consumed yet. */
class ByteWindow {
  private buf = new Uint8Array(1 << 16);
  private start = 0;
  private end = 0;

  get length(): number {
    return this.end - this.start;
  }

  push(chunk: Uint8Array): void {
    if (this.start === this.end) this.start = this.end = 0; // all read: start over at the front, nothing to move
    if (this.end + chunk.length > this.buf.length) {
      const need = this.length + chunk.length;
      if (need <= this.buf.length) this.buf.copyWithin(0, this.start, this.end);
      else {
        const next = new Uint8Array(Math.max(need * 2, this.buf.length * 2));
        next.set(this.buf.subarray(this.start, this.end), 0);
        this.buf = next;
      }
      this.end -= this.start;
      this.start = 0;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  /** The offset (from the window's start) of `needle` at or after `from`, or -1. */
  indexOf(needle: Uint8Array, from = 0): number {
    const view = this.buf.subarray(this.start, this.end);
    for (let i = view.indexOf(needle[0], from); i >= 0 && i + needle.length <= view.length; i = view.indexOf(needle[0], i + 1)) {
      let j = 1;
      while (j < needle.length && view[i + j] === needle[j]) j++;
      if (j === needle.length) return i;
    }
    return -1;
  }

  /** A copy of the first `n` bytes, consumed. */
  take(n: number): Uint8Array {
    const out = this.buf.slice(this.start, this.start + n);
    this.start += n;
    return out;
  }

  /** Copies the first `n` bytes into `dst` at `at`, consumed. */
  takeInto(dst: Uint8Array, at: number, n: number): void {
    dst.set(this.buf.subarray(this.start, this.start + n), at);
    this.start += n;
  }

  skip(n: number): void {
    this.start += n;
  }

  text(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(this.buf[this.start + i]);
    return s;
  }
}

/** The parts of a multipart body, in order, each as soon as it is complete. */
export async function* readMultipart(stream: ReadableStream<Uint8Array>, boundary: string): AsyncGenerator<MultipartPart> {
  const reader = stream.getReader();
  const win = new ByteWindow();
  let ended = false;
  const more = async (): Promise<boolean> => {
    if (ended) return false;
    const { done, value } = await reader.read();
    if (done) ended = true;
    else win.push(value);
    return !done;
  };
  const first = ascii(`--${boundary}`);
  const delimiter = ascii(`\r\n--${boundary}`);
  const crlf2 = ascii('\r\n\r\n');
  try {
    // The preamble, up to the first delimiter.
    let at: number;
    while ((at = win.indexOf(first)) < 0) if (!(await more())) throw new MultipartError('the body has no multipart delimiter');
    win.skip(at + first.length);
    for (;;) {
      // After a delimiter: "--" closes the body, CRLF opens a part.
      while (win.length < 2) if (!(await more())) throw new MultipartError('the body ends after a delimiter');
      const after = win.text(2);
      if (after === '--') return;
      if (after !== '\r\n') throw new MultipartError('a delimiter is not followed by CRLF');
      win.skip(2);
      let headEnd: number;
      while ((headEnd = win.indexOf(crlf2)) < 0) {
        if (win.length > MAX_HEADER_BYTES) throw new MultipartError('a part header is longer than 16 KB');
        if (!(await more())) throw new MultipartError('the body ends inside a part header');
      }
      const headers: Record<string, string> = {};
      for (const line of win.text(headEnd).split('\r\n')) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      win.skip(headEnd + 4);
      const declared = headers['content-length'];
      let body: Uint8Array;
      if (declared !== undefined && /^[0-9]{1,10}$/.test(declared)) {
        const n = Number(declared);
        if (n > MAX_PART_BYTES) throw new MultipartError(`a part of ${n} bytes is larger than ${MAX_PART_BYTES}`);
        body = new Uint8Array(n);
        let filled = Math.min(n, win.length);
        win.takeInto(body, 0, filled);
        // The rest straight from the stream: only what follows the part goes through the window.
        while (filled < n) {
          const { done, value } = await reader.read();
          if (done) {
            ended = true;
            throw new MultipartError('the body ends inside a part');
          }
          const k = Math.min(n - filled, value.length);
          body.set(k === value.length ? value : value.subarray(0, k), filled);
          filled += k;
          if (k < value.length) win.push(value.subarray(k));
        }
        while (win.length < delimiter.length) if (!(await more())) throw new MultipartError('the body ends inside a part');
        if (win.indexOf(delimiter, 0) !== 0) throw new MultipartError('a part is not followed by the delimiter its Content-Length places');
      } else {
        let end: number;
        let from = 0;
        while ((end = win.indexOf(delimiter, from)) < 0) {
          from = Math.max(0, win.length - delimiter.length);
          if (!(await more())) throw new MultipartError('the body ends inside a part');
        }
        body = win.take(end);
      }
      win.skip(delimiter.length);
      yield { headers, body };
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
