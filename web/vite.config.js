// Vite build of portraitd's browser pages: two entry pages sharing content-hashed assets.
//   console/index.html → /console/   pc/index.html → /pc/   assets → /assets/<name>-<hash>.js
// The output directory is the build tree's www/ (scripts/web.sh passes it as PC_WWW_OUT);
// portraitd serves it from server.www_dir with a strict Content-Security-Policy (no inline
// script, no eval), which a Vite build of single-file components satisfies.
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import { fileURLToPath } from 'node:url'

const here = (p) => fileURLToPath(new URL(p, import.meta.url))

export default defineConfig({
  root: here('.'),
  base: '/',
  plugins: [vue()],
  build: {
    outDir: process.env.PC_WWW_OUT || here('../build/www'),
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 2000,
    modulePreload: { polyfill: false },
    rollupOptions: {
      output: {
        // Vue, Element Plus and the other libraries in one long-cached chunk.
        manualChunks: (id) => (id.includes('node_modules') ? 'vendor' : undefined),
      },
      input: {
        console: here('console/index.html'),
        pc: here('pc/index.html'),
      },
    },
  },
})
