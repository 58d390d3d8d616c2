/**
 * Syslog framing of audit messages. RFC 5424 message, as PS3.15 A.5 and IHE ITI-20 ask:
 *
 *   <85>1 2026-12-06T03:20:56.123Z pacs-host open-pacs 4242 IHE+RFC-3881 - BOM<AuditMessage ...>
 *
 * PRI 85 = facility 10 (security/authorization) * 8 + severity 5 (notice); no structured
 * data; MSG is the XML in UTF-8 behind a byte order mark (RFC 5424 MSG-UTF8). Over TLS each
 * message is framed by octet counting (RFC 5425 4.3: "LENGTH SP MSG"); over UDP one
 * message is one datagram (RFC 5426).
 */
import { hostname } from 'node:os';

const PRI = 10 * 8 + 5;
export const APP_NAME = 'open-pacs';
export const MSG_ID = 'IHE+RFC-3881';
const BOM = '\uFEFF';

/** RFC 5424 HOSTNAME / APP-NAME: printable US-ASCII without spaces, bounded; "-" when nothing is left. */
function header(value: string, max: number): string {
  const v = value.replace(/[^\x21-\x7E]/g, '').slice(0, max);
  return v.length ? v : '-';
}

export interface SyslogHeader {
  time: Date;
  host?: string;
  procId?: string | number;
}

/** One RFC 5424 message carrying `xml`, as bytes. */
export function syslogMessage(xml: string, h: SyslogHeader): Buffer {
  const head = `<${PRI}>1 ${h.time.toISOString()} ${header(h.host ?? hostname(), 255)} ${APP_NAME} ${header(String(h.procId ?? process.pid), 128)} ${MSG_ID} - `;
  return Buffer.from(head + BOM + xml, 'utf8');
}

/** RFC 5425 octet-counting frame: the message's length in bytes, a space, the message. */
export function octetCounted(message: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${message.length} `, 'ascii'), message]);
}
