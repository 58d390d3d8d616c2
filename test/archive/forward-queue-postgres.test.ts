import { registerForwardQueueConformance } from './forward-queue-conformance.js';
import { registerPostgresSuite } from './pg-support.js';

await registerPostgresSuite('Forward queue store: postgres', (factory) => registerForwardQueueConformance('postgres', factory, true));
