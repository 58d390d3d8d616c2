/**
 * `pacs user add | passwd | role | rm | list` as a user runs them (child processes):
 * passwords from standard input, roles, the last admin kept, clear messages naming the
 * argument; a running server's UserStore sees the change.
 */
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserStore } from '../../src/web/users.js';
import { REPO_ROOT } from '../support/peers.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';

let data: string;

/** Runs `pacs user ARGS... --data <dir>` with `input` on its standard input. */
function user(input: string, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/pacs.js'), 'user', ...args, '--data', data], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(input);
  });
}

beforeAll(async () => {
  data = join(await makeTempDir('pacs-user-cli-'), 'data');
});

afterAll(async () => {
  await removeTempDirs();
});

describe('pacs user', () => {
  it('adds an admin first, then readers, with passwords from standard input', async () => {
    const noAdmin = await user('reader-password\n', 'add', 'rita', '--password-stdin');
    expect(noAdmin.status).toBe(1);
    expect(noAdmin.stderr).toMatch(/no admin yet/);
    expect(await user('admin-password\n', 'add', 'alice', '--role', 'admin', '--password-stdin')).toMatchObject({ status: 0, stdout: 'added alice (admin)\n' });
    expect(await user('reader-password\n', 'add', 'rita', '--password-stdin')).toMatchObject({ status: 0, stdout: 'added rita (reader)\n' });
    const store = await UserStore.open(data);
    expect(await store.verify('rita', 'reader-password')).toMatchObject({ name: 'rita', role: 'reader' });
    expect((await stat(join(data, 'users.json'))).mode & 0o777).toBe(0o600);
    const list = await user('', 'list');
    expect(list.stdout).toMatch(/^NAME\s+ROLE\s+CREATED\n/);
    expect(list.stdout).toMatch(/\nalice\s+admin\s/);
    expect(list.stdout).toMatch(/\nrita\s+reader\s/);
  });

  it('refuses bad names, short passwords, duplicates and unknown users with a clear message', async () => {
    expect((await user('whatever-password\n', 'add', 'bad name', '--password-stdin')).stderr).toMatch(/NAME: a user name is/);
    expect((await user('short\n', 'add', 'bob', '--password-stdin')).stderr).toMatch(/password: a password needs at least 8 characters/);
    expect((await user('reader-password\n', 'add', 'rita', '--password-stdin')).stderr).toMatch(/already a user "rita"/);
    expect((await user('', 'add', 'bob', '--role', 'root', '--password-stdin')).stderr).toMatch(/--role.*admin, reader/);
    const nobody = await user('new-password\n', 'passwd', 'nobody', '--password-stdin');
    expect(nobody.status).toBe(1);
    expect(nobody.stderr).toMatch(/no user "nobody"/);
    const noTerminal = await user('', 'add', 'bob');
    expect(noTerminal.stderr).toMatch(/--password-stdin/);
  });

  it('changes a password, a role; never removes or demotes the last admin', async () => {
    expect((await user('rita-new-password\n', 'passwd', 'rita', '--password-stdin')).status).toBe(0);
    const store = await UserStore.open(data);
    expect(await store.verify('rita', 'reader-password')).toBeUndefined();
    expect(await store.verify('rita', 'rita-new-password')).toMatchObject({ role: 'reader' });
    const demote = await user('', 'role', 'alice', 'reader');
    expect(demote.status).toBe(1);
    expect(demote.stderr).toMatch(/last admin/);
    expect((await user('', 'rm', 'alice')).stderr).toMatch(/last admin and cannot be removed/);
    expect((await user('', 'role', 'rita', 'admin')).stdout).toBe('rita is now admin\n');
    expect((await user('', 'role', 'alice', 'reader')).status).toBe(0);
    expect((await user('', 'rm', 'alice')).stdout).toBe('removed alice\n');
    // a server that has the store open sees the change
    await expect.poll(() => store.role('alice'), { timeout: 10_000 }).toBeUndefined();
    expect(await store.role('rita')).toBe('admin');
  });
});
