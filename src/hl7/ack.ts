/**
 * The acknowledgement (original mode, HL7 v2.5.1 2.9.2): MSH, MSA with AA (accepted), AE
 * (application error) or AR (rejected), and for an error an ERR segment giving the location
 * (ERR-2, and the v2.3 form in ERR-1 for older senders), the HL7 error code (ERR-3, table
 * 0357), the severity (ERR-4) and the text (ERR-8, also in MSA-3). Always written with the
 * standard delimiters |^~\&, every value escaped.
 */
import { randomBytes } from 'node:crypto';
import { hl7ErrorText, type Hl7Error } from './errors.js';
import { DEFAULT_DELIMITERS, escapeValue, type Hl7Message, type Segment } from './message.js';

export type AckCode = 'AA' | 'AE' | 'AR';

export interface AckOptions {
  /** Our application name in MSH-3 when the message did not address one (MSH-5). */
  applicationName: string;
  now?: Date;
}

const e = (s: string) => escapeValue(s, DEFAULT_DELIMITERS);
const field = (components: readonly string[]) => trimEmpty(components.map(e)).join('^');
function trimEmpty(parts: string[]): string[] {
  let n = parts.length;
  while (n > 0 && parts[n - 1] === '') n--;
  return parts.slice(0, n);
}

/** An HD field (application, facility) of the incoming MSH, re-encoded with our delimiters. */
function hd(msh: Segment | undefined, n: number): string {
  const rep = msh?.field(n)[0];
  if (!rep) return '';
  return trimEmpty(rep.map((c) => trimEmpty(c.map(e)).join('&'))).join('^');
}

function timestamp(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}+0000`;
}

/**
 * The ACK for `message` (undefined when not even its MSH could be read). `error` gives the
 * ERR segment; `text` goes in MSA-3 on success.
 */
export function buildAck(message: Hl7Message | undefined, code: AckCode, o: AckOptions & { error?: Hl7Error; text?: string }): string {
  const msh = message?.msh;
  const event = msh?.value(9, 2) ?? '';
  const sending = hd(msh, 5) || e(o.applicationName);
  const processingId = msh?.value(11) || 'P';
  const version = msh?.value(12) || '2.5.1';
  const header = [
    'MSH',
    '^~\\&',
    sending,
    hd(msh, 6),
    hd(msh, 3),
    hd(msh, 4),
    timestamp(o.now ?? new Date()),
    '',
    field(['ACK', event, 'ACK']),
    `ACK${randomBytes(8).toString('hex').toUpperCase()}`,
    e(processingId),
    e(version),
  ].join('|');
  const text = o.error ? o.error.message : (o.text ?? '');
  const segments = [header, trimEmpty(['MSA', code, e(message?.controlId ?? ''), e(text.slice(0, 80))]).join('|')];
  if (o.error) {
    const l = o.error.location;
    const codeText = hl7ErrorText(o.error.code);
    const seq = String(l.sequence ?? 1);
    const fieldNo = l.field === undefined ? '' : String(l.field);
    const eld = trimEmpty([e(l.segment), seq, fieldNo, [String(o.error.code), e(codeText), 'HL70357'].join('&')]).join('^');
    const erl = field([l.segment, seq, fieldNo, l.repetition === undefined ? '' : String(l.repetition), l.component === undefined ? '' : String(l.component)]);
    segments.push(['ERR', eld, erl, field([String(o.error.code), codeText, 'HL70357']), 'E', '', '', '', e(o.error.message)].join('|'));
  }
  return segments.join('\r') + '\r';
}
