import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Served by the server at /admin from dist/admin-app (ADMIN_DIR).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/admin/',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../../dist/admin-app', import.meta.url)),
    emptyOutDir: true,
    // No inline scripts or styles: the page's CSP allows 'self' only.
    assetsInlineLimit: 0,
  },
});
