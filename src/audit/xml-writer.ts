/**
 * A small XML encoder for the audit messages: elements with attributes and children, every
 * name checked and every value escaped here, never by the callers. No XML library is a
 * direct dependency of the server (xmlbuilder2 is in node_modules only through the viewer's
 * packages), and the messages need nothing but elements and attributes.
 */

/** An element: its name, attributes (undefined ones left out) and child elements or text. */
export interface XmlElement {
  name: string;
  attrs?: Record<string, string | number | boolean | undefined>;
  children?: readonly (XmlElement | undefined)[];
  text?: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * Characters XML 1.0 cannot carry at all (C0 controls but tab, CR, LF; lone surrogates;
 * U+FFFE/U+FFFF) become U+FFFD: a patient name with a stray control byte still makes a
 * well-formed message.
 */
const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/**
 * Escapes text for an attribute value or element content. Tab, LF and CR become character
 * references everywhere: kept through attribute normalisation, and a message stays one
 * line (syslog daemons escape raw control characters, which would change the text).
 */
export function escapeXml(value: string, inAttribute = false): string {
  const clean = value.replace(NOT_XML_CHAR, '\uFFFD').replace(inAttribute ? /[&<>"']/g : /[&<>]/g, (c) => ESCAPES[c]);
  return clean.replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');
}

function checkName(name: string): string {
  if (!NAME.test(name)) throw new Error(`not an XML name: ${JSON.stringify(name)}`);
  return name;
}

function write(el: XmlElement, out: string[]): void {
  out.push('<', checkName(el.name));
  for (const [k, v] of Object.entries(el.attrs ?? {})) {
    if (v === undefined) continue;
    out.push(' ', checkName(k), '="', escapeXml(String(v), true), '"');
  }
  const children = (el.children ?? []).filter((c): c is XmlElement => c !== undefined);
  if (children.length === 0 && el.text === undefined) {
    out.push('/>');
    return;
  }
  out.push('>');
  if (el.text !== undefined) out.push(escapeXml(el.text));
  for (const c of children) write(c, out);
  out.push('</', el.name, '>');
}

/** The document: an XML declaration (UTF-8) and the root element. */
export function toXml(root: XmlElement): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  write(root, out);
  return out.join('');
}
