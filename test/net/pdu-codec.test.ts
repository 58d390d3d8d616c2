import { describe, expect, it } from 'vitest';
import { decodePdu, encodePDataTfHeader, encodePdu, PduDecodeError, type AssociateAc, type AssociateRq, type Pdu } from '../../src/net/index.js';

/** Hex with comments: everything after '#' on a line is ignored. */
function hex(text: string): Buffer {
  return Buffer.from(
    text
      .split('\n')
      .map((l) => l.replace(/#.*/, ''))
      .join('')
      .replace(/\s+/g, ''),
    'hex',
  );
}
const ascii = (s: string) => Buffer.from(s, 'latin1').toString('hex');

// A-ASSOCIATE-RQ as echoscu would send it (one presentation context), PS3.8 Table 9-11.
const ASSOCIATE_RQ = hex(`
  01 00 000000b0                  # PDU type 01 A-ASSOCIATE-RQ, reserved, PDU length 176
  0001 0000                       # protocol version 1, reserved
  ${ascii('ANY-SCP         ')}    # called AE title, 16 bytes space padded
  ${ascii('ECHOSCU         ')}    # calling AE title
  ${'00'.repeat(32)}              # reserved
  10 00 0015 ${ascii('1.2.840.10008.3.1.1.1')}  # application context item, length 21
  20 00 002e                      # presentation context item (RQ), length 46
    01 00 00 00                   #   context id 1, reserved x3
    30 00 0011 ${ascii('1.2.840.10008.1.1')}    # abstract syntax: Verification SOP Class
    40 00 0011 ${ascii('1.2.840.10008.1.2')}    # transfer syntax: Implicit VR Little Endian
  50 00 001d                      # user information item, length 29
    51 00 0004 00004000           #   maximum length received 16384
    52 00 0007 ${ascii('1.2.3.4')}  # implementation class UID
    55 00 0006 ${ascii('TEST_1')}   # implementation version name
`);

// P-DATA-TF with two PDVs, PS3.8 Table 9-22 and Annex E.
const P_DATA_TF = hex(`
  04 00 00000011                  # PDU type 04 P-DATA-TF, reserved, PDU length 17
  00000004 01 03 aabb             # PDV item length 4, context 1, header 03 = command + last, 2 data bytes
  00000005 03 00 010203           # PDV item length 5, context 3, header 00 = data, not last, 3 bytes
`);

const fullRq = (): AssociateRq => ({
  type: 'A-ASSOCIATE-RQ',
  protocolVersion: 1,
  calledAeTitle: 'PACS',
  callingAeTitle: 'MODALITY_1',
  applicationContextName: '1.2.840.10008.3.1.1.1',
  presentationContexts: [
    { id: 1, abstractSyntax: '1.2.840.10008.1.1', transferSyntaxes: ['1.2.840.10008.1.2'] },
    { id: 3, abstractSyntax: '1.2.840.10008.5.1.4.1.1.2', transferSyntaxes: ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2', '1.2.840.10008.1.2.4.50'] },
  ],
  userInformation: {
    maxPduLength: 65536,
    implementationClassUid: '1.2.3.4.5',
    implementationVersionName: 'OPENPACS_010',
    asyncOps: { maxOperationsInvoked: 5, maxOperationsPerformed: 1 },
    roleSelections: [{ sopClassUid: '1.2.840.10008.5.1.4.1.1.2', scuRole: false, scpRole: true }],
    extendedNegotiations: [{ sopClassUid: '1.2.840.10008.5.1.4.1.2.2.1', serviceClassApplicationInformation: Buffer.from([1, 1, 0]) }],
    commonExtendedNegotiations: [
      { sopClassUid: '1.2.840.10008.5.1.4.1.1.2.1', serviceClassUid: '1.2.840.10008.4.2', relatedGeneralSopClassUids: ['1.2.840.10008.5.1.4.1.1.2', '1.2.3'] },
    ],
    userIdentity: { type: 2, positiveResponseRequested: true, primaryField: Buffer.from('alice'), secondaryField: Buffer.from('secret') },
  },
});

const fullAc = (): AssociateAc => ({
  type: 'A-ASSOCIATE-AC',
  protocolVersion: 1,
  calledAeTitle: 'PACS',
  callingAeTitle: 'MODALITY_1',
  applicationContextName: '1.2.840.10008.3.1.1.1',
  presentationContexts: [
    { id: 1, result: 0, transferSyntax: '1.2.840.10008.1.2' },
    { id: 3, result: 4, transferSyntax: '' },
    { id: 5, result: 3, transferSyntax: '' },
  ],
  userInformation: {
    maxPduLength: 0,
    implementationClassUid: '1.2.3.4.6',
    implementationVersionName: 'X',
    asyncOps: { maxOperationsInvoked: 1, maxOperationsPerformed: 1 },
    roleSelections: [{ sopClassUid: '1.2.840.10008.5.1.4.1.1.2', scuRole: false, scpRole: true }],
    extendedNegotiations: [{ sopClassUid: '1.2.840.10008.5.1.4.1.2.2.1', serviceClassApplicationInformation: Buffer.from([1]) }],
    commonExtendedNegotiations: [],
    userIdentityResponse: Buffer.from('token'),
  },
});

describe('A-ASSOCIATE-RQ', () => {
  it('decodes the commented fixture', () => {
    const pdu = decodePdu(ASSOCIATE_RQ) as AssociateRq;
    expect(pdu).toEqual({
      type: 'A-ASSOCIATE-RQ',
      protocolVersion: 1,
      calledAeTitle: 'ANY-SCP',
      callingAeTitle: 'ECHOSCU',
      applicationContextName: '1.2.840.10008.3.1.1.1',
      presentationContexts: [{ id: 1, abstractSyntax: '1.2.840.10008.1.1', transferSyntaxes: ['1.2.840.10008.1.2'] }],
      userInformation: {
        maxPduLength: 16384,
        implementationClassUid: '1.2.3.4',
        implementationVersionName: 'TEST_1',
        roleSelections: [],
        extendedNegotiations: [],
        commonExtendedNegotiations: [],
      },
    });
  });
  it('encodes to the same bytes', () => {
    expect(encodePdu(decodePdu(ASSOCIATE_RQ)).equals(ASSOCIATE_RQ)).toBe(true);
  });
  it('round-trips every user information sub-item (0x51-0x58)', () => {
    const rq = fullRq();
    expect(decodePdu(encodePdu(rq))).toEqual(rq);
  });
  it('skips unknown user information sub-items', () => {
    const bytes = encodePdu(fullRq());
    // Append an unknown sub-item 0x7f (length 2) to the user information item (last item).
    const extra = Buffer.from([0x7f, 0, 0, 2, 0xde, 0xad]);
    const patched = Buffer.concat([bytes, extra]);
    patched.writeUInt32BE(patched.length - 6, 2);
    const uiStart = bytes.lastIndexOf(Buffer.from([0x50, 0x00]), bytes.length);
    // find the user information item header by walking the items
    let pos = 6 + 68;
    while (patched[pos] !== 0x50) pos += 4 + patched.readUInt16BE(pos + 2);
    patched.writeUInt16BE(patched.readUInt16BE(pos + 2) + extra.length, pos + 2);
    expect(uiStart).toBeGreaterThan(0);
    expect(decodePdu(patched)).toEqual(fullRq());
  });
  it('tolerates trailing NUL padding of UIDs and trims AE titles', () => {
    const rq = fullRq();
    rq.applicationContextName = '1.2.840.10008.3.1.1.1\0';
    rq.calledAeTitle = '  PACS';
    const d = decodePdu(encodePdu(rq)) as AssociateRq;
    expect(d.applicationContextName).toBe('1.2.840.10008.3.1.1.1');
    expect(d.calledAeTitle).toBe('PACS');
  });
  it.each([
    ['no application context', (b: Buffer) => removeItem(b, 0x10), /no application context/],
    ['no presentation context', (b: Buffer) => removeItem(removeItem(b, 0x20), 0x20), /no presentation context/],
    ['no user information', (b: Buffer) => removeItem(b, 0x50), /no user information/],
    ['unknown item type', (b: Buffer) => setByte(b, 6 + 68, 0x33), /unrecognized item type 0x33/],
    ['AC item in RQ', (b: Buffer) => setByte(b, firstItem(b, 0x20), 0x21), /does not belong/],
    ['item length too long', (b: Buffer) => setU16(b, 6 + 68 + 2, 0xfff0), /exceeds/],
    ['PDU length inconsistent', (b: Buffer) => setU32(b, 2, b.length), /does not match/],
    ['fixed part truncated', (b: Buffer) => fixLen(b.subarray(0, 40)), /68-byte fixed part/],
  ])('rejects %s with PduDecodeError', (_name, mutate, message) => {
    const bad = mutate(Buffer.from(encodePdu(fullRq())));
    expect(() => decodePdu(bad)).toThrow(PduDecodeError);
    expect(() => decodePdu(bad)).toThrow(message);
  });
  it('maps errors to A-ABORT reasons', () => {
    const err = catchErr(() => decodePdu(setByte(Buffer.from(encodePdu(fullRq())), 6 + 68, 0x33)));
    expect(err.abortReason).toBe(4);
    const err2 = catchErr(() => decodePdu(Buffer.from([0x09, 0, 0, 0, 0, 0])));
    expect(err2.abortReason).toBe(1);
    const err3 = catchErr(() => decodePdu(fixLen(Buffer.concat([encodePdu(fullRq()), Buffer.from([0x10, 0, 0, 1, 0x31])]))));
    expect(err3.abortReason).toBe(5); // second application context item
  });
});

describe('A-ASSOCIATE-AC', () => {
  it('round-trips results, role selection, extended negotiation and user identity response (0x59)', () => {
    const ac = fullAc();
    expect(decodePdu(encodePdu(ac))).toEqual(ac);
  });
  it('rejects an accepted context without transfer syntax', () => {
    const ac = fullAc();
    const bytes = Buffer.from(encodePdu(ac));
    const pos = firstItem(bytes, 0x21);
    bytes[pos + 4 + 2] = 0; // context 1 result stays 0
    const noTs = removeSub(bytes, pos);
    expect(() => decodePdu(noTs)).toThrow(/accepted without a transfer syntax/);
  });
  it('rejects a result/reason above 4', () => {
    const bytes = Buffer.from(encodePdu(fullAc()));
    bytes[firstItem(bytes, 0x21) + 6] = 9;
    expect(() => decodePdu(bytes)).toThrow(/result\/reason 9/);
  });
  it('rejects a user identity RQ sub-item (0x58) in an AC', () => {
    const ac = fullAc();
    ac.userInformation.userIdentity = { type: 1, positiveResponseRequested: false, primaryField: Buffer.from('a'), secondaryField: Buffer.alloc(0) };
    expect(() => decodePdu(encodePdu(ac))).toThrow(/not allowed in A-ASSOCIATE-AC/);
  });
});

describe('fixed-size PDUs', () => {
  const cases: Pdu[] = [
    { type: 'A-ASSOCIATE-RJ', result: 1, source: 1, reason: 7 },
    { type: 'A-ASSOCIATE-RJ', result: 2, source: 3, reason: 2 },
    { type: 'A-RELEASE-RQ' },
    { type: 'A-RELEASE-RP' },
    { type: 'A-ABORT', source: 2, reason: 6 },
    { type: 'A-ABORT', source: 0, reason: 0 },
  ];
  it.each(cases)('round-trips %o', (pdu) => {
    const bytes = encodePdu(pdu);
    expect(bytes.length).toBe(10);
    expect(decodePdu(bytes)).toEqual(pdu);
  });
  it('encodes A-ABORT exactly', () => {
    expect(encodePdu({ type: 'A-ABORT', source: 2, reason: 1 }).toString('hex')).toBe('07000000000400000201');
  });
  it('rejects wrong lengths and values', () => {
    expect(() => decodePdu(hex('05 00 00000005 0000000000'))).toThrow(/length must be 4/);
    expect(() => decodePdu(hex('03 00 00000004 00 03 01 01'))).toThrow(/result 3/);
    expect(() => decodePdu(hex('03 00 00000004 00 01 04 01'))).toThrow(/source 4/);
    expect(() => decodePdu(hex('07 00 00000004 00 00 05 00'))).toThrow(/source 5/);
  });
});

describe('P-DATA-TF', () => {
  it('decodes the commented fixture into PDVs that are views of the PDU', () => {
    const pdu = decodePdu(P_DATA_TF);
    expect(pdu.type).toBe('P-DATA-TF');
    if (pdu.type !== 'P-DATA-TF') return;
    expect(pdu.pdvs.map((p) => ({ ...p, data: p.data.toString('hex') }))).toEqual([
      { contextId: 1, isCommand: true, isLast: true, data: 'aabb' },
      { contextId: 3, isCommand: false, isLast: false, data: '010203' },
    ]);
    expect(pdu.pdvs[0].data.buffer).toBe(P_DATA_TF.buffer); // no copy
    expect(encodePdu(pdu).equals(P_DATA_TF)).toBe(true);
  });
  it('builds the single-PDV header', () => {
    const data = Buffer.from('hello');
    const bytes = Buffer.concat([encodePDataTfHeader(7, false, true, data.length), data]);
    expect(bytes.toString('hex')).toBe('04000000000b' + '00000007' + '07' + '02' + data.toString('hex'));
    expect(encodePdu({ type: 'P-DATA-TF', pdvs: [{ contextId: 7, isCommand: false, isLast: true, data }] }).equals(bytes)).toBe(true);
  });
  it('rejects bad PDV lengths and empty P-DATA', () => {
    expect(() => decodePdu(hex('04 00 00000000'))).toThrow(/without any PDV/);
    expect(() => decodePdu(hex('04 00 00000006 00000001 01 03'))).toThrow(/less than 2/);
    expect(() => decodePdu(hex('04 00 00000006 00000009 01 03'))).toThrow(/exceeds/);
    expect(() => decodePdu(hex('04 00 00000003 000000'))).toThrow(/too short/);
  });
});

function catchErr(fn: () => unknown): PduDecodeError {
  try {
    fn();
  } catch (e) {
    return e as PduDecodeError;
  }
  throw new Error('did not throw');
}
function fixLen(b: Buffer): Buffer {
  const c = Buffer.from(b);
  c.writeUInt32BE(c.length - 6, 2);
  return c;
}
function setByte(b: Buffer, pos: number, v: number): Buffer {
  b[pos] = v;
  return b;
}
function setU16(b: Buffer, pos: number, v: number): Buffer {
  b.writeUInt16BE(v, pos);
  return b;
}
function setU32(b: Buffer, pos: number, v: number): Buffer {
  b.writeUInt32BE(v, pos);
  return b;
}
function firstItem(b: Buffer, type: number): number {
  let pos = 6 + 68;
  while (pos < b.length) {
    if (b[pos] === type) return pos;
    pos += 4 + b.readUInt16BE(pos + 2);
  }
  throw new Error('no item');
}
function removeItem(b: Buffer, type: number): Buffer {
  const pos = firstItem(b, type);
  const len = 4 + b.readUInt16BE(pos + 2);
  return fixLen(Buffer.concat([b.subarray(0, pos), b.subarray(pos + len)]));
}
/** Remove the sub-items of the presentation context item at `pos`. */
function removeSub(b: Buffer, pos: number): Buffer {
  const len = b.readUInt16BE(pos + 2);
  const head = Buffer.from(b.subarray(pos, pos + 8));
  head.writeUInt16BE(4, 2);
  return fixLen(Buffer.concat([b.subarray(0, pos), head, b.subarray(pos + 4 + len)]));
}
