/**
 * Validation of audit messages against the DICOM audit message schema of PS3.15 A.5.1
 * (test/fixtures/atna/: the standard's RELAX NG compact text and its XML form) with
 * xmllint --relaxng (Debian libxml2-utils).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './peers.js';

export const AUDIT_SCHEMA_RNG = join(REPO_ROOT, 'test/fixtures/atna/dicom-audit-message.rng');

/** xmllint's verdict on one document: `valid`, and its messages when not. */
export function validateAuditMessage(xml: string): Promise<{ valid: boolean; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('xmllint', ['--noout', '--relaxng', AUDIT_SCHEMA_RNG, '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ valid: code === 0, output }));
    child.stdin.end(xml);
  });
}
