/**
 * The package as a user gets it: `npm pack` of this checkout (its prepack builds dist/ and
 * ui/dist/), installed with npm into an empty directory. Used by the npm-pack interop test
 * and by bench/cli-start.ts.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './peers.js';

const run = promisify(execFile);

export interface InstalledPackage {
  /** The directory the package was installed into (a package.json and node_modules). */
  dir: string;
  /** The installed `pacs` command (node_modules/.bin/pacs). */
  bin: string;
}

/** Packs this checkout into `dir` and installs the tarball into `dir`/app. */
export async function packAndInstall(dir: string): Promise<InstalledPackage> {
  mkdirSync(dir, { recursive: true });
  await run('npm', ['pack', '--pack-destination', dir], { cwd: REPO_ROOT, maxBuffer: 64 << 20 });
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack left no tarball in ${dir}`);
  const app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'pacs-install-test', private: true }, null, 2)}\n`);
  await run('npm', ['install', '--no-audit', '--no-fund', join(dir, tarball)], { cwd: app, maxBuffer: 64 << 20 });
  return { dir: app, bin: join(app, 'node_modules', '.bin', 'pacs') };
}
