import { registerQueryConformance } from './query-conformance.js';
import { registerPostgresSuite } from './pg-support.js';

await registerPostgresSuite('Query conformance: postgres', (factory) => registerQueryConformance('postgres', factory));
