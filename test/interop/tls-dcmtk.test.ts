/**
 * DICOM TLS (issue 6 item 3) against DCMTK: `pacs tls init` makes a local CA with server
 * and client certificates; the Main Server, marked TLS in the registry, listens with
 * TLS on its port; echoscu and storescu with `+tls` (mutual authentication) and `+tla`
 * (no client certificate) succeed or are refused as the role's policy says; plain TCP
 * to the TLS port fails. Our SCUs over TLS: C-MOVE sub-operations of the Main Server to
 * a storescp +tls move destination (driven by `pacs move` over TLS), `pacs echo` and
 * `pacs config verify` against it, and their clear failure with a CA that did not sign it.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCtSeries } from '../../scripts/gen-test-data.js';
import { ConfigStore, findAe, tlsPaths } from '../../src/config/index.js';
import {
  countDicomFiles,
  echoscu,
  REPO_ROOT,
  runDcmtk,
  startPacs,
  startStorescp,
  stopAllPeers,
  storescu,
  type PacsPeer,
  type StorescpPeer,
} from '../support/peers.js';
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

describe('our SCUs to a TLS peer (storescp +tls requiring our client certificate)', () => {
  let scp: StorescpPeer;
  let otherCa: string;

  beforeAll(async () => {
    scp = await startStorescp({
      dir: join(dir, 'tls-dest'),
      aet: 'TLS_DEST',
      args: ['+B', '+tls', tls.serverKey, tls.serverCert, '+cf', tls.ca, '--require-peer-cert'],
    });
    const add = await cli(
      'config',
      'ae',
      'add',
      'TLS_DEST',
      '--host',
      '127.0.0.1',
      '--port',
      String(scp.port),
      '--tls',
      '--move-destination',
      '--permissions',
      'echo,store',
    );
    expect(add.code, add.stderr).toBe(0);
    // A second, unrelated CA: what a wrong --tls-ca looks like.
    const other = join(dir, 'other', 'data');
    const init = await runDcmtk(process.execPath, [join(REPO_ROOT, 'bin/pacs.js'), 'tls', 'init', '--data', other]);
    expect(init.code, init.stderr).toBe(0);
    otherCa = tlsPaths(other).ca;
  }, 60_000);

  it('pacs echo calls a registry AE marked TLS with TLS, and fails naming the AE with a wrong CA', async () => {
    const ok = await cli('echo', '--aec', 'TLS_DEST');
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`C-ECHO TLS_DEST@127\\.0\\.0\\.1:${scp.port} \\(TLS\\): success`));
    const wrong = await cli('echo', '--aec', 'TLS_DEST', '--tls-ca', otherCa);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/TLS handshake with TLS_DEST at 127\.0\.0\.1:\d+ failed: its certificate is not signed by a CA we trust/);
    // Plain TCP to the TLS port does not pass for success.
    expect((await cli('echo', '--aec', 'TLS_DEST', '--no-tls')).code).toBe(1);
  });

  it('pacs echo to an ad-hoc TLS target with explicit files', async () => {
    const r = await cli(
      'echo',
      '127.0.0.1',
      String(scp.port),
      '--aec',
      'ANY_TLS',
      '--tls-ca',
      tls.ca,
      '--tls-cert',
      tls.clientCert,
      '--tls-key',
      tls.clientKey,
    );
    expect(r.code, r.stderr).toBe(0);
    // Without our client certificate storescp (--require-peer-cert) refuses the handshake.
    const none = await runDcmtk(process.execPath, [
      join(REPO_ROOT, 'bin/pacs.js'),
      'echo',
      '127.0.0.1',
      String(scp.port),
      '--aec',
      'ANY_TLS',
      '--data',
      join(dir, 'no-such-dir'),
      '--tls-ca',
      tls.ca,
    ]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/TLS handshake with ANY_TLS at 127\.0\.0\.1:\d+ failed: the peer refused our client certificate or its absence/);
  });

  it('pacs config verify echoes the TLS AE over TLS, and reports the handshake failure with another CA', async () => {
    const r = await cli('config', 'verify');
    expect(r.stdout).toMatch(/TLS_DEST\s+peer\s+127\.0\.0\.1:\d+\s+ok/);
    // The same registry with another data directory's CA: the row says why.
    const other = join(dir, 'other', 'data');
    const add = await runDcmtk(process.execPath, [
      join(REPO_ROOT, 'bin/pacs.js'),
      'config',
      'ae',
      'add',
      'TLS_DEST',
      '--data',
      other,
      '--host',
      '127.0.0.1',
      '--port',
      String(scp.port),
      '--tls',
    ]);
    expect(add.code, add.stderr).toBe(0);
    const bad = await runDcmtk(process.execPath, [join(REPO_ROOT, 'bin/pacs.js'), 'config', 'verify', '--data', other, '--timeout', '5']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/TLS_DEST\s+peer\s+127\.0\.0\.1:\d+\s+FAILED: TLS handshake with TLS_DEST .*not signed by a CA we trust/);
  });

  it('pacs move over TLS to the Main Server: its sub-operations go to the TLS move destination over TLS', async () => {
    // DCMTK 3.6.7's movescu has no TLS options: the movescu-driven case is in tls-router-dcmtk.test.ts.
    const series = await writeCtSeries({ dir: join(dir, 'move'), count: 4, rows: 64, cols: 64 });
    const stored = await storescu({ port: pacs.port, calledAet: 'PACS', files: series.files, args: withCert() });
    expect(stored.code, stored.stderr).toBe(0);
    const r = await cli(
      'move',
      '127.0.0.1',
      String(pacs.port),
      '--aec',
      'PACS',
      '--aem',
      'TLS_DEST',
      '-k',
      'QueryRetrieveLevel=SERIES',
      '-k',
      `StudyInstanceUID=${series.studyUid}`,
      '-k',
      `SeriesInstanceUID=${series.seriesUid}`,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/C-MOVE: status 0x0000, 4 completed, 0 failed/);
    expect(await countDicomFiles(scp.storageDir, new Set(series.sopInstanceUids))).toBe(4);
  });
});
