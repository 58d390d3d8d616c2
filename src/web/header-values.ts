/**
 * HTTP header values built by encoders, never by pasting text (issue 15 item 7): media
 * types with parameters (RFC 9110 5.6.6: a token, else a quoted-string), Content-Disposition
 * with a file name (RFC 6266 / RFC 8187), a Warning (RFC 7234 5.5, in the form PS3.18
 * 8.3.3.1 shows), and URL paths of UIDs. A value that no encoding can carry (a control
 * character, a line break) is refused with HeaderValueError, so it can never end a header
 * line or start another one.
 */

/** A value that cannot go into a header. */
export class HeaderValueError extends Error {
  override readonly name = 'HeaderValueError';
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** True for HTAB, SP and visible ASCII only (what a quoted-string may hold here). */
function printableAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 0x09 && (c < 0x20 || c > 0x7e)) return false;
  }
  return true;
}

/** A parameter value: as a token when it is one, else a quoted-string with `"` and `\` escaped. */
export function parameterValue(value: string): string {
  if (TOKEN.test(value)) return value;
  if (!printableAscii(value)) throw new HeaderValueError(`header parameter value ${JSON.stringify(value.slice(0, 80))} holds characters a header cannot carry`);
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/** `type/subtype; name=value; ...` with each value encoded by parameterValue(). */
export function mediaType(essence: string, params: Record<string, string | undefined> = {}): string {
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+\/[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(essence)) throw new HeaderValueError(`not a media type: ${JSON.stringify(essence)}`);
  let out = essence;
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    if (!TOKEN.test(name)) throw new HeaderValueError(`not a parameter name: ${JSON.stringify(name)}`);
    out += `; ${name}=${parameterValue(value)}`;
  }
  return out;
}

/**
 * `attachment; filename="..."; filename*=UTF-8''...`: an ASCII fallback (other characters,
 * quotes and backslashes as `_`) for old clients, and the exact name in RFC 8187 encoding.
 */
export function contentDisposition(filename: string, type: 'attachment' | 'inline' = 'attachment'): string {
  let fallback = '';
  for (const ch of filename) {
    const c = ch.codePointAt(0)!;
    fallback += c >= 0x20 && c <= 0x7e && ch !== '"' && ch !== '\\' ? ch : '_';
  }
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${type}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/**
 * A Warning header value `299 {agent}: "text"` (the form PS3.18 uses): the text cut to
 * `max` characters, characters a header cannot carry as `?`, quotes and backslashes escaped.
 */
export function warningValue(text: string, agent = 'open-pacs', max = 200): string {
  let clean = '';
  for (const ch of text.length > max ? `${text.slice(0, max)}...` : text) {
    const c = ch.codePointAt(0)!;
    clean += c >= 0x20 && c <= 0x7e ? ch : '?';
  }
  return `299 ${agent}: "${clean.replace(/["\\]/g, '\\$&')}"`;
}

/** URL path segments, each percent-encoded: `/studies/{uid}/...` whatever the UIDs hold. */
export function pathOf(...segments: string[]): string {
  return segments.map((s) => `/${encodeURIComponent(s)}`).join('');
}

/** A header value checked to be printable ASCII (e.g. a Content-Location URL built with pathOf()). */
export function checkedHeaderValue(value: string): string {
  if (!printableAscii(value)) throw new HeaderValueError(`header value ${JSON.stringify(value.slice(0, 80))} holds characters a header cannot carry`);
  return value;
}
