import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Served by the server at /demo from dist/demo-app (DEMO_DIR); DEMO_OUT_DIR builds it elsewhere (the browser test).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/demo/',
  logLevel: 'warn',
  build: {
    outDir: process.env['DEMO_OUT_DIR'] ?? fileURLToPath(new URL('../../dist/demo-app', import.meta.url)),
    emptyOutDir: true,
    // No inline scripts or styles: the page's CSP allows 'self' only.
    assetsInlineLimit: 0,
  },
});
