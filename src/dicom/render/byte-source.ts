/**
 * Random access to the bytes of a Part 10 file, held in memory or read from disk on
 * demand, so that a frame of a multi-GB instance is read without reading the rest.
 */
import { open, type FileHandle } from 'node:fs/promises';

export interface ByteSource {
  readonly size: number;
  /** Up to `length` bytes at `position` (fewer at the end of the source); may be a view of a shared buffer: do not modify. */
  read(position: number, length: number): Promise<Uint8Array>;
  /** Like read, into a buffer of the caller's own (which it may modify). */
  readOwned(position: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

export function bufferSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read: async (position, length) => bytes.subarray(position, Math.min(bytes.length, position + length)),
    readOwned: async (position, length) => bytes.slice(position, Math.min(bytes.length, position + length)),
    close: async () => {},
  };
}

/** Small reads (item headers while walking fragments) are served from one cached block. */
const BLOCK = 64 * 1024;

class FileSource implements ByteSource {
  private block: Uint8Array = new Uint8Array(0);
  private blockStart = -1;
  constructor(
    private readonly fh: FileHandle,
    readonly size: number,
  ) {}

  async read(position: number, length: number): Promise<Uint8Array> {
    const end = Math.min(this.size, position + length);
    if (end <= position) return new Uint8Array(0);
    if (this.blockStart >= 0 && position >= this.blockStart && end <= this.blockStart + this.block.length) {
      return this.block.subarray(position - this.blockStart, end - this.blockStart);
    }
    if (end - position <= 4096) {
      this.block = await this.readRaw(position, Math.min(BLOCK, this.size - position));
      this.blockStart = position;
      return this.block.subarray(0, end - position);
    }
    return this.readRaw(position, end - position);
  }

  readOwned(position: number, length: number): Promise<Uint8Array> {
    return this.readRaw(position, Math.max(0, Math.min(this.size, position + length) - position));
  }

  private async readRaw(position: number, length: number): Promise<Uint8Array> {
    const buf = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await this.fh.read(buf, got, length - got, position + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return buf.subarray(0, got);
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

export async function openFileSource(path: string): Promise<ByteSource> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    return new FileSource(fh, size);
  } catch (e) {
    await fh.close();
    throw e;
  }
}
