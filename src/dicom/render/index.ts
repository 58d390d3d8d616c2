/** The pixel pipeline: frames out of Part 10 files, decoded, rendered to 8 bits, encoded. */
export * from './byte-source.js';
export * from './errors.js';
export * from './image-pixel.js';
export * from './pixel-file.js';
export * from './render.js';
export * from './resize.js';
export * from './encode.js';
export { voiValue } from './voi.js';
