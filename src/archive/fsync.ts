/** fsync helpers shared by the blob store and the SQLite index. */
import { open, type FileHandle } from 'node:fs/promises';

export async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * fsync (or fdatasync) of one file or directory shared by concurrent callers: a
 * request waits for the next sync that *starts* after it, so it covers every write
 * the caller made before asking. With `keepOpen` the handle stays open between syncs
 * (one thread-pool operation per sync instead of three); close() releases it.
 */
export class CoalescedFsync {
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  private fh: Promise<FileHandle> | undefined;

  constructor(
    private readonly path: string,
    private readonly opts: { keepOpen?: boolean; dataOnly?: boolean } = {},
  ) {}

  sync(): Promise<void> {
    if (this.next) return this.next;
    if (!this.running) return this.start();
    this.next = this.running
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        return this.start();
      });
    return this.next;
  }

  private start(): Promise<void> {
    const p = this.once().finally(() => {
      if (this.running === p) this.running = undefined;
    });
    this.running = p;
    return p;
  }

  private async once(): Promise<void> {
    if (!this.opts.keepOpen) return fsyncPath(this.path);
    this.fh ??= open(this.path, 'r');
    let fh: FileHandle;
    try {
      fh = await this.fh;
    } catch (e) {
      this.fh = undefined;
      throw e;
    }
    try {
      await (this.opts.dataOnly ? fh.datasync() : fh.sync());
    } catch (e) {
      // A failed fsync may have dropped dirty pages' error state: never trust this handle again.
      this.fh = undefined;
      await fh.close().catch(() => undefined);
      throw e;
    }
  }

  /** Waits for syncs in flight, then closes the kept handle. */
  async close(): Promise<void> {
    await this.next?.catch(() => undefined);
    await this.running?.catch(() => undefined);
    const fh = this.fh;
    this.fh = undefined;
    if (fh) await (await fh).close().catch(() => undefined);
  }
}
