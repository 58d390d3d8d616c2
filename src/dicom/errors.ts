import { formatTag } from './tag.js';

/** A dataset or file that does not follow PS3.5/PS3.10; carries where parsing failed. */
export class DicomParseError extends Error {
  override readonly name = 'DicomParseError';
  /** Byte offset in the (inflated) dataset stream where the failure was detected. */
  readonly offset: number | undefined;
  /** The tag of the element being parsed, when known. */
  readonly tag: number | undefined;

  constructor(message: string, opts: { offset?: number; tag?: number } = {}) {
    const where = [opts.tag !== undefined ? `tag ${formatTag(opts.tag)}` : undefined, opts.offset !== undefined ? `offset ${opts.offset}` : undefined].filter(
      Boolean,
    );
    super(where.length ? `${message} (at ${where.join(', ')})` : message);
    this.offset = opts.offset;
    this.tag = opts.tag;
  }
}

/**
 * A dataset needs more memory than the reader's caller allows (the header byte cap): not a
 * malformed dataset but one refused for its size, answered differently (out of resources).
 */
export class DatasetLimitError extends Error {
  override readonly name = 'DatasetLimitError';
  constructor(
    message: string,
    readonly limit: number,
  ) {
    super(message);
  }
}
