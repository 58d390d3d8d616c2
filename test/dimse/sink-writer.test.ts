import { describe, expect, it } from 'vitest';
import { type DatasetSink, SinkWriter } from '../../src/dimse/sink-writer.js';

describe('SinkWriter', () => {
  it('copies the chunks it queues while the sink is busy: the caller reuses their memory', async () => {
    const written: Buffer[] = [];
    let release!: () => void;
    const sink: DatasetSink<number> = {
      write(chunk) {
        written.push(Buffer.from(chunk)); // a sink copies what it keeps, too
        if (written.length === 1) return new Promise<void>((r) => (release = r)); // busy after the first
      },
      end: async () => written.length,
      abort: async () => undefined,
    };
    let paused = 0;
    let resumed = 0;
    const writer = new SinkWriter(
      sink,
      () => paused++,
      () => resumed++,
    );
    const reused = Buffer.alloc(4);
    for (const fill of [1, 2, 3]) {
      reused.fill(fill);
      writer.write(reused);
    }
    reused.fill(9);
    expect(paused).toBe(1);
    release();
    writer.finish();
    expect(await writer.result).toBe(3);
    expect(written).toEqual([Buffer.alloc(4, 1), Buffer.alloc(4, 2), Buffer.alloc(4, 3)]);
    expect(resumed).toBe(1);
  });
});
