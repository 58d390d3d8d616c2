import { registerIndexConformance } from './index-conformance.js';
import { registerPostgresSuite } from './pg-support.js';

await registerPostgresSuite('Index conformance: postgres', (factory) => registerIndexConformance('postgres', factory));
