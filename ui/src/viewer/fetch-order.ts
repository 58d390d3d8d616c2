// In which order and in which groups a stack's frames are fetched (bulk-frames.ts). No DOM, no Cornerstone.

/** The order frames are fetched in: the shown one, then alternately after and before it. */
export function outwardOrder(count: number, from: number): number[] {
  const out: number[] = [];
  const start = Math.min(Math.max(0, from), Math.max(0, count - 1));
  if (count > 0) out.push(start);
  for (let d = 1; out.length < count; d++) {
    if (start + d < count) out.push(start + d);
    if (start - d >= 0) out.push(start - d);
  }
  return out;
}

/** Groups `items` into batches of whole instances, `size` instances each (an instance's frames stay together). */
export function batchesOf<T extends { sopUid: string }>(items: T[], size: number): T[][] {
  const batches: T[][] = [];
  const bySop = new Map<string, T[]>();
  const order: string[] = [];
  for (const it of items) {
    let list = bySop.get(it.sopUid);
    if (!list) {
      bySop.set(it.sopUid, (list = []));
      order.push(it.sopUid);
    }
    list.push(it);
  }
  for (let i = 0; i < order.length; i += size) batches.push(order.slice(i, i + size).flatMap((sop) => bySop.get(sop)!));
  return batches;
}

/** Instances per Pixel Data request, and such requests at once (of the browser's six connections to the server). */
export const BATCH_INSTANCES = 25;
export const BATCHES_AT_ONCE = 3;
