/** Progress on stderr: a bar on a terminal, a line per 10% otherwise (logs, CI). */
import cliProgress from 'cli-progress';

export interface Progress {
  tick(ok: boolean): void;
  stop(): void;
}

export function progress(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  let done = 0;
  let failed = 0;
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {value}/{total} {percentage}% | {failed} failed | {eta_formatted} left`, stream, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { failed: 0 });
    return {
      tick(ok) {
        done++;
        if (!ok) failed++;
        bar.update(done, { failed });
      },
      stop: () => bar.stop(),
    };
  }
  let nextReport = 0.1;
  return {
    tick(ok) {
      done++;
      if (!ok) failed++;
      if (done / total >= nextReport || done === total) {
        stream.write(`${label}: ${done}/${total} (${Math.floor((done / total) * 100)}%), ${failed} failed\n`);
        while (nextReport <= done / total) nextReport += 0.1;
      }
    },
    stop() {},
  };
}
