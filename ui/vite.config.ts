// The web app: `npm run build:ui` writes ui/dist, which the web server serves.
// Two pages: the app (index.html) and the viewer (viewer.html, served at /viewer).
// During development, `npx vite ui` proxies /api and DICOMweb to a running `pacs serve`.
import { resolve } from 'node:path';
import { defineConfig } from 'vite';
import { precompress } from '../scripts/precompress.js';

const backend = 'http://127.0.0.1:8080';
/** The dicom-image-loader's worker-side modules: code for its decode workers, not for the page. */
const WORKER_SIDE = /@cornerstonejs[\\/]dicom-image-loader[\\/]dist[\\/]esm[\\/](decodeImageFrameWorker\.js|shared[\\/]decoders[\\/])/;

export default defineConfig({
  root: import.meta.dirname,
  // Brotli and gzip siblings of the built files, sent by the web server as they are.
  plugins: [precompress()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Cornerstone3D (vtk.js, codecs) is large; one chunk per page is expected.
    chunkSizeWarningLimit: 8000,
    rollupOptions: {
      input: { main: resolve(import.meta.dirname, 'index.html'), viewer: resolve(import.meta.dirname, 'viewer.html') },
      // The dicom-image-loader's index imports its decode worker's module and every decoder
      // (with the codecs' WebAssembly glue) for exports the viewer does not use: without this
      // they run and stay in the page's bundle, though frames are decoded in the workers.
      treeshake: { moduleSideEffects: (id: string) => !WORKER_SIDE.test(id) },
    },
  },
  // The dicom-image-loader decodes in module web workers that import code-split codecs.
  worker: { format: 'es' },
  // Its worker URL (new URL(..., import.meta.url)) must stay next to the module in dev.
  optimizeDeps: { exclude: ['@cornerstonejs/dicom-image-loader'], include: ['dicom-parser'] },
  server: { proxy: { '/api': backend, '/dicomweb': backend, '/workstation/dicomweb': backend } },
});
