/** The DICOM data model layer (PS3.5 / PS3.6 / PS3.10). */
export * from './errors.js';
export * from './tag.js';
export * from './vr.js';
export * from './dictionary.js';
export * from './uids.js';
export * from './transfer-syntax.js';
export * from './uid-generator.js';
export * from './charset.js';
export * from './dataset.js';
export * from './dataset-reader.js';
export * from './dataset-writer.js';
export * from './dataset-json.js';
export * from './part10.js';
export * from './matching.js';
