/** Formats our Dataset like dcmdump (+L -Un +U8) so the two can be compared line by line. */
import { Dataset, decodeAt, getNumbers, getString, type Element } from '../../../src/dicom/dataset.js';
import { tagToHex } from '../../../src/dicom/tag.js';
import { VR_INFO } from '../../../src/dicom/vr.js';
import type { DumpLine } from './dcmtk.js';

export interface OurLine {
  depth: number;
  tag: string;
  vr: string;
  value: string;
}

function hexBytes(v: Uint8Array, word: boolean): string {
  const out: string[] = [];
  if (word) {
    for (let i = 0; i + 1 < v.length; i += 2) out.push((v[i] | (v[i + 1] << 8)).toString(16).padStart(4, '0'));
  } else {
    for (const b of v) out.push(b.toString(16).padStart(2, '0'));
  }
  return out.join('\\');
}

function formatValue(ds: Dataset, el: Element): string {
  if (el.items) return `#=${el.items.length}`;
  if (el.fragments) return `#=${el.fragments.length}`;
  if (!el.value || el.value.length === 0) return '(no value available)';
  const info = VR_INFO[el.vr];
  if (info.kind === 'string') return `[${getString(ds, el.tag)}]`;
  if (el.vr === 'AT')
    return decodeAt(el.value)
      .map((h) => `(${h.slice(0, 4)},${h.slice(4)})`.toLowerCase())
      .join('\\');
  if (el.vr === 'OB' || el.vr === 'UN') return hexBytes(el.value, false);
  if (el.vr === 'OW') return hexBytes(el.value, true);
  return (getNumbers(ds, el.tag) ?? []).join('\\');
}

export function ourLines(ds: Dataset, depth = 0, out: OurLine[] = []): OurLine[] {
  for (const el of ds.values()) {
    out.push({ depth, tag: tagToHex(el.tag), vr: el.vr, value: formatValue(ds, el) });
    for (const item of el.items ?? []) ourLines(item, depth + 4, out);
  }
  return out;
}

/** dcmdump's lines normalised to our formatting conventions. */
export function normaliseDump(lines: DumpLine[]): OurLine[] {
  return lines.map((l) => {
    let value = l.value;
    const seq = /^\((?:Sequence|PixelSequence).*#=(\d+)\)$/.exec(value);
    if (seq) value = `#=${seq[1]}`;
    const vr = l.vr === '??' ? 'UN' : l.vr;
    if (vr === 'FD' || vr === 'FL')
      value = value
        .split('\\')
        .map((x) => String(Number(x)))
        .join('\\');
    return { depth: l.depth, tag: l.tag, vr, value };
  });
}

export function roundFloats(lines: OurLine[]): OurLine[] {
  return lines.map((l) =>
    l.vr === 'FD' || l.vr === 'FL'
      ? {
          ...l,
          value: l.value
            .split('\\')
            .map((x) => String(Number(Number(x).toPrecision(6))))
            .join('\\'),
        }
      : l,
  );
}
