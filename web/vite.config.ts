import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const outDir = here('../dist/web');

/**
 * Empties only what this build writes. dist/web/src holds the board's pure
 * modules as the main `tsc` build compiled them for the web unit tests
 * (test/web-units), and `npm run build` runs tsc first: emptying the whole
 * directory would delete them.
 */
function emptyOwnOutput(): Plugin {
  return {
    name: 'agentboard-empty-own-output',
    apply: 'build',
    buildStart() {
      fs.rmSync(path.join(outDir, 'assets'), { recursive: true, force: true });
      fs.rmSync(path.join(outDir, 'index.html'), { force: true });
    },
  };
}

/** Builds the board into dist/web, which `agentboard serve` serves at `/`. */
export default defineConfig({
  root: here('.'),
  base: '/',
  plugins: [react(), emptyOwnOutput()],
  build: {
    outDir,
    emptyOutDir: false,
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:4317' },
  },
});
