import { join } from 'node:path';
import { afterAll } from 'vitest';
import { SqliteIndex } from '../../src/archive/sqlite-index.js';
import { makeTempDir, removeTempDirs } from '../support/tmp.js';
import { registerForwardQueueConformance } from './forward-queue-conformance.js';

afterAll(() => removeTempDirs());

let dir: string | undefined;
registerForwardQueueConformance('sqlite', {
  async open() {
    dir ??= await makeTempDir('pacs-queue-');
    return SqliteIndex.open(join(dir, 'index.sqlite'));
  },
  async destroy() {
    dir = undefined;
  },
});
