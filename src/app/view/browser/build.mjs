// Bundles the browser entry points of this folder into dist/browser/ (run by `npm run build` after tsc):
// report.js (Observable Plot and the figure glue, inlined into every report page) and view.js (the live
// view: neurodyn's own simulate() and family code on tfjs's WebGL backend). Type-checked separately with
// this folder's tsconfig.json (DOM library); esbuild only strips the types.
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../../..');
const entries = { report: 'report-page.ts', view: 'view-page.ts' };
// src/tensor/native/ loads a Node addon; in a page there are no native kernels (native-stub.ts says so).
const nativeStub = {
  name: 'native-stub',
  setup(b) {
    b.onResolve({ filter: /\/native\/(register|fused)\.js$/ }, () => ({ path: path.join(here, 'native-stub.ts') }));
  },
};
for (const [name, file] of Object.entries(entries)) {
  const result = await build({
    entryPoints: [path.join(here, file)],
    outfile: path.join(root, 'dist', 'browser', `${name}.js`),
    bundle: true,
    minify: process.env.NEURODYN_BUNDLE_DEBUG !== '1',
    format: 'iife',
    platform: 'browser',
    target: ['chrome110', 'firefox110', 'safari16'],
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
    plugins: [nativeStub],
  });
  const bytes = Object.values(result.metafile.outputs)[0].bytes;
  console.log(`dist/browser/${name}.js: ${(bytes / 1024).toFixed(0)} KiB`);
}
