// Stack navigation keys. No DOM, no Cornerstone.

/** Next index for a navigation key, or undefined when the key does not navigate. */
export function indexForKey(key: string, index: number, count: number): number | undefined {
  const page = Math.max(1, Math.round(count / 10));
  const step: Record<string, number> = { ArrowUp: -1, ArrowLeft: -1, ArrowDown: 1, ArrowRight: 1, PageUp: -page, PageDown: page };
  if (key === 'Home') return 0;
  if (key === 'End') return count - 1;
  if (step[key] === undefined) return undefined;
  return Math.min(count - 1, Math.max(0, index + step[key]));
}
