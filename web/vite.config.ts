import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
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

/**
 * Writes a brotli (.br) and a gzip (.gz) copy of each text asset next to it,
 * at the highest levels: compressing once at build time costs nothing per
 * request, and the server sends the copy the client accepts
 * (src/server/routes/web.ts).
 */
function precompress(): Plugin {
  return {
    name: 'agentboard-precompress',
    apply: 'build',
    writeBundle() {
      const dir = path.join(outDir, 'assets');
      for (const name of fs.readdirSync(dir)) {
        if (!/\.(js|css|svg|json|html)$/.test(name)) continue;
        const file = path.join(dir, name);
        const body = fs.readFileSync(file);
        fs.writeFileSync(
          `${file}.br`,
          zlib.brotliCompressSync(body, {
            params: {
              [zlib.constants.BROTLI_PARAM_QUALITY]: zlib.constants.BROTLI_MAX_QUALITY,
              [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length,
            },
          }),
        );
        fs.writeFileSync(`${file}.gz`, zlib.gzipSync(body, { level: 9 }));
      }
    },
  };
}

/** Builds the board into dist/web, which `agentboard serve` serves at `/`. */
export default defineConfig({
  root: here('.'),
  base: '/',
  plugins: [react(), emptyOwnOutput(), precompress()],
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
