/**
 * The three code checks of `npm test` (scripts/test.sh) each fail on a violation planted in
 * test/lint/fixtures, which the real runs leave out (eslint.config.js ignores, .prettierignore,
 * the cruiser's exclude). Each check runs here as its npm script runs it, by the same binary
 * and the project's own configuration, so a check that stopped checking fails here.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/peers.js';

const FIXTURES = join(REPO_ROOT, 'test/lint/fixtures');

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

function run(tool: 'eslint' | 'prettier' | 'depcruise', args: string[], cwd = REPO_ROOT): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(join(REPO_ROOT, 'node_modules/.bin', tool), args, { cwd, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('eslint', () => {
  it('reports a floating promise and a promise-returning listener, type-aware', async () => {
    // --no-ignore: the configuration ignores the fixtures so that `npm run lint` passes.
    const r = await run('eslint', ['--no-ignore', '--format', 'json', 'test/lint/fixtures/eslint']);
    expect(r.code, r.stderr).toBe(1);
    const found = (JSON.parse(r.stdout) as Array<{ filePath: string; messages: Array<{ ruleId: string | null; line: number }> }>).flatMap((f) =>
      f.messages.map((m) => `${f.filePath.slice(FIXTURES.length + 1)}:${m.line} ${m.ruleId}`),
    );
    expect(found.sort()).toEqual([
      'eslint/floating-promise.ts:8 @typescript-eslint/no-floating-promises',
      'eslint/misused-promise.ts:6 @typescript-eslint/no-misused-promises',
    ]);
  });
});

describe('prettier', () => {
  // --ignore-path /dev/null: .prettierignore leaves the fixtures out of `npm run format:check`.
  it('rejects a mis-formatted file', async () => {
    const r = await run('prettier', ['--check', '--ignore-path', '/dev/null', 'test/lint/fixtures/prettier/misformatted.ts']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('test/lint/fixtures/prettier/misformatted.ts');
  });

  it('accepts a file in the project style (single quotes, spaces in braces)', async () => {
    const r = await run('prettier', ['--check', '--ignore-path', '/dev/null', 'test/lint/fixtures/prettier/formatted.ts']);
    expect(r.code, r.stderr).toBe(0);
  });
});

describe('dependency-cruiser', () => {
  it('names the rule each planted import breaks, and lets the allowed ones through', async () => {
    // The fixture is a tree of its own (src/, ui/src/, tsconfig.json) cruised with the project's rules.
    const r = await run('depcruise', ['src', 'ui', '--config', join(REPO_ROOT, '.dependency-cruiser.cjs')], join(FIXTURES, 'deps'));
    // Its exit code is the number of errors; each is a line "error RULE: FROM → TO".
    expect(r.code, r.stderr).toBe(4);
    const violations = [...r.stdout.matchAll(/^\s*error (\S+): (\S+) →/gm)].map(([, rule, from]) => `${from} ${rule}`);
    expect(violations.sort()).toEqual([
      'src/archive/uses-fastify.ts fastify-only-in-web',
      'src/dicom/imports-ui.ts server-knows-no-ui',
      'src/web/uses-pg.ts database-drivers-only-in-archive',
      'ui/src/imports-server-code.ts ui-imports-server-types-only',
    ]);
  });
});
