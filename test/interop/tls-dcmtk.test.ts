/**
 * DICOM TLS (issue 6 item 3) against DCMTK: `pacs tls init` makes a local CA with server
 * and client certificates; the Main Server, marked TLS in the registry, listens with
 * TLS on its port; echoscu and storescu with `+tls` (mutual authentication) and `+tla`
 * (no client certificate) succeed or are refused as the role's policy says; plain TCP
 * to the TLS port fails.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCtSeries } from '../../scripts/gen-test-data.js';
import { ConfigStore, findAe, tlsPaths } from '../../src/config/index.js';
import { countDicomFiles, echoscu, REPO_ROOT, runDcmtk, startPacs, stopAllPeers, storescu, type PacsPeer } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

let dir: string;
let data: string;
let pacs: PacsPeer;
let tls: ReturnType<typeof tlsPaths>;

const cli = (...args: string[]) => runDcmtk(process.execPath, [join(REPO_ROOT, 'bin/pacs.js'), ...args, '--data', data], { timeoutMs: 60_000 });
/** DCMTK's TLS options: our client certificate (mutual authentication) or none (+tla); the server is verified against our CA. */
const withCert = () => ['+tls', tls.clientKey, tls.clientCert, '+cf', tls.ca];
const anonymous = () => ['+tla', '+cf', tls.ca];
const echo = (args: string[]) => runDcmtk('echoscu', [...args, '-aet', 'ECHOSCU', '-aec', 'PACS', '127.0.0.1', String(pacs.port)], { timeoutMs: 30_000 });

beforeAll(async () => {
  dir = await makeTempDir('pacs-tls-');
  data = join(dir, 'pacs', 'data');
  tls = tlsPaths(data);
  const init = await cli('tls', 'init');
  expect(init.code, init.stderr).toBe(0);
  const set = await cli('config', 'ae', 'set', 'PACS', '--tls', '--require-client-cert');
  expect(set.code, set.stderr).toBe(0);
  pacs = await startPacs({ dir: join(dir, 'pacs') });
}, 120_000);

afterAll(async () => {
  await stopAllPeers();
  await removeTempDirs();
});

describe('pacs tls init', () => {
  it('writes a CA, server and client certificates, keys readable by the owner only', async () => {
    for (const key of [tls.caKey, tls.serverKey, tls.clientKey]) expect(statSync(key).mode & 0o777).toBe(0o600);
    const v = await runDcmtk('openssl', ['verify', '-CAfile', tls.ca, tls.serverCert, tls.clientCert]);
    expect(v.code, v.stderr).toBe(0);
    const text = await runDcmtk('openssl', ['x509', '-in', tls.serverCert, '-noout', '-ext', 'subjectAltName']);
    expect(text.stdout).toMatch(/IP Address:127\.0\.0\.1/);
    expect(text.stdout).toMatch(/DNS:localhost/);
  });

  it('refuses to replace the certificates without --force', async () => {
    const r = await cli('tls', 'init');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/already exists.*--force/);
  });
});

describe('Main Server over TLS with DCMTK', () => {
  it('answers echoscu +tls with a client certificate', async () => {
    const r = await echo(withCert());
    expect(r.code, r.stderr).toBe(0);
  });

  it('refuses a plain TCP association on the TLS port', async () => {
    const r = await echoscu({ port: pacs.port, calledAet: 'PACS' });
    expect(r.code).not.toBe(0);
  });

  it('refuses a TLS client without a certificate when client certificates are required', async () => {
    const r = await echo(anonymous());
    expect(r.code).not.toBe(0);
  });

  it('stores files from storescu over TLS', async () => {
    const series = await writeCtSeries({ dir: join(dir, 'ct'), count: 3, rows: 64, cols: 64 });
    const r = await storescu({ port: pacs.port, calledAet: 'PACS', files: series.files, args: withCert() });
    expect(r.code, r.stderr).toBe(0);
    expect(await countDicomFiles(data, new Set(series.sopInstanceUids))).toBe(3);
  });

  it('re-opens the listener when the policy no longer requires a client certificate', async () => {
    const r = await cli('config', 'ae', 'set', 'PACS', '--no-require-client-cert');
    expect(r.code, r.stderr).toBe(0);
    const store = await ConfigStore.open(data);
    expect(findAe(store.current, 'PACS')?.policy?.requireClientCert).toBe(false);
    // The running server picks the change up from the registry file and re-opens its port.
    const deadline = Date.now() + 20_000;
    let last = await echo(anonymous());
    while (last.code !== 0 && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 250));
      last = await echo(anonymous());
    }
    expect(last.code, last.stderr).toBe(0);
    expect((await echoscu({ port: pacs.port, calledAet: 'PACS' })).code).not.toBe(0);
  });
});
