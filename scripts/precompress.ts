/**
 * A vite plugin that writes a brotli (.br) and a gzip (.gz) sibling of every compressible
 * file of the build, once, at build time: the web server sends them as they are
 * (src/web/static-files.ts), so no request pays for compression and the strongest levels
 * are affordable. A sibling that saves less than a tenth is not written.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { Logger, Plugin } from 'vite';

const COMPRESSIBLE = /\.(js|mjs|css|html|wasm|json|svg|map|txt)$/;
/** Below this, the headers cost more than compression saves. */
const MIN_BYTES = 1024;
/**
 * Brotli's best level (11) up to this size, 9 above: on the 5.8 MB viewer bundle 11 took
 * 23 s and 9 took 1.6 s for 9 % more bytes, and every e2e test file builds the app.
 */
const BEST_LEVEL_MAX_BYTES = 256 << 10;
const brotli = promisify(brotliCompress);
const gz = promisify(gzip);

async function* filesUnder(dir: string): AsyncGenerator<string> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* filesUnder(p);
    else if (e.isFile()) yield p;
  }
}

/** Writes the .br and .gz siblings of the compressible files under `dir`; returns bytes before and after (brotli). */
export async function precompressDir(dir: string): Promise<{ files: number; bytes: number; brotliBytes: number }> {
  const todo: string[] = [];
  for await (const f of filesUnder(dir)) if (COMPRESSIBLE.test(f)) todo.push(f);
  let bytes = 0;
  let brotliBytes = 0;
  let files = 0;
  // A few at a time: zlib's work runs on libuv's threads.
  const queue = [...todo];
  const worker = async (): Promise<void> => {
    for (let f = queue.shift(); f !== undefined; f = queue.shift()) {
      const data = await readFile(f);
      if (data.length < MIN_BYTES) continue;
      const [br, gzipped] = await Promise.all([
        brotli(data, {
          params: { [constants.BROTLI_PARAM_QUALITY]: data.length <= BEST_LEVEL_MAX_BYTES ? 11 : 9, [constants.BROTLI_PARAM_SIZE_HINT]: data.length },
        }),
        gz(data, { level: 9 }),
      ]);
      files++;
      bytes += data.length;
      brotliBytes += Math.min(br.length, data.length);
      if (br.length < data.length * 0.9) await writeFile(`${f}.br`, br);
      if (gzipped.length < data.length * 0.9) await writeFile(`${f}.gz`, gzipped);
    }
  };
  await Promise.all([worker(), worker()]);
  return { files, bytes, brotliBytes };
}

export function precompress(): Plugin {
  let outDir = '';
  let logger: Logger | undefined;
  return {
    name: 'open-pacs:precompress',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
      logger = config.logger;
    },
    async closeBundle() {
      const r = await precompressDir(outDir);
      logger?.info(`precompressed ${r.files} files: ${(r.bytes / 1e6).toFixed(2)} MB, ${(r.brotliBytes / 1e6).toFixed(2)} MB as brotli`);
    },
  };
}
