// The web app: `npm run build:ui` writes ui/dist, which the web server serves.
// Two pages: the app (index.html) and the viewer (viewer.html, served at /viewer).
// During development, `npx vite ui` proxies /api and DICOMweb to a running `pacs serve`.
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { defineConfig } from 'vite';
import { precompress } from '../scripts/precompress.js';
import { preloadViewerCode } from '../scripts/preload-viewer-code.js';

const backend = 'http://127.0.0.1:8080';
/** The dicom-image-loader's worker-side modules: code for its decode workers, not for the page. */
const WORKER_SIDE = /@cornerstonejs[\\/]dicom-image-loader[\\/]dist[\\/]esm[\\/](decodeImageFrameWorker\.js|shared[\\/]decoders[\\/])/;

/**
 * One dcmjs for the whole app: Cornerstone's metadata and utils packages each nest their own
 * copy (0.52) beside ours, and all three (0.7 MB each) went into the viewer's script. The
 * nested one is Cornerstone's, so every import resolves to it.
 */
const DCMJS = resolve(dirname(createRequire(import.meta.url).resolve('@cornerstonejs/metadata/package.json')), 'node_modules/dcmjs/build/dcmjs.es.js');
/**
 * vtk.js's rendering profiles register both its WebGL and its WebGPU classes; Cornerstone
 * renders with WebGL only, so its imports of a profile take the WebGL half (about 180 kB less).
 */
const VTK_PROFILES = resolve(createRequire(import.meta.url).resolve('@kitware/vtk.js/package.json'), '../Rendering/OpenGL/Profiles');
/** Cornerstone's Mesh imports vtk.js's VTP reader (with an XML builder and a YAML parser): a viewer that loads no meshes does without. */
const VTP_READER = resolve(import.meta.dirname, 'src/stubs/vtk-xml-polydata-reader.ts');

export default defineConfig({
  root: import.meta.dirname,
  resolve: {
    alias: [
      { find: /^dcmjs$/, replacement: DCMJS },
      { find: /^@kitware\/vtk\.js\/Rendering\/Profiles\/(Geometry|Volume)(\.js)?$/, replacement: `${VTK_PROFILES}/$1.js` },
      { find: /^@kitware\/vtk\.js\/IO\/XML\/XMLPolyDataReader(\.js)?$/, replacement: VTP_READER },
    ],
  },
  // The viewer's main code fetched while the page asks for the first image; brotli and gzip
  // siblings of the built files, sent by the web server as they are.
  plugins: [preloadViewerCode(), precompress()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Cornerstone3D (with vtk.js) is large: its 2D stack viewport needs vtk.js's WebGL classes.
    chunkSizeWarningLimit: 8000,
    rollupOptions: {
      input: { main: resolve(import.meta.dirname, 'index.html'), viewer: resolve(import.meta.dirname, 'viewer.html') },
      // The dicom-image-loader's index imports its decode worker's module and every decoder
      // (with the codecs' WebAssembly glue) for exports the viewer does not use: without this
      // they run and stay in the page's bundle, though frames are decoded in the workers.
      treeshake: { moduleSideEffects: (id: string) => !WORKER_SIDE.test(id) },
      // The MPR / 3D layout's chunk by a name of its own: the 2D viewer never asks for it (test/e2e/viewer.test.ts checks).
      output: { chunkFileNames: (chunk) => (chunk.facadeModuleId?.includes('/ui/src/viewer3d/') ? 'assets/viewer3d-[hash].js' : 'assets/[name]-[hash].js') },
    },
  },
  // The dicom-image-loader decodes in module web workers that import code-split codecs.
  worker: { format: 'es' },
  // Its worker URL (new URL(..., import.meta.url)) must stay next to the module in dev.
  optimizeDeps: { exclude: ['@cornerstonejs/dicom-image-loader'], include: ['dicom-parser'] },
  server: { proxy: { '/api': backend, '/dicomweb': backend, '/workstation/dicomweb': backend } },
});
