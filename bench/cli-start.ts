// Start time of the command line, as installed from the package (npm pack), beside DCMTK's
// tools: `pacs --help` next to `echoscu --version`, and a C-ECHO by `pacs echo` next to
// `echoscu`, both against one DCMTK storescp. Medians of N runs (each a new process), plus
// the checkout's `node bin/pacs.js --help` (TypeScript through tsx) for reference.
//
//   npx tsx bench/cli-start.ts [--runs 15] [--installed DIR]   (DIR: a previous install, to skip npm pack)
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { promisify } from 'node:util';
import { packAndInstall } from '../test/support/packed.js';
import { REPO_ROOT, startStorescp, stopAllPeers } from '../test/support/peers.js';
import { makeTempDir, removeTempDirs } from '../test/support/tmp.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' }, installed: { type: 'string' } } });
const runs = Number(values.runs);
const exec = promisify(execFile);

async function time(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const started = performance.now();
  await exec(cmd, args, { env });
  return performance.now() - started;
}

async function median(label: string, fn: () => Promise<number>): Promise<number> {
  await fn(); // warm the page cache
  const t: number[] = [];
  for (let i = 0; i < runs; i++) t.push(await fn());
  t.sort((a, b) => a - b);
  const m = t[Math.floor(t.length / 2)];
  console.log(`${label.padEnd(44)} median ${m.toFixed(0).padStart(5)} ms   best ${t[0].toFixed(0).padStart(5)} ms`);
  return m;
}

const dir = await makeTempDir('pacs-cli-start-');
try {
  const bin = values.installed ? join(values.installed, 'node_modules', '.bin', 'pacs') : (await packAndInstall(dir)).bin;
  const scp = await startStorescp({ dir: join(dir, 'scp'), aet: 'STORESCP' });
  const env = { ...process.env, TCP_NODELAY: '1' };
  console.log(`load average ${(await exec('cat', ['/proc/loadavg'])).stdout.trim()}, ${runs} runs each`);
  const node = await median('node -e 0 (Node start alone)', () => time(process.execPath, ['-e', '0']));
  const dcmtkVersion = await median('echoscu --version', () => time('echoscu', ['--version']));
  const help = await median('pacs --help (installed package)', () => time(process.execPath, [bin, '--help']));
  const dcmtkEcho = await median('echoscu (C-ECHO storescp)', () => time('echoscu', ['-aec', 'STORESCP', '127.0.0.1', String(scp.port)], env));
  const echo = await median('pacs echo (C-ECHO storescp, installed)', () =>
    time(process.execPath, [bin, 'echo', '127.0.0.1', String(scp.port), '--aec', 'STORESCP'], env),
  );
  await median('node bin/pacs.js --help (checkout, tsx)', () => time(process.execPath, [join(REPO_ROOT, 'bin/pacs.js'), '--help']));
  console.log(`\npacs --help ${help.toFixed(0)} ms (target < 300) = ${(help / dcmtkVersion).toFixed(1)}x echoscu --version; Node itself ${node.toFixed(0)} ms`);
  console.log(`pacs echo   ${echo.toFixed(0)} ms (target < 300) = ${(echo / dcmtkEcho).toFixed(1)}x echoscu`);
} finally {
  await stopAllPeers();
  await removeTempDirs();
}
