/**
 * The compiled package (issue 21): `npm pack` installed into an empty directory runs
 * `pacs serve` (DICOM and web) and `pacs echo` from dist/, with no TypeScript tooling:
 * the package holds no src/, and tsx, typescript and vite are not among its dependencies.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packAndInstall, type InstalledPackage } from '../support/packed.js';
import { freePort, runDcmtk, waitForPort } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { until } from '../support/until.js';

let pkg: InstalledPackage;
let serve: ReturnType<typeof spawn> | undefined;

beforeAll(async () => {
  pkg = await packAndInstall(await makeTempDir('pacs-npm-pack-'));
}, 900_000);

afterAll(async () => {
  serve?.kill('SIGTERM');
  await removeTempDirs();
});

const run = (args: string[]) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const p = spawn(process.execPath, [pkg.bin, ...args], { cwd: pkg.dir });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });

describe('npm pack, installed into an empty directory', () => {
  it('holds the compiled CLI and the built web app, not the sources or the build tools', () => {
    const root = join(pkg.dir, 'node_modules', 'open-pacs');
    expect(existsSync(join(root, 'dist', 'cli', 'main.js'))).toBe(true);
    expect(existsSync(join(root, 'ui', 'dist', 'index.html'))).toBe(true);
    expect(existsSync(join(root, 'src'))).toBe(false);
    const deps = Object.keys((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies);
    for (const tool of ['tsx', 'typescript', 'vite', '@cornerstonejs/core']) expect(deps).not.toContain(tool);
    expect(existsSync(join(pkg.dir, 'node_modules', 'tsx'))).toBe(false);
  });

  it('runs pacs serve and pacs echo', async () => {
    const [port, ws, router, web] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    serve = spawn(
      process.execPath,
      [
        pkg.bin,
        'serve',
        '--data',
        join(pkg.dir, 'data'),
        '--port',
        String(port),
        '--workstation-port',
        String(ws),
        '--router-port',
        String(router),
        '--web-port',
        String(web),
        '--host',
        '127.0.0.1',
        '--web-host',
        '127.0.0.1',
      ],
      {
        cwd: pkg.dir,
        env: { ...process.env, PACS_ADMIN_PASSWORD: 'npm-pack-password' },
        stdio: 'ignore',
      },
    );
    await waitForPort(port, { timeoutMs: 60_000 });
    await waitForPort(web, { timeoutMs: 60_000 });

    const echo = await run(['echo', '127.0.0.1', String(port), '--aec', 'PACS']);
    expect(echo.code, echo.stderr).toBe(0);
    expect(echo.stdout).toMatch(/C-ECHO PACS@127\.0\.0\.1:\d+: success/);
    // a real peer too
    const dcmtk = await runDcmtk('echoscu', ['-aec', 'PACS', '127.0.0.1', String(port)]);
    expect(dcmtk.code, dcmtk.stderr).toBe(0);

    // the web app and the API, from the package's own ui/dist
    const page = await fetch(`http://127.0.0.1:${web}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
    await until(
      'the status API',
      async () =>
        (
          await fetch(`http://127.0.0.1:${web}/api/status`, {
            headers: { authorization: `Basic ${Buffer.from('admin:npm-pack-password').toString('base64')}` },
          })
        ).status === 200,
    );

    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/serve\s+start the PACS/);
  });
});
