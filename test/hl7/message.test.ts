/** The HL7 v2 parser, escaping and the ACK builder, on messages written here by hand. */
import { describe, expect, it } from 'vitest';
import { buildAck } from '../../src/hl7/ack.js';
import { Hl7Error, Hl7ErrorCode } from '../../src/hl7/errors.js';
import { decodeHl7Bytes, DEFAULT_DELIMITERS, escapeValue, parseHl7, unescapeValue } from '../../src/hl7/message.js';

const ORM = [
  'MSH|^~\\&|RIS|HOSP|PACS|RAD|20250310120000||ORM^O01^ORM_O01|MSG00001|P|2.5.1',
  'PID|1||P123^^^HOSP&1.2.3&ISO^MR~ALT9^^^OTHER||DOE^JOHN^Q^JR^DR||19700102|M',
  'ORC|NW|PL1|FL1',
  // OBR-4 universal service ID, OBR-18 accession, OBR-19, OBR-20, OBR-24 modality.
  ['OBR', '1', 'PL1', 'FL1', 'CTHEAD^CT Head \\T\\ Neck', ...Array<string>(13).fill(''), 'ACC1', 'RP1', 'SPS1', '', '', '', 'CT'].join('|'),
].join('\r');

function thrown(f: () => unknown): Hl7Error {
  try {
    f();
  } catch (err) {
    if (err instanceof Hl7Error) return err;
    throw err;
  }
  throw new Error('did not throw');
}

describe('parseHl7', () => {
  it('reads segments, fields, components, subcomponents and repetitions', () => {
    const m = parseHl7(ORM);
    expect(m.segments.map((s) => s.name)).toEqual(['MSH', 'PID', 'ORC', 'OBR']);
    expect(m.type).toEqual({ code: 'ORM', event: 'O01', structure: 'ORM_O01' });
    expect(m.controlId).toBe('MSG00001');
    expect(m.msh.value(1)).toBe('|');
    expect(m.msh.value(2)).toBe('^~\\&');
    expect(m.msh.value(12)).toBe('2.5.1');
    const pid = m.segment('PID')!;
    expect(pid.value(3)).toBe('P123');
    expect(pid.value(3, 4, 1)).toBe('HOSP');
    expect(pid.value(3, 4, 2)).toBe('1.2.3');
    expect(pid.value(3, 4, 3)).toBe('ISO');
    expect(pid.repetitionCount(3)).toBe(2);
    expect(pid.value(3, 1, 1, 2)).toBe('ALT9');
    expect(pid.value(3, 4, 1, 2)).toBe('OTHER');
    expect(pid.value(5, 2)).toBe('JOHN');
    expect(pid.value(99)).toBe('');
    expect(m.segment('OBR')!.value(4, 2)).toBe('CT Head & Neck');
    expect(m.segment('OBR')!.value(24)).toBe('CT');
  });

  it('decodes every escape sequence, and drops formatting and unknown ones', () => {
    const d = DEFAULT_DELIMITERS;
    expect(unescapeValue('a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f', d)).toBe('a|b^c&d~e\\f');
    expect(unescapeValue('x\\X41424A\\y', d)).toBe('xABJy');
    expect(unescapeValue('line1\\.br\\line2', d)).toBe('line1\nline2');
    expect(unescapeValue('\\H\\bold\\N\\ \\Zlocal\\', d)).toBe('bold ');
    expect(unescapeValue('unterminated \\F', d)).toBe('unterminated \\F');
    expect(unescapeValue('bad hex \\XZZ\\.', d)).toBe('bad hex .');
    // Escapes are decoded after splitting: an escaped delimiter stays inside its component.
    const m = parseHl7('MSH|^~\\&|A|B|C|D|||ADT^A08|1|P|2.5\rPID|||ID\\S\\1^X\\F\\Y\\R\\Z');
    expect(m.segment('PID')!.field(3)).toEqual([[['ID^1'], ['X|Y~Z']]]);
  });

  it('round-trips escapeValue through unescapeValue', () => {
    const s = 'a|b^c&d~e\\f\rg\nh';
    expect(escapeValue(s)).toBe('a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\\X0D\\g\\X0A\\h');
    expect(unescapeValue(escapeValue(s), DEFAULT_DELIMITERS)).toBe(s);
  });

  it('uses the delimiters MSH-1 and MSH-2 declare', () => {
    const m = parseHl7('MSH#*$!@#A#B#C#D#20250101##ADT*A08#7#P#2.3\rPID###P9*X*Y*H1@H2$R2$R3!F!x###F');
    expect(m.delimiters).toEqual({ field: '#', component: '*', repetition: '$', escape: '!', subcomponent: '@' });
    expect(m.type.event).toBe('A08');
    const pid = m.segment('PID')!;
    expect(pid.value(3)).toBe('P9');
    expect(pid.value(3, 4, 2)).toBe('H2');
    expect(pid.repetitionCount(3)).toBe(3);
    expect(pid.value(3, 1, 1, 3)).toBe('R3#x');
    expect(pid.value(6)).toBe('F');
    // MSH-2 with the v2.7 truncation character is taken.
    expect(parseHl7('MSH|^~\\&#|A|B|C|D|||ADT^A08|1|P|2.7').msh.value(10)).toBe('1');
  });

  it('takes LF and CR LF as segment ends', () => {
    const m = parseHl7(ORM.replaceAll('\r', '\r\n') + '\r\n');
    expect(m.segments.map((s) => s.name)).toEqual(['MSH', 'PID', 'ORC', 'OBR']);
    expect(parseHl7(ORM.replaceAll('\r', '\n')).segment('OBR')!.value(18)).toBe('ACC1');
  });

  it.each([
    ['no MSH', 'PID|1||X', 'MSH', undefined, /must begin with an MSH/],
    ['a letter as field separator', 'MSHX^~\\&XAXB', 'MSH', 1, /letter or digit/],
    ['a control character as field separator', 'MSH\x01^~\\&\x01A', 'MSH', 1, /control character/],
    ['three encoding characters', 'MSH|^~\\|A|B', 'MSH', 2, /must be 4/],
    ['six encoding characters', 'MSH|^~\\&#%|A|B', 'MSH', 2, /must be 4/],
    ['a repeated delimiter', 'MSH|^^\\&|A|B', 'MSH', 2, /used twice/],
    ['the field separator among the encoding characters', 'MSH|^|\\&|A|B', 'MSH', 2, /must be 4|used twice/],
    ['a digit as encoding character', 'MSH|^~1&|A|B', 'MSH', 2, /letter or digit/],
    ['an empty message', '', 'MSH', undefined, /must begin with an MSH/],
  ])('refuses %s, naming the field', (_name, text, segment, field, message) => {
    const e = thrown(() => parseHl7(text));
    expect(e.reject).toBe(true);
    expect(e.location.segment).toBe(segment);
    expect(e.location.field).toBe(field);
    expect(e.message).toMatch(message);
  });

  it('refuses a bad segment ID and a second MSH, naming the segment', () => {
    const bad = thrown(() => parseHl7('MSH|^~\\&|A|B|C|D|||ADT^A08|1|P|2.5\rpid|1'));
    expect(bad.code).toBe(Hl7ErrorCode.SegmentSequenceError);
    expect(bad.message).toMatch(/segment 2 has no valid segment ID/);
    const glued = thrown(() => parseHl7('MSH|^~\\&|A|B|C|D|||ADT^A08|1|P|2.5\rPIDX|1'));
    expect(glued.location).toEqual({ segment: 'PID', sequence: 1 });
    const batch = thrown(() => parseHl7('MSH|^~\\&|A\rMSH|^~\\&|B'));
    expect(batch.location).toEqual({ segment: 'MSH', sequence: 2 });
  });

  it('bounds huge input: characters, segments and fields', () => {
    const head = 'MSH|^~\\&|A|B|C|D|||ADT^A08|1|P|2.5\r';
    const long = head + 'NTE|' + 'x'.repeat(2 * 1024 * 1024);
    expect(thrown(() => parseHl7(long)).message).toMatch(/longer than 1048576 characters/);
    expect(thrown(() => parseHl7(head + 'NTE|1\r'.repeat(20_000))).message).toMatch(/more than 10000 segments/);
    expect(thrown(() => parseHl7(head + 'NTE' + '|'.repeat(200_000))).message).toMatch(/more than 100000 fields/);
    // Within the limits, a field of 150,000 repetitions still parses (split on demand).
    const m = parseHl7(head + 'NTE|' + '~'.repeat(150_000));
    expect(m.segment('NTE')!.repetitionCount(1)).toBe(150_001);
    // A message of many escape characters is linear: 500,000 of them decode to nothing.
    expect(
      parseHl7(head + 'NTE|' + '\\'.repeat(500_000))
        .segment('NTE')!
        .value(1),
    ).toBe('');
  });
});

describe('decodeHl7Bytes', () => {
  it('reads UTF-8 by default and ISO 8859-1 when MSH-18 says 8859/1', () => {
    const utf8 = Buffer.from('MSH|^~\\&|A|B|C|D|||ADT^A08|1|P|2.5|||||UNICODE UTF-8\rPID|||1||MÜLLER', 'utf8');
    expect(decodeHl7Bytes(utf8)).toMatchObject({ encoding: 'utf8', text: expect.stringContaining('MÜLLER') });
    const latin = Buffer.from('MSH|^~\\&|A|B|C|D|||ADT^A08|1|P|2.5|||||8859/1\rPID|||1||MÜLLER', 'latin1');
    expect(decodeHl7Bytes(latin)).toMatchObject({ encoding: 'latin1', text: expect.stringContaining('MÜLLER') });
    // Not UTF-8, no MSH-18: read as ISO 8859-1 rather than refused.
    expect(decodeHl7Bytes(Buffer.from('MSH|^~\\&|A\rPID|||M\xdcLLER', 'latin1')).text).toContain('MÜLLER');
  });
});

describe('buildAck', () => {
  it('answers AA with the control ID and the sender as receiver', () => {
    const ack = buildAck(parseHl7(ORM), 'AA', { applicationName: 'PACS', now: new Date(Date.UTC(2025, 2, 10, 12, 0, 1)), text: 'scheduled SPS1' });
    const m = parseHl7(ack);
    expect(m.type).toEqual({ code: 'ACK', event: 'O01', structure: 'ACK' });
    expect(m.msh.value(3)).toBe('PACS');
    expect(m.msh.value(4)).toBe('RAD');
    expect(m.msh.value(5)).toBe('RIS');
    expect(m.msh.value(6)).toBe('HOSP');
    expect(m.msh.value(7)).toBe('20250310120001+0000');
    expect(m.msh.value(12)).toBe('2.5.1');
    expect(m.segment('MSA')!.value(1)).toBe('AA');
    expect(m.segment('MSA')!.value(2)).toBe('MSG00001');
    expect(m.segment('MSA')!.value(3)).toBe('scheduled SPS1');
    expect(m.segment('ERR')).toBeUndefined();
  });

  it('answers an error with ERR: location, code, severity and text, every value escaped', () => {
    const error = new Hl7Error(Hl7ErrorCode.RequiredFieldMissing, { segment: 'PID', sequence: 1, field: 5 }, 'name | is ^ required');
    const m = parseHl7(buildAck(parseHl7(ORM), 'AE', { applicationName: 'PACS', error }));
    expect(m.segment('MSA')!.value(1)).toBe('AE');
    const err = m.segment('ERR')!;
    expect(err.field(1)).toEqual([[['PID'], ['1'], ['5'], ['101', 'Required field missing', 'HL70357']]]);
    expect(err.field(2)).toEqual([[['PID'], ['1'], ['5']]]);
    expect(err.field(3)).toEqual([[['101'], ['Required field missing'], ['HL70357']]]);
    expect(err.value(4)).toBe('E');
    expect(err.value(8)).toBe('PID-5: name | is ^ required');
  });

  it('answers a message whose MSH did not parse, with our own header', () => {
    const error = new Hl7Error(Hl7ErrorCode.DataTypeError, { segment: 'MSH', field: 2 }, 'bad', true);
    const m = parseHl7(buildAck(undefined, 'AR', { applicationName: 'PACS', error }));
    expect(m.msh.value(3)).toBe('PACS');
    expect(m.segment('MSA')!.value(1)).toBe('AR');
    expect(m.segment('MSA')!.value(2)).toBe('');
    expect(m.segment('ERR')!.field(2)).toEqual([[['MSH'], ['1'], ['2']]]);
  });
});
