/**
 * The REST API's shapes, shared by the server and the web app (ui/), which imports them
 * with `import type` (and the few lists it needs at run time): a changed API is then a
 * compile error in the app. Dependency-free, browser-safe TypeScript only.
 */
export * from './patients.js';
export * from './registry.js';
export * from './router.js';
export * from './web.js';
export * from './workflow.js';
export * from './activity.js';
