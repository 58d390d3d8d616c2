/**
 * HTTP timeouts (`limits.http`), over real sockets: a request body sent a byte at a time
 * (slowloris) is cut after the request timeout, set short here, while the server goes on
 * serving others; a STOW-RS upload, which may take minutes, is held to a minimum transfer
 * rate instead: a steady one outlives the request timeout, a trickle is cut. Headers sent
 * a line at a time, and a connection that sends nothing, are cut after the headers timeout.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { removeTempDirs } from '../support/tmp.js';
import { rawRequest } from './raw-http.js';
import { startWebApp, type WebAppFixture } from './web-app-fixture.js';

let web: WebAppFixture;
let port: number;
const basic = `Basic ${Buffer.from('admin:admin-password').toString('base64')}`;

const HEADERS_TIMEOUT_S = 2;
const REQUEST_TIMEOUT_S = 2;
const UPLOAD_WINDOW_S = 2;

beforeAll(async () => {
  web = await startWebApp({
    tmpPrefix: 'pacs-http-limits-',
    adminPassword: 'admin-password',
    // Written around the registry operations on purpose: the test must be able to set the limits before they exist in the schema.
    register: (reg) => ({
      ...reg,
      limits: {
        ...reg.limits,
        http: {
          headersTimeoutSeconds: HEADERS_TIMEOUT_S,
          requestTimeoutSeconds: REQUEST_TIMEOUT_S,
          uploadRateWindowSeconds: UPLOAD_WINDOW_S,
          uploadMinBytesPerSecond: 1024,
        },
      },
    }),
  });
  await web.app.listen({ host: '127.0.0.1', port: 0 });
  port = (web.app.server.address() as { port: number }).port;
});

const opened: Socket[] = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.destroy();
});

afterAll(async () => {
  await web?.close();
  await removeTempDirs();
});

interface Trickle {
  socket: Socket;
  /** What the server sent back before closing. */
  received: () => string;
  /** Resolves with the seconds from the start until the server closed the connection. */
  closed: Promise<number>;
  stop(): void;
}

/** Sends `head`, then `chunk` every `everyMs` until the server closes the connection (or stop()). */
function trickle(head: string, chunk: Buffer, everyMs: number): Trickle {
  const socket = connect(port, '127.0.0.1');
  opened.push(socket);
  const start = Date.now();
  let data = '';
  socket.on('data', (d) => (data += d.toString('latin1')));
  socket.on('error', () => {});
  // eslint-disable-next-line prefer-const -- assigned below, after the close listener that clears it
  let timer: NodeJS.Timeout | undefined;
  const closed = new Promise<number>((resolve) =>
    socket.on('close', () => {
      clearInterval(timer);
      resolve((Date.now() - start) / 1000);
    }),
  );
  socket.write(head);
  timer = setInterval(() => {
    if (!socket.destroyed && socket.writable) socket.write(chunk);
  }, everyMs);
  return { socket, received: () => data, closed, stop: () => clearInterval(timer) };
}

/** The promise's value, or 'still open' after `ms` (the test's patience, far above the timeout under test). */
const within = <T>(p: Promise<T>, ms: number): Promise<T | 'still open'> =>
  Promise.race([p, new Promise<'still open'>((r) => setTimeout(() => r('still open'), ms))]);

const slowLogin = () =>
  trickle(`POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{`, Buffer.from(' '), 500);
const stowHead = (length: number) =>
  `POST /dicomweb/studies HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${basic}\r\nContent-Type: multipart/related; type="application/dicom"; boundary=b0undary\r\nContent-Length: ${length}\r\n\r\n`;

describe('HTTP limits', () => {
  it('cuts a request body sent a byte at a time after the request timeout, and serves others meanwhile', async () => {
    const slow = Array.from({ length: 20 }, slowLogin);
    await new Promise((r) => setTimeout(r, 600));
    // others are served while the slow bodies are pending
    const shell = await rawRequest(port, 'POST', '/api/login', { body: JSON.stringify({ user: 'admin', password: 'admin-password' }) });
    expect(shell.status).toBe(200);
    const seconds = await Promise.all(slow.map((s) => within(s.closed, 30_000)));
    for (const s of slow) s.stop();
    expect(seconds.filter((s) => s === 'still open')).toEqual([]);
    for (const s of slow) expect(s.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(slow[0].received()).toMatch(/request timeout/i);
    console.log(
      `slowloris bodies cut after ${Math.min(...(seconds as number[])).toFixed(1)}-${Math.max(...(seconds as number[])).toFixed(1)} s (request timeout ${REQUEST_TIMEOUT_S} s)`,
    );
    expect((await rawRequest(port, 'GET', '/api/me', { headers: { authorization: basic } })).status).toBe(200);
  });

  it('lets a steady STOW-RS upload run past the request timeout, and cuts it once it stalls', async () => {
    // preamble bytes (ignored by multipart parsers) at 40 KB/s, far above the minimum rate
    const up = trickle(stowHead(100 << 20), Buffer.alloc(4096, 'a'), 100);
    const early = await within(up.closed, (REQUEST_TIMEOUT_S + 2 * UPLOAD_WINDOW_S) * 1000);
    expect(early).toBe('still open');
    up.stop(); // the client stalls
    expect(await within(up.closed, 30_000)).not.toBe('still open');
    expect(up.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('cuts a STOW-RS upload that trickles below the minimum transfer rate', async () => {
    const up = trickle(stowHead(100 << 20), Buffer.from('a'), 200);
    expect(await within(up.closed, 30_000)).not.toBe('still open');
    up.stop();
    expect(up.received()).toMatch(/transfer rate/);
  });

  it('cuts headers sent a line at a time, and a connection that sends nothing, after the headers timeout', async () => {
    const slowHeaders = trickle('GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n', Buffer.from('X-Padding: a\r\n'), 300);
    const silent = trickle('', Buffer.alloc(0), 1000);
    expect(await within(slowHeaders.closed, 30_000)).not.toBe('still open');
    expect(await within(silent.closed, 30_000)).not.toBe('still open');
    expect(slowHeaders.received()).toMatch(/^HTTP\/1\.1 408 /);
  });
});
