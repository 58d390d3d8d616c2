// HTTP/1.1 over a plain TCP socket, with the request target sent exactly as given
// (percent-encoded letters, absolute form, `..` segments): node's http client and fetch
// would normalise some of these, and the point is to see what the server does with them.
import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends one request with `Connection: close` and reads the answer to its end. */
export function rawRequest(
  port: number,
  method: string,
  target: string,
  opts: { headers?: Record<string, string>; body?: string; host?: string } = {},
): Promise<RawResponse> {
  const body = opts.body ?? (method === 'GET' || method === 'HEAD' || method === 'OPTIONS' ? undefined : '{}');
  const headers: Record<string, string> = { host: `127.0.0.1:${port}`, connection: 'close', ...opts.headers };
  if (body !== undefined) {
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  const head = `${method} ${target} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;
  return new Promise((resolve, reject) => {
    const socket = connect(port, opts.host ?? '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(30_000, () => socket.destroy(new Error(`${method} ${target}: no answer within 30 s`)));
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', reject);
    socket.on('end', () => socket.end());
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (!m || split < 0) return reject(new Error(`${method} ${target}: not an HTTP answer: ${JSON.stringify(text.slice(0, 200))}`));
      const hs: Record<string, string> = {};
      for (const line of text.slice(0, split).split('\r\n').slice(1)) {
        const i = line.indexOf(':');
        hs[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      let raw = text.slice(split + 4);
      if (/chunked/i.test(hs['transfer-encoding'] ?? '')) raw = unchunk(raw);
      resolve({ status: Number(m[1]), headers: hs, body: raw });
    });
    socket.write(head);
    if (body !== undefined) socket.write(body);
  });
}

function unchunk(s: string): string {
  let out = '';
  let i = 0;
  for (;;) {
    const eol = s.indexOf('\r\n', i);
    if (eol < 0) return out;
    const n = parseInt(s.slice(i, eol), 16);
    if (!n) return out;
    out += s.slice(eol + 2, eol + 2 + n);
    i = eol + 2 + n + 2;
  }
}
