// The configuration layer: AE registry schema, operations, persistence.
export * from './schema.js';
export * from './errors.js';
export * from './registry.js';
export { defaultRegistry } from './defaults.js';
export {
  ConfigStore,
  CONFIG_FILE,
  FileRegistryBackend,
  parseStoredRegistry,
  readRegistryFile,
  type ChangeListener,
  type ConfigLogger,
  type ConfigStoreOptions,
  type RegistryBackend,
} from './store.js';
export { readJsonFile, withFileLock, writeFileAtomic } from './atomic-file.js';
export { portAvailable } from './port-probe.js';
export { loadServerTlsFiles, tlsPaths, TLS_DIR, type ServerTlsFiles, type TlsPaths } from './tls-files.js';
export { clientTlsOptions, reachableHost, TlsSetupError, type ClientTlsFiles, type TlsTarget } from './tls-client.js';
export { ensureOwnerOnlyDir, OWNER_ONLY_DIR, OWNER_ONLY_FILE, OWNER_ONLY_UMASK } from './owner-only.js';
export { DEFAULT_LIMITS, describeLimits, effectiveLimits, limitsSchema, type EffectiveLimits, type Limits } from './limits.js';
export { addPlugin, removePlugin, pluginKey } from './plugins.js';
