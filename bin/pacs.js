#!/usr/bin/env -S node --no-memory-reducer --no-flush-bytecode
// The V8 flags above keep a server's compiled code through its idle periods (see
// src/cli/v8-flags.ts; test/support/peers.ts starts the server with the same flags).
// In a checkout (src/ beside bin/) the TypeScript CLI runs through tsx's loader, so no
// build step stands between an edit and a run. An installed package (npm pack: bin/, dist/,
// ui/dist/) runs the compiled dist/ (npm run build), with no TypeScript tooling at all.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import('../dist/cli/main.js');
}
