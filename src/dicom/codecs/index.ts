/** Image codecs: decompression of encapsulated Pixel Data (transcoding on retrieve). */
export * from './decompress.js';
export { decodeFrame, loadCodecs, type CodecFamily, type DecodedFrame, type FrameGeometry } from './native-codecs.js';
