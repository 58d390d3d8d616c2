/**
 * The V8 flags `pacs serve` runs with: bin/pacs.js's first line and `npm start` pass them
 * (a V8 flag set from inside the process once it runs does not change the memory reducer;
 * NODE_OPTIONS refuses both). test/cli/v8-flags.test.ts keeps those places equal to this list.
 *
 * Why: a server idles between studies, and V8 takes idle time to give memory back: its
 * memory reducer runs full collections in "reduce memory" mode, which flush the bytecode of
 * the functions not running, and the optimized code built on it. The next study then runs
 * the receive path interpreted while it is compiled again. Measured with four associations
 * after 15 s idle before each series (bench/ingest-ab.ts --pause 15, paired, six rounds;
 * issue 16): the server's CPU per instance 1.50 against 1.83 ms (lower in 5 of 6 rounds)
 * with both flags, 1.43 against 1.63 ms (5 of 6) with --no-memory-reducer alone. The cost
 * is memory: the heap keeps the size it grew to while idle, and bytecode of code that ran
 * once stays (a few MB).
 */
export const SERVER_V8_FLAGS = ['--no-memory-reducer', '--no-flush-bytecode'] as const;

/** The flags this process was started without (none when started by bin/pacs.js or npm start). */
export function missingServerV8Flags(execArgv: readonly string[] = process.execArgv): string[] {
  return SERVER_V8_FLAGS.filter((f) => !execArgv.includes(f));
}
