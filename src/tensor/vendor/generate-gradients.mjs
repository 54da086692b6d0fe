#!/usr/bin/env node
/**
 * Regenerates `tfjs-gradients.ts` from the installed @tensorflow/tfjs-core. Run it from the repository root
 * after upgrading tfjs-core:  node src/tensor/vendor/generate-gradients.mjs
 *
 * Why this exists: on Node, `import '@tensorflow/tfjs-core'` loads the CommonJS bundle `tf-core.node.js`,
 * which contains the ops and the gradient *registry* but not a single gradient config (those live only in
 * the ESM tree `dist/gradients/*.js`, which Node cannot load: extensionless relative imports in a package
 * without "type": "module"). The `@tensorflow/tfjs` union package inlines them into its own bundle; a
 * project that depends on tfjs-core alone gets "gradient function not found for Sum" from every tf.grad.
 *
 * This script bundles `dist/register_all_gradients.js` with esbuild (a declared devDependency, also present through
 * vitest/vite), inlining the gradient configs and the stateless op wrappers they call, and redirecting the
 * few stateful modules (engine, tensor class, registries, environment) to the public API of the one
 * tfjs-core that the program loaded, so that exactly one engine, kernel registry and gradient registry
 * exist. Instead of registering at import, the module exports the configs (GRADIENT_CONFIGS) and
 * src/tensor/gradients.ts registers those not registered yet, so that a gradient someone else registered
 * (for example @tensorflow/tfjs loaded by tfjs-node) is left alone and nothing warns.
 *
 * A few gradient functions call chained ops (`t.reshape(...)`, `t.slice(...)`), which exist only when
 * tfjs-core's chained-op side-effect modules are loaded (the union package does; tfjs-core's node bundle
 * does not). Those calls are rewritten to the functional ops (REWRITES below); the script fails if a
 * rewrite no longer matches, so a tfjs-core upgrade cannot silently bring one back.
 */
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const corePkgPath = require.resolve('@tensorflow/tfjs-core/package.json');
const dist = path.join(path.dirname(corePkgPath), 'dist');
const version = JSON.parse(fs.readFileSync(corePkgPath, 'utf8')).version;
const out = path.join(path.dirname(new URL(import.meta.url).pathname), 'tfjs-gradients.ts');

/** Stateful tfjs-core modules -> the names that the bundled code imports from them, taken from the public API. */
const SHIMS = {
  engine: `export const ENGINE = tf.engine();`,
  tensor: `export const Tensor = tf.Tensor;\nexport const getGlobalTensorClass = () => tf.Tensor;`,
  environment: `export const env = tf.env;`,
  globals: `export const tidy = tf.tidy;\nexport const dispose = tf.dispose;`,
  base: `export const backend_util = tf.backend_util;`,
  // Only register_all_gradients.js calls it, in the loop that is replaced by an export below.
  kernel_registry: `export const registerGradient = tf.registerGradient;`,
};

/** Chained-op calls in gradient sources -> functional calls, with the imports they need. */
const REWRITES = {
  'gradients/Prod_grad.js': [
    ['permutedX.reshape(newShape)', 'reshape(permutedX, newShape)'],
    ['prodGrad.reshape(permutedX.shape)', 'reshape(prodGrad, permutedX.shape)'],
  ],
  'gradients/GatherV2_grad.js': [
    ['x.split(batchSize, 0)', 'split(x, batchSize, 0)'],
    ['indices.slice(i, 1), dy.slice(i, 1)', 'slice(indices, i, 1), slice(dy, i, 1)'],
    ['stacked.reshape(x.shape)', 'reshape(stacked, x.shape)'],
    [`import { reshape } from '../ops/reshape';`,
      `import { reshape } from '../ops/reshape';\nimport { slice } from '../ops/slice';\nimport { split } from '../ops/split';`],
  ],
};

const plugin = {
  name: 'tfjs-core-public-api',
  setup(b) {
    b.onResolve({ filter: /^\./ }, (a) => {
      const rel = path.relative(dist, path.resolve(a.resolveDir, a.path)).replace(/\.js$/, '');
      if (rel in SHIMS) return { path: rel, namespace: 'shim' };
      if (['gradients', 'flags', 'tape', 'profiler', 'backends/backend', 'device_util'].includes(rel)) {
        throw new Error(`${a.importer} imports the stateful module ${rel}; add a shim for it`);
      }
      return undefined;
    });
    b.onLoad({ filter: /\/gradients\/(Prod|GatherV2)_grad\.js$/ }, (a) => {
      const rel = path.relative(dist, a.path);
      let contents = fs.readFileSync(a.path, 'utf8');
      for (const [from, to] of REWRITES[rel] ?? []) {
        if (!contents.includes(from)) throw new Error(`${rel}: expected ${JSON.stringify(from)}; update REWRITES`);
        contents = contents.replace(from, to);
      }
      return { contents, loader: 'js', resolveDir: path.dirname(a.path) };
    });
    b.onLoad({ filter: /.*/, namespace: 'shim' }, (a) => ({
      contents: `import * as tf from '@tensorflow/tfjs-core';\n${SHIMS[a.path]}\n`,
      loader: 'js',
    }));
  },
};

const result = await esbuild.build({
  entryPoints: [path.join(dist, 'register_all_gradients.js')],
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'es2022',
  write: false,
  external: ['@tensorflow/tfjs-core'],
  plugins: [plugin],
  legalComments: 'inline',
  logLevel: 'warning',
});
const LOOP = /for \(const gradientConfig of gradConfigs\) \{\s*registerGradient\w*\(gradientConfig\);\s*\}\s*$/;
const bundled = result.outputFiles[0].text;
if (!LOOP.test(bundled)) throw new Error('the registration loop at the end of register_all_gradients.js changed; update LOOP');
const code = bundled.replace(LOOP, 'export const GRADIENT_CONFIGS = Object.freeze(gradConfigs);\n');
const header = `// @ts-nocheck
/* eslint-disable */
/**
 * GENERATED by src/tensor/vendor/generate-gradients.mjs from @tensorflow/tfjs-core ${version}
 * (dist/register_all_gradients.js and what it imports). Do not edit; regenerate after upgrading tfjs-core.
 * Copyright Google LLC, Apache License 2.0 (see the @license blocks below).
 *
 * Exports tfjs-core's gradient configs; src/tensor/gradients.ts registers them.
 */
export const TFJS_CORE_VERSION = '${version}';
`;
fs.writeFileSync(out, header + code);
console.log(`wrote ${path.relative(process.cwd(), out)} (${(code.length / 1024).toFixed(0)} KiB) for tfjs-core ${version}`);
