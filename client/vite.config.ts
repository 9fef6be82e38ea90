import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

// Paths are resolved from this file so the config works whatever the working directory
// (the root package.json runs `vite build --config client/vite.config.ts`).
const root = fileURLToPath(new URL('.', import.meta.url));
const backend = process.env.BANK_DEV_BACKEND ?? 'http://localhost:3000';

export default defineConfig({
  root,
  base: '/',
  plugins: [vue()],
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    sourcemap: false,
  },
  server: {
    port: 5173,
    proxy: {
      '/api': { target: backend, changeOrigin: false },
      '/socket.io': { target: backend, ws: true, changeOrigin: false },
      '/healthz': { target: backend },
    },
  },
});
