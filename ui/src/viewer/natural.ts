// Reading dcmjs's naturalized data sets (keyword -> value) defensively: a sequence may be
// an array or, as dcmjs's own derivations write it, one object; numbers may be strings.
// No DOM, no Cornerstone: unit-tested under Node.

export type Natural = Record<string, unknown>;

/** The items of a sequence (none when absent or not a sequence). */
export function items(ds: Natural | undefined, keyword: string): Natural[] {
  const v = ds?.[keyword];
  if (Array.isArray(v)) return v.filter((x): x is Natural => !!x && typeof x === 'object' && !ArrayBuffer.isView(x));
  return v && typeof v === 'object' && !ArrayBuffer.isView(v) && !(v instanceof ArrayBuffer) ? [v as Natural] : [];
}

export function first(ds: Natural | undefined, keyword: string): Natural | undefined {
  return items(ds, keyword)[0];
}

/** The value as text (a person name by its alphabetic group); '' when absent. */
export function text(ds: Natural | undefined, keyword: string): string {
  const v = ds?.[keyword];
  const one = Array.isArray(v) ? v[0] : v;
  if (one === undefined || one === null) return '';
  if (typeof one === 'object' && 'Alphabetic' in one) return String((one as { Alphabetic?: unknown }).Alphabetic ?? '');
  return typeof one === 'object' ? '' : String(one);
}

/** Every value as a number; undefined when absent or any is not a finite number. */
export function numbers(ds: Natural | undefined, keyword: string): number[] | undefined {
  const v = ds?.[keyword];
  if (v === undefined || v === null || v === '') return undefined;
  const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split('\\') : [v];
  if (!list.length) return undefined;
  const out = list.map((x) => (typeof x === 'number' ? x : typeof x === 'string' && x.trim() !== '' ? Number(x) : NaN));
  return out.every(Number.isFinite) ? out : undefined;
}

export function number(ds: Natural | undefined, keyword: string): number | undefined {
  return numbers(ds, keyword)?.[0];
}

/** A value's bytes (Pixel Data as dcmjs gives it: an ArrayBuffer, a list of them, a typed array). */
export function bytes(ds: Natural | undefined, keyword: string): Uint8Array | undefined {
  const v = ds?.[keyword];
  const parts = Array.isArray(v) ? v : [v];
  const views: Uint8Array[] = [];
  for (const p of parts) {
    if (p instanceof ArrayBuffer) views.push(new Uint8Array(p));
    else if (ArrayBuffer.isView(p)) views.push(new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
    else return undefined;
  }
  if (!views.length) return undefined;
  if (views.length === 1) return views[0];
  const out = new Uint8Array(views.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of views) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}
