// The build step that has viewer.html fetch the viewer's main code from the start
// (scripts/preload-viewer-code.ts): the chunk of ui/src/viewer/app.ts and every chunk it
// imports, found in the bundle by the chunk's facade module, its own imports first.
import { describe, expect, it } from 'vitest';
import type { Rollup } from 'vite';
import { preloadList } from '../../scripts/preload-viewer-code.js';

function chunk(fileName: string, imports: string[], facadeModuleId: string | null = null): Rollup.OutputChunk {
  return { type: 'chunk', fileName, imports, facadeModuleId } as unknown as Rollup.OutputChunk;
}

describe('the viewer code preload list', () => {
  const bundle = {
    'assets/viewer-1.js': chunk('assets/viewer-1.js', ['assets/dicomweb-2.js'], '/w/ui/src/viewer/main.ts'),
    'assets/dicomweb-2.js': chunk('assets/dicomweb-2.js', []),
    'assets/app-3.js': chunk('assets/app-3.js', ['assets/esm-4.js', 'assets/dcmjs-5.js'], '/w/ui/src/viewer/app.ts'),
    'assets/esm-4.js': chunk('assets/esm-4.js', ['assets/dcmjs-5.js', 'assets/runtime-6.js']),
    'assets/dcmjs-5.js': chunk('assets/dcmjs-5.js', ['assets/runtime-6.js']),
    'assets/runtime-6.js': chunk('assets/runtime-6.js', []),
    'assets/viewer3d-7.js': chunk('assets/viewer3d-7.js', ['assets/esm-4.js'], '/w/ui/src/viewer3d/mpr.ts'),
    'assets/viewer-8.css': { type: 'asset', fileName: 'assets/viewer-8.css' },
  } as unknown as Rollup.OutputBundle;

  it('names the chunk and all it imports, each once, the chunk last', () => {
    const list = preloadList(bundle, '/ui/src/viewer/app.ts');
    expect(list.at(-1)).toBe('assets/app-3.js');
    expect([...list].sort()).toEqual(['assets/app-3.js', 'assets/dcmjs-5.js', 'assets/esm-4.js', 'assets/runtime-6.js']);
    // Not the 3D chunk (a dynamic import of the MPR page), not the entry's own.
    expect(list).not.toContain('assets/viewer3d-7.js');
    expect(list).not.toContain('assets/dicomweb-2.js');
  });

  it('names nothing when no chunk is that module (a build without it)', () => {
    expect(preloadList(bundle, '/ui/src/viewer/other.ts')).toEqual([]);
  });
});
