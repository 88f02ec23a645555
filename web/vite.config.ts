/**
 * One Vite project, two entries: the admin console (`--mode admin`, served at /admin/) and the Company Portal
 * (`--mode portal`, served at /portal/). Each builds into its own folder under dist/web/ with its own base path,
 * so deep links (/admin/devices/42) load hashed assets from an absolute URL. `npm run build:web` builds both.
 */
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const ENTRIES = ['admin', 'portal'] as const;

export default defineConfig(({ mode }) => {
  const entry = (ENTRIES as readonly string[]).includes(mode) ? mode : 'admin';
  return {
    root: fileURLToPath(new URL(`./${entry}/`, import.meta.url)),
    base: `/${entry}/`,
    plugins: [react()],
    // No .env files: the console gets everything it needs from the REST API at run time.
    envDir: false,
    publicDir: false,
    build: {
      outDir: fileURLToPath(new URL(`../dist/web/${entry}/`, import.meta.url)),
      emptyOutDir: true,
      assetsDir: 'assets',
      sourcemap: true,
    },
    server: { fs: { allow: [fileURLToPath(new URL('./', import.meta.url))] } },
  };
});
