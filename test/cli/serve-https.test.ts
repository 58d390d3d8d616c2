/**
 * HTTPS for the web server (`web.tls`), in process through startPacs: with the local CA's
 * server certificate (`pacs tls init`) the web server speaks TLS only, a client trusting
 * the CA logs in and gets a `Secure` cookie, plain HTTP on the port gets nowhere; without
 * a certificate the web server stays closed (no fallback to clear text) and says why;
 * turning it off over REST re-opens it on plain HTTP.
 */
import { request as httpsRequest } from 'node:https';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startPacs, type Pacs } from '../../src/cli/serve.js';
import { tlsInit } from '../../src/cli/tls-commands.js';
import { freePort } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

const PASSWORD = 'https-admin-password';
const running: Pacs[] = [];
let savedPassword: string | undefined;

beforeAll(() => {
  savedPassword = process.env.PACS_ADMIN_PASSWORD;
  process.env.PACS_ADMIN_PASSWORD = PASSWORD;
});

afterEach(async () => {
  for (const p of running.splice(0)) await p.close();
});

afterAll(async () => {
  if (savedPassword === undefined) delete process.env.PACS_ADMIN_PASSWORD;
  else process.env.PACS_ADMIN_PASSWORD = savedPassword;
  await removeTempDirs();
});

/** A logger whose lines the test can read. */
function capturingLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, stream), text: () => lines.join('') };
}

async function serve(dataDir: string, webTls: boolean) {
  const [port, workstationPort, routerPort, webPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const log = capturingLogger();
  const pacs = await startPacs({ dataDir, logger: log.logger, overrides: { port, workstationPort, routerPort, webPort, webTls, webHost: '127.0.0.1' } });
  running.push(pacs);
  return { pacs, webPort, log };
}

function httpsJson(port: number, ca: Buffer | undefined, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        ca,
        headers: { ...headers, ...(payload ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}) },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

describe('HTTPS for the web server', () => {
  it('serves HTTPS only with the local CA certificate, with Secure session cookies', async () => {
    const data = join(await makeTempDir('pacs-https-'), 'data');
    await tlsInit(data, { host: 'localhost' });
    const ca = await readFile(join(data, 'tls', 'ca.pem'));
    const { pacs, webPort, log } = await serve(data, true);
    expect(pacs.web()?.protocol).toBe('https');
    expect(log.text()).toContain(`"url":"https://127.0.0.1:${webPort}/"`);
    const login = await httpsJson(webPort, ca, 'POST', '/api/login', { user: 'admin', password: PASSWORD });
    expect(login.status).toBe(200);
    const cookie = String(login.headers['set-cookie']);
    expect(cookie).toMatch(/; Secure/);
    expect((await httpsJson(webPort, ca, 'GET', '/api/me', undefined, { cookie: cookie.split(';')[0] })).body).toMatch(/"user":"admin"/);
    // plain HTTP on the same port gets no answer
    await expect(fetch(`http://127.0.0.1:${webPort}/api/me`)).rejects.toThrow();
    // and a client that does not trust the local CA refuses the server
    await expect(httpsJson(webPort, undefined, 'GET', '/api/me')).rejects.toThrow(/self.signed|unable to (verify|get local issuer)|certificate/i);

    // off again over REST: the web server re-opens on plain HTTP
    const off = await httpsJson(webPort, ca, 'PATCH', '/api/config/web', { tls: false }, { cookie: cookie.split(';')[0] });
    expect(off.status).toBe(200);
    await expect
      .poll(
        async () =>
          (
            await fetch(`http://127.0.0.1:${webPort}/api/login`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ user: 'admin', password: PASSWORD }),
            }).catch(() => undefined)
          )?.status,
        { timeout: 15_000 },
      )
      .toBe(200);
    const plain = await fetch(`http://127.0.0.1:${webPort}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'admin', password: PASSWORD }),
    });
    expect(plain.headers.get('set-cookie')).not.toMatch(/Secure/);
  });

  it('stays closed, naming the missing certificate, when web.tls is on without one', async () => {
    const data = join(await makeTempDir('pacs-https-nocert-'), 'data');
    const { pacs, webPort, log } = await serve(data, true);
    expect(pacs.web()).toBeUndefined();
    expect(log.text()).toMatch(/web server not listening/);
    expect(log.text()).toMatch(/server\.pem does not exist \(run pacs tls init\)/);
    await expect(fetch(`http://127.0.0.1:${webPort}/`)).rejects.toThrow();
  });
});
