/**
 * HL7 v2 intake: one message in, its ACK out. The header is checked first (message type,
 * control ID, processing ID, version: AR when wrong), then the message is handed to the
 * orders (ORM^O01, OMI^O23 -> worklist) or the patient directory (ADT^A08, ADT^A40).
 * A content error answers AE with an ERR segment naming the segment and field; every
 * failure is answered, none is thrown.
 */
import type { WorklistStore } from '../archive/worklist-store.js';
import { buildAck, type AckCode } from '../hl7/ack.js';
import { Hl7Error, Hl7ErrorCode } from '../hl7/errors.js';
import { decodeHl7Bytes, parseHl7, type Hl7Message } from '../hl7/message.js';
import type { MllpFrame } from '../hl7/mllp.js';
import { applyOrders } from './hl7-orders.js';
import { mergePatientsFrom, updatePatientFrom, type PatientDirectory } from './hl7-patients.js';

export type { PatientDirectory, PatientKey, PatientUpdate } from './hl7-patients.js';

export interface Hl7IntakeLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface Hl7IntakeOptions {
  worklist: WorklistStore;
  patients: PatientDirectory;
  logger: Hl7IntakeLogger;
  /** MSH-3 of our ACKs when the message named no receiving application. Default PACS. */
  applicationName?: string;
}

const SUPPORTED: Record<string, string[]> = { ORM: ['O01'], OMI: ['O23'], ADT: ['A08', 'A40'] };
const PROCESSING_IDS = ['P', 'D', 'T'];

export interface Hl7Answer {
  code: AckCode;
  ack: string;
}

export class Hl7Intake {
  constructor(private readonly o: Hl7IntakeOptions) {}

  /** The ACK bytes for one MLLP frame (in the message's own encoding). */
  async handleFrame(frame: MllpFrame, peer?: { address: string }): Promise<Buffer> {
    if (frame.oversized) {
      const { text, encoding } = decodeHl7Bytes(frame.head);
      const error = new Hl7Error(Hl7ErrorCode.ApplicationInternalError, { segment: 'MSH' }, `the message (${frame.size} bytes) is over the size limit`, true);
      const ack = buildAck(headerOnly(text), 'AR', { applicationName: this.name, error });
      this.o.logger.warn({ peer: peer?.address, bytes: frame.size }, 'HL7 message over the size limit rejected');
      return Buffer.from(ack, encoding);
    }
    const { text, encoding } = decodeHl7Bytes(frame.bytes);
    const answer = await this.handleText(text, peer);
    return Buffer.from(answer.ack, encoding);
  }

  /** The ACK for one message's text. */
  async handleText(text: string, peer?: { address: string }): Promise<Hl7Answer> {
    let msg: Hl7Message | undefined;
    try {
      msg = parseHl7(text);
      checkHeader(msg);
      const done = await this.dispatch(msg);
      this.o.logger.info({ peer: peer?.address, type: typeText(msg), controlId: msg.controlId, result: done }, 'HL7 message accepted');
      return { code: 'AA', ack: buildAck(msg, 'AA', { applicationName: this.name, text: done }) };
    } catch (err) {
      const error =
        err instanceof Hl7Error ? err : new Hl7Error(Hl7ErrorCode.ApplicationInternalError, { segment: 'MSH' }, (err as Error).message || 'internal error');
      const code: AckCode = error.reject ? 'AR' : 'AE';
      const context = msg ?? headerOnly(text);
      this.o.logger.warn(
        { peer: peer?.address, type: context ? typeText(context) : undefined, controlId: context?.controlId, code, error: error.message },
        'HL7 message not accepted',
      );
      return { code, ack: buildAck(context, code, { applicationName: this.name, error }) };
    }
  }

  private get name(): string {
    return this.o.applicationName ?? 'PACS';
  }

  private async dispatch(msg: Hl7Message): Promise<string> {
    const { code, event } = msg.type;
    if (code === 'ORM' || code === 'OMI') {
      const r = await applyOrders(msg, this.o.worklist);
      const parts = [
        r.created.length && `scheduled ${r.created.join(', ')}`,
        r.updated.length && `updated ${r.updated.join(', ')}`,
        r.canceled.length && `canceled ${r.canceled.join(', ')}`,
      ].filter(Boolean);
      return parts.join('; ');
    }
    return event === 'A08' ? updatePatientFrom(msg, this.o.patients) : mergePatientsFrom(msg, this.o.patients);
  }
}

const typeText = (m: Hl7Message) => `${m.type.code}^${m.type.event}`;

/** The MSH segment alone, to address the ACK of a message that did not parse (undefined if even that fails). */
function headerOnly(text: string): Hl7Message | undefined {
  let end = text.length;
  for (const sep of ['\r', '\n']) {
    const at = text.indexOf(sep);
    if (at >= 0 && at < end) end = at;
  }
  try {
    return parseHl7(text.slice(0, Math.min(end, 4096)));
  } catch {
    return undefined;
  }
}

/** MSH-9 to MSH-12: what the message is, and whether we take it at all (AR otherwise). */
function checkHeader(msg: Hl7Message): void {
  const msh = msg.msh;
  const at = (field: number, component?: number) => ({ segment: 'MSH', field, ...(component ? { component } : {}) });
  const { code, event } = msg.type;
  if (!code) throw new Hl7Error(Hl7ErrorCode.RequiredFieldMissing, at(9), 'message type is required', true);
  if (!msg.controlId) throw new Hl7Error(Hl7ErrorCode.RequiredFieldMissing, at(10), 'message control ID is required', true);
  const processing = msh.value(11);
  if (!PROCESSING_IDS.includes(processing)) {
    throw new Hl7Error(Hl7ErrorCode.UnsupportedProcessingId, at(11), `processing ID "${processing}" is not P, D or T`, true);
  }
  const version = msh.value(12);
  if (!version.startsWith('2.')) throw new Hl7Error(Hl7ErrorCode.UnsupportedVersionId, at(12), `version "${version}" is not an HL7 v2 version`, true);
  const events = SUPPORTED[code];
  if (!events) {
    throw new Hl7Error(Hl7ErrorCode.UnsupportedMessageType, at(9, 1), `message type "${code}" is not taken (ORM^O01, OMI^O23, ADT^A08, ADT^A40)`, true);
  }
  if (!events.includes(event)) {
    throw new Hl7Error(Hl7ErrorCode.UnsupportedEventCode, at(9, 2), `event "${code}^${event}" is not taken (ORM^O01, OMI^O23, ADT^A08, ADT^A40)`, true);
  }
}
