/** One frame of an opened instance in the form a request negotiated. */
import { promisify } from 'node:util';
import { deflateRaw } from 'node:zlib';
import type { PixelFile } from '../../dicom/render/index.js';
import type { FrameForm } from './pixel-accept.js';

/** What negotiateFrames needs to know of the stored file: its syntax, and whether it can be decoded here. */
export function formOf(f: PixelFile): { transferSyntaxUid: string; encapsulated: boolean; decodable: boolean } {
  let decodable = true;
  if (f.encapsulated) {
    try {
      f.codec();
    } catch {
      decodable = false;
    }
  }
  return { transferSyntaxUid: f.transferSyntax.uid, encapsulated: f.encapsulated, decodable };
}

const deflate = promisify(deflateRaw);
/**
 * Level 1: the fastest. Pixel data compresses about as well at 1 as at 6 (long runs and
 * smooth regions, little repeated text), and the server makes a stack's frames at
 * every opening; zlib works on its thread pool, not the event loop.
 */
const DEFLATE_LEVEL = 1;

/** A frame in the negotiated form: as stored, native little endian (decoded when compressed), or that deflated. */
export async function frameBytes(f: PixelFile, index: number, form: FrameForm): Promise<Uint8Array> {
  if (form.kind === 'stored') return f.storedFrame(index);
  if (form.kind === 'deflated') return deflate(await f.storedFrame(index), { level: DEFLATE_LEVEL });
  if (!f.encapsulated) return f.storedFrame(index);
  return (await f.nativeFrame(index)).pixels;
}
