/**
 * Query input that made the matcher's regular expressions backtrack (issue 15 item 2): each
 * case runs the real matcher in a child Node process, killed after 20 s. A linear matcher
 * decides each in milliseconds; the backtracking one took minutes (the 30-star key: the
 * regular expression `^.*.*...Z$` against 40 letters) or tens of seconds (the quadratic
 * trailing-run trims `/[\^ ]+$/` and `/=+$/` on 300,000 characters). The bound is not a
 * performance threshold: it tells "finishes" from "never finishes" on a loaded machine.
 */
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runDcmtk } from '../support/peers.js';

const KILL_AFTER_MS = 20_000;

/** Runs `body` (ES module code with `m` = src/dicom/matching.ts) in a child process; its stdout. */
async function isolated(body: string): Promise<{ out: string; finished: boolean; detail: string }> {
  const code = `const m = await import(${JSON.stringify(`${REPO_ROOT}/src/dicom/matching.ts`)});\n${body}`;
  const r = await runDcmtk(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: REPO_ROOT, timeoutMs: KILL_AFTER_MS });
  const finished = r.signal === null && r.code === 0;
  return {
    out: r.stdout.trim(),
    finished,
    detail: finished ? '' : `killed after ${KILL_AFTER_MS / 1000} s (signal ${r.signal}, code ${r.code}) ${r.stderr.slice(0, 500)}`,
  };
}

/** Compiles one key and matches it against one stored value list; prints the result. */
const matchOnce = (tag: number, vr: string, key: string, stored: string) => `
  const k = { tag: ${tag}, vr: '${vr}', matcher: m.compileMatcher(${tag}, '${vr}', [${key}]) };
  const target = { values: () => [${stored}], items: () => undefined };
  process.stdout.write(String(m.matchKey(k, target)));`;

describe('query input that made the matcher backtrack is decided at once', () => {
  it('InstitutionName key of 30 * then Z against 40 x A (the C-FIND freeze of issue 15 item 2)', async () => {
    const r = await isolated(matchOnce(0x00080080, 'LO', `'*'.repeat(30) + 'Z'`, `'A'.repeat(40)`));
    expect(r.finished, r.detail).toBe(true);
    expect(r.out).toBe('false');
  }, 60_000);

  it('person name key of 300,000 ^ then a letter (trailing-component trim)', async () => {
    const r = await isolated(matchOnce(0x00100010, 'PN', `'^'.repeat(300000) + 'x'`, `'Doe'`));
    expect(r.finished, r.detail).toBe(true);
    expect(r.out).toBe('false');
  }, 60_000);

  it('person name key of 300,000 = then a letter (trailing-group trim)', async () => {
    const r = await isolated(matchOnce(0x00100010, 'PN', `'='.repeat(300000) + 'x*'`, `'Doe'`));
    expect(r.finished, r.detail).toBe(true);
    expect(r.out).toBe('false');
  }, 60_000);

  it('a stored person name of 300,000 spaces then a letter, matched by a wildcard key', async () => {
    const r = await isolated(matchOnce(0x00100010, 'PN', `'D*'`, `'D' + ' '.repeat(300000) + 'x'`));
    expect(r.finished, r.detail).toBe(true);
    expect(r.out).toBe('true');
  }, 60_000);

  it('a stored DICOM JSON person name of 300,000 = then a letter (jsonTarget)', async () => {
    const r = await isolated(`
      const t = m.jsonTarget({ '00100010': { vr: 'PN', Value: [{ Alphabetic: 'D' + '='.repeat(300000) + 'x' }] } });
      process.stdout.write(String(t.values(0x00100010)[0].length));`);
    expect(r.finished, r.detail).toBe(true);
    expect(r.out).toBe('300002');
  }, 60_000);
});
