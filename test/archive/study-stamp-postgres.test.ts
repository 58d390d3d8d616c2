import { registerStudyStampConformance } from './study-stamp-conformance.js';
import { registerPostgresSuite } from './pg-support.js';

await registerPostgresSuite('Study change stamp: postgres', (factory) => registerStudyStampConformance('postgres', factory));
