/**
 * Media types and Accept negotiation (PS3.18 8.7): parsing `type/subtype; k=v` with
 * quoted values, Accept lists ordered by quality, and the choices DICOMweb makes from
 * them: DICOM JSON for QIDO-RS and metadata, and the transfer syntax of
 * `multipart/related; type="application/dicom"` for WADO-RS instances.
 */
import { DicomwebError } from './errors.js';

export interface MediaType {
  /** 'type/subtype', lower case. */
  essence: string;
  /** Parameter names in lower case; values unquoted. */
  params: Map<string, string>;
  q: number;
}

export const DICOM_JSON = 'application/dicom+json';
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

/** One media type; undefined when it is not `type/subtype[; params]`. */
export function parseMediaType(text: string): MediaType | undefined {
  const m = /^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\/([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*/.exec(text);
  if (!m) return undefined;
  const params = new Map<string, string>();
  let rest = text.slice(m[0].length);
  while (rest.length) {
    const p = /^;\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^;\s]*)\s*/.exec(rest);
    if (!p) {
      if (/^;\s*$/.test(rest)) break; // a trailing ';'
      return undefined;
    }
    params.set(p[1].toLowerCase(), p[3] !== undefined ? p[3].replace(/\\(.)/g, '$1') : p[2]);
    rest = rest.slice(p[0].length);
  }
  const q = params.has('q') ? Number(params.get('q')) : 1;
  params.delete('q');
  return { essence: `${m[1]}/${m[2]}`.toLowerCase(), params, q: Number.isFinite(q) ? q : 0 };
}

/**
 * An Accept header as media ranges, best first (stable for equal quality); absent or
 * empty = `*\/*`. Ranges are split at commas outside quoted strings.
 */
export function parseAccept(header: string | undefined): MediaType[] {
  if (!header || !header.trim()) return [{ essence: '*/*', params: new Map(), q: 1 }];
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (const c of header) {
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  const out: MediaType[] = [];
  for (const p of parts) {
    if (!p.trim()) continue;
    const mt = parseMediaType(p);
    if (!mt) throw new DicomwebError('bad-request', `malformed Accept header entry ${JSON.stringify(p.trim())}`, 'Accept');
    if (mt.q > 0) out.push(mt);
  }
  return out
    .map((m, i) => ({ m, i }))
    .sort((a, b) => b.m.q - a.m.q || a.i - b.i)
    .map((x) => x.m);
}

/** QIDO-RS and metadata: DICOM JSON (application/json and wildcards accepted for it), else 406. */
export function negotiateDicomJson(accept: string | undefined): string {
  for (const m of parseAccept(accept)) {
    if (m.essence === DICOM_JSON || m.essence === 'application/json' || m.essence === 'application/*' || m.essence === '*/*') return DICOM_JSON;
  }
  throw new DicomwebError('not-acceptable', `this resource is available as ${DICOM_JSON} only (Accept: ${accept})`, 'Accept');
}

/**
 * The transfer syntaxes a WADO-RS instance retrieval may answer in, in the client's order
 * of preference: '*' (as stored, bytes unchanged) or a UID. `multipart/related` with
 * type application/dicom (or no type), `application/dicom` and wildcards are acceptable;
 * an absent transfer-syntax parameter means Explicit VR Little Endian (PS3.18 8.7.3.5.2).
 */
export function acceptableDicomSyntaxes(accept: string | undefined): string[] {
  const out: string[] = [];
  for (const m of parseAccept(accept)) {
    const type = m.params.get('type')?.toLowerCase();
    const dicomPart = m.essence === 'multipart/related' ? type === undefined || type === 'application/dicom' : m.essence === 'application/dicom';
    if (!dicomPart && m.essence !== '*/*' && m.essence !== 'multipart/*') continue;
    const ts = m.params.get('transfer-syntax');
    out.push(ts === undefined || ts === '' ? EXPLICIT_VR_LITTLE_ENDIAN : ts);
  }
  return [...new Set(out)];
}
