// The web app: `npm run build:ui` writes ui/dist, which the web server serves.
// During development, `npx vite ui` proxies /api to a running `pacs serve`.
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  build: { outDir: 'dist', emptyOutDir: true },
  server: { proxy: { '/api': 'http://127.0.0.1:8080', '/dicomweb': 'http://127.0.0.1:8080' } },
});
