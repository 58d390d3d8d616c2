import { expect } from 'vitest';

/**
 * `read()` once what it returns has settled: two reads 250 ms apart agree (as JSON) and
 * satisfy `ready`. A viewer tool moves its handles on the last mouse move and computes its
 * statistics on a render after, so a read in between can hold a shorter drag's.
 */
export async function settledRead<T>(read: () => Promise<T>, ready: (value: T) => boolean): Promise<T> {
  let last = '';
  await expect
    .poll(
      async () => {
        const value = await read();
        const now = JSON.stringify(value);
        const same = now === last;
        last = now;
        return same && ready(value);
      },
      { timeout: 30_000, interval: 250 },
    )
    .toBe(true);
  return read();
}
