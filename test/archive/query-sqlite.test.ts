import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteIndex } from '../../src/archive/sqlite-index.js';
import { registerQueryConformance } from './query-conformance.js';

let dir: string | undefined;
registerQueryConformance('sqlite', {
  async open() {
    dir ??= mkdtempSync(join(tmpdir(), 'pacs-query-'));
    return SqliteIndex.open(join(dir, 'index.sqlite'));
  },
  async destroy() {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  },
});
