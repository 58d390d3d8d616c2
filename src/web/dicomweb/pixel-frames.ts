/** One frame of an opened instance in the form a request negotiated. */
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

/** A frame in the negotiated form: as stored, or native little endian (decoded when compressed). */
export async function frameBytes(f: PixelFile, index: number, form: FrameForm): Promise<Uint8Array> {
  if (form.kind === 'stored') return f.storedFrame(index);
  if (!f.encapsulated) return f.storedFrame(index);
  return (await f.nativeFrame(index)).pixels;
}
