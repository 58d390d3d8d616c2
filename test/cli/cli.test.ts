import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizeArgv, parseAeTitle, parsePort } from '../../src/cli/options.js';
import { REPO_ROOT } from '../support/peers.js';

const pacs = (...args: string[]) => spawnSync(process.execPath, [join(REPO_ROOT, 'bin/pacs.js'), ...args], { encoding: 'utf8', timeout: 60_000 });

describe('CLI options', () => {
  it('validates AE titles with a message saying why', () => {
    expect(parseAeTitle('  PACS ')).toBe('PACS');
    expect(() => parseAeTitle('')).toThrow(/1 to 16/);
    expect(() => parseAeTitle('A'.repeat(17))).toThrow(/1 to 16 characters, got 17/);
    expect(() => parseAeTitle('MY PACS')).toThrow(/spaces/);
    expect(() => parseAeTitle('A\\B')).toThrow(/backslash/);
    expect(() => parseAeTitle('A\tB')).toThrow(/control/);
    expect(() => parseAeTitle('ÄRZTE')).toThrow(/repertoire/);
  });

  it('validates ports', () => {
    expect(parsePort('104')).toBe(104);
    for (const bad of ['0', '65536', 'abc', '1.5']) expect(() => parsePort(bad)).toThrow(/1 to 65535/);
  });

  it("accepts DCMTK's single-dash -aet/-aec", () => {
    expect(normalizeArgv(['node', 'pacs', 'echo', '-aet', 'ME', '-aec', 'YOU', '-j'])).toEqual(['node', 'pacs', 'echo', '--aet', 'ME', '--aec', 'YOU', '-j']);
  });

  it('exits non-zero naming the bad field, and on an unreachable peer', () => {
    const badAe = pacs('echo', '--aec', 'BAD AE');
    expect(badAe.status).not.toBe(0);
    expect(badAe.stderr).toMatch(/--aec.*spaces/);
    const refused = pacs('echo', '127.0.0.1', '1');
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/cannot connect to 127\.0\.0\.1:1/);
    const noFiles = pacs('store', '127.0.0.1', '1', join(REPO_ROOT, 'README.md'));
    expect(noFiles.status).toBe(1);
    expect(noFiles.stderr).toMatch(/skipped .*README\.md: not a DICOM Part 10 file/);
  });
});
