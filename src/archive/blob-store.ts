/**
 * Blob storage behind one interface: the received Part 10 files, addressed by keys the
 * store chooses (never built from attribute text, so no path traversal); the index
 * keeps each instance's key. FileBlobStore (file-blob-store.ts) is the local file system
 * implementation; its module holds the durability protocol.
 */
import type { ReadStream } from 'node:fs';
import type { BorrowedCopy } from './retained-copies.js';

export interface BlobWriter {
  readonly key: string;
  /** Bytes accepted so far. */
  readonly bytes: number;
  /** Queue bytes (copied: `chunk` may be reused after the call); a returned promise means "wait before writing more". */
  write(chunk: Buffer): void | Promise<void>;
  /**
   * CRC-32 (zlib) of the bytes accepted so far after the 128-byte Part 10 preamble: with
   * `bytes`, what the sweep checks a committed file against.
   */
  readonly crc32: number;
  /** Flush, seal the preamble (blob-seal.ts), make the data and the name durable. */
  persist(): Promise<void>;
  /**
   * Flush, seal the preamble, then resolve once the file's name is durable, WITHOUT waiting for its data:
   * `durable` settles when the final fdatasync does. The caller may commit the index row
   * (with `bytes` and `crc32`) meanwhile, and must not answer before `durable` resolved.
   */
  persistEarly(): Promise<{ durable: Promise<void> }>;
  /** After the index commit: the file is the store's to keep. Never rejects. */
  release(): Promise<void>;
  /** Drop everything written. Never throws. */
  abort(): Promise<void>;
  /**
   * The index commit failed without refusing the instance (a lost connection after which
   * the commit's fate is unknown, or this node fenced: node-table.ts): the file is closed
   * and left in its open batch, never sealed, for the sweep to judge by its row (kept,
   * indexed again, or deleted). Never rejects.
   */
  leave(): Promise<void>;
}

export interface SweepReport {
  /** Interrupted stores found (files written to but never committed, or whose data was not durable). */
  tempFiles: number;
  /** Unreferenced files of committed-looking versions removed (older layout: final names without a row). */
  removedFinalFiles: number;
  /** Committed rows whose file data had not become durable (crash during the final fdatasync): row and file removed. Present when > 0. */
  droppedRows?: number;
  /** Older layout: committed files whose final name was lost and was linked again. Present when > 0. */
  restoredFiles?: number;
  /** Other nodes (sharing the store) whose open batches were swept, their lease having expired. */
  nodesSwept?: { nodeId: string; batches: number; tempFiles: number }[];
  /** Other nodes whose open batches were left alone: their lease is live. */
  liveNodesLeft?: string[];
  /** Sealed, whole files of an open batch without a row, indexed again from the file (their rows lost with the index's unsynced tail). Present when > 0. */
  reindexed?: number;
}

export interface BlobStore {
  /** A new file for one instance; its key is chosen by the store. */
  begin(): BlobWriter;
  open(key: string): ReadStream;
  /** Local file path (for sendfile-style readers). */
  path(key: string): string;
  size(key: string): Promise<number | undefined>;
  exists(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
  /**
   * The bytes of `key`'s file from memory, if the store kept them (a store that keeps the
   * files it has just written: retained-copies.ts); give the copy back once read.
   */
  borrowCopy?(key: string): BorrowedCopy | undefined;
  /**
   * Called before files stop being looked at by the start-up sweep (a batch sealed): the
   * index makes the rows of those files durable (their commits may not have been).
   */
  setSealBarrier(barrier: () => Promise<void>): void;
  /** Resolves once background work started so far is done. */
  idle(): Promise<void>;
  /** idle(), then releases kept handles. */
  close(): Promise<void>;
  /**
   * Recovery at start: resolve every interrupted store. Assumes no store is running.
   * `check`, when given, tells for a referenced key what its row recorded (size and
   * CRC-32) and removes the row: a file that does not match is not durable data, so its
   * row goes and the file is treated as unreferenced.
   */
  sweep(isReferenced: (key: string) => Promise<boolean>, check?: SweepCheck): Promise<SweepReport>;
}

export interface SweepCheck {
  /** Size and CRC-32 recorded with the row of `key` (crc32 null: not recorded, nothing to verify). */
  expected(key: string): Promise<{ size: number; crc32: number | null } | undefined>;
  /** Keys of rows ending with this suffix (older layout: a pooled temp file whose meta header was lost). */
  keysEndingWith(suffix: string): Promise<string[]>;
  /** Removes the row of `key` (its data never became durable). */
  dropRow(key: string): Promise<void>;
  /**
   * Indexes the sealed, whole file of `key` again (its row is missing); true when it is now
   * indexed, false when the index does not take it (then the file is deleted).
   */
  recover?(key: string): Promise<boolean>;
}
