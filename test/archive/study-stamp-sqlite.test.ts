import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteIndex } from '../../src/archive/sqlite-index.js';
import { registerStudyStampConformance } from './study-stamp-conformance.js';

let dir: string | undefined;
registerStudyStampConformance('sqlite', {
  async open() {
    dir ??= mkdtempSync(join(tmpdir(), 'pacs-stamp-'));
    return SqliteIndex.open(join(dir, 'index.sqlite'));
  },
  async destroy() {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  },
});
