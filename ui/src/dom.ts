// A tiny element builder: h('td', { class: 'x' }, 'text', child).
type Attrs = Record<string, string | boolean | number | undefined | ((e: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Node | string | null | undefined)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) el.append(c);
  return el;
}

/**
 * An async function as a listener or callback that expects nothing back (addEventListener,
 * onSearch): the promise is not dropped, and a failure the function did not show the user
 * itself is logged rather than becoming an unhandled rejection.
 */
export function background<A extends unknown[]>(run: (...args: A) => Promise<void>): (...args: A) => void {
  return (...args) => void run(...args).catch((err: unknown) => console.error(err));
}
