export * from './archive.js';
export * from './blob-store.js';
export * from './errors.js';
export * from './group-commit.js';
export * from './index-types.js';
export * from './ingest.js';
export { PostgresIndex, type PostgresIndexOptions } from './postgres-index.js';
export { SqliteIndex } from './sqlite-index.js';
export { IndexMissingError, openIndex, type IndexSpec } from './open-index.js';
