// Encoder and decoder of the seven PDUs (PS3.8 9.3) and the user information sub-items
// (PS3.7 Annex D). Decoding validates lengths, item types and values and throws only
// PduDecodeError, whatever the input.
import { PduDecodeError, PduEncodeError } from './errors.js';
import { AbortReason } from './reasons.js';
import {
  ItemType,
  PduTypeCode,
  emptyUserInformation,
  type Abort,
  type AssociateAc,
  type AssociateRj,
  type AssociateRq,
  type PDataTf,
  type Pdu,
  type Pdv,
  type PresentationContextAc,
  type PresentationContextResultCode,
  type PresentationContextRq,
  type UserInformation,
} from './pdu.js';

export const PDU_HEADER_LENGTH = 6;
/** PDU header (6) + PDV item length (4) + context id (1) + message control header (1). */
export const PDATA_HEADER_LENGTH = 12;

const PDU_NAMES: Record<number, Pdu['type']> = {
  0x01: 'A-ASSOCIATE-RQ',
  0x02: 'A-ASSOCIATE-AC',
  0x03: 'A-ASSOCIATE-RJ',
  0x04: 'P-DATA-TF',
  0x05: 'A-RELEASE-RQ',
  0x06: 'A-RELEASE-RP',
  0x07: 'A-ABORT',
};

export function pduTypeName(code: number): Pdu['type'] | undefined {
  return PDU_NAMES[code];
}

const hex = (n: number) => `0x${n.toString(16).padStart(2, '0').toUpperCase()}`;
const invalid = (msg: string) => new PduDecodeError(msg, AbortReason.InvalidPduParameterValue);

// ---------------------------------------------------------------------------------------
// Decoding

/** Decode one whole PDU (header included). The buffer must hold exactly one PDU. */
export function decodePdu(buf: Buffer): Pdu {
  if (buf.length < PDU_HEADER_LENGTH) throw invalid(`PDU shorter than its 6-byte header (${buf.length} bytes)`);
  const length = buf.readUInt32BE(2);
  if (length !== buf.length - PDU_HEADER_LENGTH) {
    throw invalid(`PDU length field ${length} does not match the ${buf.length - PDU_HEADER_LENGTH} bytes that follow the header`);
  }
  return decodePduBody(buf[0], buf.subarray(PDU_HEADER_LENGTH));
}

/** Decode a PDU from its type code and the bytes after its 6-byte header. */
export function decodePduBody(typeCode: number, body: Buffer): Pdu {
  switch (typeCode) {
    case 0x01:
    case 0x02:
      return decodeAssociate(typeCode, body);
    case 0x03:
      return decodeAssociateRj(body);
    case 0x04:
      return decodePDataTf(body);
    case 0x05:
    case 0x06:
      if (body.length !== 4) throw invalid(`${PDU_NAMES[typeCode]} length must be 4, got ${body.length}`);
      return { type: typeCode === 0x05 ? 'A-RELEASE-RQ' : 'A-RELEASE-RP' };
    case 0x07:
      return decodeAbort(body);
    default:
      throw new PduDecodeError(`unrecognized PDU type ${hex(typeCode)}`, AbortReason.UnrecognizedPdu);
  }
}

function decodeAssociateRj(body: Buffer): AssociateRj {
  if (body.length !== 4) throw invalid(`A-ASSOCIATE-RJ length must be 4, got ${body.length}`);
  const result = body[1];
  const source = body[2];
  if (result !== 1 && result !== 2) throw invalid(`A-ASSOCIATE-RJ result ${result} is not 1 or 2`);
  if (source !== 1 && source !== 2 && source !== 3) throw invalid(`A-ASSOCIATE-RJ source ${source} is not 1, 2 or 3`);
  return { type: 'A-ASSOCIATE-RJ', result, source, reason: body[3] };
}

function decodeAbort(body: Buffer): Abort {
  if (body.length !== 4) throw invalid(`A-ABORT length must be 4, got ${body.length}`);
  const source = body[2];
  if (source !== 0 && source !== 1 && source !== 2) throw invalid(`A-ABORT source ${source} is not 0, 1 or 2`);
  return { type: 'A-ABORT', source, reason: body[3] };
}

/** A PDV item header: item length (4), presentation context id (1), message control header (1). */
export const PDV_HEADER_LENGTH = 6;

/**
 * The PDV item header at `pos` of a P-DATA-TF body, `left` bytes before the body's end
 * (PS3.8 9.3.5.1): PduDecodeError when the item does not fit. Reads min(6, left) bytes
 * at `pos`, none when left < 4. The whole-PDU decoder and the framer's stream both use it.
 */
export function decodePdvItemHeader(buf: Buffer, pos: number, left: number): { contextId: number; isCommand: boolean; isLast: boolean; dataLength: number } {
  if (left < 4) throw invalid(`P-DATA-TF: ${left} trailing bytes, too short for a PDV item length`);
  const itemLength = buf.readUInt32BE(pos);
  if (itemLength < 2) throw invalid(`P-DATA-TF: PDV item length ${itemLength} is less than 2`);
  if (itemLength > left - 4) throw invalid(`P-DATA-TF: PDV item length ${itemLength} exceeds the ${left - 4} bytes remaining in the PDU`);
  const control = buf[pos + 5];
  return { contextId: buf[pos + 4], isCommand: (control & 0x01) !== 0, isLast: (control & 0x02) !== 0, dataLength: itemLength - 2 };
}

function decodePDataTf(body: Buffer): PDataTf {
  const pdvs: Pdv[] = [];
  let pos = 0;
  while (pos < body.length) {
    const h = decodePdvItemHeader(body, pos, body.length - pos);
    const data = body.subarray(pos + PDV_HEADER_LENGTH, pos + PDV_HEADER_LENGTH + h.dataLength);
    pdvs.push({ contextId: h.contextId, isCommand: h.isCommand, isLast: h.isLast, data });
    pos += PDV_HEADER_LENGTH + h.dataLength;
  }
  if (pdvs.length === 0) throw invalid('P-DATA-TF without any PDV item');
  return { type: 'P-DATA-TF', pdvs };
}

/** Iterate items with a 1-byte type, 1 reserved byte and a 2-byte length. */
function* items(buf: Buffer, where: string): Generator<{ type: number; value: Buffer }> {
  let pos = 0;
  while (pos < buf.length) {
    if (buf.length - pos < 4) throw invalid(`${where}: ${buf.length - pos} trailing bytes, too short for an item header`);
    const type = buf[pos];
    const length = buf.readUInt16BE(pos + 2);
    if (length > buf.length - pos - 4) {
      throw invalid(`${where}: item ${hex(type)} length ${length} exceeds the ${buf.length - pos - 4} bytes remaining`);
    }
    yield { type, value: buf.subarray(pos + 4, pos + 4 + length) };
    pos += 4 + length;
  }
}

/** UIDs and names: ASCII; a trailing NUL or space padding is tolerated and removed. */
function uidString(value: Buffer): string {
  let end = value.length;
  while (end > 0 && (value[end - 1] === 0 || value[end - 1] === 0x20)) end--;
  return value.toString('latin1', 0, end);
}

function aeTitle(value: Buffer): string {
  return value.toString('latin1').replace(/\0/g, ' ').trim();
}

function decodeAssociate(typeCode: 0x01 | 0x02, body: Buffer): AssociateRq | AssociateAc {
  const isRq = typeCode === 0x01;
  const name = isRq ? 'A-ASSOCIATE-RQ' : 'A-ASSOCIATE-AC';
  if (body.length < 68) throw invalid(`${name} shorter than its 68-byte fixed part (${body.length} bytes)`);
  const protocolVersion = body.readUInt16BE(0);
  const calledAeTitle = aeTitle(body.subarray(4, 20));
  const callingAeTitle = aeTitle(body.subarray(20, 36));
  let applicationContextName: string | undefined;
  let userInformation: UserInformation | undefined;
  const rqContexts: PresentationContextRq[] = [];
  const acContexts: PresentationContextAc[] = [];
  const seenIds = new Set<number>();
  for (const item of items(body.subarray(68), name)) {
    switch (item.type) {
      case ItemType.ApplicationContext:
        if (applicationContextName !== undefined)
          throw new PduDecodeError(`${name}: more than one application context item`, AbortReason.UnexpectedPduParameter);
        applicationContextName = uidString(item.value);
        if (applicationContextName === '') throw invalid(`${name}: empty application context name`);
        break;
      case ItemType.PresentationContextRq:
      case ItemType.PresentationContextAc: {
        if ((item.type === ItemType.PresentationContextRq) !== isRq) {
          throw new PduDecodeError(`${name}: presentation context item type ${hex(item.type)} does not belong in this PDU`, AbortReason.UnexpectedPduParameter);
        }
        const pc = isRq ? decodePresentationContextRq(item.value) : decodePresentationContextAc(item.value);
        if (seenIds.has(pc.id)) throw invalid(`${name}: presentation context id ${pc.id} appears twice`);
        seenIds.add(pc.id);
        if (isRq) rqContexts.push(pc as PresentationContextRq);
        else acContexts.push(pc as PresentationContextAc);
        break;
      }
      case ItemType.UserInformation:
        if (userInformation !== undefined) throw new PduDecodeError(`${name}: more than one user information item`, AbortReason.UnexpectedPduParameter);
        userInformation = decodeUserInformation(item.value, isRq);
        break;
      default:
        throw new PduDecodeError(`${name}: unrecognized item type ${hex(item.type)}`, AbortReason.UnrecognizedPduParameter);
    }
  }
  if (applicationContextName === undefined) throw invalid(`${name}: no application context item`);
  if (seenIds.size === 0) throw invalid(`${name}: no presentation context item`);
  if (userInformation === undefined) throw invalid(`${name}: no user information item`);
  const common = { protocolVersion, calledAeTitle, callingAeTitle, applicationContextName, userInformation };
  return isRq
    ? { type: 'A-ASSOCIATE-RQ', ...common, presentationContexts: rqContexts }
    : { type: 'A-ASSOCIATE-AC', ...common, presentationContexts: acContexts };
}

function decodePresentationContextRq(value: Buffer): PresentationContextRq {
  if (value.length < 4) throw invalid(`presentation context item shorter than 4 bytes`);
  const id = value[0];
  let abstractSyntax: string | undefined;
  const transferSyntaxes: string[] = [];
  for (const sub of items(value.subarray(4), `presentation context ${id}`)) {
    if (sub.type === ItemType.AbstractSyntax) {
      if (abstractSyntax !== undefined)
        throw new PduDecodeError(`presentation context ${id}: more than one abstract syntax`, AbortReason.UnexpectedPduParameter);
      abstractSyntax = uidString(sub.value);
      if (abstractSyntax === '') throw invalid(`presentation context ${id}: empty abstract syntax name`);
    } else if (sub.type === ItemType.TransferSyntax) {
      const ts = uidString(sub.value);
      if (ts === '') throw invalid(`presentation context ${id}: empty transfer syntax name`);
      transferSyntaxes.push(ts);
    } else {
      throw new PduDecodeError(`presentation context ${id}: unrecognized sub-item type ${hex(sub.type)}`, AbortReason.UnrecognizedPduParameter);
    }
  }
  if (abstractSyntax === undefined) throw invalid(`presentation context ${id}: no abstract syntax`);
  if (transferSyntaxes.length === 0) throw invalid(`presentation context ${id}: no transfer syntax`);
  return { id, abstractSyntax, transferSyntaxes };
}

function decodePresentationContextAc(value: Buffer): PresentationContextAc {
  if (value.length < 4) throw invalid(`presentation context item shorter than 4 bytes`);
  const id = value[0];
  const result = value[2];
  if (result > 4) throw invalid(`presentation context ${id}: result/reason ${result} is not 0-4`);
  let transferSyntax: string | undefined;
  for (const sub of items(value.subarray(4), `presentation context ${id}`)) {
    if (sub.type !== ItemType.TransferSyntax) {
      throw new PduDecodeError(`presentation context ${id}: unexpected sub-item type ${hex(sub.type)} in A-ASSOCIATE-AC`, AbortReason.UnrecognizedPduParameter);
    }
    if (transferSyntax !== undefined) throw new PduDecodeError(`presentation context ${id}: more than one transfer syntax`, AbortReason.UnexpectedPduParameter);
    transferSyntax = uidString(sub.value);
  }
  if (result === 0 && !transferSyntax) throw invalid(`presentation context ${id}: accepted without a transfer syntax`);
  return { id, result: result as PresentationContextResultCode, transferSyntax: transferSyntax ?? '' };
}

function decodeUserInformation(value: Buffer, isRq: boolean): UserInformation {
  const ui = emptyUserInformation();
  const once = (present: boolean, what: string) => {
    if (present) throw new PduDecodeError(`user information: more than one ${what} sub-item`, AbortReason.UnexpectedPduParameter);
  };
  const onlyIn = (rq: boolean, what: string) => {
    if (rq !== isRq)
      throw new PduDecodeError(
        `user information: ${what} sub-item not allowed in ${isRq ? 'A-ASSOCIATE-RQ' : 'A-ASSOCIATE-AC'}`,
        AbortReason.UnexpectedPduParameter,
      );
  };
  for (const sub of items(value, 'user information')) {
    const v = sub.value;
    switch (sub.type) {
      case ItemType.MaximumLength:
        once(ui.maxPduLength !== undefined, 'maximum length');
        if (v.length !== 4) throw invalid(`maximum length sub-item length must be 4, got ${v.length}`);
        ui.maxPduLength = v.readUInt32BE(0);
        break;
      case ItemType.ImplementationClassUid:
        once(ui.implementationClassUid !== undefined, 'implementation class UID');
        ui.implementationClassUid = uidString(v);
        break;
      case ItemType.ImplementationVersionName:
        once(ui.implementationVersionName !== undefined, 'implementation version name');
        if (v.length > 16) throw invalid(`implementation version name longer than 16 bytes (${v.length})`);
        ui.implementationVersionName = uidString(v);
        break;
      case ItemType.AsynchronousOperationsWindow:
        once(ui.asyncOps !== undefined, 'asynchronous operations window');
        if (v.length !== 4) throw invalid(`asynchronous operations window sub-item length must be 4, got ${v.length}`);
        ui.asyncOps = { maxOperationsInvoked: v.readUInt16BE(0), maxOperationsPerformed: v.readUInt16BE(2) };
        break;
      case ItemType.RoleSelection: {
        const [uid, rest] = lengthPrefixed(v, 0, 'role selection SOP class UID');
        if (v.length - rest !== 2) throw invalid(`role selection sub-item: ${v.length - rest} bytes after the UID, expected 2`);
        const scu = v[rest];
        const scp = v[rest + 1];
        if (scu > 1 || scp > 1) throw invalid(`role selection for ${uid}: role values must be 0 or 1 (SCU ${scu}, SCP ${scp})`);
        ui.roleSelections.push({ sopClassUid: uid, scuRole: scu === 1, scpRole: scp === 1 });
        break;
      }
      case ItemType.SopClassExtendedNegotiation: {
        const [uid, rest] = lengthPrefixed(v, 0, 'extended negotiation SOP class UID');
        ui.extendedNegotiations.push({ sopClassUid: uid, serviceClassApplicationInformation: v.subarray(rest) });
        break;
      }
      case ItemType.SopClassCommonExtendedNegotiation: {
        onlyIn(true, 'SOP class common extended negotiation');
        const [sopClassUid, p1] = lengthPrefixed(v, 0, 'common extended negotiation SOP class UID');
        const [serviceClassUid, p2] = lengthPrefixed(v, p1, 'common extended negotiation service class UID');
        if (v.length - p2 < 2) throw invalid('common extended negotiation: missing related general SOP class identification length');
        const relLength = v.readUInt16BE(p2);
        if (relLength !== v.length - p2 - 2)
          throw invalid(
            `common extended negotiation: related general SOP class identification length ${relLength} does not match the ${v.length - p2 - 2} bytes remaining`,
          );
        const related: string[] = [];
        let p = p2 + 2;
        while (p < v.length) {
          const [uid, next] = lengthPrefixed(v, p, 'related general SOP class UID');
          related.push(uid);
          p = next;
        }
        ui.commonExtendedNegotiations.push({ sopClassUid, serviceClassUid, relatedGeneralSopClassUids: related });
        break;
      }
      case ItemType.UserIdentityRq: {
        onlyIn(true, 'user identity (0x58)');
        once(ui.userIdentity !== undefined, 'user identity');
        if (v.length < 2) throw invalid('user identity sub-item shorter than 2 bytes');
        const type = v[0];
        if (type < 1 || type > 5) throw invalid(`user identity type ${type} is not 1-5`);
        const [primary, p1] = lengthPrefixedBytes(v, 2, 'user identity primary field');
        const [secondary, p2] = lengthPrefixedBytes(v, p1, 'user identity secondary field');
        if (p2 !== v.length) throw invalid(`user identity sub-item: ${v.length - p2} unexpected trailing bytes`);
        ui.userIdentity = { type: type as 1 | 2 | 3 | 4 | 5, positiveResponseRequested: v[1] === 1, primaryField: primary, secondaryField: secondary };
        break;
      }
      case ItemType.UserIdentityAc: {
        onlyIn(false, 'user identity (0x59)');
        once(ui.userIdentityResponse !== undefined, 'user identity response');
        const [response, p] = lengthPrefixedBytes(v, 0, 'user identity server response');
        if (p !== v.length) throw invalid(`user identity response sub-item: ${v.length - p} unexpected trailing bytes`);
        ui.userIdentityResponse = response;
        break;
      }
      default:
        // Unknown user information sub-items are skipped (PS3.7 D.3.3).
        break;
    }
  }
  return ui;
}

function lengthPrefixedBytes(v: Buffer, pos: number, what: string): [Buffer, number] {
  if (v.length - pos < 2) throw invalid(`${what}: missing length`);
  const n = v.readUInt16BE(pos);
  if (n > v.length - pos - 2) throw invalid(`${what}: length ${n} exceeds the ${v.length - pos - 2} bytes remaining`);
  return [v.subarray(pos + 2, pos + 2 + n), pos + 2 + n];
}

function lengthPrefixed(v: Buffer, pos: number, what: string): [string, number] {
  const [bytes, next] = lengthPrefixedBytes(v, pos, what);
  return [uidString(bytes), next];
}

// ---------------------------------------------------------------------------------------
// Encoding

/** Strings are written as single bytes (latin1); only AE titles are checked (see encodeAeTitle). */
function ascii(s: string, _what: string): Buffer {
  return Buffer.from(s, 'latin1');
}

const AE_TITLE_CHARS = /^[\x20-\x5b\x5d-\x7e]*$/;

/** An AE title as PS3.5 allows it: up to 16 characters of the default repertoire, no backslash or control characters. */
export function isValidAeTitle(title: string): boolean {
  return title.length <= 16 && AE_TITLE_CHARS.test(title);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function withLength16(value: Buffer, what: string): Buffer {
  if (value.length > 0xffff) throw new PduEncodeError(`${what} longer than 65535 bytes`);
  return Buffer.concat([u16(value.length), value]);
}

function item(type: number, value: Buffer): Buffer {
  if (value.length > 0xffff) throw new PduEncodeError(`item ${hex(type)} longer than 65535 bytes`);
  const h = Buffer.alloc(4);
  h[0] = type;
  h.writeUInt16BE(value.length, 2);
  return Buffer.concat([h, value]);
}

function pdu(typeCode: number, body: Buffer): Buffer {
  const h = Buffer.alloc(PDU_HEADER_LENGTH);
  h[0] = typeCode;
  h.writeUInt32BE(body.length, 2);
  return Buffer.concat([h, body]);
}

/** AE title: 1-16 characters, space padded to 16 bytes. */
export function encodeAeTitle(title: string): Buffer {
  if (!isValidAeTitle(title)) throw new PduEncodeError(`invalid AE title (1-16 printable characters, no backslash): ${JSON.stringify(title)}`);
  const b = Buffer.from(title, 'latin1');
  const out = Buffer.alloc(16, 0x20);
  b.copy(out);
  return out;
}

function encodeUserInformation(ui: UserInformation): Buffer {
  const subs: Buffer[] = [];
  if (ui.maxPduLength !== undefined) {
    const v = Buffer.alloc(4);
    v.writeUInt32BE(ui.maxPduLength);
    subs.push(item(ItemType.MaximumLength, v));
  }
  if (ui.implementationClassUid !== undefined) subs.push(item(ItemType.ImplementationClassUid, ascii(ui.implementationClassUid, 'implementation class UID')));
  if (ui.asyncOps) {
    const v = Buffer.alloc(4);
    v.writeUInt16BE(ui.asyncOps.maxOperationsInvoked, 0);
    v.writeUInt16BE(ui.asyncOps.maxOperationsPerformed, 2);
    subs.push(item(ItemType.AsynchronousOperationsWindow, v));
  }
  for (const rs of ui.roleSelections) {
    subs.push(
      item(
        ItemType.RoleSelection,
        Buffer.concat([withLength16(ascii(rs.sopClassUid, 'SOP class UID'), 'UID'), Buffer.from([rs.scuRole ? 1 : 0, rs.scpRole ? 1 : 0])]),
      ),
    );
  }
  if (ui.implementationVersionName !== undefined) {
    const v = ascii(ui.implementationVersionName, 'implementation version name');
    if (v.length > 16) throw new PduEncodeError('implementation version name longer than 16 characters');
    subs.push(item(ItemType.ImplementationVersionName, v));
  }
  for (const en of ui.extendedNegotiations) {
    subs.push(
      item(
        ItemType.SopClassExtendedNegotiation,
        Buffer.concat([withLength16(ascii(en.sopClassUid, 'SOP class UID'), 'UID'), en.serviceClassApplicationInformation]),
      ),
    );
  }
  for (const cen of ui.commonExtendedNegotiations) {
    const related = Buffer.concat(cen.relatedGeneralSopClassUids.map((u) => withLength16(ascii(u, 'UID'), 'UID')));
    subs.push(
      item(
        ItemType.SopClassCommonExtendedNegotiation,
        Buffer.concat([
          withLength16(ascii(cen.sopClassUid, 'UID'), 'UID'),
          withLength16(ascii(cen.serviceClassUid, 'UID'), 'UID'),
          withLength16(related, 'related SOP classes'),
        ]),
      ),
    );
  }
  if (ui.userIdentity) {
    const id = ui.userIdentity;
    subs.push(
      item(
        ItemType.UserIdentityRq,
        Buffer.concat([
          Buffer.from([id.type, id.positiveResponseRequested ? 1 : 0]),
          withLength16(id.primaryField, 'primary field'),
          withLength16(id.secondaryField, 'secondary field'),
        ]),
      ),
    );
  }
  if (ui.userIdentityResponse) subs.push(item(ItemType.UserIdentityAc, withLength16(ui.userIdentityResponse, 'server response')));
  return item(ItemType.UserInformation, Buffer.concat(subs));
}

function encodeAssociate(p: AssociateRq | AssociateAc): Buffer {
  const fixed = Buffer.alloc(68);
  fixed.writeUInt16BE(p.protocolVersion, 0);
  encodeAeTitle(p.calledAeTitle).copy(fixed, 4);
  encodeAeTitle(p.callingAeTitle).copy(fixed, 20);
  const parts: Buffer[] = [fixed, item(ItemType.ApplicationContext, ascii(p.applicationContextName, 'application context name'))];
  if (p.type === 'A-ASSOCIATE-RQ') {
    for (const pc of p.presentationContexts) {
      const subs = [
        item(ItemType.AbstractSyntax, ascii(pc.abstractSyntax, 'abstract syntax')),
        ...pc.transferSyntaxes.map((ts) => item(ItemType.TransferSyntax, ascii(ts, 'transfer syntax'))),
      ];
      parts.push(item(ItemType.PresentationContextRq, Buffer.concat([Buffer.from([pc.id, 0, 0, 0]), ...subs])));
    }
  } else {
    for (const pc of p.presentationContexts) {
      parts.push(
        item(
          ItemType.PresentationContextAc,
          Buffer.concat([Buffer.from([pc.id, 0, pc.result, 0]), item(ItemType.TransferSyntax, ascii(pc.transferSyntax, 'transfer syntax'))]),
        ),
      );
    }
  }
  parts.push(encodeUserInformation(p.userInformation));
  return pdu(PduTypeCode[p.type], Buffer.concat(parts));
}

/** The 12 bytes in front of a single-PDV P-DATA-TF PDU carrying `dataLength` bytes. */
export function encodePDataTfHeader(contextId: number, isCommand: boolean, isLast: boolean, dataLength: number): Buffer {
  const h = Buffer.allocUnsafe(PDATA_HEADER_LENGTH);
  h[0] = 0x04;
  h[1] = 0;
  h.writeUInt32BE(dataLength + 6, 2);
  h.writeUInt32BE(dataLength + 2, 6);
  h[10] = contextId;
  h[11] = (isCommand ? 1 : 0) | (isLast ? 2 : 0);
  return h;
}

export function encodePdu(p: Pdu): Buffer {
  switch (p.type) {
    case 'A-ASSOCIATE-RQ':
    case 'A-ASSOCIATE-AC':
      return encodeAssociate(p);
    case 'A-ASSOCIATE-RJ':
      return pdu(0x03, Buffer.from([0, p.result, p.source, p.reason]));
    case 'P-DATA-TF': {
      const parts: Buffer[] = [];
      for (const pdv of p.pdvs) {
        const h = Buffer.alloc(6);
        h.writeUInt32BE(pdv.data.length + 2, 0);
        h[4] = pdv.contextId;
        h[5] = (pdv.isCommand ? 1 : 0) | (pdv.isLast ? 2 : 0);
        parts.push(h, pdv.data);
      }
      return pdu(0x04, Buffer.concat(parts));
    }
    case 'A-RELEASE-RQ':
      return pdu(0x05, Buffer.alloc(4));
    case 'A-RELEASE-RP':
      return pdu(0x06, Buffer.alloc(4));
    case 'A-ABORT':
      return pdu(0x07, Buffer.from([0, 0, p.source, p.reason]));
  }
}
