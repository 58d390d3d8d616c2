/**
 * The audit message builders without a network: the schema fixture is the one the
 * standard's text converts to, and it rejects what it should (so the rsyslog tests'
 * validation means something); hostile text stays well-formed XML.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applicationActivity, aeParticipant, userAuthentication } from '../../src/audit/messages.js';
import { syslogMessage, octetCounted } from '../../src/audit/syslog.js';
import { escapeXml, toXml } from '../../src/audit/xml-writer.js';
import { AUDIT_SCHEMA_RNG, validateAuditMessage } from '../support/audit-schema.js';
import { REPO_ROOT } from '../support/peers.js';
import { makeTempDirSync } from '../support/tmp.js';

const head = { time: new Date('2026-12-06T03:04:05.678Z'), outcome: '0' as const };
const source = { id: 'PACS' };

describe('the DICOM audit message schema (PS3.15 A.5.1)', () => {
  it('the RELAX NG file is the conversion of the standard compact text (test/fixtures/atna/README.md)', () => {
    const dir = makeTempDirSync();
    const rnc = join(REPO_ROOT, 'test/fixtures/atna/dicom-audit-message.rnc');
    const rewritten = join(dir, 'audit.rnc');
    execFileSync('sh', ['-c', `sed -E 's/##/#/g; s/\\{ *token *\\}/{ xsd:token }/g; s/^( *)token \\}/\\1xsd:token }/' "${rnc}" > "${rewritten}"`]);
    execFileSync('rnc2rng', [rewritten, join(dir, 'audit.rng')]);
    expect(readFileSync(join(dir, 'audit.rng'), 'utf8')).toBe(readFileSync(AUDIT_SCHEMA_RNG, 'utf8'));
  });

  it('accepts a built message and rejects one that breaks the schema', async () => {
    const xml = applicationActivity(head, source, 'start', aeParticipant('PACS', false));
    expect(await validateAuditMessage(xml)).toMatchObject({ valid: true });
    // An outcome the schema does not list, a code without its meaning, a missing AuditSourceIdentification.
    expect((await validateAuditMessage(xml.replace('EventOutcomeIndicator="0"', 'EventOutcomeIndicator="3"'))).valid).toBe(false);
    expect((await validateAuditMessage(xml.replace(' originalText="Application Start"', ''))).valid).toBe(false);
    expect((await validateAuditMessage(xml.replace(/<AuditSourceIdentification.*<\/AuditSourceIdentification>/, ''))).valid).toBe(false);
  });
});

describe('XML and syslog encoding', () => {
  it('escapes markup, quotes and line breaks, and replaces characters XML cannot carry', async () => {
    expect(escapeXml('a<b>&"c\'', true)).toBe('a&lt;b&gt;&amp;&quot;c&apos;');
    expect(escapeXml('x\u0001y\u0000z')).toBe('x\uFFFDy\uFFFDz');
    expect(escapeXml('line1\nline2\tx')).toBe('line1&#10;line2&#9;x');
    expect(toXml({ name: 'A', attrs: { b: 'q"\n', c: undefined }, text: '</A><!--' })).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><A b="q&quot;&#10;">&lt;/A&gt;&lt;!--</A>',
    );
    expect(() => toXml({ name: 'A B' })).toThrow('not an XML name');
    const hostile = userAuthentication(
      { ...head, outcome: '4', description: 'no\u0007pe\n</EventOutcomeDescription>' },
      source,
      'login',
      { userId: '"><x/>\u0000', requestor: true, address: '127.0.0.1' },
      { userId: 'PACS', requestor: false },
    );
    expect(await validateAuditMessage(hostile)).toMatchObject({ valid: true });
  });

  it('frames RFC 5424 with PRI 85, MSGID IHE+RFC-3881 and a BOM, octet-counted for TLS', () => {
    const m = syslogMessage('<AuditMessage/>', { time: head.time, host: 'pacs host', procId: 42 });
    expect(m.toString('utf8')).toBe('<85>1 2026-12-06T03:04:05.678Z pacshost open-pacs 42 IHE+RFC-3881 - \uFEFF<AuditMessage/>');
    const framed = octetCounted(Buffer.from('é', 'utf8'));
    expect(framed.toString('utf8')).toBe('2 é');
  });
});
