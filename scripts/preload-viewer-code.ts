/**
 * A vite plugin that lets the viewer page fetch and compile its main code while it asks for
 * the first image, without running it: a `<link rel="modulepreload">` in viewer.html for
 * the chunk of ui/src/viewer/app.ts (Cornerstone, about 3 MB) and the chunks it imports.
 * The entry (ui/src/viewer/main.ts) imports that chunk only once the first image's early
 * part is over; running it and Cornerstone's start-up hold the main thread, and the early
 * answers would wait behind them. The chunk's hashed name is known only to the bundle, so
 * the tag is written here, not in the HTML.
 */
import type { Plugin, Rollup } from 'vite';

type OutputBundle = Rollup.OutputBundle;
type OutputChunk = Rollup.OutputChunk;

/** The modules whose chunks viewer.html preloads (their facade module's path ends so). */
const PRELOADED = '/ui/src/viewer/app.ts';

function chunks(bundle: OutputBundle): Map<string, OutputChunk> {
  const out = new Map<string, OutputChunk>();
  for (const [name, item] of Object.entries(bundle)) if (item.type === 'chunk') out.set(name, item);
  return out;
}

/** The chunk of `facade` and every chunk it imports statically, the chunk itself last. */
export function preloadList(bundle: OutputBundle, facade: string): string[] {
  const all = chunks(bundle);
  const root = [...all.values()].find((c) => c.facadeModuleId?.replace(/\\/g, '/').endsWith(facade));
  if (!root) return [];
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const dep of all.get(name)?.imports ?? []) visit(dep);
  };
  visit(root.fileName);
  seen.delete(root.fileName);
  return [...seen, root.fileName];
}

export function preloadViewerCode(): Plugin {
  let base = '/';
  return {
    name: 'open-pacs:preload-viewer-code',
    apply: 'build',
    configResolved(config) {
      base = config.base;
    },
    transformIndexHtml: {
      order: 'post',
      handler(html, ctx) {
        if (!ctx.bundle || !ctx.filename.replace(/\\/g, '/').endsWith('/viewer.html')) return html;
        const already = new Set([...html.matchAll(/<(?:script|link)[^>]+(?:src|href)="([^"]+)"/g)].map((m) => m[1]));
        return preloadList(ctx.bundle, PRELOADED)
          .map((file) => `${base}${file}`)
          .filter((href) => !already.has(href))
          .map((href) => ({ tag: 'link', attrs: { rel: 'modulepreload', crossorigin: true, href }, injectTo: 'head' as const }));
      },
    },
  };
}
