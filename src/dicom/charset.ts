/**
 * Specific Character Set (0008,0005) decoding, PS3.5 section 6.1 and PS3.3 C.12.1.1.2.
 *
 * Only SH, LO, ST, LT, UT, PN and UC are decoded with it; other string VRs use the default
 * repertoire. Single-byte sets and UTF-8/GB18030/GBK use one decoder for the whole value; the
 * ISO 2022 code extensions switch G0/G1 by escape sequence, and the delimiters (CR, LF, FF,
 * TAB, '\' and for PN '^' and '=') return to the initial G0/G1 sets (PS3.5 6.1.2.5.3).
 */
import { TextDecoder } from 'node:util';
import { VR_INFO, type VR } from './vr.js';

type Charset =
  | { kind: 'single'; decoder: string } // 8-bit set in G1 (GR bytes)
  | { kind: 'ascii' } // ISO-IR 6 in G0
  | { kind: 'romaji' } // JIS X 0201 Romaji in G0 (ISO-IR 14)
  | { kind: 'katakana' } // JIS X 0201 Katakana in G1 (ISO-IR 13)
  | { kind: 'jis0208' } // 2-byte in G0 (ISO-IR 87)
  | { kind: 'jis0212' } // 2-byte in G0 (ISO-IR 159)
  | { kind: 'dbcs-gr'; decoder: string }; // 2-byte in G1: KS X 1001 (149), GB 2312 (58)

/** Defined terms without code extensions -> WHATWG decoder label. */
const PLAIN: Record<string, string> = {
  '': 'windows-1252',
  'ISO_IR 6': 'windows-1252',
  'ISO_IR 100': 'windows-1252',
  'ISO_IR 101': 'iso-8859-2',
  'ISO_IR 109': 'iso-8859-3',
  'ISO_IR 110': 'iso-8859-4',
  'ISO_IR 144': 'iso-8859-5',
  'ISO_IR 127': 'iso-8859-6',
  'ISO_IR 126': 'iso-8859-7',
  'ISO_IR 138': 'iso-8859-8',
  'ISO_IR 148': 'iso-8859-9',
  'ISO_IR 203': 'iso-8859-15',
  'ISO_IR 166': 'windows-874',
  'ISO_IR 13': 'shift_jis',
  'ISO_IR 192': 'utf-8',
  GB18030: 'gb18030',
  GBK: 'gbk',
};

/** ISO 2022 defined terms -> their G1 set (8-bit sets), or G0 set. */
const EXT_G1: Record<string, Charset> = {
  'ISO 2022 IR 100': { kind: 'single', decoder: 'windows-1252' },
  'ISO 2022 IR 101': { kind: 'single', decoder: 'iso-8859-2' },
  'ISO 2022 IR 109': { kind: 'single', decoder: 'iso-8859-3' },
  'ISO 2022 IR 110': { kind: 'single', decoder: 'iso-8859-4' },
  'ISO 2022 IR 144': { kind: 'single', decoder: 'iso-8859-5' },
  'ISO 2022 IR 127': { kind: 'single', decoder: 'iso-8859-6' },
  'ISO 2022 IR 126': { kind: 'single', decoder: 'iso-8859-7' },
  'ISO 2022 IR 138': { kind: 'single', decoder: 'iso-8859-8' },
  'ISO 2022 IR 148': { kind: 'single', decoder: 'iso-8859-9' },
  'ISO 2022 IR 203': { kind: 'single', decoder: 'iso-8859-15' },
  'ISO 2022 IR 166': { kind: 'single', decoder: 'windows-874' },
  'ISO 2022 IR 13': { kind: 'katakana' },
  'ISO 2022 IR 149': { kind: 'dbcs-gr', decoder: 'euc-kr' },
  'ISO 2022 IR 58': { kind: 'dbcs-gr', decoder: 'gb18030' },
};

/** Escape sequences (bytes after ESC) -> [register, set]. */
const ESCAPES: [number[], 'G0' | 'G1', Charset][] = [
  [[0x28, 0x42], 'G0', { kind: 'ascii' }],
  [[0x28, 0x4a], 'G0', { kind: 'romaji' }],
  [[0x29, 0x49], 'G1', { kind: 'katakana' }],
  [[0x24, 0x42], 'G0', { kind: 'jis0208' }],
  [[0x24, 0x28, 0x44], 'G0', { kind: 'jis0212' }],
  [[0x24, 0x29, 0x43], 'G1', { kind: 'dbcs-gr', decoder: 'euc-kr' }],
  [[0x24, 0x29, 0x41], 'G1', { kind: 'dbcs-gr', decoder: 'gb18030' }],
  [[0x2d, 0x41], 'G1', { kind: 'single', decoder: 'windows-1252' }],
  [[0x2d, 0x42], 'G1', { kind: 'single', decoder: 'iso-8859-2' }],
  [[0x2d, 0x43], 'G1', { kind: 'single', decoder: 'iso-8859-3' }],
  [[0x2d, 0x44], 'G1', { kind: 'single', decoder: 'iso-8859-4' }],
  [[0x2d, 0x4c], 'G1', { kind: 'single', decoder: 'iso-8859-5' }],
  [[0x2d, 0x47], 'G1', { kind: 'single', decoder: 'iso-8859-6' }],
  [[0x2d, 0x46], 'G1', { kind: 'single', decoder: 'iso-8859-7' }],
  [[0x2d, 0x48], 'G1', { kind: 'single', decoder: 'iso-8859-8' }],
  [[0x2d, 0x4d], 'G1', { kind: 'single', decoder: 'iso-8859-9' }],
  [[0x2d, 0x62], 'G1', { kind: 'single', decoder: 'iso-8859-15' }],
  [[0x2d, 0x54], 'G1', { kind: 'single', decoder: 'windows-874' }],
];

const decoders = new Map<string, TextDecoder>();
function decoder(label: string): TextDecoder {
  let d = decoders.get(label);
  if (!d) {
    d = new TextDecoder(label);
    decoders.set(label, d);
  }
  return d;
}

/** Decodes a string value; `charsets` are the (trimmed) values of Specific Character Set. */
export function decodeText(bytes: Uint8Array, vr: VR, charsets: readonly string[]): string {
  if (!VR_INFO[vr].charset || charsets.length === 0) return DEFAULT_DECODER.decode(bytes);
  const plain = plainDecoder(charsets);
  return plain
    ? plain.decode(bytes)
    : decodeIso2022(
        bytes,
        vr,
        charsets.map((t) => t.trim()),
      );
}

const DEFAULT_DECODER = decoder('windows-1252');

/**
 * The one decoder for values under `charsets` when no ISO 2022 code extension is among them,
 * else undefined; kept for the last frozen terms array asked about (Dataset.characterSets()
 * gives the same one for every value of a header: issue 16).
 */
let plainFor: { charsets: readonly string[]; decoder: TextDecoder | undefined } | undefined;
function plainDecoder(charsets: readonly string[]): TextDecoder | undefined {
  if (plainFor?.charsets === charsets) return plainFor.decoder;
  const terms = charsets.map((t) => t.trim());
  let found: TextDecoder | undefined;
  if (!terms.some((t) => t.startsWith('ISO 2022'))) {
    const label = PLAIN[terms[0]] ?? PLAIN[terms.find((t) => PLAIN[t] && t !== '') ?? ''];
    found = decoder(label ?? 'windows-1252');
  }
  if (Object.isFrozen(charsets)) plainFor = { charsets, decoder: found }; // a caller's own array may change
  return found;
}

/** The Specific Character Set terms this module can decode. */
export function isSupportedCharset(term: string): boolean {
  const t = term.trim();
  return t in PLAIN || t in EXT_G1 || t === 'ISO 2022 IR 6' || t === 'ISO 2022 IR 87' || t === 'ISO 2022 IR 159';
}

function decodeIso2022(bytes: Uint8Array, vr: VR, terms: string[]): string {
  const first = terms[0] || 'ISO 2022 IR 6';
  const initG0: Charset = first === 'ISO 2022 IR 13' || first === 'ISO_IR 13' ? { kind: 'romaji' } : { kind: 'ascii' };
  const initG1: Charset | undefined =
    EXT_G1[first] ??
    (PLAIN[first] && first !== '' && first !== 'ISO_IR 6' ? { kind: 'single', decoder: PLAIN[first] === 'shift_jis' ? 'shift_jis' : PLAIN[first] } : undefined);
  if (initG1?.kind === 'single' && initG1.decoder === 'shift_jis') Object.assign(initG1, { kind: 'katakana' });
  let g0: Charset = initG0;
  let g1: Charset | undefined = initG1;
  const pn = vr === 'PN';
  let out = '';
  let run: number[] = [];
  let runSet: Charset | undefined;

  const flush = () => {
    if (run.length && runSet) out += decodeRun(run, runSet);
    run = [];
    runSet = undefined;
  };
  const emit = (b: number, set: Charset) => {
    if (runSet !== set) flush();
    runSet = set;
    run.push(b);
  };

  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x1b) {
      const esc = ESCAPES.find(([seq]) => seq.every((c, k) => bytes[i + 1 + k] === c));
      flush();
      if (esc) {
        if (esc[1] === 'G0') g0 = esc[2];
        else g1 = esc[2];
        i += esc[0].length;
      } else {
        out += '\ufffd'; // unknown escape: drop ESC
      }
      continue;
    }
    const twoByteG0 = g0.kind === 'jis0208' || g0.kind === 'jis0212';
    if (b < 0x21 || (!twoByteG0 && (b === 0x5c || (pn && (b === 0x5e || b === 0x3d))))) {
      // Controls and space are single bytes; delimiters reset to the initial sets.
      flush();
      out += String.fromCharCode(b);
      if (b === 0x0d || b === 0x0a || b === 0x0c || b === 0x09 || b === 0x5c || b === 0x5e || b === 0x3d) {
        g0 = initG0;
        g1 = initG1;
      }
      continue;
    }
    if (b < 0x80) emit(b, g0);
    else if (g1) emit(b, g1);
    else {
      flush();
      out += '\ufffd';
    }
  }
  flush();
  return out;
}

function decodeRun(run: number[], set: Charset): string {
  switch (set.kind) {
    case 'ascii':
      return String.fromCharCode(...run);
    case 'romaji':
      return run.map((b) => (b === 0x5c ? '\u00a5' : b === 0x7e ? '\u203e' : String.fromCharCode(b))).join('');
    case 'jis0208':
      return decoder('euc-jp').decode(Uint8Array.from(run, (b) => b | 0x80));
    case 'jis0212': {
      const bytes: number[] = [];
      for (let i = 0; i + 1 < run.length; i += 2) bytes.push(0x8f, run[i] | 0x80, run[i + 1] | 0x80);
      return decoder('euc-jp').decode(Uint8Array.from(bytes));
    }
    case 'katakana':
      return decoder('shift_jis').decode(Uint8Array.from(run));
    case 'single':
    case 'dbcs-gr':
      return decoder(set.decoder).decode(Uint8Array.from(run));
  }
}
